"""Read sets made by direct upload: metadata, ETags and counts, stored files, lists, deletion, tags.

`uploaded` (conftest) puts every good source (paired FASTQ in four compressions, single-end
FASTQ, sorted BAM, uBAM, CRAM 3.0 and 3.1) into one sequence store per ETag family. Expected
values come from md5sum/sha256sum/sha512sum over `gzip -dc` or `samtools view`, from
`samtools view -c -F 0x900`, and from `samtools index` of the original (read_set_support).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import time

import pytest

from e2e_support import RawCapture, assert_wire_timestamp, raises_aws
from read_set_api import (
    MD5_ONLY_CASES,
    STANDARD_CASES,
    check_alignment_download,
    check_fastq_download,
    download,
    index_file_name,
    list_read_sets,
    stored_file_name,
    upload_read_set,
    wait_no_staging,
    wait_read_set,
)
from read_set_support import FAMILIES, HEX_LEN, PART_SIZE, READ_SET_ID_RE, Source

KEYS = [(f, c) for f in FAMILIES for c in STANDARD_CASES] + [("MD5up", c) for c in MD5_ONLY_CASES]
IDS = [f"{f}-{c}" for f, c in KEYS]

TINY_FASTQ = b"@t1\nACGTN\n+\nIIII#\n@t2 second\nGGC\n+\n!!~\n@t3\nA\n+\nJ\n"


# ---------------------------------------------------------------------------------------
# Metadata
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", KEYS, ids=IDS)
def test_read_set_metadata(rs_env, uploaded, key):
    u = uploaded[key]
    family, case = key
    src = u.source
    client = rs_env.client
    with RawCapture(client) as raw:
        meta = client.get_read_set_metadata(sequenceStoreId=u.store_id, id=u.read_set_id)
    wire = raw.last_json()
    assert meta["status"] == "ACTIVE", f"{case}: {meta['status']} ({meta.get('statusMessage')}), history {u.statuses}"
    assert READ_SET_ID_RE.match(meta["id"]) and meta["id"] == u.read_set_id
    assert meta["arn"] == rs_env.read_set_arn(u.store_id, u.read_set_id)
    assert meta["sequenceStoreId"] == u.store_id
    assert meta["subjectId"] == u.request["subjectId"]
    assert meta["sampleId"] == u.request["sampleId"]
    assert meta["name"] == u.request["name"]
    assert meta["description"] == u.request["description"]
    assert meta["fileType"] == src.file_type
    assert_wire_timestamp(wire["creationTime"], "creationTime")
    assert meta["creationTime"] >= u.created["creationTime"], "read set created before its upload"
    assert meta["creationType"] == "UPLOAD"
    assert meta["creationJobId"] == u.upload_id
    if src.needs_reference:
        assert meta["referenceArn"] == rs_env.refs["main"]
    else:
        assert "referenceArn" not in meta, meta.get("referenceArn")

    info = meta["sequenceInformation"]
    want = src.sequence_information()
    assert info.get("generatedFrom") == u.request["generatedFrom"]
    got = {k: info.get(k) for k in want}
    assert got == want, f"{case}: sequenceInformation {got}, the tools say {want}"


@pytest.mark.parametrize("key", KEYS, ids=IDS)
def test_etag_matches_the_tools(uploaded, key):
    u = uploaded[key]
    family, _ = key
    etag = u.meta["etag"]
    want = u.source.etag(family)
    assert etag == want, f"{u.case} in a {family} store: etag {etag}, the tools say {want}"
    for k in ("source1", "source2"):
        if k in etag:
            assert re.fullmatch(r"[0-9a-f]{%d}" % HEX_LEN[family], etag[k]), etag[k]


@pytest.mark.parametrize("key", KEYS, ids=IDS)
def test_files_and_s3_uris(rs_env, uploaded, key):
    u = uploaded[key]
    src = u.source
    files = u.meta["files"]
    want = {"source1"} | ({"source2"} if src.paired else set()) | ({"index"} if src.needs_reference else set())
    assert set(files) == want, f"{u.case}: files {sorted(files)}, expected {sorted(want)}"
    prefix = f"s3://{rs_env.aliases[u.store_id]}/{rs_env.account}/sequenceStore/{u.store_id}/readSet/{u.read_set_id}/"
    names = {"source1": stored_file_name(u.request["name"], src.file_type, 1),
             "source2": stored_file_name(u.request["name"], src.file_type, 2),
             "index": index_file_name(u.request["name"], src.file_type)}
    for k, info in files.items():
        assert info["partSize"] == PART_SIZE, f"{k}: partSize {info['partSize']}"
        assert info["contentLength"] > 0
        assert info["totalParts"] == math.ceil(info["contentLength"] / PART_SIZE), info
        assert info["s3Access"]["s3Uri"] == prefix + names[k], f"{k}: s3Uri {info['s3Access']['s3Uri']}"


def test_staging_is_removed_after_success(rs_env, uploaded):
    for u in uploaded.values():
        wait_no_staging(rs_env.server, u.upload_id)


def test_cram_decodes_against_its_own_linked_reference(rs_env, read_set_files, tmp_path):
    """A CRAM made against the other reference, uploaded with that reference's ARN, is fine."""
    client, store_id = rs_env.client, rs_env.stores["SHA256up"]
    bad = read_set_files.bad["cram_other_reference"]
    src = Source("cram_other_ok", "CRAM", bad.paths, reference=read_set_files.other_reference)
    _, rs_id, _, _ = upload_read_set(client, store_id, "CRAM", src.paths, "cram-other-genome",
                                     reference=rs_env.refs["other"])
    meta = wait_read_set(client, store_id, rs_id)
    assert meta["status"] == "ACTIVE", meta.get("statusMessage")
    assert meta["referenceArn"] == rs_env.refs["other"]
    assert meta["etag"] == src.etag("SHA256up")
    reads, bases = src.counts()
    assert (meta["sequenceInformation"]["totalReadCount"], meta["sequenceInformation"]["totalBaseCount"]) == (
        reads, bases)
    files = meta["files"]
    main = download(client, store_id, rs_id, "SOURCE1", files["source1"], tmp_path / "x.cram")
    index = download(client, store_id, rs_id, "INDEX", files["index"], tmp_path / "x.cram.crai")
    check_alignment_download(src, main, index, store_id)


def test_same_text_same_etag_whatever_the_compression(uploaded):
    etags = {c: uploaded[("MD5up", c)].meta["etag"] for c in ("fastq_plain", "fastq_gzip", "fastq_bgzf", "fastq_multi")}
    assert len({(e["source1"], e["source2"]) for e in etags.values()}) == 1, etags


def test_cram_versions_hash_the_same_records(uploaded):
    for family in FAMILIES:
        a = uploaded[(family, "cram30")].meta["etag"]["source1"]
        b = uploaded[(family, "cram31")].meta["etag"]["source1"]
        assert a == b, f"{family}: CRAM 3.0 {a} vs 3.1 {b}"


# ---------------------------------------------------------------------------------------
# Stored files
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", KEYS, ids=IDS)
def test_download_round_trip(rs_env, uploaded, key, tmp_path):
    u = uploaded[key]
    src = u.source
    files = u.meta["files"]
    if src.file_type == "FASTQ":
        for i, path in enumerate(src.paths, start=1):
            info = files[f"source{i}"]
            name = info["s3Access"]["s3Uri"].rsplit("/", 1)[-1]
            got = download(rs_env.client, u.store_id, u.read_set_id, f"SOURCE{i}", info, tmp_path / name)
            check_fastq_download(path, got)
        return
    # BAM / uBAM / CRAM: in a fresh directory under the names the store gave them.
    main = download(rs_env.client, u.store_id, u.read_set_id, "SOURCE1", files["source1"],
                    tmp_path / files["source1"]["s3Access"]["s3Uri"].rsplit("/", 1)[-1])
    index = None
    if "index" in files:
        index = download(rs_env.client, u.store_id, u.read_set_id, "INDEX", files["index"],
                         tmp_path / files["index"]["s3Access"]["s3Uri"].rsplit("/", 1)[-1])
    check_alignment_download(src, main, index, u.store_id, created_after=u.created["creationTime"])


def test_file_defaults_to_source1(rs_env, uploaded):
    u = uploaded[("MD5up", "fastq_gzip")]
    default = rs_env.client.get_read_set(sequenceStoreId=u.store_id, id=u.read_set_id, partNumber=1)["payload"].read()
    source1 = rs_env.client.get_read_set(sequenceStoreId=u.store_id, id=u.read_set_id, partNumber=1,
                                         file="SOURCE1")["payload"].read()
    assert default == source1 == u.source.paths[0].read_bytes()


def test_get_read_set_response(rs_env, uploaded):
    u = uploaded[("SHA256up", "bam")]
    resp = rs_env.client.get_read_set(sequenceStoreId=u.store_id, id=u.read_set_id, partNumber=1)
    body = resp["payload"].read()
    headers = resp["ResponseMetadata"]["HTTPHeaders"]
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert int(headers["content-length"]) == len(body) == u.meta["files"]["source1"]["contentLength"]
    assert headers.get("x-amzn-requestid")


# ---------------------------------------------------------------------------------------
# ListReadSets
# ---------------------------------------------------------------------------------------


def test_list_items_match_metadata(rs_env, uploaded):
    client = rs_env.client
    store_id = rs_env.stores["SHA512up"]
    with RawCapture(client) as raw:
        listed = client.list_read_sets(sequenceStoreId=store_id, maxResults=100)
    ours = [uploaded[("SHA512up", c)] for c in STANDARD_CASES]
    by_id = {r["id"]: r for r in listed["readSets"]}
    missing = [u.case for u in ours if u.read_set_id not in by_id]
    assert not missing, f"not listed: {missing}"
    for u in ours:
        item, meta = by_id[u.read_set_id], u.meta
        for k in ("arn", "sequenceStoreId", "subjectId", "sampleId", "status", "name", "description", "fileType",
                  "creationTime", "creationType", "etag", "sequenceInformation"):
            assert item.get(k) == meta.get(k), f"{u.case}: list item {k} {item.get(k)!r} vs metadata {meta.get(k)!r}"
        assert item.get("referenceArn") == meta.get("referenceArn")
    for item in raw.last_json()["readSets"]:
        assert_wire_timestamp(item["creationTime"], "creationTime")


@pytest.fixture(scope="module")
def listing(rs_env, read_set_files):
    """A store of its own with read sets of known attributes, made one after another."""
    client = rs_env.client
    store_id = rs_env.new_store("MD5up")
    d = read_set_files.workdir / f"listing-{store_id}"
    d.mkdir()
    tiny = d / "tiny.fastq"
    tiny.write_bytes(TINY_FASTQ)
    bad = d / "bad.fastq"
    bad.write_bytes(b"@b1\nACGT\n+\nII\n")
    plan = [
        ("a", "FASTQ", [tiny], dict(name="list-a", subjectId="subj-1", sampleId="samp-1", generatedFrom="gen-x")),
        ("b", "FASTQ", [tiny, tiny], dict(name="list-b", subjectId="subj-2", sampleId="samp-1")),
        ("c", "BAM", [read_set_files["bam"].paths[0]], dict(name="list-c", subjectId="subj-1", sampleId="samp-2",
                                                             generatedFrom="gen-y", reference=rs_env.refs["main"])),
        ("d", "FASTQ", [bad], dict(name="list-d", subjectId="subj-4", sampleId="samp-4")),
        ("e", "FASTQ", [tiny], dict(name="list-e", subjectId="subj-5", sampleId="samp-5")),
        ("f", "UBAM", [read_set_files["ubam"].paths[0]], dict(name="list-a", subjectId="subj-3", sampleId="samp-3")),
    ]
    ids, metas = {}, {}
    for key, file_type, paths, kw in plan:
        _, rs_id, _, _ = upload_read_set(client, store_id, file_type, paths, **kw)
        ids[key] = rs_id
        metas[key] = wait_read_set(client, store_id, rs_id)
        time.sleep(0.01)  # distinct creation times (milliseconds)
    assert metas["d"]["status"] == "UPLOAD_FAILED", metas["d"]
    assert all(metas[k]["status"] == "ACTIVE" for k in "abcef"), {k: m["status"] for k, m in metas.items()}
    resp = client.batch_delete_read_set(sequenceStoreId=store_id, ids=[ids["e"]])
    assert not resp.get("errors"), resp
    return store_id, ids, metas


def _ids(rs_env, store_id, ids, **flt) -> list[str]:
    names = {v: k for k, v in ids.items()}
    got = list_read_sets(rs_env.client, store_id, filter=flt) if flt else list_read_sets(rs_env.client, store_id)
    return [names.get(r["id"], r["id"]) for r in got]


def test_list_in_creation_order_without_deleted(rs_env, listing):
    store_id, ids, _ = listing
    assert _ids(rs_env, store_id, ids) == ["a", "b", "c", "d", "f"]


def test_list_filters(rs_env, listing):
    store_id, ids, metas = listing

    def q(**flt):
        return _ids(rs_env, store_id, ids, **flt)

    assert q(status="DELETED") == ["e"]
    assert q(status="ACTIVE") == ["a", "b", "c", "f"]
    assert q(status="UPLOAD_FAILED") == ["d"]
    assert q(status="PROCESSING_UPLOAD") == []
    assert q(name="list-a") == ["a", "f"]
    assert q(name="list-") == [], "name filters match exactly"
    assert q(name="list-e") == [], "deleted read sets are hidden unless status=DELETED is asked"
    assert q(name="list-e", status="DELETED") == ["e"]
    assert q(referenceArn=rs_env.refs["main"]) == ["c"]
    assert q(referenceArn=rs_env.refs["other"]) == []
    assert q(referenceArn="") == ["a", "b", "d", "f"], "referenceArn '' selects read sets without a reference"
    assert q(subjectId="subj-1") == ["a", "c"]
    assert q(sampleId="samp-1") == ["a", "b"]
    assert q(generatedFrom="gen-x") == ["a"]
    assert q(creationType="UPLOAD") == ["a", "b", "c", "d", "f"]
    assert q(creationType="IMPORT") == []
    assert q(status="ACTIVE", subjectId="subj-1") == ["a", "c"]
    t = metas["c"]["creationTime"]
    ms = dt.timedelta(milliseconds=1)
    assert q(createdAfter=t) == ["c", "d", "f"], "createdAfter is inclusive"
    assert q(createdBefore=t) == ["a", "b", "c"], "createdBefore is inclusive"
    assert q(createdAfter=t, createdBefore=t) == ["c"]
    assert q(createdAfter=metas["f"]["creationTime"] + ms) == []
    assert q(createdBefore=metas["a"]["creationTime"] - ms) == []


def test_list_paging(rs_env, listing):
    store_id, ids, _ = listing
    pages = rs_env.client.get_paginator("list_read_sets").paginate(
        sequenceStoreId=store_id, PaginationConfig={"PageSize": 2})
    sizes, seen = [], []
    for page in pages:
        sizes.append(len(page["readSets"]))
        seen += [r["id"] for r in page["readSets"]]
    assert seen == [ids[k] for k in "abcdf"], "paging must keep the creation order and repeat nothing"
    assert all(n <= 2 for n in sizes) and len(sizes) >= 3, sizes
    first = rs_env.client.list_read_sets(sequenceStoreId=store_id, maxResults=1)
    assert [r["id"] for r in first["readSets"]] == [ids["a"]]
    second = rs_env.client.list_read_sets(sequenceStoreId=store_id, maxResults=1, nextToken=first["nextToken"])
    assert [r["id"] for r in second["readSets"]] == [ids["b"]]


def test_failed_read_set_is_listed_with_its_message(rs_env, listing):
    store_id, ids, metas = listing
    item = next(r for r in rs_env.client.list_read_sets(sequenceStoreId=store_id)["readSets"] if r["id"] == ids["d"])
    assert item["status"] == "UPLOAD_FAILED"
    assert item.get("statusMessage") == metas["d"]["statusMessage"]


def test_list_read_sets_bad_requests(rs_env):
    with raises_aws("ResourceNotFoundException", 404):
        rs_env.client.list_read_sets(sequenceStoreId="8" * 10)
    with raises_aws("ValidationException", 400):
        rs_env.raw.list_read_sets(sequenceStoreId=rs_env.stores["MD5up"], filter={"status": "SLEEPING"})
    with raises_aws("ValidationException", 400):
        rs_env.raw.list_read_sets(sequenceStoreId=rs_env.stores["MD5up"], maxResults=0)


# ---------------------------------------------------------------------------------------
# Deletion
# ---------------------------------------------------------------------------------------


def _retry_until(fn, what: str, timeout: float = 30.0):
    """Call `fn` until it stops raising ConflictException (deletion may take a moment)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001
            code = getattr(exc, "response", {}).get("Error", {}).get("Code")
            if code != "ConflictException" or time.monotonic() > deadline:
                raise AssertionError(f"{what}: {exc}") from exc
            time.sleep(0.3)


def test_batch_delete(rs_env, read_set_files, tmp_path):
    client = rs_env.client
    store_id = rs_env.new_store()
    tiny = tmp_path / "tiny.fastq"
    tiny.write_bytes(TINY_FASTQ)
    bad = tmp_path / "bad.fastq"
    bad.write_bytes(b"@x\nAC\n+\nI\n")
    _, keep, _, _ = upload_read_set(client, store_id, "FASTQ", [tiny], "keep")
    _, gone, _, _ = upload_read_set(client, store_id, "FASTQ", [tiny], "gone")
    _, failed, _, _ = upload_read_set(client, store_id, "FASTQ", [bad], "failed")
    for rs in (keep, gone, failed):
        wait_read_set(client, store_id, rs)
    unknown = "9" * 10
    with RawCapture(client) as raw:
        resp = client.batch_delete_read_set(sequenceStoreId=store_id, ids=[gone, failed, unknown])
    assert raw.last["status"] == 200
    errors = resp.get("errors", [])
    assert [(e["id"], e["code"]) for e in errors] == [(unknown, "ResourceNotFoundException")], errors
    assert errors[0]["message"]
    for rs in (gone, failed):
        with raises_aws("ResourceNotFoundException", 404):
            client.get_read_set_metadata(sequenceStoreId=store_id, id=rs)
        with raises_aws("ResourceNotFoundException", 404):
            client.get_read_set(sequenceStoreId=store_id, id=rs, partNumber=1)
    assert [r["id"] for r in list_read_sets(client, store_id)] == [keep]
    deleted = list_read_sets(client, store_id, filter={"status": "DELETED"})
    assert sorted(r["id"] for r in deleted) == sorted([gone, failed])
    assert all(r["status"] == "DELETED" for r in deleted)
    # Deleting again: now those ids fail, the rest of the batch still works.
    again = client.batch_delete_read_set(sequenceStoreId=store_id, ids=[gone])
    assert [(e["id"], e["code"]) for e in again.get("errors", [])] == [(gone, "ResourceNotFoundException")]
    # The untouched read set is intact.
    body = client.get_read_set(sequenceStoreId=store_id, id=keep, partNumber=1)["payload"].read()
    import gzip as _gzip

    assert _gzip.decompress(body) == TINY_FASTQ


def test_batch_delete_bad_requests(rs_env):
    with raises_aws("ResourceNotFoundException", 404):
        rs_env.client.batch_delete_read_set(sequenceStoreId="8" * 10, ids=["1" * 10])
    with raises_aws("ValidationException", 400):
        rs_env.raw.batch_delete_read_set(sequenceStoreId=rs_env.stores["MD5up"], ids=[])
    with raises_aws("ValidationException", 400):
        rs_env.raw.batch_delete_read_set(sequenceStoreId=rs_env.stores["MD5up"],
                                         ids=[str(10**10 + i) for i in range(101)])


def test_store_with_read_sets_cannot_be_deleted(rs_env, tmp_path):
    client = rs_env.client
    store_id = rs_env.new_store()
    tiny = tmp_path / "tiny.fastq"
    tiny.write_bytes(TINY_FASTQ)
    _, rs, _, _ = upload_read_set(client, store_id, "FASTQ", [tiny], "blocks-the-store")
    wait_read_set(client, store_id, rs)
    with raises_aws("ConflictException", 409):
        client.delete_sequence_store(id=store_id)
    assert client.get_sequence_store(id=store_id)["id"] == store_id
    client.batch_delete_read_set(sequenceStoreId=store_id, ids=[rs])
    _retry_until(lambda: client.delete_sequence_store(id=store_id), "DeleteSequenceStore after deleting its read sets")
    with raises_aws("ResourceNotFoundException", 404):
        client.get_sequence_store(id=store_id)


def test_linked_reference_cannot_be_deleted(rs_env, read_set_files):
    client = rs_env.client
    store_id = rs_env.new_store()
    _, rs, _, _ = upload_read_set(client, store_id, "BAM", read_set_files["bam"].paths, "links-spare",
                                  reference=rs_env.refs["spare"])
    meta = wait_read_set(client, store_id, rs)
    assert meta["status"] == "ACTIVE", meta
    assert meta["referenceArn"] == rs_env.refs["spare"]
    with raises_aws("ConflictException", 409):
        client.delete_reference(referenceStoreId=rs_env.reference_store_id, id=rs_env.ref_ids["spare"])
    assert client.get_reference_metadata(referenceStoreId=rs_env.reference_store_id,
                                         id=rs_env.ref_ids["spare"])["status"] == "ACTIVE"
    client.batch_delete_read_set(sequenceStoreId=store_id, ids=[rs])
    _retry_until(lambda: client.delete_reference(referenceStoreId=rs_env.reference_store_id,
                                                 id=rs_env.ref_ids["spare"]),
                 "DeleteReference once no read set links it")


# ---------------------------------------------------------------------------------------
# Tags, accounts
# ---------------------------------------------------------------------------------------


def test_upload_tags_become_read_set_tags(rs_env, uploaded):
    for key in (("MD5up", "bam"), ("SHA256up", "fastq_gzip")):
        u = uploaded[key]
        arn = rs_env.read_set_arn(u.store_id, u.read_set_id)
        assert rs_env.client.list_tags_for_resource(resourceArn=arn)["tags"] == u.request["tags"]


def test_tag_and_untag_a_read_set(rs_env, uploaded):
    u = uploaded[("SHA512up", "ubam")]
    client = rs_env.client
    arn = rs_env.read_set_arn(u.store_id, u.read_set_id)
    client.tag_resource(resourceArn=arn, tags={"owner": "lab 7", "case": "renamed"})
    assert client.list_tags_for_resource(resourceArn=arn)["tags"] == {
        "case": "renamed", "family": "SHA512up", "owner": "lab 7"}
    client.untag_resource(resourceArn=arn, tagKeys=["owner", "case"])
    assert client.list_tags_for_resource(resourceArn=arn)["tags"] == {"family": "SHA512up"}


def test_tags_of_unknown_read_set(rs_env):
    arn = rs_env.read_set_arn(rs_env.stores["MD5up"], "9" * 10)
    with raises_aws("ResourceNotFoundException", 404):
        rs_env.client.list_tags_for_resource(resourceArn=arn)


def test_read_sets_of_another_account_are_invisible(rs_env, uploaded, other_account):
    _, other = other_account
    u = uploaded[("MD5up", "bam")]
    with raises_aws("ResourceNotFoundException", 404):
        other.get_read_set_metadata(sequenceStoreId=u.store_id, id=u.read_set_id)
    with raises_aws("ResourceNotFoundException", 404):
        other.get_read_set(sequenceStoreId=u.store_id, id=u.read_set_id, partNumber=1)
    with raises_aws("ResourceNotFoundException", 404):
        other.list_read_sets(sequenceStoreId=u.store_id)
    with raises_aws("ResourceNotFoundException", 404):
        other.batch_delete_read_set(sequenceStoreId=u.store_id, ids=[u.read_set_id])
    assert rs_env.client.get_read_set_metadata(sequenceStoreId=u.store_id, id=u.read_set_id)["status"] == "ACTIVE"
