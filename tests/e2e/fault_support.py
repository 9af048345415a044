"""Seeded SIGKILL fault tests (test_kill_faults.py): the inputs, their oracles, and the checks
made on a server's state after it was killed, restarted and left to settle.

Inputs are generated once per session under their own keys of the user's bucket
(`read-sets/kf_*`, `kf-*/`): paired FASTQ (gzip), a ~2 MB plain single-end FASTQ (stored as
gzip by the server), a ~13 MB one (its ingestion takes long enough for a kill to land in it),
a coordinate-sorted BAM and its reference, and FASTA files of 40 KB to 12 MB for reference
imports. Expected values come from
the tools, never from seqstore: `gzip -dc F | md5sum` and `samtools view F | md5sum` (read set
ETags), awk / `samtools view -c -F 0x900` (counts), `md5sum` and `samtools faidx` (references).
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import botocore.exceptions

from read_set_support import (
    CHROMS,
    Source,
    aligned_records,
    gzip_file,
    is_gzip,
    sam_header_lines,
    samtools,
    shell,
    write_fastq_pair,
    write_sam,
)
from reference_support import (
    SOURCE_BUCKET,
    SourceFile,
    SourceSet,
    ensure_bucket,
    fasta,
    random_bases,
    write_sized_fasta,
)

FAMILY = "MD5up"
# Read set inputs (keys of KillInputs.read_sets) and reference inputs (keys of .fastas); no
# `-` in them: read set and reference names end in `-<input>`.
READ_SET_INPUTS = ["pair", "single", "bam", "big"]
FASTA_INPUTS = ["plain", "gzip", "bgzip", "large"]
FILE_PARAM = {"source1": "SOURCE1", "source2": "SOURCE2", "index": "INDEX"}


# ---------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------


@dataclass
class KillInputs:
    workdir: Path
    reference: Path  # the FASTA the BAM is aligned to
    reference_uri: str
    read_sets: dict[str, Source]  # pair | single | bam
    fastas: dict[str, SourceFile]  # plain | gzip | bgzip | large

    def oracles(self) -> None:
        """Compute every oracle once, up front (the tools are not run during the rounds)."""
        for src in self.read_sets.values():
            src.etag(FAMILY)
            src.counts()


def build_kill_inputs(workdir: Path, s3) -> KillInputs:
    ensure_bucket(s3)
    rng = random.Random(20250117)
    workdir.mkdir(parents=True, exist_ok=True)
    genome = {name: random_bases(rng, length).decode() for name, length in CHROMS}
    ref = workdir / "kf-ref.fa"
    ref.write_bytes(fasta([(n, genome[n].encode(), 60) for n, _ in CHROMS]))
    s3.upload_file(str(ref), SOURCE_BUCKET, "read-sets/kf_ref/kf-ref.fa")

    fq = workdir / "fastq"
    fq.mkdir(exist_ok=True)
    r1, r2 = write_fastq_pair(fq, "kfpair", 1500, seed=31)
    pair = Source("kf_pair", "FASTQ", [gzip_file(r1, fq / "kfpair_R1.fastq.gz"),
                                        gzip_file(r2, fq / "kfpair_R2.fastq.gz")])
    s1, _ = write_fastq_pair(fq, "kfsingle", 9000, seed=32)  # ~2 MB of plain text
    single = Source("kf_single", "FASTQ", [s1])
    # ~13 MB of plain text: its ingestion (gzip) takes a few hundred ms, a window a kill can hit
    b1, _ = write_fastq_pair(fq, "kfbig", 60000, seed=36)
    big = Source("kf_big", "FASTQ", [b1])

    sam_dir = workdir / "sam"
    sam_dir.mkdir(exist_ok=True)
    records = aligned_records(genome, 2500, seed=33)
    random.Random(34).shuffle(records)
    sam = write_sam(sam_dir / "kf.sam", sam_header_lines(), records)
    bam = sam_dir / "kf.bam"
    samtools("sort", "-o", bam, sam)
    bam_src = Source("kf_bam", "BAM", [bam])

    read_sets = {"pair": pair, "single": single, "bam": bam_src, "big": big}
    for src in read_sets.values():
        for i in range(len(src.paths)):
            s3.upload_file(str(src.paths[i]), SOURCE_BUCKET, src.s3_key(i))

    fastas = SourceSet(workdir / "fasta", s3)
    fastas.add("kf-plain", "kf-plain.fa", fasta([
        ("p1 plain", random_bases(rng, 30_000), 60), ("p2", random_bases(rng, 12_345), 70),
    ]))
    fastas.add("kf-gzip", "kf-gzip.fa.gz", fasta([
        ("g1", random_bases(rng, 250_000), 60), ("g2 second", random_bases(rng, 50_001), 80),
    ]), compress_with="gzip")
    fastas.add("kf-bgzip", "kf-bgzip.fa.gz", fasta([
        ("b1", random_bases(rng, 900_000), 60), ("b2", random_bases(rng, 333_333), 60),
    ]), compress_with="bgzip")
    large = workdir / "fasta" / "kf-large.fa"
    large.parent.mkdir(parents=True, exist_ok=True)
    write_sized_fasta(large, 12_000_000, seed=35)
    fastas.add("kf-large", "kf-large.fa", path=large)
    inputs = KillInputs(workdir, ref, f"s3://{SOURCE_BUCKET}/read-sets/kf_ref/kf-ref.fa", read_sets,
                        {k.removeprefix("kf-"): v for k, v in fastas.files.items()})
    inputs.oracles()
    return inputs


def input_of(name: str) -> str:
    """The input a read set or reference was made from: the last `-` field of its name."""
    return name.rsplit("-", 1)[-1]


# ---------------------------------------------------------------------------------------
# Client errors: a killed server drops connections; anything else is an answer
# ---------------------------------------------------------------------------------------


class ServerGone(Exception):
    """The request did not get an answer (connection refused, reset, closed)."""


def is_transport_error(exc: BaseException) -> bool:
    if isinstance(exc, botocore.exceptions.ClientError):
        return False
    return isinstance(exc, (botocore.exceptions.BotoCoreError, ConnectionError, OSError)) or (
        type(exc).__module__.startswith(("urllib3", "botocore", "http.client"))
    )


def error_code(exc: botocore.exceptions.ClientError) -> str:
    return exc.response["Error"]["Code"]


def http_status(exc: botocore.exceptions.ClientError) -> int:
    return exc.response["ResponseMetadata"]["HTTPStatusCode"]


# ---------------------------------------------------------------------------------------
# What the test knows happened (acknowledged by the server)
# ---------------------------------------------------------------------------------------


@dataclass
class UploadState:
    name: str
    input: str
    round: int
    part_size: int
    upload_id: str | None = None  # CreateMultipartReadSetUpload answered
    parts: dict = field(default_factory=dict)  # (source, number) -> checksum, acknowledged
    read_set_id: str | None = None  # Complete answered
    complete_sent: bool = False
    aborted: bool = False  # Abort answered
    resumed: bool = False


@dataclass
class Known:
    """Everything the server acknowledged; checked after every restart."""

    uploads: dict[str, UploadState] = field(default_factory=dict)  # by name
    read_sets: dict[str, str] = field(default_factory=dict)  # acknowledged id -> name
    deleted_read_sets: dict[str, str] = field(default_factory=dict)  # id -> name
    references: dict[str, str] = field(default_factory=dict)  # acknowledged id -> name
    deleted_references: dict[str, str] = field(default_factory=dict)
    # ids in deletes sent that the kill left without an answer, by kind ("read set", "reference")
    unanswered_deletes: dict[str, set] = field(default_factory=lambda: {"read set": set(), "reference": set()})
    read_set_jobs: set[str] = field(default_factory=set)
    reference_jobs: set[str] = field(default_factory=set)
    # verified content, so unchanged files are not checked with the tools again
    verified_read_sets: dict[str, tuple] = field(default_factory=dict)
    verified_references: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)  # read set id -> statusMessage
    failed_items: list[str] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)  # unexpected error answers


# ---------------------------------------------------------------------------------------
# Listing
# ---------------------------------------------------------------------------------------


def paginate(client, op: str, key: str, **kwargs) -> list[dict]:
    return [x for page in client.get_paginator(op).paginate(**kwargs) for x in page.get(key, [])]


# ---------------------------------------------------------------------------------------
# Content checks
# ---------------------------------------------------------------------------------------


def s3_head_etag(s3, uri, timeout: float = 30.0) -> tuple[str, int]:
    """(ETag without quotes, ContentLength) of an object of the server's S3 endpoint; 503
    (ETag not recorded yet) is waited out."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            head = s3.head_object(Bucket=uri.bucket, Key=uri.key)
            return head["ETag"].strip('"'), head["ContentLength"]
        except botocore.exceptions.ClientError as exc:
            if http_status(exc) != 503 or time.monotonic() > deadline:
                raise AssertionError(f"S3 HEAD {uri.bucket}/{uri.key}: {exc}") from exc
            time.sleep(0.2)


def content_etag(src: Source, path: Path) -> str:
    """The HealthOmics ETag the tools compute for a downloaded stored file."""
    if src.file_type == "FASTQ":
        assert is_gzip(path), f"{path.name}: the stored FASTQ is not gzip"
        return shell('gzip -dc -- "$1" | md5sum', path).split()[0]
    return shell('samtools view -- "$1" | md5sum', path).split()[0]


def md5_file(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------------------------------
# The data dir with the server stopped
# ---------------------------------------------------------------------------------------


def files_under(d: Path) -> list[Path]:
    if not d.exists():
        return []
    return sorted(p for p in d.rglob("*") if not p.is_dir())


def staging_left(data_dir: Path) -> list[str]:
    root = data_dir / "blobs"
    return [str(p.relative_to(root)) for p in files_under(root / "staging")]


def resource_dirs_with_files(data_dir: Path, account: str, kind: str, store_id: str) -> dict[str, list[str]]:
    """{resource id: [file names]} under blobs/<account>/<kind>/<store>/<readSet|reference>/."""
    sub = {"sequenceStore": "readSet", "referenceStore": "reference"}[kind]
    d = data_dir / "blobs" / account / kind / store_id / sub
    out = {}
    if d.exists():
        for child in sorted(d.iterdir()):
            names = [str(p.relative_to(child)) for p in files_under(child)]
            if names:
                out[child.name] = names
    return out


def run_fsck(server, *extra: str) -> tuple[int, dict | None, str]:
    """`seqstore fsck --data-dir D [--catalog URL] [--config F] --min-age 0 --json EXTRA` on a
    stopped server: (exit code, the JSON object or None, the command and its output). Nothing
    runs, so every object is judged (`--min-age 0`; the default, 600 s, skips recent ones)."""
    args = ["fsck", "--data-dir", str(server.data_dir), *server.catalog_args()]
    config = server.workdir / "seqstore.toml"
    if server.config is not None and config.exists():
        args += ["--config", str(config)]
    args += ["--min-age", "0", "--json", *extra]
    res = server.run_cli(*args, timeout=300)
    text = f"$ seqstore {' '.join(args)}\nexit {res.returncode}\n--- stdout ---\n{res.stdout[-6000:]}" \
           f"\n--- stderr ---\n{res.stderr[-4000:]}"
    try:
        report = json.loads(res.stdout)
    except ValueError:
        report = None
    return res.returncode, report, text
