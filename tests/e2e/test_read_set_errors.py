"""What the store refuses: bad sources end UPLOAD_FAILED with a message saying where and what,
and leave no staged bytes; GetReadSet / GetReadSetMetadata errors.

The bad files are made from the good ones (read_set_support.build_read_set_files); for each
binary one the standard tools refuse it too (samtools view / samtools index / gzip -t).
"""

from __future__ import annotations

import concurrent.futures
import re

import pytest

from e2e_support import raises_aws
from read_set_api import create_upload, list_uploads, upload_read_set, wait_no_staging, wait_read_set
from read_set_support import run, samtools

# case -> regex (case-insensitive) the message must match to say what is wrong
WHAT = {
    "fastq_as_bam": r"BAM|BGZF",
    "bam_as_fastq": r"FASTQ|BAM",
    "truncated_gzip": r"gzip|truncat|unexpected end|end of (the )?(file|data|stream)|EOF",
    "truncated_bam": r"truncat|EOF|end of (the )?(file|data|stream)|unexpected end",
    "corrupt_block_bam": r"CRC|checksum|corrupt|invalid|deflate|inflate|block|size",
    "crc_bam": r"CRC",
    "short_quality": r"qual",
    "pair_count_mismatch": r"read|record|count",
    "unsorted_bam": r"sort|order|index",
    "cram_other_reference": r"MD5|reference",
}
BAD_CASES = list(WHAT)


@pytest.fixture(scope="module")
def failed(rs_env, read_set_files):
    """Every bad source uploaded into the MD5up store, processed."""
    client, store_id = rs_env.client, rs_env.stores["MD5up"]

    def one(case):
        b = read_set_files.bad[case]
        ref = rs_env.refs[b.reference] if b.declared in ("BAM", "CRAM") else None
        upload_id, rs_id, _, _ = upload_read_set(client, store_id, b.declared, b.paths, f"bad-{case}", ref)
        return case, upload_id, rs_id

    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        started = list(pool.map(one, BAD_CASES))
    out = {}
    for case, upload_id, rs_id in started:
        statuses = []
        meta = wait_read_set(client, store_id, rs_id, statuses=statuses)
        out[case] = dict(upload_id=upload_id, read_set_id=rs_id, meta=meta, statuses=statuses, store_id=store_id)
    return out


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_source_fails_the_upload(rs_env, read_set_files, failed, case):
    b = read_set_files.bad[case]
    f = failed[case]
    meta = f["meta"]
    assert meta["status"] == "UPLOAD_FAILED", f"{case} ({b.why}): {meta['status']}, history {f['statuses']}"
    msg = meta.get("statusMessage", "")
    assert msg, f"{case}: UPLOAD_FAILED without statusMessage"
    assert len(msg) <= 255, f"statusMessage is {len(msg)} chars (max 255): {msg!r}"
    assert re.search(b.source.replace("source", r"source\s*"), msg, re.IGNORECASE), (
        f"{case} ({b.why}): statusMessage {msg!r} does not name {b.source}")
    if b.where:
        assert re.search(b.where, msg), f"{case} ({b.why}): statusMessage {msg!r} does not match {b.where!r}"
    assert re.search(WHAT[case], msg, re.IGNORECASE), (
        f"{case} ({b.why}): statusMessage {msg!r} does not say what is wrong (expected /{WHAT[case]}/i)")
    assert "files" not in meta, f"UPLOAD_FAILED read set has files: {meta['files']}"
    assert meta["creationType"] == "UPLOAD" and meta["creationJobId"] == f["upload_id"]


@pytest.mark.parametrize("case", BAD_CASES)
def test_failed_upload_leaves_nothing_staged_and_cannot_be_read(rs_env, failed, case):
    f = failed[case]
    wait_no_staging(rs_env.server, f["upload_id"])
    assert f["upload_id"] not in [u["uploadId"] for u in list_uploads(rs_env.client, f["store_id"])]
    with raises_aws("ConflictException", 409):
        rs_env.client.get_read_set(sequenceStoreId=f["store_id"], id=f["read_set_id"], partNumber=1)


def test_failed_read_sets_are_listed_as_upload_failed(rs_env, failed):
    store_id = rs_env.stores["MD5up"]
    pages = rs_env.client.get_paginator("list_read_sets").paginate(
        sequenceStoreId=store_id, filter={"status": "UPLOAD_FAILED"})
    listed = {r["id"]: r for page in pages for r in page["readSets"]}
    for case, f in failed.items():
        assert f["read_set_id"] in listed, f"{case} not listed with status=UPLOAD_FAILED"
        assert listed[f["read_set_id"]]["statusMessage"] == f["meta"]["statusMessage"]


def test_the_tools_refuse_the_bad_binary_files_too(read_set_files, tmp_path):
    bad = read_set_files.bad
    for case in ("truncated_bam", "corrupt_block_bam", "crc_bam"):
        res = samtools("view", bad[case].paths[0], check=False)
        assert res.returncode != 0, f"samtools view accepts {case}"
    copy = tmp_path / "unsorted.bam"
    copy.write_bytes(bad["unsorted_bam"].paths[0].read_bytes())
    assert samtools("index", copy, check=False).returncode != 0, "samtools index accepts the unsorted BAM"
    assert run(["gzip", "-t", str(bad["truncated_gzip"].paths[0])], check=False).returncode != 0
    res = samtools("view", "--reference", read_set_files.reference, bad["cram_other_reference"].paths[0], check=False)
    assert b"MD5" in res.stderr, "htslib does not notice the CRAM's reference MD5 mismatch"


def test_empty_part_is_refused(rs_env):
    client, store_id = rs_env.client, rs_env.stores["MD5up"]
    upload_id = create_upload(client, store_id, "FASTQ", "empty-part")["uploadId"]
    with raises_aws("ValidationException", 400):
        client.upload_read_set_part(sequenceStoreId=store_id, uploadId=upload_id, partSource="SOURCE1",
                                    partNumber=1, payload=b"")
    assert client.list_read_set_upload_parts(sequenceStoreId=store_id, uploadId=upload_id,
                                             partSource="SOURCE1")["parts"] == []
    client.abort_multipart_read_set_upload(sequenceStoreId=store_id, uploadId=upload_id)


# ---------------------------------------------------------------------------------------
# GetReadSet / GetReadSetMetadata errors
# ---------------------------------------------------------------------------------------


def test_part_beyond_the_last(rs_env, uploaded):
    u = uploaded[("MD5up", "bam")]
    for file in ("SOURCE1", "INDEX"):
        last = u.meta["files"]["source1" if file == "SOURCE1" else "index"]["totalParts"]
        with raises_aws("RangeNotSatisfiableException", 416):
            rs_env.client.get_read_set(sequenceStoreId=u.store_id, id=u.read_set_id, file=file, partNumber=last + 1)
    with raises_aws("RangeNotSatisfiableException", 416):
        rs_env.client.get_read_set(sequenceStoreId=u.store_id, id=u.read_set_id, partNumber=10000)


@pytest.mark.parametrize("case, file", [
    ("fastq_single", "SOURCE2"),
    ("bam", "SOURCE2"),
    ("cram30", "SOURCE2"),
    ("fastq_gzip", "INDEX"),
    ("fastq_single", "INDEX"),
    ("ubam", "INDEX"),
])
def test_file_the_read_set_does_not_have(rs_env, uploaded, case, file):
    u = uploaded[("MD5up", case)]
    with raises_aws("ResourceNotFoundException", 404):
        rs_env.client.get_read_set(sequenceStoreId=u.store_id, id=u.read_set_id, file=file, partNumber=1)


def test_unknown_read_set_or_store(rs_env, uploaded):
    client = rs_env.client
    store_id = rs_env.stores["MD5up"]
    with raises_aws("ResourceNotFoundException", 404):
        client.get_read_set_metadata(sequenceStoreId=store_id, id="9" * 10)
    with raises_aws("ResourceNotFoundException", 404):
        client.get_read_set(sequenceStoreId=store_id, id="9" * 10, partNumber=1)
    u = uploaded[("MD5up", "bam")]
    other_store = rs_env.stores["SHA256up"]
    with raises_aws("ResourceNotFoundException", 404):
        client.get_read_set_metadata(sequenceStoreId=other_store, id=u.read_set_id)
    with raises_aws("ResourceNotFoundException", 404):
        client.get_read_set(sequenceStoreId="8" * 10, id=u.read_set_id, partNumber=1)


def test_get_read_set_validation(rs_env, uploaded):
    raw = rs_env.raw
    u = uploaded[("MD5up", "bam")]
    for number in (0, 10001):
        with raises_aws("ValidationException", 400, "partNumber"):
            raw.get_read_set(sequenceStoreId=u.store_id, id=u.read_set_id, partNumber=number)
    with raises_aws("ValidationException", 400, "file"):
        raw.get_read_set(sequenceStoreId=u.store_id, id=u.read_set_id, partNumber=1, file="SOURCE3")
    with raises_aws("ValidationException", 400):
        raw.get_read_set_metadata(sequenceStoreId=u.store_id, id="abc")


def test_tiny_cram_claiming_2g_records_fails_and_the_server_answers(rs_env, read_set_files, tmp_path):
    """Issue 9's 777-byte CRAM: its container claimed 0x7fffffff records, which went straight into
    an allocation and aborted the whole server. It is corrupt (a container's count is its
    slices'): UPLOAD_FAILED, and the server goes on answering."""
    from mutants import Cram

    header = samtools("view", "-H", read_set_files["bam"].paths[0]).stdout
    records = samtools("view", read_set_files["bam"].paths[0]).stdout.splitlines(keepends=True)[:2]
    (tmp_path / "tiny.sam").write_bytes(header + b"".join(records))
    samtools("view", "-C", "--reference", read_set_files.reference, "-o", tmp_path / "tiny.cram",
             tmp_path / "tiny.sam")
    cram = Cram.parse((tmp_path / "tiny.cram").read_bytes())
    cram.containers[cram.data_indexes()[0]].n_records = 0x7FFFFFFF
    crafted = tmp_path / "crafted.cram"
    crafted.write_bytes(cram.encode())
    assert crafted.stat().st_size < 4096, f"{crafted.stat().st_size} bytes: not a tiny CRAM any more"

    client, store_id = rs_env.client, rs_env.stores["MD5up"]
    upload_id, rs_id, _, _ = upload_read_set(client, store_id, "CRAM", [crafted], "crafted-777",
                                             rs_env.refs["main"])
    meta = wait_read_set(client, store_id, rs_id)
    assert meta["status"] == "UPLOAD_FAILED", meta
    assert "claims 2147483647 records" in meta["statusMessage"], meta["statusMessage"]
    assert rs_env.server.alive(), "the server process is gone"
    client.list_sequence_stores(maxResults=1)
    wait_no_staging(rs_env.server, upload_id)
