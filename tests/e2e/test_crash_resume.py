"""Durable jobs: SIGKILL the server in the middle of an import job, start it again, the job finishes.

The test owns its server (same data dir and catalog across the restart). The job imports one
generated ~16 MB FASTA (`medium_source`) under CRASH_SOURCES names, long enough to catch it
with some items FINISHED and some not.
"""

from __future__ import annotations

import time

import pytest

from reference_support import (
    JOB_TERMINAL,
    JobWatcher,
    get_part,
    list_references,
    new_reference_store,
    source_item,
    start_import,
)

CRASH_SOURCES = 16
POLL = 0.05
ENLARGE = (
    "enlarge the data: raise CRASH_SOURCES in test_crash_resume.py or MEDIUM_FASTA_BYTES in conftest.py"
)


def test_killed_server_resumes_the_job(server_factory, medium_source):
    srv = server_factory.new()
    client = srv.client()
    sid = new_reference_store(client)
    names = [f"crash-{i:02d}" for i in range(CRASH_SOURCES)]
    job_id = start_import(client, sid, [source_item(medium_source, n, tags={"n": n}) for n in names])["id"]
    watcher = JobWatcher(client, sid, job_id)

    # Wait until the job is IN_PROGRESS with some, not all, items FINISHED; then SIGKILL.
    deadline = time.monotonic() + 300
    while True:
        job = watcher.poll()
        finished = [s for s in job["sources"] if s["status"] == "FINISHED"]
        if job["status"] in JOB_TERMINAL:
            pytest.fail(f"the job finished ({job['status']}) before it could be killed mid-way: {ENLARGE}")
        if job["status"] == "IN_PROGRESS" and 1 <= len(finished) < CRASH_SOURCES:
            break
        assert time.monotonic() < deadline, f"job never got going: {watcher.history}"
        time.sleep(POLL)
    srv.kill()  # SIGKILL: no shutdown hooks, whatever was in flight is lost
    before = {i: s["referenceId"] for i, s in enumerate(job["sources"]) if s["status"] == "FINISHED"}
    print(f"killed with {len(before)}/{CRASH_SOURCES} items finished; "
          f"statuses {[s['status'] for s in job['sources']]}")
    if len(before) == CRASH_SOURCES:
        pytest.fail(f"every item had finished by the time of the kill: {ENLARGE}")

    srv.start()
    client = srv.client()
    # A fresh watcher: an item that was in flight may legitimately be reported NOT_STARTED again.
    watcher = JobWatcher(client, sid, job_id)
    reclaim_deadline = time.monotonic() + 60
    progress_deadline = time.monotonic() + 600
    last_done = len(before)
    while True:
        job = watcher.poll()
        for i, ref_id in before.items():
            item = job["sources"][i]
            assert item["status"] == "FINISHED" and item.get("referenceId") == ref_id, (
                f"item {i} had FINISHED as {ref_id} before the kill; after the restart: {item}"
            )
        done = sum(s["status"] in ("FINISHED", "FAILED") for s in job["sources"])
        if done > last_done:
            last_done = done
            reclaim_deadline = float("inf")  # the restarted server picked the job up again
        if job["status"] in JOB_TERMINAL:
            break
        assert time.monotonic() < reclaim_deadline, (
            f"60s after the restart the job has made no progress: {job['status']} "
            f"{[s['status'] for s in job['sources']]}\n{srv.describe_logs()}"
        )
        assert time.monotonic() < progress_deadline, f"job not finished 600s after the restart: {watcher.history}"
        time.sleep(0.2)

    assert job["status"] == "COMPLETED", (
        f"{job['status']}: {[(s['name'], s['status'], s.get('statusMessage')) for s in job['sources']]}"
    )
    assert [s["name"] for s in job["sources"]] == names

    # Exactly one reference per source: no duplicates from the item(s) in flight at the kill.
    refs = list_references(client, sid)
    assert sorted(r["name"] for r in refs) == names, (
        f"{len(refs)} references for {CRASH_SOURCES} sources: {sorted(r['name'] for r in refs)}"
    )
    assert sorted(r["id"] for r in refs) == sorted(s["referenceId"] for s in job["sources"])
    assert all(r["status"] == "ACTIVE" and r["md5"] == medium_source.md5 for r in refs), refs

    # A reference finished before the kill and one finished after it are both whole.
    after = [i for i in range(CRASH_SOURCES) if i not in before]
    for i in (min(before), after[0]):
        rid = job["sources"][i]["referenceId"]
        meta = client.get_reference_metadata(referenceStoreId=sid, id=rid)
        assert meta["creationJobId"] == job_id
        assert meta["files"]["source"]["contentLength"] == medium_source.size
        body, _ = get_part(client, sid, rid, 1, "SOURCE")
        assert body == medium_source.read(), f"source of item {i} differs from the uploaded object"
        index, _ = get_part(client, sid, rid, 1, "INDEX")
        assert index == medium_source.fai
        assert client.list_tags_for_resource(resourceArn=meta["arn"])["tags"] == {"n": names[i]}
