"""Read set lifecycle: archiving read sets nobody reads, activation jobs, export jobs, and
what `seqstore usage` says about the archive tier.

Per catalog backend one server (`[lifecycle] archive_after = "2s"`, `scan_interval = "1s"`,
`workers = 2`, the default zstd level) gets one sequence store per case. Everything is uploaded with archiving switched off
(`SEQSTORE_LIFECYCLE__ARCHIVE_AFTER=0`), each stored file is fetched once through the S3
endpoint (`md5sum` of the bytes), then the server is restarted with archiving on and every
read set goes ARCHIVED at once; for the tests the server runs with archiving off again, so
nothing moves while they look.

- every file type (single, paired and BGZF FASTQ, BAM, uBAM, CRAM 3.0) is archived (not served:
  GetReadSet ConflictException, S3 GetObject InvalidObjectState; files moved from
  `<data-dir>/blobs` to `<data-dir>/archive`) and activated back with the same id, ETag, files,
  S3 URIs and sizes, and bytes with the `md5sum` they had;
- realistic FASTQ.gz and BAM (Illumina-binned qualities, reads of a small genome) take less
  room in the archive: `seqstore usage --json` and the archive files on disk, ratios printed;
- export jobs copy every file (index too) to `<destination><readSetId>/<name>` in the user's
  bucket (moto), byte for byte; ARCHIVED and unknown read sets fail their items;
- activation items of ACTIVE and unknown read sets, ListReadSetActivationJobs filters, paging;
- BatchDeleteReadSet of an ARCHIVED read set leaves nothing in either tier.

A last test SIGKILLs a server of its own at seeded moments while it archives or activates a
FASTQ.gz of several MB; after each restart the read set settles, its bytes come back with the
same `md5sum`, and the stopped server is `seqstore fsck --min-age 0` clean.

Oracles: `md5sum` of the bytes fetched before archiving and of the originals (a .gz upload is
stored as is), `gzip -dc | md5sum` and `samtools view | md5sum` of the originals (read_set_support),
the file sizes on disk, and what GetReadSetMetadata said before archiving.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import json
import os
import random
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import botocore.exceptions
import pytest

from conftest import OPEN_GRANTS, ServerFactory
from e2e_support import new_account_id, raises_aws, unique
from read_set_api import upload_read_set, wait_read_set
from read_set_support import (
    HASH_TOOL,
    RS_ROLE_ARN,
    SOURCE_BUCKET,
    Source,
    is_gzip,
    sam_hash,
    samtools,
    shell,
    write_sam,
)
from reference_support import (
    ensure_bucket,
    fasta,
    md5sum,
    new_reference_store,
    random_bases,
    reference_arn,
    require_tool,
    run_import,
    source_item,
)
from s3_support import parse_s3_uri, raises_s3, s3_client

ARCHIVE_AFTER = 2.0  # seconds, as configured below
ACCESS_GRANULARITY = ARCHIVE_AFTER / 4  # how stale a recorded access may be (lifecycle.rs)
# The shared server packs at the default zstd level (what `seqstore usage` reports is what
# users get) with two archive workers, so its read sets are archived two at a time.
LIFECYCLE_CONFIG = OPEN_GRANTS + '[lifecycle]\narchive_after = "2s"\nscan_interval = "1s"\nworkers = 2\n'
# The kill test's server packs at level 1: what a kill interrupts is the same, only faster.
KILL_CONFIG = OPEN_GRANTS + '[lifecycle]\narchive_after = "2s"\nscan_interval = "1s"\nlevel = 1\n'
ARCHIVE_OFF = "SEQSTORE_LIFECYCLE__ARCHIVE_AFTER"  # set to "0" while nothing may be archived
WAITER = {"Delay": 1, "MaxAttempts": 120}
JOB_TERMINAL = {"COMPLETED", "COMPLETED_WITH_FAILURES", "FAILED", "CANCELLED"}
NO_ACTIVATION_NEEDED = "No activation needed as read set is already in ACTIVATING or ACTIVE state."
ARCHIVE_TIMEOUT = 60.0
FILE_KEYS = ("source1", "source2", "index")

# The round-trip cases: read_set_support fixtures, one store each.
ROUND_TRIP = ["fastq_single", "fastq_gzip", "fastq_bgzf", "bam", "ubam", "cram30"]
# Tiny read sets archived for the export, activation and deletion tests.
SMALL = ["export", "activation", "deletion", "damaged"]

KILL_SEED = os.environ.get("SEQSTORE_LIFECYCLE_KILL_SEED") or "20250301"
KILL_ROUNDS = ["archive", "activate", "archive", "activate"]
# Seconds from the moment a kill round's work can begin (the read set idle on a running
# server with archiving on; the activation job started) to the SIGKILL. Archiving the FASTQ
# at level 1 takes a few seconds and activating it about two on the debug build.
KILL_DELAY = {"archive": (0.0, 4.0), "activate": (0.0, 2.0)}


# ---------------------------------------------------------------------------------------
# Realistic inputs: reads of a small genome with sequencing errors and binned qualities
# ---------------------------------------------------------------------------------------

GENOME_NAME = "chrR"
GENOME_LENGTH = 300_000
READ_LENGTH = 150
_COMPLEMENT = bytes.maketrans(b"ACGTN", b"TGCAN")


@dataclass
class Realistic:
    genome_uri: str  # the FASTA in the user's bucket
    fastq_gz: Path  # `gzip -n -6`
    bam: Path  # `samtools sort` of the same reads aligned where they came from
    big_fastq_gz: Path  # several MB, for the kill test


def binned_quality(rng: random.Random, n: int, errors: list[int]) -> bytearray:
    """Illumina-binned qualities (NovaSeq: F, :, ',', #): mostly F, runs of the others, lower
    where the read has an error, sometimes a `#` tail."""
    qual = bytearray(b"F" * n)
    for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
        start = rng.randrange(n)
        qual[start:start + rng.randint(1, 8)] = b":" * min(8, n - start)
    for _ in range(rng.choice([0, 0, 0, 1, 2])):
        start = rng.randrange(n)
        qual[start:start + rng.randint(1, 4)] = b"," * min(4, n - start)
    for i in errors:
        qual[i] = rng.choice(b",:,F")
    if rng.random() < 0.05:
        tail = rng.randint(5, 40)
        qual[n - tail:] = b"#" * tail
    return qual[:n]


def realistic_reads(genome: bytes, n: int, seed: int) -> list[tuple[str, int, bool, bytes, bytes]]:
    """(name, 0-based position, reverse, forward-strand bases, qualities in sequencing order)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        pos = rng.randrange(len(genome) - READ_LENGTH)
        bases = bytearray(genome[pos:pos + READ_LENGTH])
        errors = [rng.randrange(READ_LENGTH) for _ in range(rng.choices([0, 1, 2, 3], [55, 28, 12, 5])[0])]
        for e in errors:
            bases[e] = rng.choice([b for b in b"ACGT" if b != bases[e]])
        qual = binned_quality(rng, READ_LENGTH, errors)
        for j, q in enumerate(qual):
            if q == ord("#"):
                bases[j] = ord("N")
        reverse = rng.random() < 0.5
        tile = 1101 + (i * 12) // n * 100 + (i % 3)
        name = f"A00123:8:H5KJ3DSXY:1:{tile}:{rng.randrange(1000, 32000)}:{rng.randrange(1000, 37000)}"
        out.append((name, pos, reverse, bytes(bases), bytes(qual)))
    return out


def write_fastq_gz(reads, path: Path) -> Path:
    """The reads as sequenced (reverse ones complemented), `gzip -n -6`."""
    text = path.with_suffix("")
    with open(text, "wb") as f:
        for name, _, reverse, bases, qual in reads:
            seq = bases[::-1].translate(_COMPLEMENT) if reverse else bases
            f.write(b"@%s 1:N:0:ACGTACGT\n%s\n+\n%s\n" % (name.encode(), seq, qual))
    with open(path, "wb") as out:
        subprocess.run([require_tool("gzip"), "-n", "-6", "-c", str(text)], stdout=out, check=True)
    text.unlink()
    return path


def write_sorted_bam(reads, path: Path) -> Path:
    """The same reads aligned where they came from (all-M CIGAR), `samtools sort`."""
    header = ["@HD\tVN:1.6\tSO:unsorted", f"@SQ\tSN:{GENOME_NAME}\tLN:{GENOME_LENGTH}",
              "@RG\tID:L1\tSM:NA24385\tPL:ILLUMINA\tLB:lib1\tPU:H5KJ3DSXY.1"]
    records = [
        f"{name}\t{16 if reverse else 0}\t{GENOME_NAME}\t{pos + 1}\t60\t{READ_LENGTH}M\t*\t0\t0\t"
        f"{bases.decode()}\t{(qual[::-1] if reverse else qual).decode()}\tRG:Z:L1"
        for name, pos, reverse, bases, qual in reads
    ]
    sam = write_sam(path.with_suffix(".sam"), header, records)
    samtools("sort", "-o", path, sam)
    sam.unlink()
    return path


@pytest.fixture(scope="module")
def realistic(moto_s3, tmp_path_factory) -> Realistic:
    d = tmp_path_factory.mktemp("lifecycle-realistic")
    genome = random_bases(random.Random(424242), GENOME_LENGTH)
    ref = d / "genome.fa"
    ref.write_bytes(fasta([(GENOME_NAME, genome, 60)]))
    s3 = moto_s3.client()
    ensure_bucket(s3)
    key = f"lifecycle/{unique('genome')}/genome.fa"
    s3.upload_file(str(ref), SOURCE_BUCKET, key)
    reads = realistic_reads(genome, 30_000, seed=7)
    big = realistic_reads(genome, 80_000, seed=8)
    return Realistic(
        genome_uri=f"s3://{SOURCE_BUCKET}/{key}",
        fastq_gz=write_fastq_gz(reads, d / "novaseq_R1.fastq.gz"),
        bam=write_sorted_bam(reads, d / "novaseq.bam"),
        big_fastq_gz=write_fastq_gz(big, d / "big_R1.fastq.gz"),
    )


# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------


@dataclass
class Fetched:
    """A stored file fetched through the S3 endpoint."""

    uri: str
    path: Path
    md5: str  # `md5sum` of the bytes
    size: int


@dataclass
class Case:
    name: str
    store_id: str
    source: Source
    read_set_id: str = ""
    meta: dict = field(default_factory=dict)  # GetReadSetMetadata once ACTIVE
    fetched: dict = field(default_factory=dict)  # file -> Fetched, before archiving

    def file_uris(self) -> dict[str, str]:
        return {k: v["s3Access"]["s3Uri"] for k, v in self.meta["files"].items()}


def blob_key(uri: str) -> str:
    """A stored file's key in either tier: the key of its s3Uri."""
    return parse_s3_uri(uri).key


def fetch(s3, uri: str, dest: Path) -> Fetched:
    u = parse_s3_uri(uri)
    body = s3.get_object(Bucket=u.bucket, Key=u.key)["Body"].read()
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(body)
    return Fetched(uri, dest, md5sum(dest), len(body))


def tier_state(server, uris: list[str]) -> dict[str, tuple[bool, bool]]:
    """key -> (under <data-dir>/blobs, under <data-dir>/archive)."""
    out = {}
    for uri in uris:
        key = blob_key(uri)
        out[key] = ((server.data_dir / "blobs" / key).is_file(), (server.data_dir / "archive" / key).is_file())
    return out


def wait_tiers(server, uris: list[str], want: tuple[bool, bool], what: str, timeout: float = 15.0) -> None:
    """Poll until every file is (in blobs, in archive) == want."""
    deadline = time.monotonic() + timeout
    while True:
        state = tier_state(server, uris)
        if all(v == want for v in state.values()):
            return
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: expected every file (in blobs, in archive) == {want} within {timeout}s, "
                        f"got {state}\n{server.describe_logs()}")
        time.sleep(0.2)


def wait_statuses(client, cases: list[Case], want: str, timeout: float = ARCHIVE_TIMEOUT,
                  server=None) -> dict[str, dict]:
    """Poll GetReadSetMetadata until every case's read set is `want`; returns the metadata."""
    deadline = time.monotonic() + timeout
    seen: dict[str, list[str]] = {c.name: [] for c in cases}
    done: dict[str, dict] = {}
    while True:
        for c in cases:
            if c.name in done:
                continue
            meta = client.get_read_set_metadata(sequenceStoreId=c.store_id, id=c.read_set_id)
            if not seen[c.name] or seen[c.name][-1] != meta["status"]:
                seen[c.name].append(meta["status"])
            if meta["status"] == want:
                done[c.name] = meta
        if len(done) == len(cases):
            return done
        if time.monotonic() > deadline:
            logs = server.describe_logs() if server is not None else ""
            pytest.fail(f"expected every read set {want} within {timeout}s; statuses seen: {seen}\n{logs}")
        time.sleep(0.25)


def tool_etag(src: Source, path: Path) -> str:
    """The HealthOmics MD5 ETag the tools compute for a stored file."""
    if src.file_type == "FASTQ":
        assert is_gzip(path), f"{path.name}: the stored FASTQ is not gzip"
        return shell(f'gzip -dc -- "$1" | {HASH_TOOL["MD5up"]}', path).split()[0]
    return sam_hash(path, "MD5up", src.reference)


def finished_job(client, kind: str, store_id: str, job_id: str) -> dict:
    """Wait with boto3's `read_set_<kind>_job_completed` waiter (failure states are terminal
    too) and return Get<Kind>Job."""
    get = getattr(client, f"get_read_set_{kind}_job")
    try:
        client.get_waiter(f"read_set_{kind}_job_completed").wait(
            sequenceStoreId=store_id, id=job_id, WaiterConfig=WAITER)
    except botocore.exceptions.WaiterError as exc:
        status = (exc.last_response or {}).get("status")
        assert status in JOB_TERMINAL, f"{kind} job {job_id}: expected a terminal status, waiter says {exc}"
    return get(sequenceStoreId=store_id, id=job_id)


def start_activation(client, store_id: str, ids: list[str]) -> str:
    started = client.start_read_set_activation_job(sequenceStoreId=store_id,
                                                   sources=[{"readSetId": i} for i in ids])
    assert started["status"] == "SUBMITTED", f"StartReadSetActivationJob: expected SUBMITTED, got {started}"
    assert started["sequenceStoreId"] == store_id, started
    return started["id"]


def unknown_read_set_id() -> str:
    return str(random.randrange(10**17, 10**18))


def without(meta: dict, *keys: str) -> dict:
    return {k: v for k, v in meta.items() if k not in ("ResponseMetadata", *keys)}


def restart(server, *, archiving: bool) -> None:
    """Stop (SIGTERM, exit 0) and start again with archiving on or off."""
    code = server.stop()
    assert code == 0, f"seqstore serve exited {code} on SIGTERM, expected 0\n{server.describe_logs()}"
    set_archiving(server, archiving)
    server.start()


def set_archiving(server, archiving: bool) -> None:
    if archiving:
        server.extra_env.pop(ARCHIVE_OFF, None)
    else:
        server.extra_env[ARCHIVE_OFF] = "0"


def usage(server) -> dict:
    res = server.run_cli("usage", "--data-dir", str(server.data_dir), *server.catalog_args(), "--json")
    assert res.returncode == 0, f"seqstore usage --json: expected exit 0, got {res.returncode}\n{res.stderr}"
    return json.loads(res.stdout)


def files_naming(root: Path, read_set_id: str, dirs: bool = False) -> list[str]:
    """Every file (and with `dirs` directory) under `root` whose path names the read set. A
    running server may leave empty directories; the cleanup at start removes them."""
    # os.walk, not Path.rglob: the cleanup may remove directories while this walks them.
    found = []
    for parent, subdirs, files in os.walk(root):
        rel = Path(parent).relative_to(root)
        found += [str(rel / name) for name in (subdirs if dirs else []) + files
                  if read_set_id in (rel / name).parts]
    return sorted(found)


# ---------------------------------------------------------------------------------------
# The shared server of each backend, every case uploaded, fetched and archived
# ---------------------------------------------------------------------------------------


@dataclass
class World:
    server: object
    account: str
    keys: object
    workdir: Path
    ref_arn: str
    genome_arn: str
    cases: dict[str, Case]

    def omics(self):
        return self.server.client(self.keys)

    def s3(self):
        return s3_client(self.server, self.keys)

    def new_store(self, prefix: str) -> str:
        return self.omics().create_sequence_store(name=unique(prefix))["id"]


def build_world(server, read_set_files, realistic: Realistic, workdir: Path) -> World:
    account = new_account_id()
    keys, _ = server.create_keys(account)
    client = server.client(keys)
    ref_store = new_reference_store(client)
    job = run_import(client, ref_store, [
        source_item(f"s3://{SOURCE_BUCKET}/read-sets/ref/ref.fa", "lifecycle-genome"),
        source_item(realistic.genome_uri, "lifecycle-chrR"),
    ], timeout=300)
    assert job["status"] == "COMPLETED", f"reference import: expected COMPLETED, got {job}"
    ref_arn, genome_arn = (reference_arn(account, ref_store, s["referenceId"]) for s in job["sources"])
    world = World(server, account, keys, workdir, ref_arn, genome_arn, {})
    for case in ROUND_TRIP:
        world.cases[case] = Case(case, world.new_store(f"lc-{case}"), read_set_files[case])
    world.cases["ratio_fastq"] = Case("ratio_fastq", world.new_store("lc-ratio-fq"),
                                      Source("ratio_fastq", "FASTQ", [realistic.fastq_gz]))
    world.cases["ratio_bam"] = Case("ratio_bam", world.new_store("lc-ratio-bam"),
                                    Source("ratio_bam", "BAM", [realistic.bam]))
    for name in SMALL:
        world.cases[name] = Case(name, world.new_store(f"lc-{name}"), read_set_files["fastq_single"])
    return world


def upload_case(world: World, case: Case) -> None:
    client = world.omics()
    src = case.source
    reference = None
    if src.needs_reference:
        reference = world.genome_arn if case.name == "ratio_bam" else world.ref_arn
    _, case.read_set_id, _, _ = upload_read_set(client, case.store_id, src.file_type, src.paths,
                                                unique(f"lc {case.name}"), reference)
    case.meta = wait_read_set(client, case.store_id, case.read_set_id)
    assert case.meta["status"] == "ACTIVE", (
        f"{case.name}: expected ACTIVE after upload, got {case.meta['status']}: {case.meta.get('statusMessage')}"
    )


def fetch_case(world: World, case: Case, phase: str) -> dict[str, Fetched]:
    s3 = world.s3()
    return {f: fetch(s3, uri, world.workdir / phase / case.name / f / blob_key(uri).rsplit("/", 1)[-1])
            for f, uri in case.file_uris().items()}


@pytest.fixture(scope="module")
def world(backend, tmp_path_factory, moto_s3, read_set_files, realistic):
    factory = ServerFactory(tmp_path_factory, backend, moto_s3.server_env())
    try:
        server = factory.new(env={ARCHIVE_OFF: "0"}, config=LIFECYCLE_CONFIG)
        w = build_world(server, read_set_files, realistic, tmp_path_factory.mktemp(f"lifecycle-{backend}"))
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda c: upload_case(w, c), w.cases.values()))
        for case in w.cases.values():
            case.fetched = fetch_case(w, case, "before")
        started = time.monotonic()
        restart(server, archiving=True)
        archived = wait_statuses(w.omics(), list(w.cases.values()), "ARCHIVED", server=server)
        print(f"\n[{backend}] {len(archived)} read sets ARCHIVED {time.monotonic() - started:.1f}s after "
              f"the restart with archive_after=2s", flush=True)
        restart(server, archiving=False)
        yield w
    finally:
        factory.close()


# ---------------------------------------------------------------------------------------
# 1. Every file type archived and activated back
# ---------------------------------------------------------------------------------------


def test_archived_read_sets_are_described_not_served(world):
    client, s3 = world.omics(), world.s3()
    for name in ROUND_TRIP:
        case = world.cases[name]
        meta = client.get_read_set_metadata(sequenceStoreId=case.store_id, id=case.read_set_id)
        assert meta["status"] == "ARCHIVED", f"{name}: expected ARCHIVED, got {meta['status']}"
        assert without(meta, "status") == without(case.meta, "status"), (
            f"{name}: metadata of the ARCHIVED read set differs from the ACTIVE one beyond status:\n"
            f"before: {without(case.meta, 'status')}\nafter:  {without(meta, 'status')}"
        )
        listed = {r["id"]: r["status"] for r in client.list_read_sets(sequenceStoreId=case.store_id)["readSets"]}
        assert listed == {case.read_set_id: "ARCHIVED"}, f"{name}: ListReadSets expected the read set ARCHIVED, got {listed}"
        only = client.list_read_sets(sequenceStoreId=case.store_id, filter={"status": "ARCHIVED"})["readSets"]
        assert [r["id"] for r in only] == [case.read_set_id], f"{name}: filter status=ARCHIVED listed {only}"
        for file in case.meta["files"]:
            with raises_aws("ConflictException", 409):
                client.get_read_set(sequenceStoreId=case.store_id, id=case.read_set_id, file=file.upper(),
                                    partNumber=1)
        for file, uri in case.file_uris().items():
            u = parse_s3_uri(uri)
            with raises_s3("InvalidObjectState", 403, f"{name} {file} GetObject"):
                s3.get_object(Bucket=u.bucket, Key=u.key)
        state = tier_state(world.server, list(case.file_uris().values()))
        assert all(v == (False, True) for v in state.values()), (
            f"{name}: expected every file only under archive/ (in blobs, in archive) == (False, True), got {state}"
        )


def test_activation_restores_every_file_type(world):
    client, s3 = world.omics(), world.s3()
    cases = [world.cases[n] for n in ROUND_TRIP]
    jobs = {c.name: start_activation(client, c.store_id, [c.read_set_id]) for c in cases}
    for c in cases:
        job = finished_job(client, "activation", c.store_id, jobs[c.name])
        assert job["status"] == "COMPLETED", f"{c.name}: activation job expected COMPLETED, got {job}"
        assert [(s["readSetId"], s["status"]) for s in job["sources"]] == [(c.read_set_id, "FINISHED")], (
            f"{c.name}: expected one FINISHED item, got {job['sources']}")
        assert job["completionTime"] >= job["creationTime"], job
    for c in cases:
        meta = client.get_read_set_metadata(sequenceStoreId=c.store_id, id=c.read_set_id)
        assert meta["status"] == "ACTIVE", f"{c.name}: expected ACTIVE after activation, got {meta['status']}"
        assert meta["id"] == c.read_set_id
        assert meta["etag"] == c.meta["etag"], f"{c.name}: ETag before {c.meta['etag']}, after {meta['etag']}"
        assert meta["files"] == c.meta["files"], (
            f"{c.name}: files (s3Uri, contentLength, parts) before {c.meta['files']}, after {meta['files']}")
        assert without(meta) == without(c.meta), (
            f"{c.name}: metadata after activation differs:\nbefore: {without(c.meta)}\nafter:  {without(meta)}")
        wait_tiers(world.server, list(c.file_uris().values()), (True, False), f"{c.name} after activation")
        for file, before in c.fetched.items():
            after = fetch(s3, before.uri, world.workdir / "after" / c.name / file / before.path.name)
            assert (after.md5, after.size) == (before.md5, before.size), (
                f"{c.name} {file}: expected the bytes fetched before archiving (md5sum {before.md5}, "
                f"{before.size} bytes), got md5sum {after.md5}, {after.size} bytes")
            assert after.size == c.meta["files"][file]["contentLength"], (
                f"{c.name} {file}: {after.size} bytes, contentLength {c.meta['files'][file]['contentLength']}")
        check_against_originals(c, world.workdir / "after" / c.name)


def check_against_originals(c: Case, fetched_dir: Path) -> None:
    """What the tools say of the restored files equals what they say of the originals: a .gz
    FASTQ is stored as uploaded (`md5sum`), every source decodes to the original's ETag."""
    want = c.source.etag("MD5up")
    for i, original in enumerate(c.source.paths, start=1):
        restored = next((fetched_dir / f"source{i}").iterdir())
        if c.source.file_type == "FASTQ":
            assert md5sum(restored) == md5sum(original), (
                f"{c.name} source{i}: the .gz upload {original.name} (md5sum {md5sum(original)}) came back "
                f"as md5sum {md5sum(restored)}")
        got = tool_etag(c.source, restored)
        assert got == want[f"source{i}"], (
            f"{c.name} source{i}: the tools give the original ETag {want[f'source{i}']}, the restored file {got}")


# ---------------------------------------------------------------------------------------
# 2. The archive is smaller
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ratio_fastq", "ratio_bam"])
def test_archive_is_smaller(world, name, backend):
    case = world.cases[name]
    report = usage(world.server)
    stores = {s["sequenceStoreId"]: s for s in report["stores"]}
    assert case.store_id in stores, f"seqstore usage: expected store {case.store_id}, got {sorted(stores)}"
    entry = stores[case.store_id]
    assert entry["accountId"] == world.account, entry
    assert entry["readSets"] == {"ARCHIVED": 1}, f"{name}: expected readSets {{'ARCHIVED': 1}}, got {entry['readSets']}"
    original = sum(f.size for f in case.fetched.values())
    on_disk = sum((world.server.data_dir / "archive" / blob_key(f.uri)).stat().st_size
                  for f in case.fetched.values())
    assert entry["archivedBytes"] == original, (
        f"{name}: archivedBytes expected {original} (the stored files' sizes), got {entry['archivedBytes']}")
    assert entry["archiveBytes"] == on_disk, (
        f"{name}: archiveBytes expected {on_disk} (the archive files on disk), got {entry['archiveBytes']}")
    assert entry["activeBytes"] == 0, f"{name}: activeBytes expected 0, got {entry['activeBytes']}"
    assert entry["savedBytes"] == original - on_disk, entry
    ratio = on_disk / original
    files = ", ".join(f"{k} {f.size}" for k, f in case.fetched.items())
    print(f"\n[{backend}] {name}: archive {on_disk} bytes / stored {original} bytes ({files}) = {ratio:.3f}",
          flush=True)
    assert on_disk < original, (
        f"{name}: expected the archive copy smaller than the stored files; archive {on_disk} bytes, "
        f"stored {original} bytes, ratio {ratio:.3f}")
    total = report["total"]
    assert total["archiveBytes"] >= entry["archiveBytes"] and total["archivedBytes"] >= entry["archivedBytes"], total


# ---------------------------------------------------------------------------------------
# 3. Export
# ---------------------------------------------------------------------------------------


def moto_md5(moto, bucket: str, key: str, dest: Path) -> tuple[str, int]:
    body = moto.get_object(Bucket=bucket, Key=key)["Body"].read()
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(body)
    return md5sum(dest), len(body)


def test_export_jobs(world, moto_s3, read_set_files, tmp_path):
    client, moto = world.omics(), moto_s3.client()
    archived = world.cases["export"]
    store = archived.store_id
    bucket = unique("lc-export").lower()
    moto.create_bucket(Bucket=bucket)
    active = {}
    for case in ("fastq_gzip", "bam"):
        c = Case(case, store, read_set_files[case])
        upload_case(world, c)
        c.fetched = fetch_case(world, c, f"export-{case}")
        active[case] = c
    assert set(active["bam"].meta["files"]) == {"source1", "index"}, active["bam"].meta["files"]
    assert set(active["fastq_gzip"].meta["files"]) == {"source1", "source2"}, active["fastq_gzip"].meta["files"]

    good = client.start_read_set_export_job(sequenceStoreId=store, destination=f"s3://{bucket}/exports/run1/",
                                            roleArn=RS_ROLE_ARN,
                                            sources=[{"readSetId": c.read_set_id} for c in active.values()])
    assert good["status"] == "SUBMITTED" and good["destination"] == f"s3://{bucket}/exports/run1/", good
    job = finished_job(client, "export", store, good["id"])
    assert job["status"] == "COMPLETED", f"export job expected COMPLETED, got {job}"
    assert [(r["id"], r["status"]) for r in job["readSets"]] == [(c.read_set_id, "FINISHED") for c in active.values()], job
    want = {f"exports/run1/{c.read_set_id}/{f.path.name}": f for c in active.values() for f in c.fetched.values()}
    listed = {o["Key"] for o in moto.list_objects_v2(Bucket=bucket, Prefix="exports/run1/").get("Contents", [])}
    assert listed == set(want), f"expected exactly the objects {sorted(want)}, got {sorted(listed)}"
    for key, f in want.items():
        got = moto_md5(moto, bucket, key, tmp_path / "run1" / key)
        assert got == (f.md5, f.size), (
            f"s3://{bucket}/{key}: expected md5sum {f.md5} and {f.size} bytes (the file from seqstore's S3), got {got}")

    unknown = unknown_read_set_id()
    mixed = client.start_read_set_export_job(
        sequenceStoreId=store, destination=f"s3://{bucket}/exports/run2/", roleArn=RS_ROLE_ARN,
        sources=[{"readSetId": archived.read_set_id}, {"readSetId": unknown},
                 {"readSetId": active["fastq_gzip"].read_set_id}])
    job2 = finished_job(client, "export", store, mixed["id"])
    assert job2["status"] == "COMPLETED_WITH_FAILURES", f"expected COMPLETED_WITH_FAILURES, got {job2}"
    items = job2["readSets"]
    assert [(r["id"], r["status"]) for r in items] == [
        (archived.read_set_id, "FAILED"), (unknown, "FAILED"), (active["fastq_gzip"].read_set_id, "FINISHED")
    ], f"item statuses: {items}"
    assert "activat" in items[0].get("statusMessage", "").lower(), (
        f"ARCHIVED item: expected a message about activation, got {items[0].get('statusMessage')!r}")
    assert unknown in items[1].get("statusMessage", "") and "not found" in items[1]["statusMessage"], (
        f"unknown item: expected 'read set {unknown} not found ...', got {items[1].get('statusMessage')!r}")
    listed2 = {o["Key"] for o in moto.list_objects_v2(Bucket=bucket, Prefix="exports/run2/").get("Contents", [])}
    want2 = {f"exports/run2/{active['fastq_gzip'].read_set_id}/{f.path.name}"
             for f in active["fastq_gzip"].fetched.values()}
    assert listed2 == want2, f"run2: expected only the ACTIVE read set's files {sorted(want2)}, got {sorted(listed2)}"
    meta = client.get_read_set_metadata(sequenceStoreId=store, id=archived.read_set_id)
    assert meta["status"] == "ARCHIVED", f"the export of an ARCHIVED read set changed it to {meta['status']}"

    for status, ids in (("COMPLETED", [good["id"]]), ("COMPLETED_WITH_FAILURES", [mixed["id"]]), ("FAILED", [])):
        got = [j["id"] for j in client.list_read_set_export_jobs(sequenceStoreId=store,
                                                                 filter={"status": status})["exportJobs"]]
        assert got == ids, f"ListReadSetExportJobs status={status}: expected {ids}, got {got}"
    every = client.list_read_set_export_jobs(sequenceStoreId=store)["exportJobs"]
    assert sorted(j["id"] for j in every) == sorted([good["id"], mixed["id"]]), every
    for j in every:
        assert j["destination"].startswith(f"s3://{bucket}/exports/run"), j


# ---------------------------------------------------------------------------------------
# 4. Activation items and listing
# ---------------------------------------------------------------------------------------


def test_activation_items_and_listing(world):
    client = world.omics()
    case = world.cases["activation"]
    store = case.store_id
    first = start_activation(client, store, [case.read_set_id])
    job1 = finished_job(client, "activation", store, first)
    assert job1["status"] == "COMPLETED", f"expected COMPLETED, got {job1}"
    assert "statusMessage" not in job1["sources"][0], job1["sources"]
    time.sleep(0.01)  # creation times a millisecond apart at least
    between = dt.datetime.now(dt.timezone.utc)
    time.sleep(0.01)

    unknown = unknown_read_set_id()
    second = start_activation(client, store, [case.read_set_id, unknown])
    job2 = finished_job(client, "activation", store, second)
    assert job2["status"] == "COMPLETED_WITH_FAILURES", f"expected COMPLETED_WITH_FAILURES, got {job2}"
    items = [(s["readSetId"], s["status"], s.get("statusMessage")) for s in job2["sources"]]
    assert items == [
        (case.read_set_id, "FINISHED", NO_ACTIVATION_NEEDED),
        (unknown, "FAILED", f"read set {unknown} not found in sequence store {store}"),
    ], f"items: {items}"

    only_unknown = unknown_read_set_id()
    third = start_activation(client, store, [only_unknown])
    job3 = finished_job(client, "activation", store, third)
    assert job3["status"] == "FAILED", f"an activation job whose every item failed: expected FAILED, got {job3}"
    assert [s["status"] for s in job3["sources"]] == ["FAILED"], job3["sources"]

    meta = client.get_read_set_metadata(sequenceStoreId=store, id=case.read_set_id)
    assert meta["status"] == "ACTIVE", f"expected ACTIVE, got {meta['status']}"

    def listed(**kwargs) -> list[str]:
        return [j["id"] for j in client.list_read_set_activation_jobs(sequenceStoreId=store, **kwargs)["activationJobs"]]

    assert sorted(listed()) == sorted([first, second, third]), listed()
    for status, want in (("COMPLETED", [first]), ("COMPLETED_WITH_FAILURES", [second]), ("FAILED", [third]),
                         ("IN_PROGRESS", [])):
        got = listed(filter={"status": status})
        assert got == want, f"ListReadSetActivationJobs status={status}: expected {want}, got {got}"
    got = sorted(listed(filter={"createdAfter": between}))
    assert got == sorted([second, third]), f"createdAfter {between}: expected {sorted([second, third])}, got {got}"
    got = listed(filter={"createdAfter": between, "status": "FAILED"})
    assert got == [third], f"createdAfter + status=FAILED: expected {[third]}, got {got}"

    pages, token = [], None
    while True:
        kwargs = {"nextToken": token} if token else {}
        page = client.list_read_set_activation_jobs(sequenceStoreId=store, maxResults=1, **kwargs)
        assert len(page["activationJobs"]) <= 1, f"maxResults=1 gave {len(page['activationJobs'])} jobs"
        pages.append([j["id"] for j in page["activationJobs"]])
        token = page.get("nextToken")
        if not token:
            break
        assert len(pages) <= 4, f"paging with maxResults=1 does not end: {pages}"
    flat = [i for p in pages for i in p]
    assert sorted(flat) == sorted([first, second, third]) and len(flat) == 3, (
        f"pages of maxResults=1: expected each of the 3 jobs once, got {pages}")
    for j in client.list_read_set_activation_jobs(sequenceStoreId=store)["activationJobs"]:
        assert j["sequenceStoreId"] == store and j["completionTime"] >= j["creationTime"], j


# ---------------------------------------------------------------------------------------
# 5. Deletion of an ARCHIVED read set
# ---------------------------------------------------------------------------------------


def test_deleting_an_archived_read_set_empties_both_tiers(world):
    client = world.omics()
    case = world.cases["deletion"]
    data = world.server.data_dir
    assert files_naming(data / "archive", case.read_set_id), (
        f"expected archive files of read set {case.read_set_id} before the deletion, found none")
    resp = client.batch_delete_read_set(sequenceStoreId=case.store_id, ids=[case.read_set_id])
    assert not resp.get("errors"), f"BatchDeleteReadSet: expected no errors, got {resp['errors']}"
    with raises_aws("ResourceNotFoundException", 404):
        client.get_read_set_metadata(sequenceStoreId=case.store_id, id=case.read_set_id)
    deadline = time.monotonic() + 15
    while True:
        left = {tier: files_naming(data / tier, case.read_set_id) for tier in ("blobs", "archive")}
        if not any(left.values()):
            break
        if time.monotonic() > deadline:
            pytest.fail(f"read set {case.read_set_id} deleted: expected nothing of it under blobs/ or "
                        f"archive/ within 15s, found {left}")
        time.sleep(0.2)
    entry = {s["sequenceStoreId"]: s for s in usage(world.server)["stores"]}.get(case.store_id)
    assert entry is None or (not entry["readSets"].get("ARCHIVED") and entry["archiveBytes"] == 0), (
        f"seqstore usage after the deletion: expected no ARCHIVED read set and no archive bytes, got {entry}")
    # The cleanup at start (it runs beside the serving server) removes the empty directories.
    restart(world.server, archiving=False)
    deadline = time.monotonic() + 30
    while True:
        left = {tier: files_naming(data / tier, case.read_set_id, dirs=True) for tier in ("blobs", "archive")}
        if not any(left.values()):
            break
        assert time.monotonic() < deadline, (
            f"30 s after a restart (its cleanup) expected no file or directory of read set "
            f"{case.read_set_id}, found {left}")
        time.sleep(0.2)


def test_a_damaged_archive_copy_fails_activation_and_is_kept(world):
    """A byte flipped in an archive copy: the activation item fails saying so, the read set
    stays ARCHIVED, the copy stays where it is and nothing is published in the active tier."""
    client = world.omics()
    case = world.cases["damaged"]
    data = world.server.data_dir
    copies = [data / "archive" / f for f in files_naming(data / "archive", case.read_set_id)]
    assert len(copies) == 1, f"expected one archive copy of read set {case.read_set_id}, found {copies}"
    damaged = bytearray(copies[0].read_bytes())
    damaged[len(damaged) // 2] ^= 0x55
    copies[0].write_bytes(bytes(damaged))

    job = finished_job(client, "activation", case.store_id, start_activation(client, case.store_id,
                                                                             [case.read_set_id]))
    item = job["sources"][0]
    assert (job["status"], item["status"]) == ("FAILED", "FAILED"), f"expected a FAILED job and item, got {job}"
    assert "archive copy" in item.get("statusMessage", ""), f"expected the message to name the archive copy: {item}"
    meta = client.get_read_set_metadata(sequenceStoreId=case.store_id, id=case.read_set_id)
    assert meta["status"] == "ARCHIVED", f"expected the read set back to ARCHIVED, got {meta['status']}"
    assert copies[0].read_bytes() == bytes(damaged), "the archive copy was not kept as it was"
    assert not files_naming(data / "blobs", case.read_set_id), (
        f"nothing may be published in the active tier: {files_naming(data / 'blobs', case.read_set_id)}")


# ---------------------------------------------------------------------------------------
# 6. SIGKILL while archiving and while activating
# ---------------------------------------------------------------------------------------


def test_kills_while_archiving_and_activating(server_factory, realistic, backend, tmp_path):
    rng = random.Random(f"{KILL_SEED}-{backend}")
    server = server_factory.new(env={ARCHIVE_OFF: "0"}, config=KILL_CONFIG)
    account = new_account_id()
    keys, _ = server.create_keys(account)
    client = server.client(keys)
    store = client.create_sequence_store(name=unique("lc-kill"))["id"]
    case = Case("kill", store, Source("kill", "FASTQ", [realistic.big_fastq_gz]))
    _, case.read_set_id, _, _ = upload_read_set(client, store, "FASTQ", case.source.paths, unique("lc kill"))
    case.meta = wait_read_set(client, store, case.read_set_id)
    assert case.meta["status"] == "ACTIVE", case.meta
    uris = list(case.file_uris().values())
    original = md5sum(realistic.big_fastq_gz)
    last_access = time.monotonic()
    before = fetch(s3_client(server, keys), uris[0], tmp_path / "before.fastq.gz")
    assert before.md5 == original, f"the .gz upload is stored as is: expected md5sum {original}, got {before.md5}"
    log = [f"seed {KILL_SEED}-{backend} (SEQSTORE_LIFECYCLE_KILL_SEED), a FASTQ.gz of {before.size} bytes"]
    print(f"\n[{backend}] {log[0]}", flush=True)

    def context() -> str:
        return "\n".join(log) + "\n" + server.describe_logs()

    for n, kind in enumerate(KILL_ROUNDS, start=1):
        delay = rng.uniform(*KILL_DELAY[kind])
        if kind == "archive":
            restart(server, archiving=True)
            client = server.client(keys)
            idle_at = max(last_access + ARCHIVE_AFTER + ACCESS_GRANULARITY, time.monotonic())
            time.sleep(max(0.0, idle_at + delay - time.monotonic()))
        else:
            restart(server, archiving=False)
            client = server.client(keys)
            job_id = start_activation(client, store, [case.read_set_id])
            time.sleep(delay)
        status = client.get_read_set_metadata(sequenceStoreId=store, id=case.read_set_id)["status"]
        on_disk = {t: [p.rsplit("/", 1)[-1] for p in files_naming(server.data_dir / t, case.read_set_id)]
                   for t in ("blobs", "archive")}
        server.kill()
        log.append(f"round {n} ({kind}): SIGKILL {delay:.2f}s in, read set {status}, files {on_disk}")
        print(f"\n[{backend}] {log[-1]}", flush=True)
        set_archiving(server, kind == "archive")
        server.start()
        client = server.client(keys)
        if kind == "archive":
            meta = wait_statuses(client, [case], "ARCHIVED", server=server)["kill"]
            wait_tiers(server, uris, (False, True), f"round {n}: ARCHIVED after the kill\n{context()}")
        else:
            job = finished_job(client, "activation", store, job_id)
            assert job["status"] == "COMPLETED" and job["sources"][0]["status"] == "FINISHED", (
                f"round {n}: activation job expected COMPLETED with its item FINISHED, got {job}\n{context()}")
            meta = client.get_read_set_metadata(sequenceStoreId=store, id=case.read_set_id)
            assert meta["status"] == "ACTIVE", f"round {n}: expected ACTIVE, got {meta['status']}\n{context()}"
            wait_tiers(server, uris, (True, False), f"round {n}: ACTIVE after the kill\n{context()}")
            after = fetch(s3_client(server, keys), uris[0], tmp_path / f"round{n}.fastq.gz")
            last_access = time.monotonic()
            assert (after.md5, after.size) == (before.md5, before.size), (
                f"round {n}: expected md5sum {before.md5} ({before.size} bytes) after activation, got "
                f"{after.md5} ({after.size} bytes)\n{context()}")
        assert without(meta, "status") == without(case.meta, "status"), (
            f"round {n}: metadata changed beyond status:\nbefore: {without(case.meta, 'status')}\n"
            f"after:  {without(meta, 'status')}\n{context()}")
    code = server.stop()
    assert code == 0, f"seqstore serve exited {code} on SIGTERM\n{context()}"
    code, report = server.fsck("--min-age", "0")
    assert code == 0, f"fsck --min-age 0 after the kills: expected clean (exit 0), got {code}: {report}\n{context()}"
    # fsck does not list staging files (`name#N`): no interrupted copy may be left in either tier.
    left = {t: files_naming(server.data_dir / t, case.read_set_id) for t in ("blobs", "archive")}
    want = {"blobs": sorted(blob_key(u) for u in uris), "archive": []}
    assert left == want, f"files of the ACTIVE read set after the kills: expected {want}, got {left}\n{context()}"
