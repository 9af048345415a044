"""The `seqstore` client against aws-healthomics-tools' TransferManager, in one run on one server:
uploading a FASTQ.gz until the read set is ACTIVE, and downloading it again.

    python3 bench/client.py [--gb 1] [--runs 2] [--concurrency 4]

Both sides move the same bytes with the same number of requests in flight. The client also
computes the read set's ETag while it uploads and again after it downloads (TransferManager checks
nothing), and its part size is its default (16 MiB) where TransferManager's is 100 MiB. The
client's peak RSS comes from wait4(2). Rewrites the `client` section of bench/README.md.

Needs boto3 and aws-healthomics-tools (what `scripts/test-all` installs).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from common import (KEY_ID, REGION, SECRET, Server, clean_env, cpu_model, fastq_gz, peak_rss_mib,
                    rewrite_readme_section)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "seqstore")


def omics_client(endpoint):
    import boto3
    import botocore.config
    return boto3.client("omics", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=KEY_ID,
                        aws_secret_access_key=SECRET,
                        config=botocore.config.Config(inject_host_prefix=False, retries={"max_attempts": 1}))


def wait_active(omics, store, read_set):
    while True:
        status = omics.get_read_set_metadata(sequenceStoreId=store, id=read_set)["status"]
        if status != "PROCESSING_UPLOAD":
            if status != "ACTIVE":
                raise RuntimeError(f"read set {read_set}: {status}")
            return
        time.sleep(0.05)


def run_client(args, env):
    """Runs `seqstore ARGS`; returns (seconds, peak RSS in MiB, stdout). The peak is `VmHWM` read
    while it runs (every 20 ms, once it is the seqstore binary): wait4's maximum would include the
    fork of this Python process before exec."""
    start = time.perf_counter()
    proc = subprocess.Popen([BIN, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = 0.0
    while proc.poll() is None:
        try:
            if os.readlink(f"/proc/{proc.pid}/exe") == BIN:
                peak = max(peak, peak_rss_mib(proc.pid))
        except (FileNotFoundError, ProcessLookupError):
            pass
        time.sleep(0.02)
    elapsed = time.perf_counter() - start
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"seqstore {' '.join(args)} exited {proc.returncode}: {err.decode()[-2000:]}")
    return elapsed, peak, out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "seqstore-bench-client"))
    p.add_argument("--gb", type=float, default=1.0, help="size of the FASTQ.gz")
    p.add_argument("--runs", type=int, default=2)
    p.add_argument("--concurrency", type=int, default=4)
    a = p.parse_args()
    os.makedirs(a.work, exist_ok=True)
    subprocess.run(["cargo", "build", "--release", "--bin", "seqstore"], cwd=ROOT, check=True)
    fq = os.path.join(a.work, "reads.fastq.gz")
    fastq_gz(fq, int(a.gb * 1e9), 6, seed=5)
    size = os.path.getsize(fq)

    from omics.transfer.config import TransferConfig
    from omics.transfer.manager import TransferManager

    server = Server(BIN, a.work, None, "", tag="client")
    try:
        omics = omics_client(server.endpoint)
        tm = TransferManager(omics, TransferConfig(max_request_concurrency=a.concurrency))
        store = omics.create_sequence_store(name="bench-client")["id"]
        env = clean_env(AWS_ENDPOINT_URL_OMICS=server.endpoint, AWS_ACCESS_KEY_ID=KEY_ID,
                        AWS_SECRET_ACCESS_KEY=SECRET, AWS_REGION=REGION)
        results = {k: [] for k in ("up", "up_nv", "up_tm", "down", "down_nv", "down_tm")}
        rss = {}
        read_set = None
        for run in range(a.runs):
            for key, extra in (("up", []), ("up_nv", ["--no-verify"])):
                elapsed, peak, out = run_client(
                    ["upload", "--sequence-store-id", store, "--type", "FASTQ", "--name", f"{key}-{run}",
                     "--subject-id", "s", "--sample-id", "s", "--quiet", "--concurrency", str(a.concurrency),
                     *extra, fq], env)
                results[key].append(elapsed)
                rss[key] = max(rss.get(key, 0.0), peak)
                read_set = json.loads(out)["readSetId"]

            start = time.perf_counter()
            tm_read_set = tm.upload_read_set(fq, store, "FASTQ", f"tm-{run}", "s", "s")
            wait_active(omics, store, tm_read_set)
            results["up_tm"].append(time.perf_counter() - start)

            for key, extra in (("down", []), ("down_nv", ["--no-verify"]), ("down_tm", None)):
                d = os.path.join(a.work, f"down-{key}")
                shutil.rmtree(d, ignore_errors=True)
                os.makedirs(d)
                if extra is not None:
                    elapsed, peak, _ = run_client(
                        ["download", "--sequence-store-id", store, "--read-set-id", read_set, "-o", d, "--quiet",
                         "--concurrency", str(a.concurrency), *extra], env)
                    rss[key] = max(rss.get(key, 0.0), peak)
                else:
                    start = time.perf_counter()
                    tm.download_read_set(store, read_set, d)
                    elapsed = time.perf_counter() - start
                results[key].append(elapsed)
                shutil.rmtree(d)
            print({k: round(v[-1], 2) for k, v in results.items()}, flush=True)
    finally:
        server.stop()
        shutil.rmtree(server.data, ignore_errors=True)

    best = {k: min(v) for k, v in results.items()}
    load = os.getloadavg()[0]
    lines = [
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {os.cpu_count()} cores ({cpu_model()}), "
        f"load average {load:.1f} at the end, release build, SQLite server on the same machine, "
        f"{a.concurrency} requests in flight on both sides, best of {a.runs}; ratio = TransferManager time / "
        "seqstore time (higher is better).",
        "",
        "| what | file | `seqstore` | TransferManager | ratio | client peak RSS |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for label, ours, peer in (
        ("upload → ACTIVE, the ETag computed here while reading and compared", "up", "up_tm"),
        ("upload → ACTIVE, `--no-verify`", "up_nv", "up_tm"),
        ("download, the ETag recomputed while the parts arrive", "down", "down_tm"),
        ("download, `--no-verify`", "down_nv", "down_tm"),
    ):
        lines.append(f"| {label} | {size / 1e9:.2f} GB FASTQ.gz | {best[ours]:.2f} s | {best[peer]:.2f} s | "
                     f"{best[peer] / best[ours]:.2f}× | {rss[ours]:.0f} MiB |")
    print("\n".join(lines))
    rewrite_readme_section("client", lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
