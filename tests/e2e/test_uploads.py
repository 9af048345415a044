"""Direct upload: CreateMultipartReadSetUpload, UploadReadSetPart, ListReadSetUploadParts,
ListMultipartReadSetUploads, CompleteMultipartReadSetUpload, AbortMultipartReadSetUpload — with
boto3, the aws-healthomics-tools TransferManager and the AWS CLI.

Expected ETags and counts come from the tools (read_set_support); checksums from hashlib.
"""

from __future__ import annotations

import base64
import concurrent.futures
import datetime as dt
import gzip
import hashlib
import json
import random
import re
import shutil
import time

import pytest
from omics.transfer.config import TransferConfig
from omics.transfer.manager import TransferManager

from e2e_support import ACCOUNT_ID, RawCapture, assert_wire_timestamp, raises_aws, unique
from read_set_api import (
    check_alignment_download,
    create_upload,
    gunzip_hash,
    list_parts,
    list_uploads,
    upload_part,
    wait_no_staging,
    wait_read_set,
)
from read_set_support import PART_SIZE, Source, sha256_b64
from reference_support import file_hash
from s3_support import file_uri, s3_client

UPLOAD_ID_RE = re.compile(r"^[0-9]{10,36}$")


def _complete(client, store_id, upload_id, parts):
    return client.complete_multipart_read_set_upload(sequenceStoreId=store_id, uploadId=upload_id, parts=parts)


# ---------------------------------------------------------------------------------------
# CreateMultipartReadSetUpload
# ---------------------------------------------------------------------------------------


def test_create_echoes_the_request_and_is_listed(rs_env):
    client = rs_env.client
    store_id = rs_env.new_store()
    request = dict(sequenceStoreId=store_id, sourceFileType="FASTQ", subjectId="subject 1", sampleId="sample/1",
                   name="my reads", generatedFrom="NovaSeq run 42", description="paired reads",
                   tags={"project": "p1", "empty": ""}, clientToken=unique("tok"))
    with RawCapture(client) as raw:
        created = client.create_multipart_read_set_upload(**request)
    wire = raw.last_json()
    assert raw.last["status"] == 200
    assert UPLOAD_ID_RE.match(created["uploadId"]), created["uploadId"]
    for k in ("sequenceStoreId", "sourceFileType", "subjectId", "sampleId", "name", "generatedFrom", "description",
              "tags"):
        assert created.get(k) == request[k], f"{k}: {created.get(k)!r}"
    assert "referenceArn" not in wire or wire["referenceArn"], "referenceArn must be omitted, not empty"
    assert_wire_timestamp(wire["creationTime"], "creationTime")
    age = dt.datetime.now(dt.timezone.utc) - created["creationTime"]
    assert dt.timedelta(seconds=-5) < age < dt.timedelta(seconds=60), age

    with RawCapture(client) as raw:
        uploads = list_uploads(client, store_id)
    assert [u["uploadId"] for u in uploads] == [created["uploadId"]]
    item = uploads[0]
    for k in ("sequenceStoreId", "uploadId", "sourceFileType", "subjectId", "sampleId", "name", "generatedFrom",
              "description", "tags", "creationTime"):
        assert item.get(k) == created.get(k), f"list item {k}: {item.get(k)!r} vs {created.get(k)!r}"
    assert_wire_timestamp(raw.last_json()["uploads"][0]["creationTime"], "creationTime")
    client.abort_multipart_read_set_upload(sequenceStoreId=store_id, uploadId=created["uploadId"])


def test_create_aligned_echoes_reference(rs_env):
    client = rs_env.client
    store_id = rs_env.stores["MD5up"]
    for file_type in ("BAM", "CRAM"):
        created = create_upload(client, store_id, file_type, unique("aligned"), rs_env.refs["main"])
        assert created["referenceArn"] == rs_env.refs["main"]
        assert created["sourceFileType"] == file_type
        client.abort_multipart_read_set_upload(sequenceStoreId=store_id, uploadId=created["uploadId"])


@pytest.mark.parametrize("file_type", ["BAM", "CRAM"])
def test_aligned_upload_needs_a_reference(rs_env, file_type):
    with raises_aws("ValidationException", 400, "referenceArn"):
        create_upload(rs_env.client, rs_env.stores["MD5up"], file_type, unique("noref"))


@pytest.mark.parametrize("file_type", ["FASTQ", "UBAM"])
def test_unaligned_upload_needs_no_reference(rs_env, file_type):
    created = create_upload(rs_env.client, rs_env.stores["MD5up"], file_type, unique("noref"))
    rs_env.client.abort_multipart_read_set_upload(sequenceStoreId=rs_env.stores["MD5up"], uploadId=created["uploadId"])


def test_unknown_reference_or_store(rs_env):
    from reference_support import reference_arn

    client, store_id = rs_env.client, rs_env.stores["MD5up"]
    for arn in (reference_arn(rs_env.account, rs_env.reference_store_id, "9" * 10),
                reference_arn(rs_env.account, "8" * 10, rs_env.ref_ids["main"])):
        with raises_aws("ResourceNotFoundException", 404):
            create_upload(client, store_id, "BAM", unique("badref"), arn)
    with raises_aws("ResourceNotFoundException", 404):
        create_upload(client, "8" * 10, "FASTQ", unique("nostore"))


def test_client_token_replays_the_upload(rs_env):
    client, store_id = rs_env.client, rs_env.new_store()
    token = unique("tok")
    first = create_upload(client, store_id, "FASTQ", "same", clientToken=token)
    again = create_upload(client, store_id, "FASTQ", "same", clientToken=token)
    assert again["uploadId"] == first["uploadId"]
    assert [u["uploadId"] for u in list_uploads(client, store_id)] == [first["uploadId"]]
    with raises_aws("ValidationException", 400):
        create_upload(client, store_id, "FASTQ", "different name", clientToken=token)
    client.abort_multipart_read_set_upload(sequenceStoreId=store_id, uploadId=first["uploadId"])


def test_create_validation(rs_env):
    raw, store_id = rs_env.raw, rs_env.stores["MD5up"]
    base = dict(sequenceStoreId=store_id, sourceFileType="FASTQ", subjectId="s", sampleId="x", name="n")
    for bad, field in (({"sourceFileType": "SAM"}, "sourceFileType"), ({"name": ""}, "name"),
                       ({"subjectId": "a\tb"}, "subjectId"), ({"referenceArn": "not-an-arn"}, "referenceArn")):
        with raises_aws("ValidationException", 400, field):
            raw.create_multipart_read_set_upload(**{**base, **bad})


# ---------------------------------------------------------------------------------------
# Parts
# ---------------------------------------------------------------------------------------


def test_parts_checksums_listing_and_replacement(rs_env):
    client, store_id = rs_env.client, rs_env.new_store()
    upload_id = create_upload(client, store_id, "FASTQ", "parts")["uploadId"]
    bodies = {("SOURCE1", n): f"part {n} of source1 ".encode() * (n * 10) for n in (3, 1, 2)}
    bodies[("SOURCE2", 1)] = b"mate bytes " * 7
    for (source, n), data in bodies.items():  # out of order: 3, 1, 2
        upload_part(client, store_id, upload_id, source, n, data)

    with RawCapture(client) as raw:
        parts = list_parts(client, store_id, upload_id, "SOURCE1")
    assert sorted(p["partNumber"] for p in parts) == [1, 2, 3]
    for p in parts:
        data = bodies[("SOURCE1", p["partNumber"])]
        assert p["partSource"] == "SOURCE1"
        assert p["partSize"] == len(data)
        assert p["checksum"] == sha256_b64(data)
        assert p["lastUpdatedTime"] >= p["creationTime"]
    for item in raw.last_json()["parts"]:
        assert_wire_timestamp(item["creationTime"], "creationTime")
        assert_wire_timestamp(item["lastUpdatedTime"], "lastUpdatedTime")
    two = list_parts(client, store_id, upload_id, "SOURCE2")
    assert [(p["partNumber"], p["partSize"], p["partSource"]) for p in two] == [(1, 77, "SOURCE2")]

    # Paging.
    pages = client.get_paginator("list_read_set_upload_parts").paginate(
        sequenceStoreId=store_id, uploadId=upload_id, partSource="SOURCE1", PaginationConfig={"PageSize": 1})
    numbers = [p["partNumber"] for page in pages for p in page["parts"]]
    assert sorted(numbers) == [1, 2, 3] and len(numbers) == 3, numbers

    # Filter on creation time.
    before = {p["partNumber"]: p for p in parts}
    future = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)
    assert list_parts(client, store_id, upload_id, "SOURCE1", filter={"createdAfter": future}) == []
    assert len(list_parts(client, store_id, upload_id, "SOURCE1", filter={"createdBefore": future})) == 3

    # A re-upload of part 2 replaces it.
    time.sleep(0.01)
    new = b"replacement bytes for part two"
    upload_part(client, store_id, upload_id, "SOURCE1", 2, new)
    after = {p["partNumber"]: p for p in list_parts(client, store_id, upload_id, "SOURCE1")}
    assert sorted(after) == [1, 2, 3]
    assert after[2]["checksum"] == sha256_b64(new) and after[2]["partSize"] == len(new)
    assert after[2]["lastUpdatedTime"] > before[2]["lastUpdatedTime"]
    assert after[1] == before[1] and after[3] == before[3]
    client.abort_multipart_read_set_upload(sequenceStoreId=store_id, uploadId=upload_id)


def test_part_checksum_is_base64_sha256(rs_env):
    client, store_id = rs_env.client, rs_env.stores["MD5up"]
    upload_id = create_upload(client, store_id, "FASTQ", "checksum")["uploadId"]
    data = bytes(range(256)) * 1000
    resp = client.upload_read_set_part(sequenceStoreId=store_id, uploadId=upload_id, partSource="SOURCE1",
                                       partNumber=1, payload=data)
    assert resp["checksum"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
    client.abort_multipart_read_set_upload(sequenceStoreId=store_id, uploadId=upload_id)


@pytest.mark.parametrize("file_type", ["BAM", "UBAM", "CRAM"])
def test_source2_only_for_fastq(rs_env, file_type):
    client, store_id = rs_env.client, rs_env.stores["MD5up"]
    ref = rs_env.refs["main"] if file_type != "UBAM" else None
    upload_id = create_upload(client, store_id, file_type, unique("s2"), ref)["uploadId"]
    with raises_aws("ValidationException", 400, "SOURCE2"):
        client.upload_read_set_part(sequenceStoreId=store_id, uploadId=upload_id, partSource="SOURCE2",
                                    partNumber=1, payload=b"x" * 10)
    client.abort_multipart_read_set_upload(sequenceStoreId=store_id, uploadId=upload_id)


def test_part_request_validation(rs_env):
    client, raw, store_id = rs_env.client, rs_env.raw, rs_env.stores["MD5up"]
    upload_id = create_upload(client, store_id, "FASTQ", "validation")["uploadId"]
    for number in (0, 10001):
        with raises_aws("ValidationException", 400, "partNumber"):
            raw.upload_read_set_part(sequenceStoreId=store_id, uploadId=upload_id, partSource="SOURCE1",
                                     partNumber=number, payload=b"@r\nA\n+\nI\n")
    with raises_aws("ValidationException", 400, "partSource"):
        raw.upload_read_set_part(sequenceStoreId=store_id, uploadId=upload_id, partSource="SOURCE3",
                                 partNumber=1, payload=b"@r\nA\n+\nI\n")
    with raises_aws("ResourceNotFoundException", 404):
        client.upload_read_set_part(sequenceStoreId=store_id, uploadId="9" * 10, partSource="SOURCE1",
                                    partNumber=1, payload=b"@r\nA\n+\nI\n")
    client.abort_multipart_read_set_upload(sequenceStoreId=store_id, uploadId=upload_id)


def test_part_larger_than_100_mib_is_refused(rs_env):
    client, store_id = rs_env.client, rs_env.stores["MD5up"]
    upload_id = create_upload(client, store_id, "FASTQ", "too-big")["uploadId"]
    body = b"A" * (PART_SIZE + 1)
    with raises_aws("ValidationException", 400):
        client.upload_read_set_part(sequenceStoreId=store_id, uploadId=upload_id, partSource="SOURCE1",
                                    partNumber=1, payload=body)
    assert list_parts(client, store_id, upload_id, "SOURCE1") == []
    client.abort_multipart_read_set_upload(sequenceStoreId=store_id, uploadId=upload_id)
    wait_no_staging(rs_env.server, upload_id)


# ---------------------------------------------------------------------------------------
# Complete
# ---------------------------------------------------------------------------------------


def test_complete_joins_listed_parts_by_number_and_drops_the_rest(rs_env, read_set_files):
    """SOURCE1 cut mid-record into parts numbered 2, 5, 9 (sent 9, 2, 5; part 5 sent first with
    other bytes and then replaced), an unlisted part 7 of garbage; SOURCE2 in parts 1 and 3;
    Complete lists them shuffled, one checksum in hex."""
    client, store_id = rs_env.client, rs_env.stores["SHA256up"]
    src = read_set_files["fastq_plain"]
    r1, r2 = (p.read_bytes() for p in src.paths)
    cut1, cut2 = len(r1) // 3 + 7, 2 * len(r1) // 3 + 1
    s1 = {2: r1[:cut1], 5: r1[cut1:cut2], 9: r1[cut2:]}
    s2 = {1: r2[: len(r2) // 2 + 3], 3: r2[len(r2) // 2 + 3:]}
    upload_id = create_upload(client, store_id, "FASTQ", "joined")["uploadId"]
    upload_part(client, store_id, upload_id, "SOURCE1", 5, b"@to-be-replaced\nACGT\n+\nIIII\n")
    listed = [upload_part(client, store_id, upload_id, "SOURCE1", n, s1[n]) for n in (9, 2, 5)]
    upload_part(client, store_id, upload_id, "SOURCE1", 7, b"@garbage\nNOT FASTQ AT ALL\n")
    listed += [upload_part(client, store_id, upload_id, "SOURCE2", n, s2[n]) for n in (3, 1)]
    hex_checksum = dict(listed[0])
    hex_checksum["checksum"] = base64.b64decode(listed[0]["checksum"]).hex()
    parts = [listed[3], hex_checksum, listed[2], listed[4], listed[1]]
    random.Random(1).shuffle(parts)
    with RawCapture(client) as raw:
        done = _complete(client, store_id, upload_id, parts)
    assert raw.last["status"] == 200
    assert re.fullmatch(r"[0-9]{10,36}", done["readSetId"])
    assert upload_id not in [u["uploadId"] for u in list_uploads(client, store_id)], "completed upload still listed"
    with raises_aws("ResourceNotFoundException", 404):
        client.upload_read_set_part(sequenceStoreId=store_id, uploadId=upload_id, partSource="SOURCE1",
                                    partNumber=1, payload=b"late")
    meta = wait_read_set(client, store_id, done["readSetId"])
    assert meta["status"] == "ACTIVE", meta.get("statusMessage")
    assert meta["etag"] == src.etag("SHA256up")
    reads, bases = src.counts()
    assert meta["sequenceInformation"]["totalReadCount"] == reads
    assert meta["sequenceInformation"]["totalBaseCount"] == bases
    assert meta["creationJobId"] == upload_id
    for i, path in enumerate(src.paths, start=1):
        body = client.get_read_set(sequenceStoreId=store_id, id=done["readSetId"], file=f"SOURCE{i}",
                                   partNumber=1)["payload"].read()
        assert gzip.decompress(body) == path.read_bytes(), f"SOURCE{i} is not the joined parts"
    wait_no_staging(rs_env.server, upload_id)


def test_complete_refuses_bad_part_lists(rs_env):
    client, store_id = rs_env.client, rs_env.new_store()
    upload_id = create_upload(client, store_id, "FASTQ", "bad-lists")["uploadId"]
    p1 = upload_part(client, store_id, upload_id, "SOURCE1", 1, b"@r1\nACGT\n+\nIIII\n")
    p2 = upload_part(client, store_id, upload_id, "SOURCE2", 1, b"@r1\nTTTT\n+\nIIII\n")
    wrong = dict(p1, checksum=sha256_b64(b"something else"))
    replaced = upload_part(client, store_id, upload_id, "SOURCE1", 3, b"@r3\nAAAA\n+\nIIII\n")
    upload_part(client, store_id, upload_id, "SOURCE1", 3, b"@r3\nCCCC\n+\nIIII\n")
    cases = {
        "the checksum of a part since replaced": [p1, replaced, p2],
        "a part that was never uploaded": [p1, {"partNumber": 2, "partSource": "SOURCE1", "checksum": p1["checksum"]}],
        "a wrong checksum": [wrong, p2],
        "a garbage checksum": [dict(p1, checksum="not-a-checksum"), p2],
        "no SOURCE1 part": [p2],
    }
    for what, parts in cases.items():
        try:
            _complete(client, store_id, upload_id, parts)
        except client.exceptions.ValidationException as exc:
            assert exc.response["Error"]["Message"], what
        else:
            pytest.fail(f"CompleteMultipartReadSetUpload with {what} succeeded")
    # Still in progress: a proper list completes it.
    assert [u["uploadId"] for u in list_uploads(client, store_id)] == [upload_id]
    done = _complete(client, store_id, upload_id, [p1, p2])
    meta = wait_read_set(client, store_id, done["readSetId"])
    assert meta["status"] == "ACTIVE", meta.get("statusMessage")
    assert meta["sequenceInformation"]["totalReadCount"] == 2
    assert "source2" in meta["files"]
    with raises_aws("ResourceNotFoundException", 404):
        _complete(client, store_id, upload_id, [p1, p2])
    with raises_aws("ResourceNotFoundException", 404):
        _complete(client, store_id, "9" * 10, [p1])


def test_concurrent_parts_out_of_order(rs_env, read_set_files):
    client, store_id = rs_env.client, rs_env.stores["SHA512up"]
    src = read_set_files["fastq_gzip"]
    data = src.paths[0].read_bytes()
    size = len(data) // 8 + 1
    chunks = {n + 1: data[n * size:(n + 1) * size] for n in range(8)}
    upload_id = create_upload(client, store_id, "FASTQ", "concurrent")["uploadId"]
    order = list(chunks)
    random.Random(5).shuffle(order)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        parts = list(pool.map(lambda n: upload_part(client, store_id, upload_id, "SOURCE1", n, chunks[n]), order))
    assert sorted(p["partNumber"] for p in list_parts(client, store_id, upload_id, "SOURCE1")) == list(range(1, 9))
    done = _complete(client, store_id, upload_id, parts)
    meta = wait_read_set(client, store_id, done["readSetId"])
    assert meta["status"] == "ACTIVE", meta.get("statusMessage")
    single = Source("r1-only", "FASTQ", [src.paths[0]])
    assert meta["etag"] == single.etag("SHA512up")
    body = client.get_read_set(sequenceStoreId=store_id, id=done["readSetId"], partNumber=1)["payload"].read()
    assert body == data, "a .gz upload must come back byte-identical"


# ---------------------------------------------------------------------------------------
# Abort, ListMultipartReadSetUploads
# ---------------------------------------------------------------------------------------


def test_abort_removes_the_upload_and_its_bytes(rs_env):
    client, store_id = rs_env.client, rs_env.new_store()
    upload_id = create_upload(client, store_id, "FASTQ", "to-abort")["uploadId"]
    upload_part(client, store_id, upload_id, "SOURCE1", 1, b"@r\nACGT\n+\nIIII\n" * 1000)
    upload_part(client, store_id, upload_id, "SOURCE2", 4, b"@r\nACGT\n+\nIIII\n" * 10)
    assert rs_env.staging_files(upload_id), "no staged files under blobs/staging/uploads/<uploadId>/ to begin with"
    with RawCapture(client) as raw:
        client.abort_multipart_read_set_upload(sequenceStoreId=store_id, uploadId=upload_id)
    assert raw.last["status"] == 200
    assert list_uploads(client, store_id) == []
    with raises_aws("ResourceNotFoundException", 404):
        client.upload_read_set_part(sequenceStoreId=store_id, uploadId=upload_id, partSource="SOURCE1",
                                    partNumber=2, payload=b"more")
    with raises_aws("ResourceNotFoundException", 404):
        _complete(client, store_id, upload_id, [{"partNumber": 1, "partSource": "SOURCE1", "checksum": "x"}])
    with raises_aws("ResourceNotFoundException", 404):
        client.list_read_set_upload_parts(sequenceStoreId=store_id, uploadId=upload_id, partSource="SOURCE1")
    with raises_aws("ResourceNotFoundException", 404):
        client.abort_multipart_read_set_upload(sequenceStoreId=store_id, uploadId=upload_id)
    wait_no_staging(rs_env.server, upload_id)
    assert list_read_sets_ids(client, store_id) == []


def list_read_sets_ids(client, store_id):
    return [r["id"] for r in client.list_read_sets(sequenceStoreId=store_id)["readSets"]]


def test_list_uploads_shows_only_uploads_in_progress(rs_env):
    client, store_id = rs_env.client, rs_env.new_store()
    ids = []
    for i in range(3):
        ids.append(create_upload(client, store_id, "FASTQ", f"in-progress-{i}")["uploadId"])
        time.sleep(0.01)
    pages = client.get_paginator("list_multipart_read_set_uploads").paginate(
        sequenceStoreId=store_id, PaginationConfig={"PageSize": 2})
    sizes, seen = [], []
    for page in pages:
        sizes.append(len(page["uploads"]))
        seen += [u["uploadId"] for u in page["uploads"]]
    assert sorted(seen) == sorted(ids) and len(seen) == 3, seen
    assert all(n <= 2 for n in sizes), sizes
    p = upload_part(client, store_id, ids[0], "SOURCE1", 1, b"@r\nACGT\n+\nIIII\n")
    done = _complete(client, store_id, ids[0], [p])
    client.abort_multipart_read_set_upload(sequenceStoreId=store_id, uploadId=ids[1])
    assert [u["uploadId"] for u in list_uploads(client, store_id)] == [ids[2]]
    wait_read_set(client, store_id, done["readSetId"])
    assert [u["uploadId"] for u in list_uploads(client, store_id)] == [ids[2]]
    client.abort_multipart_read_set_upload(sequenceStoreId=store_id, uploadId=ids[2])
    with raises_aws("ResourceNotFoundException", 404):
        client.list_multipart_read_set_uploads(sequenceStoreId="8" * 10)


def test_uploads_of_another_account_are_invisible(rs_env, other_account):
    _, other = other_account
    client, store_id = rs_env.client, rs_env.stores["MD5up"]
    upload_id = create_upload(client, store_id, "FASTQ", "private")["uploadId"]
    with raises_aws("ResourceNotFoundException", 404):
        other.upload_read_set_part(sequenceStoreId=store_id, uploadId=upload_id, partSource="SOURCE1",
                                   partNumber=1, payload=b"@r\nA\n+\nI\n")
    with raises_aws("ResourceNotFoundException", 404):
        other.abort_multipart_read_set_upload(sequenceStoreId=store_id, uploadId=upload_id)
    with raises_aws("ResourceNotFoundException", 404):
        other.list_multipart_read_set_uploads(sequenceStoreId=store_id)
    assert upload_id in [u["uploadId"] for u in list_uploads(client, store_id)]
    client.abort_multipart_read_set_upload(sequenceStoreId=store_id, uploadId=upload_id)


# ---------------------------------------------------------------------------------------
# More than one part: 103 MiB of BGZF FASTQ, parts sent concurrently, part 2 first
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_upload(rs_env, read_set_files):
    client, store_id = rs_env.client, rs_env.stores["MD5up"]
    src = read_set_files.big
    path = src.paths[0]
    size = path.stat().st_size
    assert PART_SIZE < size < 2 * PART_SIZE
    upload_id = create_upload(client, store_id, "FASTQ", "big two parts", subjectId="big", sampleId="big")["uploadId"]

    def send(n):
        with open(path, "rb") as f:
            f.seek((n - 1) * PART_SIZE)
            data = f.read(PART_SIZE)
        return upload_part(client, store_id, upload_id, "SOURCE1", n, data)

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        second = pool.submit(send, 2)
        time.sleep(0.05)
        first = pool.submit(send, 1)
        parts = [second.result(), first.result()]
    listed = {p["partNumber"]: p["partSize"] for p in list_parts(client, store_id, upload_id, "SOURCE1")}
    assert listed == {1: PART_SIZE, 2: size - PART_SIZE}
    done = _complete(client, store_id, upload_id, parts)
    rs_id = done["readSetId"]
    # Right after Complete the read set is being processed: no files, GetReadSet refused.
    early = client.get_read_set_metadata(sequenceStoreId=store_id, id=rs_id)
    early_get = None
    if early["status"] == "PROCESSING_UPLOAD":
        try:
            client.get_read_set(sequenceStoreId=store_id, id=rs_id, partNumber=1)["payload"].close()
            # Fair only if processing ended in between.
            early_get = "served while " + client.get_read_set_metadata(sequenceStoreId=store_id, id=rs_id)["status"]
        except client.exceptions.ConflictException as exc:
            early_get = exc
    statuses = []
    meta = wait_read_set(client, store_id, rs_id, timeout=300, statuses=statuses)
    return dict(src=src, store_id=store_id, upload_id=upload_id, read_set_id=rs_id, early=early,
                early_get=early_get, meta=meta, statuses=statuses)


def test_big_upload_in_two_parts(big_upload):
    meta, src = big_upload["meta"], big_upload["src"]
    assert meta["status"] == "ACTIVE", meta.get("statusMessage")
    assert meta["etag"] == src.etag("MD5up")
    reads, bases = src.counts()
    assert meta["sequenceInformation"]["totalReadCount"] == reads
    assert meta["sequenceInformation"]["totalBaseCount"] == bases
    info = meta["files"]["source1"]
    assert info["contentLength"] == src.paths[0].stat().st_size, "a .gz upload is stored as is"
    assert info["totalParts"] == 2


def test_processing_upload_has_no_files_and_cannot_be_read(big_upload):
    early = big_upload["early"]
    if early["status"] != "PROCESSING_UPLOAD":
        pytest.skip(f"the 103 MiB upload was already {early['status']} at the first GetReadSetMetadata")
    assert "files" not in early, early["files"]
    assert early["creationType"] == "UPLOAD" and early["fileType"] == "FASTQ"
    got = big_upload["early_get"]
    if isinstance(got, str):
        assert got == "served while ACTIVE", (
            f"GetReadSet of a PROCESSING_UPLOAD read set was {got} (ConflictException expected)")
        pytest.skip("processing finished between GetReadSetMetadata and GetReadSet")
    assert got.response["Error"]["Code"] == "ConflictException"
    assert got.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert got.response["Error"]["Message"]


def test_big_read_set_parts(rs_env, big_upload):
    client = rs_env.client
    store_id, rs_id = big_upload["store_id"], big_upload["read_set_id"]
    path = big_upload["src"].paths[0]
    resp = client.get_read_set(sequenceStoreId=store_id, id=rs_id, partNumber=2)
    body = resp["payload"].read()
    with open(path, "rb") as f:
        f.seek(PART_SIZE)
        assert body == f.read()
    with raises_aws("RangeNotSatisfiableException", 416):
        client.get_read_set(sequenceStoreId=store_id, id=rs_id, partNumber=3)


def test_big_read_set_streams_over_s3(server, rs_env, big_upload, tmp_path):
    """The 103 MiB file, more than one GetReadSet part, is one S3 object: a whole GET and
    TransferManager's ranged download both return the uploaded bytes, under the MD5 ETag."""
    keys, _ = server.create_keys(rs_env.account)
    s3 = s3_client(server, keys)
    obj = file_uri(big_upload["meta"], "source1")
    expected = file_hash(big_upload["src"].paths[0])
    got = s3.get_object(Bucket=obj.bucket, Key=obj.key)
    digest = hashlib.md5()
    for chunk in got["Body"].iter_chunks(1 << 20):
        digest.update(chunk)
    assert digest.hexdigest() == expected and got["ETag"] == f'"{expected}"'
    assert got["ContentLength"] == big_upload["src"].paths[0].stat().st_size
    target = tmp_path / "big.fastq.gz"
    s3.download_file(obj.bucket, obj.key, str(target))
    assert file_hash(target) == expected


def test_transfer_manager_downloads_two_parts(rs_env, big_upload, tmp_path):
    tm = TransferManager(rs_env.client, TransferConfig(max_request_concurrency=2))
    tm.download_read_set(big_upload["store_id"], big_upload["read_set_id"], directory=str(tmp_path))
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["big_two_parts.fastq.gz"], files
    assert file_hash(tmp_path / files[0]) == file_hash(big_upload["src"].paths[0])


# ---------------------------------------------------------------------------------------
# TransferManager (aws-healthomics-tools)
# ---------------------------------------------------------------------------------------


def _tm_files(directory) -> dict[str, object]:
    """Downloaded files by name without the `.gz` TransferManager adds to gzip content."""
    return {p.name.removesuffix(".gz"): p for p in directory.iterdir()}


def test_transfer_manager_paired_fastq_round_trip(rs_env, read_set_files, tmp_path):
    client, store_id = rs_env.client, rs_env.stores["SHA256up"]
    src = read_set_files["fastq_plain"]
    tm = TransferManager(client, TransferConfig(max_request_concurrency=4))
    rs_id = tm.upload_read_set([str(p) for p in src.paths], store_id, "FASTQ", "tm-paired", "tm-subject",
                               "tm-sample", reference_arn=None, description="via TransferManager",
                               tags={"via": "tm"})
    meta = wait_read_set(client, store_id, rs_id)
    assert meta["status"] == "ACTIVE", meta.get("statusMessage")
    assert meta["etag"] == src.etag("SHA256up")
    assert meta["sequenceInformation"]["totalReadCount"] == src.counts()[0]
    assert meta["description"] == "via TransferManager"
    assert client.list_tags_for_resource(resourceArn=meta["arn"])["tags"] == {"via": "tm"}
    out = tmp_path / "out"
    tm.download_read_set(store_id, rs_id, directory=str(out))
    got = _tm_files(out)
    assert sorted(got) == ["tm-paired_1.fastq", "tm-paired_2.fastq"], sorted(p.name for p in out.iterdir())
    for name, original in zip(sorted(got), src.paths):
        assert got[name].name.endswith(".gz"), "stored FASTQ is gzip, TransferManager names it .gz"
        assert gunzip_hash(got[name]) == file_hash(original), f"{name}: gzip -dc differs from the upload"


@pytest.mark.parametrize("case", ["bam", "cram31"])
def test_transfer_manager_aligned_round_trip(rs_env, read_set_files, case, tmp_path):
    client, store_id = rs_env.client, rs_env.stores["MD5up"]
    src = read_set_files[case]
    name = f"tm-{case}"
    tm = TransferManager(client)
    rs_id = tm.upload_read_set(str(src.paths[0]), store_id, src.file_type, name, "tm-subject", "tm-sample",
                               reference_arn=rs_env.refs["main"])
    meta = wait_read_set(client, store_id, rs_id)
    assert meta["status"] == "ACTIVE", meta.get("statusMessage")
    assert meta["etag"] == src.etag("MD5up")
    out = tmp_path / "out"
    tm.download_read_set(store_id, rs_id, directory=str(out))
    got = _tm_files(out)
    ext = "bam" if src.file_type == "BAM" else "cram"
    idx = "bai" if ext == "bam" else "crai"
    assert sorted(got) == sorted([f"{name}.{ext}", f"{name}.{ext}.{idx}"]), sorted(p.name for p in out.iterdir())
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    main, index = fresh / f"x.{ext}", fresh / f"x.{ext}.{idx}"
    shutil.copyfile(got[f"{name}.{ext}"], main)
    shutil.copyfile(got[f"{name}.{ext}.{idx}"], index)
    check_alignment_download(src, main, index, store_id, created_after=meta["creationTime"])


def test_transfer_manager_refuses_bam_without_reference(rs_env, read_set_files):
    tm = TransferManager(rs_env.client)
    with pytest.raises(AttributeError):
        tm.upload_read_set(str(read_set_files["bam"].paths[0]), rs_env.stores["MD5up"], "BAM", "n", "s", "x")


# ---------------------------------------------------------------------------------------
# The AWS CLI
# ---------------------------------------------------------------------------------------


def test_aws_cli_upload_flow(aws_cli, omics, read_set_files, tmp_path):
    store_id = omics.create_sequence_store(name=unique("cli-reads"))["id"]
    src = read_set_files["fastq_gzip"]

    def cli_json(*args):
        return json.loads(aws_cli.run("omics", *args, "--output", "json").stdout or "{}")

    created = cli_json("create-multipart-read-set-upload", "--sequence-store-id", store_id,
                       "--source-file-type", "FASTQ", "--subject-id", "cli-subject", "--sample-id", "cli-sample",
                       "--name", "cli reads")
    upload_id = created["uploadId"]
    parts = []
    for i, path in enumerate(src.paths, start=1):
        out = cli_json("upload-read-set-part", "--sequence-store-id", store_id, "--upload-id", upload_id,
                       "--part-source", f"SOURCE{i}", "--part-number", "1", "--payload", str(path))
        assert out["checksum"] == sha256_b64(path.read_bytes())
        parts.append({"partNumber": 1, "partSource": f"SOURCE{i}", "checksum": out["checksum"]})
    listed = cli_json("list-read-set-upload-parts", "--sequence-store-id", store_id, "--upload-id", upload_id,
                      "--part-source", "SOURCE2")
    assert [p["partNumber"] for p in listed["parts"]] == [1]
    done = cli_json("complete-multipart-read-set-upload", "--sequence-store-id", store_id, "--upload-id", upload_id,
                    "--parts", json.dumps(parts))
    rs_id = done["readSetId"]
    meta = wait_read_set(omics, store_id, rs_id)
    assert meta["status"] == "ACTIVE", meta.get("statusMessage")
    assert meta["etag"] == src.etag("MD5up")
    for i, path in enumerate(src.paths, start=1):
        out = tmp_path / f"source{i}.part"
        aws_cli.run("omics", "get-read-set", "--sequence-store-id", store_id, "--id", rs_id, "--file", f"SOURCE{i}",
                    "--part-number", "1", str(out))
        assert out.read_bytes() == path.read_bytes(), f"SOURCE{i} downloaded by the CLI differs"
    shown = cli_json("get-read-set-metadata", "--sequence-store-id", store_id, "--id", rs_id)
    assert shown["arn"].endswith(f":{ACCOUNT_ID}:sequenceStore/{store_id}/readSet/{rs_id}")
    assert cli_json("list-multipart-read-set-uploads", "--sequence-store-id", store_id).get("uploads", []) == []
    cli_json("batch-delete-read-set", "--sequence-store-id", store_id, "--ids", rs_id)
    deadline = time.monotonic() + 30
    while aws_cli.run("omics", "delete-sequence-store", "--id", store_id, check=False).returncode != 0:
        assert time.monotonic() < deadline, "the store of a deleted read set could not be deleted within 30 s"
        time.sleep(0.5)
