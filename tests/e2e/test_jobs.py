"""Reference import jobs as a job engine: queueing per store, listing, the botocore waiter, clientToken.

Each test uses an account of its own (one reference store per account).
"""

from __future__ import annotations

import time
import uuid

import botocore.exceptions
import pytest

from e2e_support import RawCapture, assert_wire_timestamp, raises_aws
from reference_support import (
    JOB_TERMINAL,
    ROLE_ARN,
    SOURCE_BUCKET,
    JobWatcher,
    list_import_jobs,
    list_references,
    new_reference_store,
    run_import,
    source_item,
    start_import,
)

WAIT = {"Delay": 1, "MaxAttempts": 300}


def waiter(client):
    return client.get_waiter("reference_import_job_completed")


def test_waiter_returns_when_completed(new_account, small_sources):
    _, client = new_account()
    sid = new_reference_store(client)
    with RawCapture(client) as raw:
        started = start_import(client, sid, [
            source_item(small_sources["plain"], "w-plain"),
            source_item(small_sources["bgzip"], "w-bgzip"),
        ])
    assert_wire_timestamp(raw.last_json()["creationTime"], "creationTime")
    assert started["status"] == "SUBMITTED"
    waiter(client).wait(referenceStoreId=sid, id=started["id"], WaiterConfig=WAIT)
    with RawCapture(client) as raw:
        job = client.get_reference_import_job(referenceStoreId=sid, id=started["id"])
    assert job["status"] == "COMPLETED"
    assert_wire_timestamp(raw.last_json()["creationTime"], "creationTime")
    assert_wire_timestamp(raw.last_json()["completionTime"], "completionTime")
    assert [s["status"] for s in job["sources"]] == ["FINISHED", "FINISHED"]
    assert sorted(r["name"] for r in list_references(client, sid)) == ["w-bgzip", "w-plain"]


def test_waiter_raises_on_partial_failure(new_account, small_sources):
    _, client = new_account()
    sid = new_reference_store(client)
    started = start_import(client, sid, [
        source_item(small_sources["plain"], "ok-one"),
        source_item(f"s3://{SOURCE_BUCKET}/missing/nothing.fa", "missing-one"),
    ])
    with pytest.raises(botocore.exceptions.WaiterError) as exc:
        waiter(client).wait(referenceStoreId=sid, id=started["id"], WaiterConfig=WAIT)
    assert exc.value.last_response["status"] == "COMPLETED_WITH_FAILURES", exc.value.last_response
    assert "failure state" in str(exc.value), str(exc.value)


def test_waiter_raises_on_failed_job(new_account, small_sources):
    _, client = new_account()
    sid = new_reference_store(client)
    started = start_import(client, sid, [source_item(small_sources["bad_duplicate"], "dup-only")])
    with pytest.raises(botocore.exceptions.WaiterError) as exc:
        waiter(client).wait(referenceStoreId=sid, id=started["id"], WaiterConfig=WAIT)
    assert exc.value.last_response["status"] == "FAILED", exc.value.last_response


def test_jobs_of_one_store_run_one_at_a_time(new_account, small_sources, medium_source):
    _, client = new_account()
    sid = new_reference_store(client)
    first = start_import(client, sid, [source_item(medium_source, f"queue-a{i}") for i in range(4)])
    second = start_import(client, sid, [source_item(small_sources["plain"], "queue-b")])
    assert second["status"] == "SUBMITTED"
    assert second["id"] != first["id"]
    a = JobWatcher(client, sid, first["id"])
    b = JobWatcher(client, sid, second["id"])
    overlap_seen = False
    deadline = time.monotonic() + 300
    while True:
        # B first, then A: if B has started, A must already have been terminal when B was read.
        jb = b.poll()
        ja = a.poll()
        if jb["status"] != "SUBMITTED":
            assert ja["status"] in JOB_TERMINAL, (
                f"second job is {jb['status']} while the first is {ja['status']}: "
                "jobs of one reference store must run one at a time"
            )
        else:
            assert all(s["status"] == "NOT_STARTED" for s in jb["sources"]), jb["sources"]
        if ja["status"] == "IN_PROGRESS" and jb["status"] == "SUBMITTED":
            overlap_seen = True
        if jb["status"] in JOB_TERMINAL:
            break
        assert time.monotonic() < deadline, f"jobs not done after 300s: {a.history} / {b.history}"
        time.sleep(0.05)
    ja, jb = a.wait(), b.wait()
    assert ja["status"] == "COMPLETED", ja
    assert jb["status"] == "COMPLETED", jb
    assert ja["completionTime"] <= jb["completionTime"]
    # The second job was queued behind a running first one at least once (4 x 16 MB take a while).
    assert overlap_seen, f"never saw the first job IN_PROGRESS with the second queued: {a.history}"
    assert len(list_references(client, sid)) == 5


@pytest.fixture
def three_jobs(new_account, small_sources):
    """An account whose store ran a COMPLETED, a COMPLETED_WITH_FAILURES and a FAILED job."""
    _, client = new_account()
    sid = new_reference_store(client)
    specs = [
        [source_item(small_sources["plain"], "lj-good")],
        [source_item(small_sources["crlf"], "lj-mixed"), source_item(small_sources["bad_char"], "lj-bad")],
        [source_item(small_sources["bad_empty_name"], "lj-all-bad")],
    ]
    started = [start_import(client, sid, s) for s in specs]
    done = [JobWatcher(client, sid, j["id"]).wait() for j in started]
    assert [j["status"] for j in done] == ["COMPLETED", "COMPLETED_WITH_FAILURES", "FAILED"]
    return client, sid, done


def test_list_import_jobs_items(three_jobs):
    client, sid, jobs = three_jobs
    with RawCapture(client) as raw:
        listed = client.list_reference_import_jobs(referenceStoreId=sid)
    by_id = {j["id"]: j for j in listed["importJobs"]}
    assert sorted(by_id) == sorted(j["id"] for j in jobs)
    for job in jobs:
        item = by_id[job["id"]]
        assert item["referenceStoreId"] == sid
        assert item["roleArn"] == ROLE_ARN
        assert item["status"] == job["status"]
        assert item["creationTime"] == job["creationTime"]
        assert item["completionTime"] == job["completionTime"]
        assert "sources" not in item
    for item in raw.last_json()["importJobs"]:
        assert_wire_timestamp(item["creationTime"], "creationTime")
        assert_wire_timestamp(item["completionTime"], "completionTime")


def test_list_import_jobs_filters(three_jobs):
    client, sid, jobs = three_jobs

    def ids(**flt):
        return sorted(j["id"] for j in list_import_jobs(client, sid, filter=flt))

    for job in jobs:
        assert ids(status=job["status"]) == [job["id"]], job["status"]
    assert ids(status="IN_PROGRESS") == []
    assert ids(status="SUBMITTED") == []
    t = jobs[1]["creationTime"]
    assert ids(createdAfter=t) == sorted(j["id"] for j in jobs if j["creationTime"] >= t)
    assert ids(createdBefore=t) == sorted(j["id"] for j in jobs if j["creationTime"] <= t)
    assert jobs[1]["id"] in ids(createdAfter=t, createdBefore=t)
    assert ids(status="COMPLETED", createdAfter=t) == (
        [jobs[0]["id"]] if jobs[0]["creationTime"] >= t else []
    )
    assert ids(status="FAILED", createdAfter=t) == [jobs[2]["id"]]


def test_list_import_jobs_paging(three_jobs):
    client, sid, jobs = three_jobs
    pages = list(client.get_paginator("list_reference_import_jobs").paginate(
        referenceStoreId=sid, PaginationConfig={"PageSize": 1}
    ))
    seen = [j["id"] for p in pages for j in p["importJobs"]]
    assert all(len(p["importJobs"]) <= 1 for p in pages)
    assert len(seen) == len(set(seen)) == 3, seen
    assert sorted(seen) == sorted(j["id"] for j in jobs)
    # A client-side cap, then resuming from its token.
    first = client.get_paginator("list_reference_import_jobs").paginate(
        referenceStoreId=sid, PaginationConfig={"PageSize": 1, "MaxItems": 2}
    ).build_full_result()
    assert len(first["importJobs"]) == 2 and first.get("NextToken")
    rest = client.get_paginator("list_reference_import_jobs").paginate(
        referenceStoreId=sid, PaginationConfig={"PageSize": 1, "StartingToken": first["NextToken"]}
    ).build_full_result()
    assert sorted(j["id"] for j in first["importJobs"] + rest["importJobs"]) == sorted(seen)


def test_list_import_jobs_bad_arguments(new_account):
    _, client, raw = new_account(with_raw=True)
    sid = new_reference_store(client)
    assert client.list_reference_import_jobs(referenceStoreId=sid)["importJobs"] == []
    with raises_aws("ValidationException", 400):
        client.list_reference_import_jobs(referenceStoreId=sid, nextToken="garbage")
    with raises_aws("ValidationException", 400, "maxResults"):
        raw.list_reference_import_jobs(referenceStoreId=sid, maxResults=0)
    with raises_aws("ResourceNotFoundException", 404):
        client.list_reference_import_jobs(referenceStoreId="8" * 10)


def test_client_token_idempotency(new_account, small_sources):
    _, client = new_account()
    sid = new_reference_store(client)
    token = uuid.uuid4().hex
    sources = [source_item(small_sources["plain"], "idem-ref", tags={"t": "1"})]
    first = start_import(client, sid, sources, clientToken=token)
    again = start_import(client, sid, sources, clientToken=token)
    assert again["id"] == first["id"]
    assert again["creationTime"] == first["creationTime"]
    with raises_aws("ValidationException", 400):
        start_import(client, sid, [source_item(small_sources["plain"], "idem-other")], clientToken=token)
    JobWatcher(client, sid, first["id"]).wait()
    # Replaying after completion still answers with the original job, and imports nothing more.
    late = start_import(client, sid, sources, clientToken=token)
    assert late["id"] == first["id"]
    assert [j["id"] for j in list_import_jobs(client, sid)] == [first["id"]]
    assert [r["name"] for r in list_references(client, sid)] == ["idem-ref"]
    # Another token starts another job.
    other = start_import(client, sid, sources, clientToken=uuid.uuid4().hex)
    assert other["id"] != first["id"]
    JobWatcher(client, sid, other["id"]).wait()


def test_start_job_validation(new_account, small_sources):
    _, client, raw = new_account(with_raw=True)
    sid = new_reference_store(client)
    good = source_item(small_sources["plain"], "valid-name")
    cases = [
        ("name", {"sources": [source_item(small_sources["plain"], "ab")]}),
        ("name", {"sources": [source_item(small_sources["plain"], "x" * 256)]}),
        ("roleArn", {"roleArn": "not-an-arn-at-all-xxxxx"}),
        ("roleArn", {"roleArn": "arn:short"}),
        ("sources", {"sources": []}),
        ("sources", {"sources": [good] * 101}),
        ("sourceFile", {"sources": [source_item("https://example.com/ref.fa", "valid-name")]}),
        ("sourceFile", {"sources": [source_item(f"s3://{SOURCE_BUCKET}/", "valid-name")]}),
    ]
    for field_name, override in cases:
        kwargs = {"referenceStoreId": sid, "roleArn": ROLE_ARN, "sources": [good], **override}
        with raises_aws("ValidationException", 400, field_name):
            raw.start_reference_import_job(**kwargs)
    assert list_import_jobs(client, sid) == []


def test_unknown_store_and_job(new_account, small_sources):
    _, client = new_account()
    sid = new_reference_store(client)
    with raises_aws("ResourceNotFoundException", 404):
        start_import(client, "8" * 10, [source_item(small_sources["plain"], "nowhere")])
    with raises_aws("ResourceNotFoundException", 404):
        client.get_reference_import_job(referenceStoreId=sid, id="9" * 10)
    with raises_aws("ResourceNotFoundException", 404):
        client.get_reference_import_job(referenceStoreId="8" * 10, id="9" * 10)


def test_jobs_of_another_account_are_invisible(new_account, small_sources):
    _, mine = new_account()
    _, theirs = new_account()
    sid = new_reference_store(mine)
    job = run_import(mine, sid, [source_item(small_sources["iupac"], "private-ref")])
    with raises_aws("ResourceNotFoundException", 404):
        theirs.get_reference_import_job(referenceStoreId=sid, id=job["id"])
    with raises_aws("ResourceNotFoundException", 404):
        theirs.list_reference_import_jobs(referenceStoreId=sid)
    with raises_aws("ResourceNotFoundException", 404):
        start_import(theirs, sid, [source_item(small_sources["iupac"], "intruder")])
