"""S3 GetObject benchmark, run on demand (never a timed test): `python3 bench/s3_get.py`.

Stores a read set whose stored file is at least `--gib` GiB, then serves that same blob file
with nginx on loopback and measures both in one run:
- a whole-object GET with curl (SigV4-signed for seqstore, plain for nginx), best of `--runs`;
- `--ranges` random 64 KiB ranged GETs (same seeded offsets for both servers), sequential over
  one keep-alive connection, timed per request by the same `http.client` code (seqstore's
  requests are signed with botocore before the clock starts);
- seqstore's peak RSS (`VmHWM`) after the whole-object GETs, on a server restarted after the
  upload so that ingestion does not count.
Rewrites the `s3-results` section of bench/README.md.

Needs nginx (`apt-get install nginx-light`), curl >= 7.75, boto3 and aws-healthomics-tools.
"""

import argparse
import http.client
import os
import pwd
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

from common import cpu_model, fastq_gz, free_port, peak_rss_mib, rewrite_readme_section

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BIN = os.path.join(ROOT, "target", "release", "seqstore")
REGION = "us-east-1"
RANGE = 64 * 1024
GIB = 1 << 30


def wait_port(port, proc, what):
    for _ in range(300):
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} is not listening on {port}")


class Seqstore:
    """A release `seqstore serve` on a data dir, with its omics and S3 endpoints."""

    def __init__(self, data):
        self.data = data
        self.port, self.s3_port = free_port(), free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SEQSTORE_", "AWS_"))}
        env["RUST_LOG"] = "warn"
        self.proc = subprocess.Popen([BIN, "serve", "--data-dir", data, "--listen", f"127.0.0.1:{self.port}",
                                      "--s3-listen", f"127.0.0.1:{self.s3_port}",
                                      "--ga4gh-listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"],
                                     env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, self.proc, "seqstore")
        wait_port(self.s3_port, self.proc, "seqstore S3")
        self.key_id, self.secret = read_profile(os.path.join(data, "credentials"), "seqstore")

    def omics(self):
        import boto3
        import botocore.config
        return boto3.client("omics", endpoint_url=f"http://127.0.0.1:{self.port}", region_name=REGION,
                            aws_access_key_id=self.key_id, aws_secret_access_key=self.secret,
                            config=botocore.config.Config(inject_host_prefix=False, max_pool_connections=16))

    def peak_rss_mib(self):
        return peak_rss_mib(self.proc.pid)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def read_profile(path, profile):
    values, section = {}, None
    for line in open(path):
        line = line.strip()
        if line.startswith("["):
            section = line.strip("[]").strip()
        elif "=" in line and section == profile:
            k, v = (p.strip() for p in line.split("=", 1))
            values[k] = v
    return values["aws_access_key_id"], values["aws_secret_access_key"]


def store_read_set(server, path):
    """Uploads `path` as a FASTQ read set and returns (alias, key) of its source1 object."""
    from omics.transfer.config import TransferConfig
    from omics.transfer.manager import TransferManager
    omics = server.omics()
    store = omics.create_sequence_store(name="s3-bench")["id"]
    tm = TransferManager(omics, TransferConfig(max_request_concurrency=4))
    read_set = tm.upload_read_set(path, store, "FASTQ", "s3-bench", "subject", "sample")
    while True:
        meta = omics.get_read_set_metadata(sequenceStoreId=store, id=read_set)
        if meta["status"] != "PROCESSING_UPLOAD":
            break
        time.sleep(0.5)
    if meta["status"] != "ACTIVE":
        raise RuntimeError(f"read set is {meta['status']}: {meta.get('statusMessage')}")
    uri = meta["files"]["source1"]["s3Access"]["s3Uri"]
    alias, key = uri.removeprefix("s3://").split("/", 1)
    return alias, key


class Nginx:
    """nginx in the foreground as `nobody`, serving one file at /file with sendfile."""

    def __init__(self, work, blob):
        self.dir = os.path.join(work, "nginx")
        os.makedirs(os.path.join(self.dir, "www"), exist_ok=True)
        served = os.path.join(self.dir, "www", "file")
        if not os.path.exists(served):
            os.link(blob, served)  # the same inode, so the same page cache as seqstore reads
        self.port = free_port()
        temps = "".join(f"    {name}_temp_path {os.path.join(self.dir, name)};\n"
                        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""daemon off;
worker_processes 1;
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
{temps}    sendfile on;
    # tcp_nopush (TCP_CORK) holds the tail of each response until the client's delayed ACK:
    # every 64 KiB ranged GET took 44 ms with it on.
    tcp_nopush off;
    keepalive_requests 100000;
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{self.port};
        root {self.dir}/www;
    }}
}}
""")
        kwargs = {}
        if os.geteuid() == 0:  # never run a server as root: drop to nobody, who must read the file
            nobody = pwd.getpwnam("nobody")
            kwargs = dict(user=nobody.pw_uid, group=nobody.pw_gid, extra_groups=[])
            os.chmod(served, 0o644)
            for d in (work, self.dir, os.path.join(self.dir, "www")):
                os.chmod(d, 0o755)
            shutil.chown(self.dir, nobody.pw_uid, nobody.pw_gid)
        self.proc = subprocess.Popen(["nginx", "-p", self.dir, "-c", conf, "-e", f"{self.dir}/error.log"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kwargs)
        wait_port(self.port, self.proc, "nginx")

    def stop(self):
        self.proc.send_signal(signal.SIGQUIT)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def curl_get(args, size):
    t = time.perf_counter()
    out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", *args],
                         check=True, capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    code, got = out.stdout.split()
    if code != "200" or int(got) != size:
        raise RuntimeError(f"curl {args[-1]}: HTTP {code}, {got} of {size} bytes")
    return elapsed


def signer(key_id, secret):
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    auth = S3SigV4Auth(Credentials(key_id, secret), "s3", REGION)

    def sign(url, headers):
        req = AWSRequest(method="GET", url=url, headers=headers)
        auth.add_auth(req)
        return dict(req.headers.items())
    return sign


def ranged_gets(port, path, offsets, blob, sign=None):
    """Per-request seconds of sequential 64 KiB ranged GETs over one keep-alive connection;
    every body is checked against the file."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    times = []
    with open(blob, "rb") as f:
        for off in offsets:
            headers = {"Range": f"bytes={off}-{off + RANGE - 1}"}
            if sign:
                headers = sign(f"http://127.0.0.1:{port}{path}", headers)
            t = time.perf_counter()
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            times.append(time.perf_counter() - t)
            f.seek(off)
            if resp.status != 206 or body != f.read(RANGE):
                raise RuntimeError(f"GET {path} bytes {off}+64K: HTTP {resp.status}, {len(body)} bytes, mismatch")
    conn.close()
    return times


def summary(times):
    ms = [t * 1000 for t in times]
    q = statistics.quantiles(ms, n=100, method="inclusive")
    return {"p50": q[49], "p99": q[98], "mean": statistics.fmean(ms)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "seqstore-s3-bench"))
    p.add_argument("--gib", type=float, default=1.0, help="size of the stored object, GiB (at least)")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--ranges", type=int, default=1000)
    p.add_argument("--keep", action="store_true", help="keep the work dir (input and data dir)")
    a = p.parse_args()
    subprocess.run(["cargo", "build", "--release", "-p", "seqstore"], cwd=ROOT, check=True)
    run(a)


def run(a):
    """Measures with the release binary already built and rewrites the README's section (also
    called by run.py, so that one run measures every row of issue 14's table)."""
    if shutil.which("nginx") is None:
        sys.exit("nginx is missing: apt-get install -y nginx-light")
    os.makedirs(a.work, exist_ok=True)
    try:
        results = measure(a)
    finally:
        if not a.keep:
            shutil.rmtree(a.work, ignore_errors=True)
    write_readme(*results, n_ranges=a.ranges, runs=a.runs)


def measure(a):
    fq = os.path.join(a.work, "reads.fastq.gz")
    t = time.perf_counter()
    fastq_gz(fq, int(a.gib * GIB), level=0, seed=5)
    print(f"input {os.path.getsize(fq) / GIB:.2f} GiB ready in {time.perf_counter() - t:.1f}s", flush=True)

    data = os.path.join(a.work, "data")
    shutil.rmtree(data, ignore_errors=True)
    os.makedirs(data)
    server = Seqstore(data)
    try:
        t = time.perf_counter()
        alias, key = store_read_set(server, fq)
        print(f"upload to ACTIVE in {time.perf_counter() - t:.1f}s", flush=True)
    finally:
        server.stop()
    blob = os.path.join(data, "blobs", key)
    size = os.path.getsize(blob)
    if size < a.gib * GIB:
        raise RuntimeError(f"stored file is {size} bytes, smaller than {a.gib} GiB")
    if not a.keep:
        os.remove(fq)  # the blob is what both servers read from now on

    # A fresh server process, so that VmHWM shows what serving costs, not ingestion.
    server = Seqstore(data)
    nginx = None
    try:
        nginx = Nginx(a.work, blob)
        subprocess.run(["cat", blob], stdout=subprocess.DEVNULL, check=True)  # both read from page cache
        load = os.getloadavg()[0]
        path = "/" + urllib.parse.quote(f"{alias}/{key}", safe="/")
        # curl 7.88 signs but does not send x-amz-content-sha256, which S3 requires: add it.
        ours_args = ["--aws-sigv4", f"aws:amz:{REGION}:s3", "--user", f"{server.key_id}:{server.secret}",
                     "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD",
                     f"http://127.0.0.1:{server.s3_port}{path}"]
        peer_args = [f"http://127.0.0.1:{nginx.port}/file"]
        rss_idle = server.peak_rss_mib()
        ours, peer = [], []
        for _ in range(a.runs):  # interleaved, so drift hits both alike
            ours.append(curl_get(ours_args, size))
            peer.append(curl_get(peer_args, size))
        rss = server.peak_rss_mib()
        whole = (min(ours), min(peer))
        print(f"whole GET: seqstore {whole[0]:.2f}s ({size / whole[0] / 1e6:.0f} MB/s), nginx {whole[1]:.2f}s "
              f"({size / whole[1] / 1e6:.0f} MB/s), ratio {whole[1] / whole[0]:.2f}; "
              f"runs {[round(t, 3) for t in ours]} / {[round(t, 3) for t in peer]}", flush=True)
        print(f"seqstore VmHWM {rss_idle:.0f} MiB idle, {rss:.0f} MiB after the whole GETs", flush=True)

        rng = random.Random(64)
        offsets = [rng.randrange(0, size - RANGE + 1) for _ in range(a.ranges)]
        sign = signer(server.key_id, server.secret)
        ranged_gets(server.s3_port, path, offsets[:50], blob, sign)  # warm up both
        ranged_gets(nginx.port, "/file", offsets[:50], blob)
        best_ours = best_peer = None
        for _ in range(a.runs):
            s_ours = summary(ranged_gets(server.s3_port, path, offsets, blob, sign))
            s_peer = summary(ranged_gets(nginx.port, "/file", offsets, blob))
            if best_ours is None or s_ours["p50"] < best_ours["p50"]:
                best_ours = s_ours
            if best_peer is None or s_peer["p50"] < best_peer["p50"]:
                best_peer = s_peer
            print("ranged ms: seqstore " + ", ".join(f"{k} {v:.2f}" for k, v in s_ours.items())
                  + "; nginx " + ", ".join(f"{k} {v:.2f}" for k, v in s_peer.items()), flush=True)
        rss_end = server.peak_rss_mib()
        print(f"seqstore VmHWM {rss_end:.0f} MiB after the ranged GETs", flush=True)
    finally:
        server.stop()
        if nginx:
            nginx.stop()
    return size, whole, (best_ours, best_peer), (rss_idle, rss, rss_end), load


def write_readme(size, whole, ranged, rss_all, load, n_ranges, runs):
    rss_idle, rss, rss_end = rss_all
    cpu = cpu_model()
    ours, peer = whole
    ratio = peer / ours
    ok = "met" if ratio >= 1.0 else "missed"
    p50_ratio = ranged[0]["p50"] / ranged[1]["p50"]
    p50_ok = "met" if p50_ratio <= 1.5 else "missed"
    nginx_version = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip().split("/")[-1]
    lines = [
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {os.cpu_count()} cores ({cpu}), "
        f"load average {load:.1f} at the start, release build, nginx {nginx_version}, best of {runs} runs; "
        f"ratio = nginx time / seqstore time (higher is better).",
        "",
        "| whole-object GET (curl) | object | seqstore | nginx | ratio | target |",
        "| --- | --- | --- | --- | --- | --- |",
        f"| FASTQ.gz source1 | {size / GIB:.2f} GiB | {ours:.2f} s ({size / ours / 1e6:.0f} MB/s) | "
        f"{peer:.2f} s ({size / peer / 1e6:.0f} MB/s) | {ratio:.2f}× | ≥ 1.0× ({ok}) |",
        "",
        f"| {n_ranges} random 64 KiB ranged GETs, one keep-alive connection | p50 | p99 | mean |",
        "| --- | --- | --- | --- |",
    ]
    for name, s in zip(("seqstore (SigV4)", "nginx"), ranged):
        lines.append(f"| {name} | {s['p50']:.2f} ms | {s['p99']:.2f} ms | {s['mean']:.2f} ms |")
    lines += ["", f"Ranged p50, seqstore over nginx: {p50_ratio:.2f}× (target ≤ 1.5×: {p50_ok})."]
    lines += ["", f"seqstore peak RSS (`VmHWM`): {rss_idle:.0f} MiB before the GETs, {rss:.0f} MiB after "
                  f"{runs} whole-object GETs of {size / GIB:.2f} GiB, {rss_end:.0f} MiB after the ranged GETs."]
    rewrite_readme_section("s3-results", lines)


if __name__ == "__main__":
    main()
