"""Read sets through the API: the per-backend account and stores, upload/download helpers, the
comparisons of what the store serves with the originals, and the standard uploads.

The fixture files and the oracles are in read_set_support.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from e2e_support import REGION, clean_env, new_account_id, seqstore_bin, unique
from read_set_support import (
    FAMILIES,
    PART_SIZE,
    PROVENANCE_RE,
    REGIONS,
    SOURCE_BUCKET,
    BadSource,
    ReadSetFiles,
    Source,
    is_gzip,
    sam_records,
    samtools,
    samtools_index,
    sha256_b64,
    shell,
)
from reference_support import file_hash, new_reference_store, reference_arn, run_import, source_item


# ---------------------------------------------------------------------------------------
# Per backend: an account with the references and one sequence store per ETag family
# ---------------------------------------------------------------------------------------


@dataclass
class ReadSetEnv:
    server: object
    account: str
    client: object
    raw: object  # botocore's own checks off
    reference_store_id: str
    refs: dict[str, str]  # main | other | spare -> reference ARN
    ref_ids: dict[str, str]
    stores: dict[str, str]  # family -> sequence store id
    aliases: dict[str, str]  # store id -> access point alias (bucket of s3Uri)
    files: ReadSetFiles

    def new_store(self, family: str = "MD5up", **kwargs) -> str:
        store_id = self.client.create_sequence_store(name=unique("rs-store"), eTagAlgorithmFamily=family,
                                                     **kwargs)["id"]
        self.aliases[store_id] = store_alias(self.client, store_id)
        return store_id

    def read_set_arn(self, store_id: str, read_set_id: str) -> str:
        return read_set_arn(self.account, store_id, read_set_id)

    def staging_files(self, upload_id: str) -> list[str]:
        return staging_files(self.server, upload_id)


def read_set_arn(account: str, store_id: str, read_set_id: str) -> str:
    return f"arn:aws:omics:{REGION}:{account}:sequenceStore/{store_id}/readSet/{read_set_id}"


def store_alias(client, store_id: str) -> str:
    uri = client.get_sequence_store(id=store_id)["s3Access"]["s3Uri"]
    m = re.fullmatch(r"s3://([^/]+)/.*", uri)
    assert m, uri
    return m.group(1)


def staging_files(server, upload_id: str) -> list[str]:
    """Blob keys of the upload's staged parts (local directory or bucket)."""
    return server.blob_keys(f"staging/uploads/{upload_id}/")


def wait_no_staging(server, upload_id: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        left = staging_files(server, upload_id)
        if not left:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"upload {upload_id}: staged files still there {timeout}s after it ended: "
                        f"{left}")
        time.sleep(0.2)


def build_env(server, files: ReadSetFiles) -> ReadSetEnv:
    account = new_account_id()
    keys, _ = server.create_keys(account)
    client = server.client(keys)
    raw = server.client(keys, validate=False)
    ref_store = new_reference_store(client)
    job = run_import(client, ref_store, [
        source_item(f"s3://{SOURCE_BUCKET}/read-sets/ref/ref.fa", "read-set-genome"),
        source_item(f"s3://{SOURCE_BUCKET}/read-sets/ref/other-ref.fa", "other-genome"),
        source_item(f"s3://{SOURCE_BUCKET}/read-sets/ref/ref.fa", "spare-genome"),
    ], timeout=300)
    assert job["status"] == "COMPLETED", f"reference import for the read set tests failed: {job}"
    ref_ids = {k: s["referenceId"] for k, s in zip(("main", "other", "spare"), job["sources"])}
    refs = {k: reference_arn(account, ref_store, rid) for k, rid in ref_ids.items()}
    env = ReadSetEnv(server, account, client, raw, ref_store, refs, ref_ids, {}, {}, files)
    for family in FAMILIES:
        env.stores[family] = env.new_store(family)
    return env


# ---------------------------------------------------------------------------------------
# Uploading
# ---------------------------------------------------------------------------------------


def part_chunks(path: Path, part_size: int = PART_SIZE):
    """(partNumber, bytes) of a file cut into parts."""
    with open(path, "rb") as f:
        n = 0
        while chunk := f.read(part_size):
            n += 1
            yield n, chunk


def create_upload(client, store_id: str, file_type: str, name: str, reference: str | None = None, **extra) -> dict:
    kwargs = dict(sequenceStoreId=store_id, sourceFileType=file_type, subjectId=extra.pop("subjectId", "subject-1"),
                  sampleId=extra.pop("sampleId", "sample-1"), name=name, **extra)
    if reference is not None:
        kwargs["referenceArn"] = reference
    return client.create_multipart_read_set_upload(**kwargs)


def upload_part(client, store_id: str, upload_id: str, source: str, number: int, data: bytes) -> dict:
    resp = client.upload_read_set_part(sequenceStoreId=store_id, uploadId=upload_id, partSource=source,
                                       partNumber=number, payload=data)
    assert resp["checksum"] == sha256_b64(data), (
        f"UploadReadSetPart {source} #{number}: checksum {resp['checksum']!r}, expected base64 SHA-256 "
        f"{sha256_b64(data)!r}"
    )
    return {"partNumber": number, "partSource": source, "checksum": resp["checksum"]}


def upload_file_parts(client, store_id: str, upload_id: str, source: str, path: Path,
                      part_size: int = PART_SIZE) -> list[dict]:
    return [upload_part(client, store_id, upload_id, source, n, chunk) for n, chunk in part_chunks(path, part_size)]


@dataclass
class Uploaded:
    """One read set made by direct upload, and what was asked."""

    case: str
    family: str
    store_id: str
    upload_id: str
    read_set_id: str
    request: dict  # CreateMultipartReadSetUpload arguments
    created: dict  # its response
    source: Source | BadSource
    meta: dict | None = None  # GetReadSetMetadata once out of PROCESSING_UPLOAD
    statuses: list = field(default_factory=list)


def upload_read_set(client, store_id: str, file_type: str, paths: list[Path], name: str,
                    reference: str | None = None, **extra) -> tuple[str, str, dict, dict]:
    """Create, upload every part of every source, complete. Returns
    (upload id, read set id, create request, create response)."""
    created = create_upload(client, store_id, file_type, name, reference, **extra)
    request = dict(sourceFileType=file_type, name=name, referenceArn=reference, **extra)
    upload_id = created["uploadId"]
    parts = []
    for i, path in enumerate(paths):
        parts += upload_file_parts(client, store_id, upload_id, f"SOURCE{i + 1}", path)
    done = client.complete_multipart_read_set_upload(sequenceStoreId=store_id, uploadId=upload_id, parts=parts)
    return upload_id, done["readSetId"], request, created


def wait_read_set(client, store_id: str, read_set_id: str, timeout: float = 180.0,
                  statuses: list | None = None) -> dict:
    """Poll GetReadSetMetadata until the read set leaves PROCESSING_UPLOAD."""
    deadline = time.monotonic() + timeout
    seen = statuses if statuses is not None else []
    while True:
        meta = client.get_read_set_metadata(sequenceStoreId=store_id, id=read_set_id)
        if not seen or seen[-1] != meta["status"]:
            seen.append(meta["status"])
        if meta["status"] != "PROCESSING_UPLOAD":
            assert seen[-1] in ("ACTIVE", "UPLOAD_FAILED"), f"read set {read_set_id} went {seen}"
            assert all(s == "PROCESSING_UPLOAD" for s in seen[:-1]), f"read set {read_set_id} went {seen}"
            return meta
        assert "files" not in meta, f"PROCESSING_UPLOAD read set has files: {meta['files']}"
        if time.monotonic() > deadline:
            pytest.fail(f"read set {read_set_id} still PROCESSING_UPLOAD after {timeout}s")
        time.sleep(0.1)


# ---------------------------------------------------------------------------------------
# Downloading and comparing
# ---------------------------------------------------------------------------------------


def download(client, store_id: str, read_set_id: str, file: str, info: dict, dest: Path) -> Path:
    """Every GetReadSet part of `file` (SOURCE1 | SOURCE2 | INDEX), written to `dest`; each part but
    the last is exactly partSize bytes and the total is contentLength."""
    total = info["totalParts"]
    with open(dest, "wb") as out:
        for n in range(1, total + 1):
            resp = client.get_read_set(sequenceStoreId=store_id, id=read_set_id, file=file, partNumber=n)
            body = resp["payload"].read()
            if n < total:
                assert len(body) == info["partSize"], f"{file} part {n}/{total}: {len(body)} bytes, not partSize"
            else:
                assert 0 < len(body) <= info["partSize"], f"{file} last part {n}: {len(body)} bytes"
            out.write(body)
    assert dest.stat().st_size == info["contentLength"], (
        f"{file}: downloaded {dest.stat().st_size} bytes, contentLength says {info['contentLength']}"
    )
    return dest


def gunzip_hash(path: Path) -> str:
    return shell('gzip -dc -- "$1" | md5sum', path).split()[0]


def check_fastq_download(original: Path, downloaded: Path) -> None:
    """Stored as gzip: `gzip -dc` gives the original text; a .gz upload comes back byte-identical."""
    assert is_gzip(downloaded), f"{downloaded.name}: the stored FASTQ is not gzip"
    if is_gzip(original):
        assert file_hash(downloaded) == file_hash(original), f"{original.name}: the .gz upload did not come back as is"
    else:
        assert gunzip_hash(downloaded) == file_hash(original), f"{original.name}: gzip -dc of the download differs"


_INDEXED: dict[Path, Path] = {}


def indexed_original(path: Path) -> Path:
    """A private copy of an original BAM/CRAM with `samtools index` beside it (made once)."""
    if path not in _INDEXED:
        d = path.parent / "indexed"
        d.mkdir(exist_ok=True)
        copy = d / path.name
        shutil.copyfile(path, copy)
        samtools_index(copy)
        _INDEXED[path] = copy
    return _INDEXED[path]


def header_no_pg(path: Path) -> list[str]:
    return samtools("view", "-H", "--no-PG", path).stdout.decode().splitlines()


def check_alignment_download(src: Source, downloaded: Path, index: Path | None, store_id: str,
                             created_after=None) -> None:
    """Header = original + one provenance @CO line; records = original's; region queries through
    the store's index = those through `samtools index` of the original."""
    original = src.paths[0]
    got = header_no_pg(downloaded)
    want = header_no_pg(original)
    assert got[:-1] == want, (
        f"{src.case}: header of the download differs from the original (apart from the last line)\n"
        f"--- original ---\n" + "\n".join(want) + "\n--- download ---\n" + "\n".join(got)
    )
    m = PROVENANCE_RE.match(got[-1])
    assert m, f"{src.case}: last header line {got[-1]!r} is not the provenance @CO line"
    assert m.group("store") == store_id, f"provenance names store {m.group('store')}, not {store_id}"
    if created_after is not None:
        stamp = dt.datetime.fromisoformat(m.group("time").replace("Z", "+00:00"))
        assert stamp >= created_after - dt.timedelta(seconds=2), f"ingested {stamp} before the upload began"
        assert stamp <= dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=2), f"ingested {stamp} in the future"
    ref = src.reference
    a = sam_records(original, ref)
    b = sam_records(downloaded, ref)
    if a != b:
        la, lb = a.decode().splitlines(), b.decode().splitlines()
        first = next((i for i, (x, y) in enumerate(zip(la, lb)) if x != y), min(len(la), len(lb)))
        pytest.fail(f"{src.case}: records differ ({len(la)} vs {len(lb)} lines); first difference at record "
                    f"{first + 1}:\n  original: {la[first] if first < len(la) else None}\n"
                    f"  download: {lb[first] if first < len(lb) else None}")
    if index is not None:
        orig = indexed_original(original)
        for region in REGIONS:
            want_r = sam_records(orig, ref, region)
            got_r = sam_records(downloaded, ref, region)
            assert got_r == want_r, (
                f"{src.case}: `samtools view F {region}` with the store's index gives "
                f"{len(got_r.splitlines())} records, with samtools index {len(want_r.splitlines())}"
            )


def stored_file_name(name: str, file_type: str, source: int = 1) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    if file_type == "FASTQ":
        return f"{safe}_source{source}.fastq.gz"
    if file_type in ("BAM", "UBAM"):
        return f"{safe}.bam"
    return f"{safe}.cram"


def index_file_name(name: str, file_type: str) -> str:
    return stored_file_name(name, file_type) + (".crai" if file_type == "CRAM" else ".bai")


def seqstore_etag(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(seqstore_bin()), "etag", *map(str, args)], capture_output=True, text=True,
                          timeout=300, env=clean_env(), stdin=subprocess.DEVNULL)


def list_read_sets(client, store_id: str, **kwargs) -> list[dict]:
    pages = client.get_paginator("list_read_sets").paginate(sequenceStoreId=store_id, **kwargs)
    return [r for page in pages for r in page["readSets"]]


def list_uploads(client, store_id: str) -> list[dict]:
    pages = client.get_paginator("list_multipart_read_set_uploads").paginate(sequenceStoreId=store_id)
    return [u for page in pages for u in page["uploads"]]


def list_parts(client, store_id: str, upload_id: str, source: str, **kwargs) -> list[dict]:
    pages = client.get_paginator("list_read_set_upload_parts").paginate(
        sequenceStoreId=store_id, uploadId=upload_id, partSource=source, **kwargs)
    return [p for page in pages for p in page["parts"]]


# ---------------------------------------------------------------------------------------
# The standard uploads: every good source into the store of every family
# ---------------------------------------------------------------------------------------

STANDARD_CASES = ["fastq_gzip", "bam", "ubam", "cram30", "cram31"]
MD5_ONLY_CASES = ["fastq_plain", "fastq_bgzf", "fastq_multi", "fastq_single"]
# Read set names, some with characters a file name cannot keep (they become `_`).
UPLOAD_NAMES = {
    "fastq_gzip": "HG002 paired/run 1 (gz)",
    "fastq_plain": "plain-fastq",
    "fastq_bgzf": "bgzf.fastq",
    "fastq_multi": "multi_member",
    "fastq_single": "single end",
    "bam": "NA12878.chr1-3 sorted",
    "ubam": "unaligned:lib2",
    "cram30": "cram-3.0",
    "cram31": "cram v3.1 é",
}


def standard_request(env: ReadSetEnv, case: str, family: str) -> dict:
    src = env.files[case]
    extra = dict(
        subjectId=f"subject-{case}",
        sampleId=f"sample-{family}",
        generatedFrom=f"e2e generator ({case})",
        description=f"{case} uploaded into the {family} store",
        tags={"case": case, "family": family},
    )
    return dict(file_type=src.file_type, paths=src.paths, name=UPLOAD_NAMES[case],
                reference=env.refs["main"] if src.needs_reference else None, **extra)


def upload_standard_set(env: ReadSetEnv) -> dict[tuple[str, str], Uploaded]:
    jobs = [(family, case) for family in FAMILIES for case in STANDARD_CASES]
    jobs += [("MD5up", case) for case in MD5_ONLY_CASES]

    def one(job):
        family, case = job
        store_id = env.stores[family]
        req = standard_request(env, case, family)
        upload_id, rs_id, request, created = upload_read_set(env.client, store_id, **req)
        return Uploaded(case, family, store_id, upload_id, rs_id, request, created, env.files[case])

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        done = list(pool.map(one, jobs))
    out = {}
    for u in done:
        u.meta = wait_read_set(env.client, u.store_id, u.read_set_id, statuses=u.statuses)
        out[(u.family, u.case)] = u
    return out
