"""References and reference import jobs: generated FASTA fixtures, their oracles, job helpers.

Every expected value comes from the standard tools run here on the generated files:
`md5sum` for md5, `samtools faidx` for the index (of the decompressed FASTA for .gz
sources), `gzip` / `bgzip` to compress. Nothing is pasted from seqstore's own output.
"""

from __future__ import annotations

import hashlib
import math
import random
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from e2e_support import REGION, unique

PART_SIZE = 104857600  # 100 MiB: every file of a reference is served in parts of this size
ROLE_ARN = "arn:aws:iam::111122223333:role/OmicsImport"
SOURCE_BUCKET = "seqstore-e2e-sources"

JOB_TERMINAL = {"COMPLETED", "COMPLETED_WITH_FAILURES", "FAILED"}
JOB_RANK = {"SUBMITTED": 0, "IN_PROGRESS": 1, "COMPLETED": 2, "COMPLETED_WITH_FAILURES": 2, "FAILED": 2}
ITEM_RANK = {"NOT_STARTED": 0, "IN_PROGRESS": 1, "FINISHED": 2, "FAILED": 2}

_ACGT = bytes.maketrans(bytes(range(256)), b"ACGT" * 64)


# ---------------------------------------------------------------------------------------
# Generating FASTA text
# ---------------------------------------------------------------------------------------


def random_bases(rng: random.Random, n: int) -> bytes:
    return rng.randbytes(n).translate(_ACGT)


def wrap(seq: bytes, width: int, eol: bytes = b"\n") -> bytes:
    """Sequence lines of `width` bases (the last one shorter), each ending in `eol`."""
    if not seq:
        return b""
    return eol.join(seq[i:i + width] for i in range(0, len(seq), width)) + eol


def fasta(records: list[tuple[str, bytes, int]], eol: bytes = b"\n") -> bytes:
    """records: (header text after '>', bases, line width)."""
    return b"".join(b">" + h.encode() + eol + wrap(s, w, eol) for h, s, w in records)


def write_sized_fasta(path: Path, total_bytes: int, seed: int, width: int = 60) -> None:
    """A two-sequence FASTA of about `total_bytes` bytes, written in chunks."""
    rng = random.Random(seed)
    per_line = width + 1
    bases = (total_bytes // per_line) * width
    first = bases * 2 // 3 + 17  # not a multiple of the width: a short last line
    lengths = [("big1 generated for seqstore e2e", first), ("big2", bases - first)]
    with open(path, "wb") as out:
        for header, n in lengths:
            out.write(b">" + header.encode() + b"\n")
            chunk = width * 100_000
            left = n
            while left:
                take = min(chunk, left)
                out.write(wrap(random_bases(rng, take), width))
                left -= take


# ---------------------------------------------------------------------------------------
# Oracles: the standard tools
# ---------------------------------------------------------------------------------------


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        hint = {"bgzip": "apt-get install tabix", "samtools": "apt-get install samtools"}.get(name, "")
        pytest.fail(f"`{name}` is needed by the reference tests ({hint}; scripts/test-all installs it)")
    return path


def md5sum(path: Path) -> str:
    out = subprocess.run([require_tool("md5sum"), "--", str(path)], check=True, capture_output=True, text=True)
    return out.stdout.split()[0]


def samtools_faidx(fasta_path: Path, workdir: Path) -> bytes:
    """`samtools faidx` of an uncompressed FASTA (run on a private copy); the .fai bytes."""
    workdir.mkdir(parents=True, exist_ok=True)
    copy = workdir / fasta_path.name
    shutil.copyfile(fasta_path, copy)
    res = subprocess.run([require_tool("samtools"), "faidx", str(copy)], capture_output=True, text=True)
    assert res.returncode == 0, f"samtools faidx {fasta_path.name} failed: {res.stderr}"
    return Path(str(copy) + ".fai").read_bytes()


def samtools_faidx_refuses(fasta_path: Path, workdir: Path) -> bool:
    workdir.mkdir(parents=True, exist_ok=True)
    copy = workdir / fasta_path.name
    shutil.copyfile(fasta_path, copy)
    res = subprocess.run([require_tool("samtools"), "faidx", str(copy)], capture_output=True, text=True)
    return res.returncode != 0


def compress(tool: str, src: Path, dst: Path) -> None:
    """gzip -n -c / bgzip -c SRC > DST."""
    cmd = [require_tool("gzip"), "-n", "-c", str(src)] if tool == "gzip" else [require_tool("bgzip"), "-c", str(src)]
    with open(dst, "wb") as out:
        subprocess.run(cmd, stdout=out, check=True)


def decompress(src: Path, dst: Path) -> None:
    with open(dst, "wb") as out:
        subprocess.run([require_tool("gzip"), "-d", "-c", str(src)], stdout=out, check=True)


def file_hash(path: Path, algo: str = "md5") -> str:
    h = hashlib.new(algo)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------------------------------
# Fixture files in the user's bucket
# ---------------------------------------------------------------------------------------


@dataclass
class SourceFile:
    """One object in the user's bucket with what the tools say about it."""

    key: str
    path: Path  # the bytes as uploaded
    md5: str | None = None  # md5sum of the uploaded bytes
    size: int = 0
    fai: bytes | None = None  # samtools faidx of the (decompressed) FASTA; None for bad files
    line: int | None = None  # bad files: the line the problem is on (None: no line to name)
    lines: tuple = ()  # bad files where either of two lines is a fair answer
    why: str = ""

    @property
    def uri(self) -> str:
        return f"s3://{SOURCE_BUCKET}/{self.key}"

    @property
    def file_name(self) -> str:
        return self.key.rsplit("/", 1)[-1]

    @property
    def total_parts(self) -> int:
        return math.ceil(self.size / PART_SIZE)

    def read(self) -> bytes:
        return self.path.read_bytes()


@dataclass
class SourceSet:
    workdir: Path
    s3: object
    files: dict[str, SourceFile] = field(default_factory=dict)

    def add(self, case: str, file_name: str, data: bytes | None = None, *, path: Path | None = None,
            good: bool = True, compress_with: str | None = None, gzipped: bool = False,
            **bad) -> SourceFile:
        """Write `data` (or take `path`), compress it if asked, upload it, compute oracles.

        `gzipped`: `data` is already compressed (the index is made from `gzip -d` of it).
        """
        case_dir = self.workdir / case
        case_dir.mkdir(parents=True, exist_ok=True)
        plain = path if path is not None else case_dir / (file_name[:-3] if compress_with else file_name)
        if data is not None:
            plain.write_bytes(data)
        uploaded = plain
        if compress_with:
            uploaded = case_dir / file_name
            compress(compress_with, plain, uploaded)
        src = SourceFile(key=f"{case}/{file_name}", path=uploaded, **bad)
        src.md5 = md5sum(uploaded)
        src.size = uploaded.stat().st_size
        if good:
            if compress_with or gzipped:
                # The oracle indexes what `gzip -d` gives back, not our own plain file.
                unpacked = case_dir / "unpacked" / file_name.removesuffix(".gz")
                unpacked.parent.mkdir(exist_ok=True)
                decompress(uploaded, unpacked)
                src.fai = samtools_faidx(unpacked, case_dir / "faidx")
            else:
                src.fai = samtools_faidx(plain, case_dir / "faidx")
        self.s3.upload_file(str(uploaded), SOURCE_BUCKET, src.key)
        self.files[case] = src
        return src

    def __getitem__(self, case: str) -> SourceFile:
        return self.files[case]


def ensure_bucket(s3) -> None:
    try:
        s3.create_bucket(Bucket=SOURCE_BUCKET)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass


def build_small_sources(workdir: Path, s3) -> SourceSet:
    """Small good and bad FASTA files covering the formats users have."""
    ensure_bucket(s3)
    rng = random.Random(20240501)
    out = SourceSet(workdir, s3)

    # Plain, several sequences, headers with descriptions, short last lines, a run of N.
    plain = fasta([
        ("chr1 first test chromosome", random_bases(rng, 1000) + b"N" * 120 + random_bases(rng, 883), 60),
        ("chr2", random_bases(rng, 777), 60),
        ("chrM mito", random_bases(rng, 240), 60),  # a multiple of the width: no short line
    ])
    out.add("plain", "plain.fa", plain)
    # gzip (single member, not BGZF: seqstore must decompress it itself).
    out.add("gzip", "genome.fa.gz", fasta([
        ("g1", random_bases(rng, 5000), 70), ("g2 second", random_bases(rng, 3333), 70),
    ]), compress_with="gzip")
    # bgzip with several BGZF blocks (> 64 KiB of text).
    out.add("bgzip", "bgz.fasta.gz", fasta([
        ("b1", random_bases(rng, 150_000), 60), ("b2", random_bases(rng, 90_001), 60),
    ]), compress_with="bgzip")
    # Soft-masked: lower-case and mixed case.
    out.add("lowercase", "lower.fa", fasta([
        ("low1", random_bases(rng, 500).lower(), 60),
        ("mixed", random_bases(rng, 300) + random_bases(rng, 301).lower() + random_bases(rng, 99), 60),
        ("nrun", b"nnnnnnnnnn" * 13 + b"acgtn", 50),
    ]))
    # Windows line endings.
    out.add("crlf", "crlf.fa", fasta([
        ("w1 windows", random_bases(rng, 1234), 60), ("w2", random_bases(rng, 61), 60),
    ], eol=b"\r\n"))
    # Several line widths, a one-line sequence, a one-base sequence.
    out.add("multiline", "multi.fna", fasta([
        ("m60", random_bases(rng, 1801), 60),
        ("m80", random_bases(rng, 800), 80),
        ("m50", random_bases(rng, 1049), 50),
        ("one_line", random_bases(rng, 33), 1000),
        ("single_base", b"G", 60),
    ]))
    # IUPAC ambiguity codes, as real assemblies have them.
    out.add("iupac", "iupac.fasta", fasta([
        ("amb1", b"ACGTRYKMSWBDHVN" * 20 + b"acgtrykmswbdhvn" * 4, 60),
    ]))

    # No newline after the last line (samtools faidx accepts it).
    out.add("no_final_newline", "no-eol.fa", fasta([
        ("e1", random_bases(rng, 130), 60), ("e2", random_bases(rng, 77), 60),
    ])[:-1])
    # Blank lines between records and at the end (samtools faidx accepts them).
    out.add("blank_lines", "blank.fa", fasta([("k1", random_bases(rng, 150), 60)]) + b"\n"
            + fasta([("k2", random_bases(rng, 60), 60)]) + b"\n\n")
    # Plain gzip with two members (`cat a.gz b.gz`): `gzip -d` reads both.
    mdir = workdir / "gzip_multi"
    mdir.mkdir(parents=True, exist_ok=True)
    members = []
    for i, text in enumerate([fasta([("mm1", random_bases(rng, 2000), 60)]),
                              fasta([("mm2", random_bases(rng, 1500), 60)])]):
        (mdir / f"part{i}.fa").write_bytes(text)
        compress("gzip", mdir / f"part{i}.fa", mdir / f"part{i}.fa.gz")
        members.append((mdir / f"part{i}.fa.gz").read_bytes())
    out.add("gzip_multi", "two-members.fa.gz", b"".join(members), gzipped=True)

    # Bad files: what is wrong, and the line it is on.
    out.add("bad_char", "bad-char.fa", b">chr1\nACGTACGT\nACGJACGT\nACG\n", good=False, line=3,
            why="invalid character 'J'")
    out.add("bad_empty_name", "empty-name.fa", b">chr1\nACGT\n>\nACGT\n", good=False, line=3,
            why="header without a sequence name")
    out.add("bad_duplicate", "dup.fa", b">chr1\nACGT\n>chr2\nAC\n>chr1 again\nGGGG\n", good=False, line=5,
            why="duplicate sequence name 'chr1'")
    out.add("bad_before_header", "no-header.fa", b"ACGT\n>chr1\nACGT\n", good=False, line=1,
            why="data before the first header")
    out.add("bad_empty_file", "empty.fa", b"", good=False, why="empty file")
    whole = workdir / "truncated-src.fa"
    whole.write_bytes(fasta([("t1", random_bases(rng, 20000), 60)]))
    tdir = workdir / "bad_truncated_gz"
    tdir.mkdir(parents=True, exist_ok=True)
    compress("gzip", whole, tdir / "full.fa.gz")
    gz = (tdir / "full.fa.gz").read_bytes()
    out.add("bad_truncated_gz", "truncated.fa.gz", gz[: len(gz) // 2], good=False, why="truncated gzip")
    # A short line that is not the last of its sequence (samtools faidx refuses it too).
    out.add("bad_line_lengths", "ragged.fa", b">chr1\nACGTACGT\nACGT\nACGTACGT\n>chr2\nAC\n", good=False,
            lines=(3, 4), why="sequence lines of different lengths")
    return out


def build_sized_source(workdir: Path, s3, case: str, file_name: str, total_bytes: int, seed: int) -> SourceSet:
    """One large generated FASTA (upload once per session)."""
    ensure_bucket(s3)
    out = SourceSet(workdir, s3)
    d = workdir / case
    d.mkdir(parents=True, exist_ok=True)
    path = d / file_name
    write_sized_fasta(path, total_bytes, seed)
    out.add(case, file_name, path=path)
    return out


# ---------------------------------------------------------------------------------------
# Jobs
# ---------------------------------------------------------------------------------------


def source_item(src: SourceFile | str, name: str, **extra) -> dict:
    uri = src if isinstance(src, str) else src.uri
    return {"sourceFile": uri, "name": name, **extra}


def new_reference_store(client) -> str:
    return client.create_reference_store(name=unique("refstore"))["id"]


def start_import(client, store_id: str, sources: list[dict], **kwargs) -> dict:
    return client.start_reference_import_job(referenceStoreId=store_id, roleArn=ROLE_ARN, sources=sources, **kwargs)


class JobWatcher:
    """Polls GetReferenceImportJob and checks that statuses only move forward."""

    def __init__(self, client, store_id: str, job_id: str):
        self.client, self.store_id, self.job_id = client, store_id, job_id
        self.history: list[tuple[str, tuple]] = []
        self.last: dict | None = None

    def poll(self) -> dict:
        job = self.client.get_reference_import_job(referenceStoreId=self.store_id, id=self.job_id)
        items = tuple(s["status"] for s in job["sources"])
        if self.last is not None:
            prev_status = self.last["status"]
            assert JOB_RANK[job["status"]] >= JOB_RANK[prev_status], (
                f"job {self.job_id} went from {prev_status} back to {job['status']}"
            )
            if prev_status in JOB_TERMINAL:
                assert job["status"] == prev_status, f"terminal job {self.job_id} changed to {job['status']}"
            for i, (before, now) in enumerate(zip(self.last["sources"], job["sources"])):
                assert ITEM_RANK[now["status"]] >= ITEM_RANK[before["status"]], (
                    f"job {self.job_id} item {i} went from {before['status']} back to {now['status']}"
                )
                if before["status"] in ("FINISHED", "FAILED"):
                    assert now["status"] == before["status"], f"item {i}: {before['status']} -> {now['status']}"
                if before.get("referenceId"):
                    assert now.get("referenceId") == before["referenceId"], f"item {i} changed its referenceId"
        if not self.history or self.history[-1] != (job["status"], items):
            self.history.append((job["status"], items))
        self.last = job
        return job

    def wait(self, timeout: float = 300.0, interval: float = 0.25) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            job = self.poll()
            if job["status"] in JOB_TERMINAL:
                check_terminal_job(job)
                return job
            if time.monotonic() > deadline:
                pytest.fail(
                    f"import job {self.job_id} not finished after {timeout}s; last: {job['status']} "
                    f"{[s['status'] for s in job['sources']]}; history: {self.history}"
                )
            time.sleep(interval)


def check_terminal_job(job: dict) -> None:
    """The job status follows from its items; a finished item names its reference."""
    items = [s["status"] for s in job["sources"]]
    assert all(s in ("FINISHED", "FAILED") for s in items), f"{job['status']} job with items {items}"
    if all(s == "FINISHED" for s in items):
        expected = "COMPLETED"
    elif all(s == "FAILED" for s in items):
        expected = "FAILED"
    else:
        expected = "COMPLETED_WITH_FAILURES"
    assert job["status"] == expected, f"items {items} but job status {job['status']}"
    assert "completionTime" in job, f"{job['status']} job without completionTime"
    assert job["completionTime"] >= job["creationTime"]
    for i, s in enumerate(job["sources"]):
        if s["status"] == "FINISHED":
            assert s.get("referenceId"), f"FINISHED item {i} without referenceId: {s}"
        else:
            assert not s.get("referenceId"), f"FAILED item {i} names a reference: {s}"
            msg = s.get("statusMessage", "")
            assert msg, f"FAILED item {i} ({s['sourceFile']}) without statusMessage"
            assert len(msg) <= 127, f"statusMessage of item {i} is {len(msg)} chars (max 127): {msg!r}"


def run_import(client, store_id: str, sources: list[dict], timeout: float = 300.0, **kwargs) -> dict:
    started = start_import(client, store_id, sources, **kwargs)
    return JobWatcher(client, store_id, started["id"]).wait(timeout)


def reference_arn(account: str, store_id: str, ref_id: str) -> str:
    return f"arn:aws:omics:{REGION}:{account}:referenceStore/{store_id}/reference/{ref_id}"


def get_part(client, store_id: str, ref_id: str, part: int, file: str | None = "SOURCE",
             range_: str | None = None) -> tuple[bytes, dict]:
    kwargs = {"referenceStoreId": store_id, "id": ref_id, "partNumber": part}
    if file is not None:
        kwargs["file"] = file
    if range_ is not None:
        kwargs["range"] = range_
    resp = client.get_reference(**kwargs)
    body = resp["payload"].read()
    return body, resp["ResponseMetadata"]["HTTPHeaders"]


def list_references(client, store_id: str, **kwargs) -> list[dict]:
    pages = client.get_paginator("list_references").paginate(referenceStoreId=store_id, **kwargs)
    return [r for page in pages for r in page["references"]]


def list_import_jobs(client, store_id: str, **kwargs) -> list[dict]:
    pages = client.get_paginator("list_reference_import_jobs").paginate(referenceStoreId=store_id, **kwargs)
    return [j for page in pages for j in page["importJobs"]]
