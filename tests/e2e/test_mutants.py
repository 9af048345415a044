"""Mutants against the real server (issue 9, item 6).

For each catalog backend a dedicated fresh server receives seeded mutants of every fixture type
(mutants.py): CRAM with hostile counts and sizes behind valid CRC32s, truncated, duplicated,
swapped and byte-flipped; BAM with hostile `l_text`, `n_ref`, `block_size`, `l_read_name`,
`n_cigar_op`, `l_seq` in valid BGZF, truncated, byte-flipped, with a duplicated BGZF block;
FASTQ as a gzip bomb of 1 GB of valid reads, truncated, byte-flipped (direct uploads); FASTA
references with 5,000,000 one-base sequences and a 1 GB one-base run in gzip (import jobs from
the user's bucket). Meanwhile a thread samples the server's RSS from /proc/<pid>/status.

Rules: the server answers a ListSequenceStores between mutants and is the same process
throughout; a read set ends UPLOAD_FAILED with a statusMessage, or ACTIVE only if the standard
tools accept the file (`samtools view [--reference REF] F` exits 0 with nothing on stderr,
`gzip -t`) and then with their ETag (`samtools view … | md5sum`, `gzip -dc | md5sum`); an import
source ends FAILED with a message (the 5M-sequence FASTA naming the 500,000 limit) or FINISHED;
VmHWM - VmRSS(idle after one warm-up upload) <= 256 MiB.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import ServerFactory
from mutants import bam_mutants, cram_mutants, fasta_mutants, fastq_mutants
from read_set_api import build_env, upload_read_set, wait_read_set
from read_set_support import SOURCE_BUCKET, decompressed_hash, samtools
from reference_support import run_import, source_item

RSS_BOUND = 256 << 20
CRAM_NAMES = [
    "cram_container_records_7fffffff", "cram_compression_header_raw_2gib", "cram_data_block_raw_2gib",
    "cram_slice_records_7fffffff", "cram_container_length_7fffffff", "cram_duplicated_container",
    "cram_swapped_containers", "cram_truncated_5pct", "cram_truncated_33pct", "cram_truncated_50pct",
    "cram_truncated_90pct", "cram_truncated_no_eof", *[f"cram_flip_{k}" for k in range(6)],
    *[f"cram_rawflip_{k}" for k in range(10)],
]
BAM_NAMES = [
    "bam_l_text_512mib", "bam_n_ref_7fffffff", "bam_block_size_7fffffff", "bam_block_size_2gib_plus",
    "bam_l_read_name_255", "bam_n_cigar_op_ffff", "bam_l_seq_7fffffff", "bam_l_seq_plus_1000",
    "bam_truncated_10pct", "bam_truncated_50pct", "bam_truncated_90pct", "bam_cut_inside_record",
    "bam_duplicated_bgzf_block", *[f"bam_flip_{k}" for k in range(6)], *[f"bam_rawflip_{k}" for k in range(10)],
]
FASTQ_NAMES = ["fastq_gzip_1gb_valid", "fastq_truncated_30pct", "fastq_truncated_97pct", "fastq_gzip_no_trailer",
               *[f"fastq_flip_{k}" for k in range(5)], *[f"fastq_rawflip_{k}" for k in range(6)]]
READ_SET_NAMES = CRAM_NAMES + BAM_NAMES + FASTQ_NAMES
FASTA_NAMES = ["fasta_5m_one_base_sequences", "fasta_gzip_1gb_run"]


@dataclass
class Mutant:
    name: str
    file_type: str  # CRAM | BAM | FASTQ | FASTA
    path: Path
    s3_key: str | None = None


@dataclass
class MutantFiles:
    reference: Path
    mutants: dict[str, Mutant]


@pytest.fixture(scope="session")
def mutant_files(read_set_files, moto_s3, tmp_path_factory) -> MutantFiles:
    d = tmp_path_factory.mktemp("mutants")
    ref = read_set_files.reference
    out: dict[str, Mutant] = {}
    # A CRAM of the fixture BAM with several data containers (500 records a slice).
    cram = d / "base.cram"
    samtools("view", "-C", "--reference", ref, "--output-fmt-option", "version=3.0",
             "--output-fmt-option", "seqs_per_slice=500", "-o", cram, read_set_files["bam"].paths[0])
    for name, data in cram_mutants(cram.read_bytes()).items():
        (d / f"{name}.cram").write_bytes(data)
        out[name] = Mutant(name, "CRAM", d / f"{name}.cram")
    bd = d / "bam"
    bd.mkdir()
    for name, path in bam_mutants(read_set_files["bam"].paths[0].read_bytes(), bd).items():
        out[name] = Mutant(name, "BAM", path)
    fd = d / "fastq"
    fd.mkdir()
    for name, path in fastq_mutants(read_set_files["fastq_single"].paths[0].read_bytes(), fd).items():
        out[name] = Mutant(name, "FASTQ", path)
    ad = d / "fasta"
    ad.mkdir()
    s3 = moto_s3.client()
    for name, path in fasta_mutants(ad).items():
        key = f"mutants/{path.name}"
        s3.upload_file(str(path), SOURCE_BUCKET, key)
        out[name] = Mutant(name, "FASTA", path, key)
    assert sorted(out) == sorted(READ_SET_NAMES + FASTA_NAMES), sorted(out)
    return MutantFiles(ref, out)


# ---------------------------------------------------------------------------------------
# RSS sampling
# ---------------------------------------------------------------------------------------


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM, ... of /proc/<pid>/status in bytes."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            m = re.match(r"^(Vm\w+):\s+(\d+) kB", line)
            if m:
                out[m.group(1)] = int(m.group(2)) * 1024
    return out


class RssSampler(threading.Thread):
    def __init__(self, pid: int, interval: float = 0.05):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.current = "startup"  # the mutant in flight
        self.peak = 0
        self.peak_during = ""
        self.per_mutant: dict[str, int] = {}
        self.stopped = threading.Event()
        self.error: str | None = None

    def run(self):
        while not self.stopped.is_set():
            try:
                rss = proc_status(self.pid)["VmRSS"]
            except (OSError, KeyError) as exc:
                self.error = f"cannot read /proc/{self.pid}/status: {exc}"
                return
            self.per_mutant[self.current] = max(self.per_mutant.get(self.current, 0), rss)
            if rss > self.peak:
                self.peak, self.peak_during = rss, self.current
            self.stopped.wait(self.interval)


# ---------------------------------------------------------------------------------------
# One dedicated server per backend, every mutant through it
# ---------------------------------------------------------------------------------------


@dataclass
class Run:
    server: object
    pid: int
    idle_rss: int = 0
    hwm: int = 0
    sampler: RssSampler | None = None
    results: dict[str, dict] = field(default_factory=dict)  # name -> metadata / import item
    not_answering: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    total: float = 0.0


def _answers(run: Run, client, after: str) -> bool:
    srv = run.server
    if srv.proc is None or srv.proc.poll() is not None or srv.proc.pid != run.pid:
        run.not_answering.append(f"after {after}: the server process {run.pid} is gone "
                                 f"(exit {srv.proc.returncode if srv.proc else None})\n{srv.describe_logs(3000)}")
        return False
    try:
        client.list_sequence_stores(maxResults=1)
    except Exception as exc:  # noqa: BLE001 - any failure is the finding
        run.not_answering.append(f"after {after}: ListSequenceStores failed: {exc!r}\n{srv.describe_logs(3000)}")
        return False
    return True


@pytest.fixture(scope="module")
def mutant_run(backend, tmp_path_factory, moto_s3, read_set_files, mutant_files):
    started = time.monotonic()
    factory = ServerFactory(tmp_path_factory, backend, moto_s3.server_env())
    try:
        srv = factory.new()
        env = build_env(srv, read_set_files)
        client, store_id = env.client, env.stores["MD5up"]
        run = Run(srv, srv.proc.pid)
        sampler = RssSampler(run.pid)
        sampler.start()
        run.sampler = sampler
        # Warm-up: one good upload, then the idle RSS.
        sampler.current = "warm-up"
        _, rs_id, _, _ = upload_read_set(client, store_id, "FASTQ", read_set_files["fastq_single"].paths,
                                         "warm-up")
        assert wait_read_set(client, store_id, rs_id)["status"] == "ACTIVE"
        time.sleep(0.5)
        run.idle_rss = proc_status(run.pid)["VmRSS"]

        def upload(m: Mutant) -> dict:
            ref = env.refs["main"] if m.file_type in ("BAM", "CRAM") else None
            _, rs_id, _, _ = upload_read_set(client, store_id, m.file_type, [m.path], f"mutant-{m.name}", ref)
            return wait_read_set(client, store_id, rs_id, timeout=150)

        def import_reference(m: Mutant) -> dict:
            ref_store = env.reference_store_id
            job = run_import(client, ref_store, [source_item(f"s3://{SOURCE_BUCKET}/{m.s3_key}", m.name)],
                             timeout=150)
            item = dict(job["sources"][0])
            if item["status"] == "FINISHED":
                item["reference"] = client.get_reference_metadata(referenceStoreId=ref_store, id=item["referenceId"])
            return item

        def attempt(name: str, action) -> bool:
            """Runs one mutant through `action`; whether the server still answers."""
            sampler.current = name
            t0 = time.monotonic()
            try:
                run.results[name] = action(mutant_files.mutants[name])
            except Exception as exc:  # noqa: BLE001 - recorded, judged by the test of this mutant
                run.results[name] = {"error": repr(exc)}
            run.seconds[name] = time.monotonic() - t0
            return _answers(run, client, name)

        # all() stops at the first mutant after which the server does not answer
        if all(attempt(name, upload) for name in READ_SET_NAMES):
            all(attempt(name, import_reference) for name in FASTA_NAMES)
        sampler.current = "done"
        if srv.alive():
            run.hwm = proc_status(run.pid)["VmHWM"]
        sampler.stopped.set()
        sampler.join(timeout=5)
        run.total = time.monotonic() - started
        slow = sorted(run.seconds.items(), key=lambda kv: -kv[1])[:5]
        print(f"\n[{backend}] mutants: {run.total:.1f}s in all; slowest {[(k, round(v, 1)) for k, v in slow]}; "
              f"idle RSS {run.idle_rss >> 20} MiB, VmHWM {run.hwm >> 20} MiB, sampled peak "
              f"{sampler.peak >> 20} MiB during {sampler.peak_during}")
        for name, r in run.results.items():
            print(f"  {name:36s} {run.seconds.get(name, 0):6.1f}s {r.get('status', r.get('error'))}: "
                  f"{r.get('statusMessage', '')[:150]} (peak {sampler.per_mutant.get(name, 0) >> 20} MiB)")
        yield run
    finally:
        factory.close()


# ---------------------------------------------------------------------------------------
# Oracles
# ---------------------------------------------------------------------------------------

_ORACLE: dict[Path, tuple[bool, str]] = {}


def oracle(m: Mutant, reference: Path) -> tuple[bool, str]:
    """(the tools accept it, md5 of what they give | why they refuse)."""
    if m.path not in _ORACLE:
        if m.file_type == "FASTQ":
            res = subprocess.run(["gzip", "-t", str(m.path)], capture_output=True)
            tool, accepted = "gzip -t", res.returncode == 0 and not res.stderr
            md5 = decompressed_hash(m.path, "MD5up") if accepted else ""
        else:
            args = ["--reference", reference] if m.file_type == "CRAM" else []
            res = samtools("view", *args, m.path, check=False)
            tool, accepted = "samtools view", res.returncode == 0 and not res.stderr
            md5 = hashlib.md5(res.stdout).hexdigest()
        why = f"{tool}: exit {res.returncode}: {res.stderr.decode(errors='replace')[:500]}"
        _ORACLE[m.path] = (True, md5) if accepted else (False, why)
    return _ORACLE[m.path]


# ---------------------------------------------------------------------------------------
# The rules
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", READ_SET_NAMES)
def test_read_set_mutant(mutant_run, mutant_files, name):
    assert name in mutant_run.results, f"{name} never ran: the server stopped answering before it"
    meta = mutant_run.results[name]
    logs = mutant_run.server.describe_logs(2000)
    assert "error" not in meta, f"{name}: {meta['error']}\n{logs}"
    status, msg = meta["status"], meta.get("statusMessage", "")
    assert status in ("ACTIVE", "UPLOAD_FAILED"), f"{name}: {status}"
    if status == "UPLOAD_FAILED":
        assert msg.strip(), f"{name}: UPLOAD_FAILED without a statusMessage"
        return
    m = mutant_files.mutants[name]
    accepted, what = oracle(m, mutant_files.reference)
    assert accepted, f"{name}: the store made it ACTIVE (etag {meta.get('etag')}), but the tools refuse it: {what}"
    assert meta["etag"]["source1"] == what, (
        f"{name}: ACTIVE with etag {meta['etag']['source1']}, the tools say {what}\n{logs}")


@pytest.mark.parametrize("name", FASTA_NAMES)
def test_reference_mutant(mutant_run, name):
    assert name in mutant_run.results, f"{name} never ran: the server stopped answering before it"
    item = mutant_run.results[name]
    assert "error" not in item, f"{name}: {item['error']}\n{mutant_run.server.describe_logs(2000)}"
    assert item["status"] in ("FINISHED", "FAILED"), f"{name}: {item}"
    if item["status"] == "FAILED":
        assert item.get("statusMessage", "").strip(), f"{name}: FAILED without a statusMessage"
    else:
        assert item["reference"]["status"] == "ACTIVE", f"{name}: FINISHED, but the reference is {item['reference']}"
    if name == "fasta_5m_one_base_sequences":
        assert item["status"] == "FAILED", f"5,000,000 sequences accepted (the limit is 500,000): {item}"
        assert re.search(r"500[,_ ]?000\b", item["statusMessage"]), (
            f"the message does not name the 500,000 sequence limit: {item['statusMessage']!r}")


def test_server_answered_throughout(mutant_run):
    assert not mutant_run.not_answering, "\n\n".join(mutant_run.not_answering)
    srv = mutant_run.server
    assert srv.starts == 1 and srv.alive() and srv.proc.pid == mutant_run.pid
    assert mutant_run.sampler.error is None, mutant_run.sampler.error


def test_peak_rss(mutant_run):
    run = mutant_run
    assert run.hwm, "VmHWM not read: the server was gone"
    s = run.sampler
    top = sorted(s.per_mutant.items(), key=lambda kv: -kv[1])[:5]
    assert run.hwm - run.idle_rss <= RSS_BOUND, (
        f"VmHWM {run.hwm >> 20} MiB - idle VmRSS {run.idle_rss >> 20} MiB > {RSS_BOUND >> 20} MiB; sampled peak "
        f"{s.peak >> 20} MiB during {s.peak_during}; highest per mutant "
        f"{[(k, v >> 20) for k, v in top]} MiB")
