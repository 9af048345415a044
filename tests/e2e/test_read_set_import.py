"""Read set import jobs from the user's S3 (moto): job and item states, the waiter, lists, and
imported read sets that match uploaded copies of the same files (ETags, counts, stored files).
"""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest

from e2e_support import RawCapture, assert_wire_timestamp, raises_aws
from read_set_api import (
    check_alignment_download,
    check_fastq_download,
    download,
    list_read_sets,
    wait_read_set,
)
from read_set_support import RS_ROLE_ARN, SOURCE_BUCKET, bad_s3_uri

JOB_TERMINAL = {"COMPLETED", "COMPLETED_WITH_FAILURES", "FAILED", "CANCELLED"}
JOB_RANK = {"SUBMITTED": 0, "IN_PROGRESS": 1, "COMPLETED": 2, "COMPLETED_WITH_FAILURES": 2, "FAILED": 2}
ITEM_RANK = {"NOT_STARTED": 0, "IN_PROGRESS": 1, "FINISHED": 2, "FAILED": 2}

GOOD = ["fastq_gzip", "fastq_single", "bam", "ubam", "cram30", "cram31"]
MISSING_URI = f"s3://{SOURCE_BUCKET}/read-sets/missing/no-such.bam"


def source_item(env, case: str, **extra) -> dict:
    src = env.files[case]
    files = {"source1": src.s3_uri(0)}
    if src.paired:
        files["source2"] = src.s3_uri(1)
    item = {"sourceFiles": files, "sourceFileType": src.file_type, "subjectId": f"imp-subject-{case}",
            "sampleId": f"imp-sample-{case}", "name": f"imported {case}", "description": f"{case} from S3",
            "generatedFrom": "e2e import", "tags": {"imported": case}}
    if src.needs_reference:
        item["referenceArn"] = env.refs["main"]
    item.update(extra)
    return item


def wait_job(client, store_id: str, job_id: str, timeout: float = 300) -> tuple[dict, list]:
    deadline = time.monotonic() + timeout
    history, last = [], None
    while True:
        job = client.get_read_set_import_job(sequenceStoreId=store_id, id=job_id)
        if last is not None:
            assert JOB_RANK[job["status"]] >= JOB_RANK[last["status"]], f"job went {last['status']} -> {job['status']}"
            for i, (a, b) in enumerate(zip(last["sources"], job["sources"])):
                assert ITEM_RANK[b["status"]] >= ITEM_RANK[a["status"]], f"item {i} went {a['status']} -> {b['status']}"
        state = (job["status"], tuple(s["status"] for s in job["sources"]))
        if not history or history[-1] != state:
            history.append(state)
        last = job
        if job["status"] in JOB_TERMINAL:
            return job, history
        if time.monotonic() > deadline:
            pytest.fail(f"read set import job {job_id} not finished after {timeout}s: {history}")
        time.sleep(0.25)


@pytest.fixture(scope="module")
def imported(rs_env, uploaded):
    client, store_id = rs_env.client, rs_env.stores["MD5up"]
    items = [source_item(rs_env, c) for c in GOOD]
    bad = rs_env.files.bad
    items.append({"sourceFiles": {"source1": MISSING_URI}, "sourceFileType": "BAM", "subjectId": "s",
                  "sampleId": "x", "name": "missing", "referenceArn": rs_env.refs["main"]})
    items.append({"sourceFiles": {"source1": bad_s3_uri(bad["truncated_bam"])}, "sourceFileType": "BAM",
                  "subjectId": "s", "sampleId": "x", "name": "truncated", "referenceArn": rs_env.refs["main"]})
    items.append({"sourceFiles": {"source1": bad_s3_uri(bad["pair_count_mismatch"], 0),
                                  "source2": bad_s3_uri(bad["pair_count_mismatch"], 1)},
                  "sourceFileType": "FASTQ", "subjectId": "s", "sampleId": "x", "name": "pair-mismatch"})
    with RawCapture(client) as raw:
        started = client.start_read_set_import_job(sequenceStoreId=store_id, roleArn=RS_ROLE_ARN, sources=items)
    wire = raw.last_json()
    job, history = wait_job(client, store_id, started["id"])
    metas = {}
    for case, item in zip(GOOD, job["sources"]):
        if item.get("readSetId"):
            metas[case] = wait_read_set(client, store_id, item["readSetId"])
    return dict(store_id=store_id, started=started, wire=wire, job=job, history=history, items=items, metas=metas)


def test_start_response(imported):
    started, wire = imported["started"], imported["wire"]
    assert started["status"] == "SUBMITTED"
    assert started["sequenceStoreId"] == imported["store_id"]
    assert started["roleArn"] == RS_ROLE_ARN
    assert re.fullmatch(r"[0-9]{10,36}", started["id"]), started["id"]
    assert_wire_timestamp(wire["creationTime"], "creationTime")


def test_job_completes_with_failures(imported):
    job = imported["job"]
    assert job["status"] == "COMPLETED_WITH_FAILURES", (job["status"], [s["status"] for s in job["sources"]])
    assert job["id"] == imported["started"]["id"]
    assert job["roleArn"] == RS_ROLE_ARN
    assert job["completionTime"] >= job["creationTime"]
    assert len(job["sources"]) == len(imported["items"])
    for i, (asked, got) in enumerate(zip(imported["items"], job["sources"])):
        assert got["sourceFiles"]["source1"] == asked["sourceFiles"]["source1"], f"item {i} out of request order"
        for k in ("sourceFileType", "subjectId", "sampleId", "name", "description", "generatedFrom", "referenceArn"):
            if k in asked:
                assert got.get(k) == asked[k], f"item {i} {k}: {got.get(k)!r}"
        if "tags" in asked:
            assert asked["tags"].items() <= got.get("tags", {}).items(), f"item {i} tags: {got.get('tags')}"
    for case, item in zip(GOOD, job["sources"]):
        assert item["status"] == "FINISHED", f"{case}: {item}"
        assert re.fullmatch(r"[0-9]{10,36}", item["readSetId"]), item
    bad = job["sources"][len(GOOD):]
    assert [s["status"] for s in bad] == ["FAILED"] * 3, bad
    for s in bad:
        assert s.get("statusMessage"), f"FAILED item without statusMessage: {s}"
        assert len(s["statusMessage"]) <= 127, s["statusMessage"]
        assert not s.get("readSetId"), f"FAILED item names a read set: {s}"
    missing_key = MISSING_URI.removeprefix(f"s3://{SOURCE_BUCKET}/")
    assert bad[0]["statusMessage"] == f"key '{missing_key}' not found in bucket '{SOURCE_BUCKET}'"
    assert set(s for s, _ in imported["history"]) <= {"SUBMITTED", "IN_PROGRESS", "COMPLETED_WITH_FAILURES"}


@pytest.mark.parametrize("case", GOOD)
def test_imported_read_set_matches_the_uploaded_copy(rs_env, uploaded, imported, case):
    meta = imported["metas"][case]
    up = uploaded[("MD5up", case)].meta
    src = rs_env.files[case]
    assert meta["status"] == "ACTIVE", meta.get("statusMessage")
    assert meta["etag"] == up["etag"] == src.etag("MD5up")
    for k in ("totalReadCount", "totalBaseCount", "alignment"):
        assert meta["sequenceInformation"][k] == up["sequenceInformation"][k], k
    assert meta["sequenceInformation"].get("generatedFrom") == "e2e import"
    assert meta["fileType"] == src.file_type
    assert set(meta["files"]) == set(up["files"])


@pytest.mark.parametrize("case", GOOD)
def test_imported_read_set_metadata(rs_env, imported, case):
    meta = imported["metas"][case]
    item = imported["job"]["sources"][GOOD.index(case)]
    asked = imported["items"][GOOD.index(case)]
    store_id = imported["store_id"]
    assert meta["id"] == item["readSetId"]
    assert meta["arn"] == rs_env.read_set_arn(store_id, meta["id"])
    assert meta["creationType"] == "IMPORT"
    assert meta["creationJobId"] == imported["job"]["id"]
    for k in ("subjectId", "sampleId", "name", "description"):
        assert meta[k] == asked[k], k
    assert meta.get("referenceArn") == asked.get("referenceArn")
    assert imported["job"]["creationTime"] <= meta["creationTime"] <= imported["job"]["completionTime"]
    prefix = f"s3://{rs_env.aliases[store_id]}/{rs_env.account}/sequenceStore/{store_id}/readSet/{meta['id']}/"
    for k, info in meta["files"].items():
        assert info["s3Access"]["s3Uri"].startswith(prefix), (k, info["s3Access"]["s3Uri"])


def test_import_tags_become_read_set_tags(rs_env, imported):
    meta = imported["metas"]["bam"]
    tags = rs_env.client.list_tags_for_resource(resourceArn=meta["arn"])["tags"]
    assert {"imported": "bam"}.items() <= tags.items(), tags


@pytest.mark.parametrize("case", ["fastq_gzip", "bam", "cram31", "ubam"])
def test_imported_files_round_trip(rs_env, imported, case, tmp_path):
    meta = imported["metas"][case]
    src = rs_env.files[case]
    store_id = imported["store_id"]
    files = meta["files"]
    if src.file_type == "FASTQ":
        for i, path in enumerate(src.paths, start=1):
            got = download(rs_env.client, store_id, meta["id"], f"SOURCE{i}", files[f"source{i}"],
                           tmp_path / f"s{i}.fastq.gz")
            check_fastq_download(path, got)
        return
    ext = "cram" if src.file_type == "CRAM" else "bam"
    main = download(rs_env.client, store_id, meta["id"], "SOURCE1", files["source1"], tmp_path / f"x.{ext}")
    index = None
    if "index" in files:
        idx = "crai" if ext == "cram" else "bai"
        index = download(rs_env.client, store_id, meta["id"], "INDEX", files["index"], tmp_path / f"x.{ext}.{idx}")
    check_alignment_download(src, main, index, store_id, created_after=imported["job"]["creationTime"])


def test_creation_type_filter(rs_env, imported, uploaded):
    store_id = imported["store_id"]
    ids = [r["id"] for r in list_read_sets(rs_env.client, store_id, filter={"creationType": "IMPORT"})]
    assert ids == [imported["metas"][c]["id"] for c in GOOD]
    uploads = {r["id"] for r in list_read_sets(rs_env.client, store_id, filter={"creationType": "UPLOAD"})}
    assert not uploads & set(ids)
    assert uploaded[("MD5up", "bam")].read_set_id in uploads


def test_list_import_jobs(rs_env, imported):
    client, store_id = rs_env.client, imported["store_id"]
    job = imported["job"]
    with RawCapture(client) as raw:
        listed = client.list_read_set_import_jobs(sequenceStoreId=store_id)
    items = {j["id"]: j for j in listed["importJobs"]}
    assert job["id"] in items
    item = items[job["id"]]
    assert item["status"] == "COMPLETED_WITH_FAILURES"
    assert item["roleArn"] == RS_ROLE_ARN and item["sequenceStoreId"] == store_id
    assert item["creationTime"] == job["creationTime"]
    assert item.get("completionTime") == job["completionTime"]
    for j in raw.last_json()["importJobs"]:
        assert_wire_timestamp(j["creationTime"], "creationTime")

    def q(**flt):
        pages = client.get_paginator("list_read_set_import_jobs").paginate(sequenceStoreId=store_id, filter=flt)
        return [j["id"] for page in pages for j in page["importJobs"]]

    assert job["id"] in q(status="COMPLETED_WITH_FAILURES")
    assert job["id"] not in q(status="COMPLETED")
    ms = dt.timedelta(milliseconds=1)
    assert job["id"] in q(createdAfter=job["creationTime"], createdBefore=job["creationTime"])
    assert job["id"] not in q(createdAfter=job["creationTime"] + ms)


def test_waiter_and_another_family(rs_env, uploaded):
    client, store_id = rs_env.client, rs_env.stores["SHA512up"]
    items = [source_item(rs_env, c) for c in ("bam", "fastq_gzip")]
    started = client.start_read_set_import_job(sequenceStoreId=store_id, roleArn=RS_ROLE_ARN, sources=items)
    client.get_waiter("read_set_import_job_completed").wait(
        sequenceStoreId=store_id, id=started["id"], WaiterConfig={"Delay": 1, "MaxAttempts": 300})
    job = client.get_read_set_import_job(sequenceStoreId=store_id, id=started["id"])
    assert job["status"] == "COMPLETED"
    for case, item in zip(("bam", "fastq_gzip"), job["sources"]):
        meta = wait_read_set(client, store_id, item["readSetId"])
        up = uploaded[("SHA512up", case)].meta
        assert meta["etag"] == up["etag"] == rs_env.files[case].etag("SHA512up")
        assert meta["sequenceInformation"]["totalReadCount"] == up["sequenceInformation"]["totalReadCount"]


def test_unknown_job_and_store(rs_env):
    with raises_aws("ResourceNotFoundException", 404):
        rs_env.client.get_read_set_import_job(sequenceStoreId=rs_env.stores["MD5up"], id="9" * 10)
    with raises_aws("ResourceNotFoundException", 404):
        rs_env.client.list_read_set_import_jobs(sequenceStoreId="8" * 10)
    with raises_aws("ResourceNotFoundException", 404):
        rs_env.client.start_read_set_import_job(sequenceStoreId="8" * 10, roleArn=RS_ROLE_ARN,
                                                sources=[source_item(rs_env, "fastq_single")])
