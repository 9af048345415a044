"""`seqstore fsck`: the catalog checked against the stored files.

A store with a reference, a paired FASTQ, a BAM and a CRAM read set is clean; an injected
orphan, a truncated file and a file with a flipped byte are found; `--repair` removes the
orphans and marks the damaged read set UPLOAD_FAILED so that it is not served; `--verify`
recomputes the HealthOmics ETags (it finds an ETag the catalog records wrongly, which the MD5
pass cannot see). The server's own cleanup at start removes what interrupted work left behind.
Expected sizes and MD5s come from the files on disk and `md5sum`, ETags from samtools and gzip
(read_set_support).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from e2e_support import new_account_id, unique
from read_set_api import upload_read_set, wait_read_set
from read_set_support import SOURCE_BUCKET
from reference_support import new_reference_store, reference_arn, run_import, source_item


def md5sum(path: Path) -> str:
    return subprocess.run(["md5sum", str(path)], check=True, capture_output=True, text=True).stdout.split()[0]


def kinds(report: dict) -> dict[str, str]:
    """key -> kind of every problem."""
    return {p["key"]: p["kind"] for p in report["problems"]}


def blob(server, key: str) -> Path:
    return server.data_dir / "blobs" / key


def age(path: Path, seconds: float = 3600) -> None:
    """Backdate a file, as if written before the check began."""
    t = time.time() - seconds
    os.utime(path, (t, t))


@pytest.fixture
def stocked(server_factory, read_set_files):
    """A stopped server whose store holds a reference and FASTQ, BAM and CRAM read sets."""
    server = server_factory.new()
    account = new_account_id()
    keys, _ = server.create_keys(account)
    client = server.client(keys)
    ref_store = new_reference_store(client)
    job = run_import(client, ref_store, [source_item(f"s3://{SOURCE_BUCKET}/read-sets/ref/ref.fa", "genome")])
    assert job["status"] == "COMPLETED", job
    ref = reference_arn(account, ref_store, job["sources"][0]["referenceId"])
    store = client.create_sequence_store(name=unique("fsck"))["id"]
    read_sets = {}
    for case in ("fastq_gzip", "bam", "cram30"):
        src = read_set_files[case]
        _, rs, _, _ = upload_read_set(client, store, src.file_type, src.paths, unique(case),
                                      ref if src.needs_reference else None)
        meta = wait_read_set(client, store, rs)
        assert meta["status"] == "ACTIVE", meta
        read_sets[case] = meta
    server.stop()
    return server, keys, store, read_sets


def stored_files(server) -> list[Path]:
    root = server.data_dir / "blobs"
    return sorted(p for p in root.rglob("*") if p.is_file())


def s3_key(meta: dict, file: str) -> str:
    """The blob key of a read set file, from its s3Uri (`s3://alias/KEY`)."""
    uri = meta["files"][file]["s3Access"]["s3Uri"]
    return uri.split("/", 3)[3]


def test_a_stored_store_is_clean_and_every_byte_is_read(stocked):
    server, _, _, read_sets = stocked
    files = stored_files(server)
    code, report = server.fsck("--min-age", "0")
    assert (code, report["clean"], report["problems"]) == (0, True, []), report
    checked = report["checked"]
    assert checked["read_sets"] == 3 and checked["references"] == 1, checked
    # paired FASTQ 2, BAM + .bai 2, CRAM + .crai 2, reference + .fai 2
    assert checked["files"] == 8 == len(files), (checked, files)
    assert checked["objects"] == len(files)
    assert checked["bytes_read"] == sum(p.stat().st_size for p in files)
    # --verify parses every read set file too (the CRAM against the stored reference)
    code, report = server.fsck("--min-age", "0", "--verify")
    assert (code, report["clean"]) == (0, True), report


def test_orphans_and_damaged_files_are_found_and_repaired(stocked):
    server, keys, store, read_sets = stocked
    fastq, bam = read_sets["fastq_gzip"], read_sets["bam"]
    # an orphan in a folder no read set owns, staging of an upload that never existed, and the
    # staging file of a local write that never finished
    account = s3_key(fastq, "source1").split("/")[0]
    orphan = f"{account}/sequenceStore/{store}/readSet/9999999999/lost.bam"
    staged = "staging/uploads/8888888888/SOURCE1/1-abc"
    unfinished = s3_key(bam, "source1") + "#3"
    for key in (orphan, staged, unfinished):
        path = blob(server, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"left behind")
        age(path)
    # an object outside the layout: reported, never removed
    junk = blob(server, "notes.txt")
    junk.write_text("an operator's file")
    age(junk)
    # a flipped byte in the FASTQ's second file, a truncated BAM index
    damaged = blob(server, s3_key(fastq, "source2"))
    data = bytearray(damaged.read_bytes())
    before = md5sum(damaged)
    data[len(data) // 2] ^= 0x01
    damaged.write_bytes(bytes(data))
    after = md5sum(damaged)
    truncated = blob(server, s3_key(bam, "index"))
    truncated.write_bytes(truncated.read_bytes()[:-7])

    code, report = server.fsck("--min-age", "0")
    found = kinds(report)
    assert code == 1 and not report["clean"], report
    assert found == {
        orphan: "orphan",
        staged: "orphan",
        unfinished: "orphan_staging",
        "notes.txt": "unknown_object",
        s3_key(fastq, "source2"): "wrong_md5",
        s3_key(bam, "index"): "wrong_size",
    }, report
    wrong = next(p for p in report["problems"] if p["kind"] == "wrong_md5")
    assert after in wrong["detail"] and before in wrong["detail"], wrong
    assert not any("repaired" in p for p in report["problems"]), "no --repair, nothing done"
    assert blob(server, orphan).exists() and blob(server, unfinished).exists()

    code, report = server.fsck("--min-age", "0", "--repair")
    assert code == 1, report
    repaired = {(p["key"], p["kind"]): p.get("repaired") for p in report["problems"]}
    assert repaired[orphan, "orphan"] == repaired[staged, "orphan"] == "removed", report
    assert repaired[unfinished, "orphan_staging"] == "removed", report
    assert repaired["notes.txt", "unknown_object"] is None
    for key, kind in ((s3_key(fastq, "source2"), "wrong_md5"), (s3_key(bam, "index"), "wrong_size")):
        assert "marked UPLOAD_FAILED" in repaired[key, kind], report
    # the marked read sets' files are orphans from then on, removed in the same run
    marked = [s3_key(m, f) for m in (fastq, bam) for f in m["files"]]
    assert all(repaired[key, "orphan"] == "removed" for key in marked), report
    assert not any(blob(server, key).exists() for key in [orphan, staged, unfinished, *marked])
    assert junk.exists()

    code, report = server.fsck("--min-age", "0")
    assert (code, kinds(report)) == (1, {"notes.txt": "unknown_object"}), report
    junk.unlink()
    code, report = server.fsck("--min-age", "0")
    assert (code, report["problems"]) == (0, []), report

    server.start()
    client = server.client(keys)
    for case, meta in (("fastq_gzip", fastq), ("bam", bam)):
        now = client.get_read_set_metadata(sequenceStoreId=store, id=meta["id"])
        assert now["status"] == "UPLOAD_FAILED" and now["statusMessage"].startswith("fsck: stored file"), now
        with pytest.raises(client.exceptions.ClientError):
            client.get_read_set(sequenceStoreId=store, id=meta["id"], partNumber=1)
    cram = client.get_read_set_metadata(sequenceStoreId=store, id=read_sets["cram30"]["id"])
    assert cram["status"] == "ACTIVE"
    body = client.get_read_set(sequenceStoreId=store, id=cram["id"], partNumber=1)["payload"].read()
    assert len(body) == cram["files"]["source1"]["contentLength"]


def test_recent_objects_are_not_judged(stocked):
    server, _, store, read_sets = stocked
    account = s3_key(read_sets["bam"], "source1").split("/")[0]
    fresh = blob(server, f"{account}/sequenceStore/{store}/readSet/7777777777/x.bam")
    fresh.parent.mkdir(parents=True)
    fresh.write_bytes(b"being written")
    code, report = server.fsck()  # the default --min-age: ten minutes; all was written just now
    assert (code, report["skipped_recent"]) == (0, len(stored_files(server))), report
    text = server.run_cli("fsck", "--data-dir", str(server.data_dir), *server.catalog_args())
    assert text.returncode == 0 and "run again with --min-age 0" in text.stdout, text.stdout
    code, report = server.fsck("--min-age", "0")
    assert code == 1 and kinds(report) == {str(fresh.relative_to(server.data_dir / "blobs")): "orphan"}


def test_verify_recomputes_etags(stocked):
    server, _, _, read_sets = stocked
    if server.backend != "sqlite":
        pytest.skip("edits the catalog with sqlite3 (the check itself is the same on both)")
    bam = read_sets["bam"]
    db = sqlite3.connect(server.data_dir / "catalog.db")
    db.execute("UPDATE read_sets SET etag_source1 = ? WHERE id = ?", ("0" * 32, bam["id"]))
    db.commit()
    db.close()
    code, report = server.fsck("--min-age", "0")
    assert code == 0, "the bytes match their MD5: only --verify can see this"
    code, report = server.fsck("--min-age", "0", "--verify")
    assert code == 1 and kinds(report) == {s3_key(bam, "source1"): "wrong_etag"}, report
    assert bam["etag"]["source1"] in report["problems"][0]["detail"], report


def test_the_server_removes_what_interrupted_work_left_at_start(stocked):
    server, keys, store, read_sets = stocked
    fastq = read_sets["fastq_gzip"]
    account = s3_key(fastq, "source1").split("/")[0]
    left = [
        f"{account}/sequenceStore/{store}/readSet/9999999999/lost.bam",
        "staging/uploads/8888888888/SOURCE1/1-abc",
        s3_key(fastq, "source1") + "#2",
    ]
    for key in left:
        path = blob(server, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"left behind by a killed server")
    junk = blob(server, "notes.txt")
    junk.write_text("an operator's file")
    server.start()
    deadline = time.monotonic() + 30
    while any(blob(server, k).exists() for k in left):
        assert time.monotonic() < deadline, f"still there 30 s after start: {left}\n{server.describe_logs()}"
        time.sleep(0.2)
    assert junk.exists(), "objects outside the layout are never removed"
    client = server.client(keys)
    for meta in read_sets.values():
        assert client.get_read_set_metadata(sequenceStoreId=store, id=meta["id"])["status"] == "ACTIVE"
    server.stop()
    junk.unlink()
    code, report = server.fsck("--min-age", "0")
    assert (code, report["problems"]) == (0, []), report
