"""One node against two, run on demand (never a timed test): `scripts/test-all run python3 bench/nodes.py`.

For 1 and then 2 `seqstore serve` nodes on one fresh PostgreSQL database and one fresh bucket of
a moto S3 server (the scale-out shape of docs/deployment.md, started as the e2e suite's
`Cluster` starts it), on this one machine:
- **ingest**: `--clients` client processes each upload `--uploads` FASTQ.gz files of
  `--fastq-mb` MB through CreateMultipartReadSetUpload / UploadReadSetPart (`--part-mb` parts)
  / CompleteMultipartReadSetUpload, every request sent to the next node in turn (so one upload's
  parts reach both nodes); the clock stops when every read set is ACTIVE. Reported: MB/s of
  input stored, and the upload phase alone;
- **S3 GET**: `--clients` processes run ranged GetObject calls of `--range-kib` KiB at seeded
  offsets of the stored files for `--seconds`, each call to the next node's S3 endpoint.
  Reported: MiB/s and calls/s, p50/p99 per call;
- the CPU seconds of the nodes, moto, PostgreSQL and the clients in each phase, read from
  /proc, since on 2 cores they all share the same two.
Prints the 2-node / 1-node ratios and, with `--readme`, rewrites the `nodes` section of
bench/README.md.

It does not build: it runs `$SEQSTORE_BIN`, else `target/release/seqstore`, or `--bin`.
PostgreSQL needs an admin URL (`--postgres-url`, default `$SEQSTORE_TEST_POSTGRES_URL`, which
`scripts/test-all run` sets). Needs boto3, pytest and moto[server] (what scripts/test-all
installs).
"""

import argparse
import concurrent.futures as cf
import itertools
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from common import cpu_model, cpu_seconds, fastq_gz, rewrite_readme_section  # noqa: E402

MIB = 1 << 20


def postgres_pids():
    out = subprocess.run(["pgrep", "-x", "postgres"], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def machine_cpu_seconds():
    fields = open("/proc/stat").readline().split()[1:]
    busy = sum(int(f) for f in fields) - int(fields[3]) - int(fields[4])  # minus idle, iowait
    return busy / os.sysconf("SC_CLK_TCK")


class Meter:
    """CPU seconds per role over one phase."""

    def __init__(self, roles):
        self.roles = roles  # name -> callable returning pids
        self.start = self.read()

    def read(self):
        roles = {name: sum(cpu_seconds(pid, children=True) for pid in pids()) for name, pids in self.roles.items()}
        return {**roles, "machine": machine_cpu_seconds(), "wall": time.monotonic()}

    def stop(self):
        end = self.read()
        return {k: end[k] - self.start[k] for k in end}


# ---------------------------------------------------------------------------------------
# Client processes (each builds its own clients: nothing boto3 crosses a process boundary)
# ---------------------------------------------------------------------------------------


def omics_client(ports, keys, turn_start):
    from e2e_support import Keys, make_client, spread_over
    client = make_client(f"http://127.0.0.1:{ports[0]}", Keys(*keys), read_timeout=600,
                         max_pool_connections=4)
    return spread_over(client, "omics", ports, itertools.count(turn_start))


def upload_worker(ports, keys, store, path, uploads, part_size, worker):
    """Uploads `path` `uploads` times; returns the read set ids."""
    client = omics_client(ports, keys, worker)
    ids = []
    for n in range(uploads):
        up = client.create_multipart_read_set_upload(
            sequenceStoreId=store, sourceFileType="FASTQ", subjectId="subject", sampleId=f"s{worker}",
            name=f"w{worker}-{n}", clientToken=f"w{worker}-{n}")["uploadId"]
        parts = []
        with open(path, "rb") as f:
            for number in itertools.count(1):
                body = f.read(part_size)
                if not body:
                    break
                res = client.upload_read_set_part(sequenceStoreId=store, uploadId=up, partSource="SOURCE1",
                                                  partNumber=number, payload=body)
                parts.append({"partNumber": number, "partSource": "SOURCE1", "checksum": res["checksum"]})
        ids.append(client.complete_multipart_read_set_upload(sequenceStoreId=store, uploadId=up,
                                                             parts=parts)["readSetId"])
    return ids


def get_worker(ports, keys, objects, range_size, seconds, seed):
    """Ranged GETs for `seconds`: (calls, bytes, latencies in ms)."""
    import boto3
    import botocore.config
    from e2e_support import REGION, spread_over
    session = boto3.session.Session(aws_access_key_id=keys[0], aws_secret_access_key=keys[1],
                                    region_name=REGION)
    s3 = session.client("s3", endpoint_url=f"http://127.0.0.1:{ports[0]}", config=botocore.config.Config(
        s3={"addressing_style": "path"}, retries={"total_max_attempts": 1}, max_pool_connections=2))
    spread_over(s3, "s3", ports, itertools.count(seed))
    rng = random.Random(seed)
    calls, got, times = 0, 0, []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        alias, key, size = rng.choice(objects)
        start = rng.randrange(0, max(1, size - range_size))
        t0 = time.perf_counter()
        body = s3.get_object(Bucket=alias, Key=key, Range=f"bytes={start}-{start + range_size - 1}")["Body"].read()
        times.append((time.perf_counter() - t0) * 1000)
        calls += 1
        got += len(body)
    return calls, got, times


# ---------------------------------------------------------------------------------------
# One configuration
# ---------------------------------------------------------------------------------------


def run_config(args, nodes, work, moto, fastq):
    from e2e_support import Cluster, create_postgres_database, drop_postgres_database
    db_name, db_url = create_postgres_database(args.postgres_url)
    cluster = Cluster(work / f"nodes{nodes}", db_url, moto, nodes=nodes,
                      env={"RUST_LOG": "warn"}).start()
    try:
        keys = cluster.root_keys()
        keys = (keys.access_key_id, keys.secret_access_key)
        omics_ports = [n.port for n in cluster.nodes]
        s3_ports = [n.s3_port for n in cluster.nodes]
        client = cluster.client()
        store = client.create_sequence_store(name=f"bench-{nodes}")["id"]
        roles = {
            "seqstore": lambda: [n.proc.pid for n in cluster.nodes],
            "moto": lambda: [moto.proc.pid],
            "postgres": postgres_pids,
        }
        size = os.path.getsize(fastq)
        total = args.clients * args.uploads
        time.sleep(args.settle)

        # Ingest: every upload, then until every read set is ACTIVE.
        meter = Meter(roles)
        t0 = time.monotonic()
        with cf.ProcessPoolExecutor(args.clients) as pool:
            futures = [pool.submit(upload_worker, omics_ports, keys, store, str(fastq), args.uploads,
                                   args.part_mb * MIB, w) for w in range(args.clients)]
            ids = [i for f in futures for i in f.result()]
        uploaded = time.monotonic() - t0
        pending = set(ids)
        while pending:
            for read_set in list(pending):
                meta = client.get_read_set_metadata(sequenceStoreId=store, id=read_set)
                if meta["status"] == "ACTIVE":
                    pending.discard(read_set)
                elif meta["status"] != "PROCESSING_UPLOAD":
                    raise RuntimeError(f"{read_set} is {meta['status']}: {meta.get('statusMessage')}")
            time.sleep(0.2)
        stored = time.monotonic() - t0
        ingest_cpu = meter.stop()
        ingest = {"mb": total * size / 1e6, "uploaded_s": uploaded, "stored_s": stored,
                  "cpu": ingest_cpu}
        print(f"  {nodes} node(s): {total} uploads of {size / 1e6:.1f} MB: uploaded in {uploaded:.1f} s, "
              f"all ACTIVE after {stored:.1f} s = {ingest['mb'] / stored:.1f} MB/s; cpu {fmt_cpu(ingest_cpu)}",
              flush=True)

        # S3 GET: ranges of the stored files, each call to the next node.
        objects = []
        for read_set in ids:
            meta = client.get_read_set_metadata(sequenceStoreId=store, id=read_set)
            source = meta["files"]["source1"]
            alias, key = source["s3Access"]["s3Uri"].removeprefix("s3://").split("/", 1)
            objects.append((alias, key, source["contentLength"]))
        meter = Meter(roles)
        with cf.ProcessPoolExecutor(args.clients) as pool:
            futures = [pool.submit(get_worker, s3_ports, keys, objects, args.range_kib * 1024, args.seconds,
                                   args.seed + w) for w in range(args.clients)]
            results = [f.result() for f in futures]
        get_cpu = meter.stop()
        calls = sum(r[0] for r in results)
        got = sum(r[1] for r in results)
        times = sorted(t for r in results for t in r[2])
        wall = get_cpu["wall"]
        gets = {"mib_s": got / MIB / wall, "calls_s": calls / wall,
                "p50": statistics.median(times), "p99": times[min(len(times) - 1, int(len(times) * 0.99))],
                "cpu": get_cpu}
        print(f"  {nodes} node(s): {calls} GETs of {args.range_kib} KiB in {wall:.1f} s = "
              f"{gets['mib_s']:.1f} MiB/s, {gets['calls_s']:.1f} calls/s, p50 {gets['p50']:.1f} ms, "
              f"p99 {gets['p99']:.1f} ms; cpu {fmt_cpu(get_cpu)}", flush=True)
        return {"ingest": ingest, "gets": gets}
    finally:
        code = cluster.stop()
        drop_postgres_database(args.postgres_url, db_name)
        if code != 0:
            raise RuntimeError(f"a node exited with {code}:\n{cluster.describe_logs()}")


def fmt_cpu(cpu):
    wall = cpu["wall"]
    parts = [f"{k} {cpu[k] / wall:.2f}" for k in ("seqstore", "moto", "postgres")]
    clients = cpu["machine"] - cpu["seqstore"] - cpu["moto"] - cpu["postgres"]
    return ", ".join(parts + [f"clients and rest {clients / wall:.2f}", f"machine {cpu['machine'] / wall:.2f}"]) + \
        " cores"


def write_readme(args, runs, binary):
    one, two = runs[1], runs[2]

    def row(name, unit, value):
        a, b = value(one), value(two)
        return f"| {name} | {a:.1f} {unit} | {b:.1f} {unit} | {b / a:.2f} |"

    cpu = cpu_model()
    lines = [
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {os.cpu_count()} cores ({cpu}), "
        f"{'release' if 'release' in str(binary) else 'debug'} build; PostgreSQL and moto on the same machine. "
        f"Ingest: {args.clients} clients × {args.uploads} FASTQ.gz uploads of {args.fastq_mb} MB in "
        f"{args.part_mb} MiB parts. S3 GET: {args.clients} clients, {args.range_kib} KiB ranges for "
        f"{args.seconds:.0f} s. Every request goes to the next node in turn.",
        "",
        "| measure | 1 node | 2 nodes | 2 / 1 |",
        "| --- | --- | --- | --- |",
        row("ingest, upload to all ACTIVE", "MB/s", lambda r: r["ingest"]["mb"] / r["ingest"]["stored_s"]),
        row("ingest, upload phase only", "MB/s", lambda r: r["ingest"]["mb"] / r["ingest"]["uploaded_s"]),
        row("S3 GET throughput", "MiB/s", lambda r: r["gets"]["mib_s"]),
        row("S3 GET calls", "/s", lambda r: r["gets"]["calls_s"]),
        row("S3 GET p50", "ms", lambda r: r["gets"]["p50"]),
        row("S3 GET p99", "ms", lambda r: r["gets"]["p99"]),
        "",
        "CPU in cores (CPU seconds over wall seconds) per phase:",
        "",
        "| phase | nodes | seqstore | moto | PostgreSQL | clients and rest | machine |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for phase in ("ingest", "gets"):
        for n in (1, 2):
            c = runs[n][phase]["cpu"]
            w = c["wall"]
            rest = c["machine"] - c["seqstore"] - c["moto"] - c["postgres"]
            lines.append(f"| {'ingest' if phase == 'ingest' else 'S3 GET'} | {n} | {c['seqstore'] / w:.2f} | "
                         f"{c['moto'] / w:.2f} | {c['postgres'] / w:.2f} | {rest / w:.2f} | {c['machine'] / w:.2f} |")
    rewrite_readme_section("nodes", lines)
    print("bench/README.md: nodes section rewritten")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bin", default=os.environ.get("SEQSTORE_BIN") or str(ROOT / "target" / "release" / "seqstore"))
    p.add_argument("--postgres-url", default=os.environ.get("SEQSTORE_TEST_POSTGRES_URL"))
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--uploads", type=int, default=3, help="uploads per client")
    p.add_argument("--fastq-mb", type=int, default=48)
    p.add_argument("--part-mb", type=int, default=16)
    p.add_argument("--range-kib", type=int, default=1024)
    p.add_argument("--seconds", type=float, default=30)
    p.add_argument("--settle", type=float, default=3)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--readme", action="store_true", help="rewrite the nodes section of bench/README.md")
    args = p.parse_args()
    if not args.postgres_url:
        raise SystemExit("no PostgreSQL: pass --postgres-url or run under `scripts/test-all run`")
    binary = Path(args.bin).resolve()
    if not binary.is_file():
        raise SystemExit(f"no binary at {binary}: cargo build --release --bin seqstore")
    os.environ["SEQSTORE_BIN"] = str(binary)
    from e2e_support import MotoS3
    with tempfile.TemporaryDirectory(prefix="seqstore-nodes-") as tmp:
        work = Path(tmp)
        fastq = work / "input.fastq.gz"
        fastq_gz(str(fastq), args.fastq_mb * 1_000_000, 6, args.seed)
        moto = MotoS3(work).start()
        try:
            runs = {}
            for nodes in (1, 2):
                runs[nodes] = run_config(args, nodes, work, moto, fastq)
        finally:
            problem = moto.stop()
            if problem:
                print(problem, file=sys.stderr)
    one, two = runs[1], runs[2]
    print(f"2 nodes / 1 node: ingest {one['ingest']['stored_s'] / two['ingest']['stored_s']:.2f}, "
          f"S3 GET {two['gets']['mib_s'] / one['gets']['mib_s']:.2f}")
    if args.readme:
        write_readme(args, runs, binary)


if __name__ == "__main__":
    main()
