"""What the benchmark scripts share: free loopback ports, a process's peak RSS, generated
FASTQ.gz inputs, a `seqstore serve` process, psql, and the rewriting of a bench/README.md
section."""

import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
REGION = "us-east-1"
ACCOUNT_ID = "111122223333"
KEY_ID, SECRET = "BENCHROOTKEY", "benchrootsecret"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_model():
    """The processor's model name, for the header of a results table."""
    with open("/proc/cpuinfo") as f:
        return next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "?")


def cpu_seconds(pid, children=False):
    """User + system CPU time of process `pid` (all its threads), with `children`: plus that of
    its waited-for children; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    # utime, stime, cutime, cstime: fields 14-17 of proc(5), counted after the command
    return sum(int(v) for v in fields[11:15 if children else 13]) / os.sysconf("SC_CLK_TCK")


def peak_rss_mib(pid):
    """`VmHWM` of a running process, in MiB."""
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def fastq_gz(path, size, level, seed):
    """A seeded single-end FASTQ.gz of at least `size` bytes (kept when already there): records
    from a pool of random pieces, deflated at `level` (0: stored blocks, as large as the text)."""
    if os.path.exists(path) and os.path.getsize(path) >= size:
        return
    rng = random.Random(seed)
    seqs = ["".join(rng.choice("ACGT") for _ in range(150)) for _ in range(4096)]
    quals = ["".join(chr(rng.randint(35, 72)) for _ in range(150)) for _ in range(512)]
    gz = zlib.compressobj(level, zlib.DEFLATED, 31)  # wbits 31: gzip header and trailer
    written, i, batch = 0, 0, 2000
    with open(path + ".part", "wb") as f:
        while written < size:
            text = "".join(f"@read{j} 1:N:0:ACGT\n{seqs[rng.randrange(4096)]}\n+\n{quals[j % 512]}\n"
                           for j in range(i, i + batch))
            out = gz.compress(text.encode())
            f.write(out)
            written += len(out)
            i += batch
        f.write(gz.flush())
    os.replace(path + ".part", path)


def clean_env(**extra):
    """This environment without AWS and seqstore settings or proxies, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SEQSTORE_"))}
    for k in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        env.pop(k, None)
    env.update(extra)
    return env


def psql(url, sql, timeout=3600):
    """Runs `sql` with psql; returns its unaligned output."""
    done = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql],
                          capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"psql failed: {done.stderr.strip()}\n{sql[:500]}")
    return done.stdout


class Server:
    """`seqstore serve` on `data` (default: `work`/data, which it creates) and `catalog_url`
    (default: the embedded SQLite), with `config` in a file, the bench root key, logging to
    `work`/`tag`.log."""

    def __init__(self, binary, work, catalog_url, config, data=None, tag="serve", start_timeout=300):
        self.data = data or os.path.join(work, "data")
        self.config_path = os.path.join(work, f"{tag}.toml")
        with open(self.config_path, "w") as f:
            f.write(config)
        self.port, self.s3_port = free_port(), free_port()
        while self.s3_port == self.port:
            self.s3_port = free_port()
        self.log_path = os.path.join(work, f"{tag}.log")
        cmd = [binary, "serve", "--data-dir", self.data, "--listen", f"127.0.0.1:{self.port}",
               "--s3-listen", f"127.0.0.1:{self.s3_port}", "--ga4gh-listen", "127.0.0.1:0",
               "--admin-listen", "127.0.0.1:0",
               "--region", REGION, "--account-id", ACCOUNT_ID,
               "--config", self.config_path]
        if catalog_url:
            cmd += ["--catalog", catalog_url]
        env = clean_env(SEQSTORE_ROOT_ACCESS_KEY_ID=KEY_ID, SEQSTORE_ROOT_SECRET_ACCESS_KEY=SECRET,
                        RUST_LOG="warn")
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(cmd, env=env, cwd=work, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + start_timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"seqstore exited with {self.proc.returncode}:\n{self.log()[-3000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"seqstore is not listening on {self.port}:\n{self.log()[-3000:]}")
                time.sleep(0.1)

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def log(self, since=0):
        with open(self.log_path, errors="replace") as f:
            f.seek(since)
            return f.read()

    def log_size(self):
        return os.path.getsize(self.log_path)

    def peak_rss_mib(self):
        return peak_rss_mib(self.proc.pid)

    def cpu_seconds(self):
        """User + system CPU time of the server process (all its threads)."""
        return cpu_seconds(self.proc.pid)

    def stop(self):
        """SIGTERM and wait; returns the exit code (killed after 60 s: returns None)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return None
        return self.proc.returncode


def rewrite_readme_section(name, lines):
    """Replaces what lies between `<!-- name -->` and `<!-- /name -->` in bench/README.md."""
    readme = os.path.join(HERE, "README.md")
    with open(readme) as f:
        text = f.read()
    start, end = f"<!-- {name} -->", f"<!-- /{name} -->"
    block = start + "\n" + "\n".join(lines) + "\n" + end
    text, n = re.subn(f"{re.escape(start)}.*?{re.escape(end)}", lambda _: block, text, flags=re.S)
    if n != 1:
        raise RuntimeError(f"no {start} section in {readme}")
    with open(readme, "w") as f:
        f.write(text)


def catalogs_to_run(catalogs, postgres_url, script):
    """The catalogs `--catalogs` names (comma-separated), after checking what each needs; exits
    with the reason when something is missing."""
    names = [c.strip() for c in catalogs.split(",") if c.strip()]
    for c in names:
        if c not in ("sqlite", "postgres"):
            sys.exit(f"unknown catalog {c!r}: sqlite or postgres")
    if "postgres" in names:
        if not postgres_url:
            sys.exit("postgres needs --postgres-url or SEQSTORE_TEST_POSTGRES_URL "
                     f"(scripts/test-all run python3 bench/{script} sets it)")
        if shutil.which("psql") is None:
            sys.exit("psql is missing (apt-get install postgresql-client)")
    return names
