"""References imported from the user's S3: formats, failures, metadata, downloads, lists, tags, deletion.

One import job per backend (`imported`) brings in every good and bad fixture at once; most
tests look at what it produced. Tests that delete or need an empty store use an account of
their own. Expected values come from md5sum / samtools faidx / gzip / bgzip (reference_support).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import time
from dataclasses import dataclass

import pytest
from omics.transfer.config import TransferConfig
from omics.transfer.manager import TransferManager

from e2e_support import (
    RawCapture,
    assert_wire_timestamp,
    new_account_id,
    raises_aws,
    unique,
)
from reference_support import (
    PART_SIZE,
    ROLE_ARN,
    SOURCE_BUCKET,
    JobWatcher,
    file_hash,
    get_part,
    list_references,
    new_reference_store,
    reference_arn,
    run_import,
    samtools_faidx_refuses,
    source_item,
    start_import,
)

REF_ID_RE = re.compile(r"^[0-9]{10,36}$")

# case -> reference name, extra source-item fields
GOOD = {
    "plain": ("plain", {"description": "plain FASTA", "tags": {"team": "genomics", "kind": "plain"}}),
    "plain_again": ("plain-again", {"description": "same object, another name"}),
    "gzip": ("gzip-single-member", {}),
    "bgzip": ("bgzip-blocks", {"tags": {"kind": "bgzip"}}),
    "lowercase": ("soft-masked", {}),
    "crlf": ("crlf-lines", {}),
    "multiline": ("multi-width", {}),
    "iupac": ("iupac-codes", {}),
    "no_final_newline": ("no-final-newline", {}),
    "blank_lines": ("blank-lines", {}),
    "gzip_multi": ("gzip-two-members", {}),
    "big": ("big-two-parts", {"description": "more than one part"}),
}
BAD = ["bad_char", "bad_empty_name", "bad_duplicate", "bad_before_header", "bad_empty_file",
       "bad_truncated_gz", "bad_line_lengths"]
MISSING = {
    "missing_key": f"s3://{SOURCE_BUCKET}/missing/no-such-key.fa",
    "missing_bucket": "s3://seqstore-e2e-no-such-bucket/ref.fa",
}
SMALL_GOOD = [c for c in GOOD if c != "big"]


@dataclass
class Imported:
    account: str
    client: object
    store_id: str
    job: dict
    history: list
    order: list[str]  # case of each source item, in request order
    sources: dict  # case -> SourceFile
    started: dict  # the StartReferenceImportJob response
    requested: list[dict]  # the source items sent

    def item(self, case: str) -> dict:
        return self.job["sources"][self.order.index(case)]

    def ref_id(self, case: str) -> str:
        return self.item(case)["referenceId"]

    def metadata(self, case: str) -> dict:
        return self.client.get_reference_metadata(referenceStoreId=self.store_id, id=self.ref_id(case))


def source_of(small_sources, big_source, case: str):
    if case == "big":
        return big_source
    if case == "plain_again":
        return small_sources["plain"]
    return small_sources[case]


@pytest.fixture(scope="module")
def imported(server, small_sources, big_source) -> Imported:
    account = new_account_id()
    keys, _ = server.create_keys(account)
    client = server.client(keys)
    store_id = new_reference_store(client)
    order, items, sources = [], [], {}
    for case, (name, extra) in GOOD.items():
        src = source_of(small_sources, big_source, case)
        order.append(case)
        sources[case] = src
        items.append(source_item(src, name, **extra))
    for case in BAD:
        order.append(case)
        sources[case] = small_sources[case]
        items.append(source_item(small_sources[case], case.replace("_", "-")))
    for case, uri in MISSING.items():
        order.append(case)
        items.append(source_item(uri, case.replace("_", "-")))
    started = start_import(client, store_id, items)
    watcher = JobWatcher(client, store_id, started["id"])
    job = watcher.wait(timeout=600)
    return Imported(account, client, store_id, job, watcher.history, order, sources, started, items)


# ---------------------------------------------------------------------------------------
# The job
# ---------------------------------------------------------------------------------------


def test_mixed_job_completes_with_failures(imported):
    job = imported.job
    started = imported.started
    assert started["status"] == "SUBMITTED"
    assert started["referenceStoreId"] == imported.store_id
    assert started["roleArn"] == ROLE_ARN
    assert re.fullmatch(r"[0-9]{10,36}", started["id"]), started["id"]
    assert job["status"] == "COMPLETED_WITH_FAILURES", job
    assert job["id"] == started["id"]
    assert job["referenceStoreId"] == imported.store_id
    assert job["roleArn"] == ROLE_ARN
    assert job["creationTime"] == started["creationTime"]
    assert job["completionTime"] >= job["creationTime"]

    assert len(job["sources"]) == len(imported.requested)
    for i, (asked, got) in enumerate(zip(imported.requested, job["sources"])):
        assert got["sourceFile"] == asked["sourceFile"], f"item {i} out of request order"
        assert got["name"] == asked["name"]
        if "description" in asked:
            assert got.get("description") == asked["description"], got
        if "tags" in asked:
            assert got.get("tags") == asked["tags"], got
    for case in GOOD:
        item = imported.item(case)
        assert item["status"] == "FINISHED", f"{case}: {item}"
        assert REF_ID_RE.match(item["referenceId"]), item
    ref_ids = [imported.ref_id(c) for c in GOOD]
    assert len(set(ref_ids)) == len(ref_ids), "two items got the same reference"
    for case in BAD + list(MISSING):
        assert imported.item(case)["status"] == "FAILED", f"{case}: {imported.item(case)}"


def test_job_moves_through_submitted_in_progress_terminal(imported):
    statuses = [s for s, _ in imported.history]
    assert statuses[-1] == "COMPLETED_WITH_FAILURES"
    # Polling may miss short states, but nothing else may show up.
    assert set(statuses) <= {"SUBMITTED", "IN_PROGRESS", "COMPLETED_WITH_FAILURES"}, imported.history


@pytest.mark.parametrize("case", BAD)
def test_invalid_fasta_fails_the_item_naming_the_line(imported, case):
    src = imported.sources[case]
    item = imported.item(case)
    msg = item["statusMessage"]
    assert len(msg) <= 127, msg
    if src.line is not None:
        assert re.search(rf"\bline {src.line}\b", msg), (
            f"{case} ({src.why}): statusMessage {msg!r} does not name line {src.line}"
        )
    if src.lines:
        assert any(re.search(rf"\bline {n}\b", msg) for n in src.lines), (
            f"{case} ({src.why}): statusMessage {msg!r} names none of lines {src.lines}"
        )


def test_invalid_character_message_names_it(imported):
    msg = imported.item("bad_char")["statusMessage"]
    assert "J" in msg and "chr1" in msg, msg


def test_ragged_lines_are_refused_by_samtools_too(small_sources, tmp_path):
    # The oracle for this case: samtools faidx refuses such a file as well.
    assert samtools_faidx_refuses(small_sources["bad_line_lengths"].path, tmp_path)


@pytest.mark.parametrize("case", list(MISSING))
def test_missing_object_fails_the_item_saying_what_is_missing(imported, moto_s3, case):
    expected = {
        "missing_key": f"key 'missing/no-such-key.fa' not found in bucket '{SOURCE_BUCKET}'",
        "missing_bucket": f"bucket 'seqstore-e2e-no-such-bucket' not found at {moto_s3.endpoint}",
    }[case]
    assert imported.item(case)["statusMessage"] == expected


def test_failed_items_create_no_reference(imported):
    names = sorted(r["name"] for r in list_references(imported.client, imported.store_id))
    assert names == sorted(name for name, _ in GOOD.values())


def test_all_bad_job_fails(new_account, small_sources):
    _, client = new_account()
    store_id = new_reference_store(client)
    job = run_import(client, store_id, [
        source_item(small_sources["bad_char"], "bad-one"),
        source_item(f"s3://{SOURCE_BUCKET}/missing/also-missing.fa", "bad-two"),
        source_item(small_sources["bad_empty_file"], "bad-three"),
    ])
    assert job["status"] == "FAILED", job
    assert [s["status"] for s in job["sources"]] == ["FAILED"] * 3
    assert list_references(client, store_id) == []


# ---------------------------------------------------------------------------------------
# What a finished item created
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", list(GOOD))
def test_reference_metadata(imported, case):
    src = imported.sources[case]
    name, extra = GOOD[case]
    rid = imported.ref_id(case)
    with RawCapture(imported.client) as raw:
        meta = imported.client.get_reference_metadata(referenceStoreId=imported.store_id, id=rid)
    wire = raw.last_json()
    assert meta["id"] == rid
    assert meta["arn"] == reference_arn(imported.account, imported.store_id, rid)
    assert meta["referenceStoreId"] == imported.store_id
    assert meta["md5"] == src.md5, f"{case}: md5 {meta['md5']} but md5sum says {src.md5}"
    assert meta["status"] == "ACTIVE"
    assert meta["name"] == name
    if "description" in extra:
        assert meta["description"] == extra["description"]
    assert meta["creationType"] == "IMPORT"
    assert meta["creationJobId"] == imported.job["id"]
    assert_wire_timestamp(wire["creationTime"], "creationTime")
    assert_wire_timestamp(wire["updateTime"], "updateTime")
    assert meta["creationTime"] >= imported.job["creationTime"]
    assert meta["creationTime"] <= imported.job["completionTime"]
    assert "tags" not in wire, "GetReferenceMetadata does not return tags"

    files = meta["files"]
    assert set(files) == {"source", "index"}, f"files: {sorted(files)} (TransferManager fails on unknown keys)"
    prefix = rf"s3://([a-z0-9-]+-s3alias)/{imported.account}/referenceStore/{imported.store_id}/reference/{rid}/"
    source = files["source"]
    assert source["contentLength"] == src.size
    assert source["partSize"] == PART_SIZE
    assert source["totalParts"] == src.total_parts
    m = re.fullmatch(prefix + re.escape(src.file_name), source["s3Access"]["s3Uri"])
    assert m, f"source s3Uri {source['s3Access']['s3Uri']!r} (original file name {src.file_name!r})"
    assert len(m.group(1)) <= 63
    index = files["index"]
    assert index["contentLength"] == len(src.fai)
    assert index["partSize"] == PART_SIZE
    assert index["totalParts"] == 1
    assert re.fullmatch(prefix + re.escape(src.file_name + ".fai"), index["s3Access"]["s3Uri"]), index


@pytest.mark.parametrize("case", SMALL_GOOD)
def test_source_is_byte_identical_and_index_is_samtools_faidx(imported, case):
    src = imported.sources[case]
    rid = imported.ref_id(case)
    body, headers = get_part(imported.client, imported.store_id, rid, 1, "SOURCE")
    assert int(headers["content-length"]) == len(body)
    assert body == src.read(), f"{case}: GetReference SOURCE differs from the uploaded object"
    index, headers = get_part(imported.client, imported.store_id, rid, 1, "INDEX")
    assert int(headers["content-length"]) == len(index)
    assert index == src.fai, (
        f"{case}: index differs from samtools faidx\n--- server ---\n{index.decode(errors='replace')}"
        f"\n--- samtools faidx ---\n{src.fai.decode()}"
    )


def test_md5_of_two_imports_of_one_object_agree(imported):
    a = imported.metadata("plain")
    b = imported.metadata("plain_again")
    assert a["id"] != b["id"]
    assert a["md5"] == b["md5"] == imported.sources["plain"].md5


def test_file_defaults_to_source(imported):
    rid = imported.ref_id("plain")
    body, _ = get_part(imported.client, imported.store_id, rid, 1, file=None)
    assert body == imported.sources["plain"].read()


# ---------------------------------------------------------------------------------------
# GetReference: parts and ranges
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "range_, piece",
    [
        ("bytes=0-9", slice(0, 10)),
        ("bytes=100-199", slice(100, 200)),
        ("bytes=3000-", slice(3000, None)),
        ("bytes=-7", slice(-7, None)),
        ("5-25", slice(5, 26)),
        ("bytes=0-0", slice(0, 1)),
        ("bytes=3100-999999", slice(3100, None)),  # an end past the file is cut to it
    ],
)
def test_range_within_a_part(imported, range_, piece):
    data = imported.sources["plain"].read()
    assert len(data) > 3100
    body, headers = get_part(imported.client, imported.store_id, imported.ref_id("plain"), 1, "SOURCE", range_)
    assert body == data[piece], f"Range {range_}: got {len(body)} bytes"
    assert int(headers["content-length"]) == len(body)


def test_range_on_the_index(imported):
    fai = imported.sources["multiline"].fai
    body, _ = get_part(imported.client, imported.store_id, imported.ref_id("multiline"), 1, "INDEX", "bytes=4-15")
    assert body == fai[4:16]


def test_unsatisfiable_range(imported):
    size = imported.sources["plain"].size
    with raises_aws("RangeNotSatisfiableException", 416):
        get_part(imported.client, imported.store_id, imported.ref_id("plain"), 1, "SOURCE", f"bytes={size}-")
    with raises_aws("RangeNotSatisfiableException", 416):
        get_part(imported.client, imported.store_id, imported.ref_id("plain"), 1, "SOURCE", f"bytes={size + 10}-{size + 20}")


def test_part_beyond_the_last(imported):
    with raises_aws("RangeNotSatisfiableException", 416):
        get_part(imported.client, imported.store_id, imported.ref_id("plain"), 2, "SOURCE")
    with raises_aws("RangeNotSatisfiableException", 416):
        get_part(imported.client, imported.store_id, imported.ref_id("plain"), 2, "INDEX")


def test_unknown_reference(imported):
    missing = "9" * 10
    with raises_aws("ResourceNotFoundException", 404):
        get_part(imported.client, imported.store_id, missing, 1)
    with raises_aws("ResourceNotFoundException", 404):
        imported.client.get_reference_metadata(referenceStoreId=imported.store_id, id=missing)


def test_references_of_another_account_are_invisible(imported, other_account):
    _, other = other_account
    rid = imported.ref_id("plain")
    with raises_aws("ResourceNotFoundException", 404):
        other.get_reference_metadata(referenceStoreId=imported.store_id, id=rid)
    with raises_aws("ResourceNotFoundException", 404):
        get_part(other, imported.store_id, rid, 1)
    with raises_aws("ResourceNotFoundException", 404):
        other.list_references(referenceStoreId=imported.store_id)


def test_big_reference_in_two_parts(imported, big_source):
    client, sid, rid = imported.client, imported.store_id, imported.ref_id("big")
    assert big_source.total_parts == 2
    # Part 1: only the headers (TransferManager reads the whole file below).
    resp = client.get_reference(referenceStoreId=sid, id=rid, partNumber=1, file="SOURCE")
    assert int(resp["ResponseMetadata"]["HTTPHeaders"]["content-length"]) == PART_SIZE
    resp["payload"].close()
    # Part 2: the rest, exactly.
    body, headers = get_part(client, sid, rid, 2, "SOURCE")
    with open(big_source.path, "rb") as f:
        f.seek(PART_SIZE)
        tail = f.read()
        f.seek(PART_SIZE + 1000)
        window = f.read(100)
        f.seek(PART_SIZE - 64)
        end_of_part1 = f.read(64)
    assert len(body) == big_source.size - PART_SIZE
    assert int(headers["content-length"]) == len(body)
    assert body == tail
    # Ranges apply within the part.
    assert get_part(client, sid, rid, 2, "SOURCE", "bytes=1000-1099")[0] == window
    assert get_part(client, sid, rid, 1, "SOURCE", "bytes=-64")[0] == end_of_part1
    with raises_aws("RangeNotSatisfiableException", 416):
        get_part(client, sid, rid, 3, "SOURCE")
    with raises_aws("RangeNotSatisfiableException", 416):
        get_part(client, sid, rid, 2, "SOURCE", f"bytes={len(tail)}-")
    index, _ = get_part(client, sid, rid, 1, "INDEX")
    assert index == big_source.fai


def test_transfer_manager_downloads_big_reference(imported, big_source, tmp_path):
    name, _ = GOOD["big"]
    tm = TransferManager(imported.client, TransferConfig(max_request_concurrency=2))
    tm.download_reference(imported.store_id, imported.ref_id("big"), directory=str(tmp_path))
    fasta, fai = tmp_path / f"{name}.fasta", tmp_path / f"{name}.fasta.fai"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([fasta.name, fai.name])
    assert fasta.stat().st_size == big_source.size
    assert file_hash(fasta) == big_source.md5, "downloaded FASTA differs from the uploaded object"
    assert fai.read_bytes() == big_source.fai


@pytest.mark.parametrize("case, fasta_name", [
    ("gzip", "gzip-single-member.fasta.gz"),  # TransferManager adds .gz when the bytes are gzip
    ("bgzip", "bgzip-blocks.fasta.gz"),
    ("crlf", "crlf-lines.fasta"),
])
def test_transfer_manager_downloads_small_reference(imported, case, fasta_name, tmp_path):
    name, _ = GOOD[case]
    src = imported.sources[case]
    tm = TransferManager(imported.client)
    tm.download_reference(imported.store_id, imported.ref_id(case), directory=str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([fasta_name, f"{name}.fasta.fai"])
    assert (tmp_path / fasta_name).read_bytes() == src.read()
    assert (tmp_path / f"{name}.fasta.fai").read_bytes() == src.fai


# ---------------------------------------------------------------------------------------
# ListReferences
# ---------------------------------------------------------------------------------------


def test_list_references_items(imported):
    with RawCapture(imported.client) as raw:
        listed = imported.client.list_references(referenceStoreId=imported.store_id, maxResults=100)
    assert "nextToken" not in listed or not listed["nextToken"]
    by_id = {r["id"]: r for r in listed["references"]}
    assert sorted(by_id) == sorted(imported.ref_id(c) for c in GOOD)
    for case, (name, extra) in GOOD.items():
        r = by_id[imported.ref_id(case)]
        meta = imported.metadata(case)
        assert r["arn"] == meta["arn"]
        assert r["referenceStoreId"] == imported.store_id
        assert r["md5"] == imported.sources[case].md5
        assert r["status"] == "ACTIVE"
        assert r["name"] == name
        if "description" in extra:
            assert r["description"] == extra["description"]
        assert r["creationTime"] == meta["creationTime"]
        assert r["updateTime"] == meta["updateTime"]
    for item in raw.last_json()["references"]:
        assert_wire_timestamp(item["creationTime"], "creationTime")
        assert_wire_timestamp(item["updateTime"], "updateTime")


def test_list_references_paging(imported):
    seen = []
    pages = imported.client.get_paginator("list_references").paginate(
        referenceStoreId=imported.store_id, PaginationConfig={"PageSize": 2}
    )
    sizes = []
    for page in pages:
        sizes.append(len(page["references"]))
        seen += [r["id"] for r in page["references"]]
    assert len(seen) == len(set(seen)), f"a reference came back twice: {seen}"
    assert sorted(seen) == sorted(imported.ref_id(c) for c in GOOD)
    assert all(n <= 2 for n in sizes), f"maxResults=2 but pages of {sizes}"
    assert len(sizes) >= math.ceil(len(GOOD) / 2), sizes


def test_list_references_filters(imported):
    client, sid = imported.client, imported.store_id

    def ids(**flt):
        return sorted(r["id"] for r in list_references(client, sid, filter=flt))

    assert ids(name="soft-masked") == [imported.ref_id("lowercase")]
    assert ids(name="soft-maske") == [], "name filters match exactly, not by prefix"
    assert ids(name="no-such-reference") == []
    assert ids(md5=imported.sources["plain"].md5) == sorted([imported.ref_id("plain"), imported.ref_id("plain_again")])
    assert ids(md5=imported.sources["crlf"].md5) == [imported.ref_id("crlf")]
    assert ids(md5="0" * 32) == []
    assert ids(name="plain", md5=imported.sources["plain"].md5) == [imported.ref_id("plain")]

    metas = {c: imported.metadata(c) for c in GOOD}
    t = metas["crlf"]["creationTime"]
    ms = dt.timedelta(milliseconds=1)
    after = sorted(m["id"] for m in metas.values() if m["creationTime"] >= t)
    before = sorted(m["id"] for m in metas.values() if m["creationTime"] <= t)
    assert ids(createdAfter=t) == after
    assert ids(createdBefore=t) == before
    assert imported.ref_id("crlf") in ids(createdAfter=t, createdBefore=t)
    assert ids(createdAfter=max(m["creationTime"] for m in metas.values()) + ms) == []
    assert ids(createdBefore=min(m["creationTime"] for m in metas.values()) - ms) == []


def test_list_references_of_unknown_store(omics):
    with raises_aws("ResourceNotFoundException", 404):
        omics.list_references(referenceStoreId="8" * 10)


# ---------------------------------------------------------------------------------------
# Tags
# ---------------------------------------------------------------------------------------


def test_source_tags_become_reference_tags(imported):
    client = imported.client
    plain_arn = imported.metadata("plain")["arn"]
    assert client.list_tags_for_resource(resourceArn=plain_arn)["tags"] == GOOD["plain"][1]["tags"]
    crlf_arn = imported.metadata("crlf")["arn"]
    assert client.list_tags_for_resource(resourceArn=crlf_arn)["tags"] == {}


def test_tag_and_untag_a_reference(imported):
    client = imported.client
    arn = imported.metadata("bgzip")["arn"]
    assert client.list_tags_for_resource(resourceArn=arn)["tags"] == {"kind": "bgzip"}
    resp = client.tag_resource(resourceArn=arn, tags={"owner": "lab 7", "kind": "bgzf"})
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert client.list_tags_for_resource(resourceArn=arn)["tags"] == {"kind": "bgzf", "owner": "lab 7"}
    resp = client.untag_resource(resourceArn=arn, tagKeys=["kind"])
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert client.list_tags_for_resource(resourceArn=arn)["tags"] == {"owner": "lab 7"}


def test_tags_of_unknown_reference(imported):
    arn = reference_arn(imported.account, imported.store_id, "9" * 10)
    with raises_aws("ResourceNotFoundException", 404):
        imported.client.list_tags_for_resource(resourceArn=arn)


# ---------------------------------------------------------------------------------------
# Deletion
# ---------------------------------------------------------------------------------------


def wait_gone(client, store_id: str, ref_id: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            meta = client.get_reference_metadata(referenceStoreId=store_id, id=ref_id)
        except client.exceptions.ResourceNotFoundException:
            return
        assert meta["status"] in ("ACTIVE", "DELETING", "DELETED"), meta["status"]
        if time.monotonic() > deadline:
            pytest.fail(f"reference {ref_id} still answers GetReferenceMetadata {timeout}s after DeleteReference "
                        f"(status {meta['status']})")
        time.sleep(0.2)


def test_delete_reference_then_store(new_account, small_sources):
    account, client = new_account()
    store_id = new_reference_store(client)
    job = run_import(client, store_id, [
        source_item(small_sources["plain"], "to-delete"),
        source_item(small_sources["crlf"], "to-keep-a-while", tags={"x": "y"}),
    ])
    assert job["status"] == "COMPLETED", job
    first, second = (s["referenceId"] for s in job["sources"])

    with raises_aws("ConflictException", 409):
        client.delete_reference_store(id=store_id)
    assert client.get_reference_store(id=store_id)["id"] == store_id

    resp = client.delete_reference(referenceStoreId=store_id, id=first)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    wait_gone(client, store_id, first)
    with raises_aws("ResourceNotFoundException", 404):
        get_part(client, store_id, first, 1)
    assert [r["id"] for r in list_references(client, store_id)] == [second]
    # The other reference is untouched.
    body, _ = get_part(client, store_id, second, 1, "SOURCE")
    assert body == small_sources["crlf"].read()

    with raises_aws("ConflictException", 409):
        client.delete_reference_store(id=store_id)
    client.delete_reference(referenceStoreId=store_id, id=second)
    wait_gone(client, store_id, second)
    with raises_aws("ResourceNotFoundException", 404):
        client.list_tags_for_resource(resourceArn=reference_arn(account, store_id, second))

    client.delete_reference_store(id=store_id)
    with raises_aws("ResourceNotFoundException", 404):
        client.get_reference_store(id=store_id)


def test_delete_unknown_reference(new_account):
    _, client = new_account()
    store_id = new_reference_store(client)
    with raises_aws("ResourceNotFoundException", 404):
        client.delete_reference(referenceStoreId=store_id, id="9" * 10)


def test_reference_store_without_references_deletes(new_account):
    _, client = new_account()
    store_id = new_reference_store(client)
    assert list_references(client, store_id) == []
    client.delete_reference_store(id=store_id)


def test_names_are_free_text(new_account, small_sources):
    """A name with spaces and punctuation (ReferenceName allows them) round-trips."""
    _, client = new_account()
    store_id = new_reference_store(client)
    name = f"GRCh38 (test) v1.0 {unique('n')}"
    job = run_import(client, store_id, [source_item(small_sources["iupac"], name, description="é ü — ok")])
    assert job["status"] == "COMPLETED", job
    meta = client.get_reference_metadata(referenceStoreId=store_id, id=job["sources"][0]["referenceId"])
    assert meta["name"] == name
    assert meta["description"] == "é ü — ok"
    assert [r["id"] for r in list_references(client, store_id, filter={"name": name})] == [meta["id"]]
