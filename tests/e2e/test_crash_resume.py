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


def test_upload_given_up_after_interrupted_attempts_fails_and_drops_its_staging(server_factory, tmp_path):
    """A source whose every attempt was cut short (it stopped the server each time) is given up
    like any bad source: the read set ends UPLOAD_FAILED and its staged parts are removed.

    The three interrupted attempts are set in the catalog after one real SIGKILL mid-ingestion:
    no API makes a source crash the server any more."""
    from read_set_api import create_upload, staging_files, upload_file_parts, wait_no_staging, wait_read_set
    from read_set_support import write_big_fastq
    from s3_support import catalog_sql

    srv = server_factory.new()
    client = srv.client()
    store = client.create_sequence_store(name=f"given-up-{time.time_ns()}")["id"]
    fastq = write_big_fastq(tmp_path, 60 << 20, seed=5)  # long enough to be killed mid-ingestion
    upload_id = create_upload(client, store, "FASTQ", "given-up")["uploadId"]
    parts = upload_file_parts(client, store, upload_id, "SOURCE1", fastq)
    read_set = client.complete_multipart_read_set_upload(
        sequenceStoreId=store, uploadId=upload_id, parts=parts)["readSetId"]
    srv.kill()
    assert staging_files(srv, upload_id), "the staged part is gone before the restart"
    unfinished = catalog_sql(srv, "UPDATE job_items SET attempts = 3 WHERE status <> 'FINISHED' "
                                  "RETURNING job_id")
    if not unfinished:
        pytest.fail("the ingestion finished before the kill: enlarge the FASTQ")

    srv.start()
    client = srv.client()
    meta = wait_read_set(client, store, read_set, timeout=60)
    assert meta["status"] == "UPLOAD_FAILED", meta
    assert "gave up after 3 attempts" in meta["statusMessage"], meta
    wait_no_staging(srv, upload_id)
