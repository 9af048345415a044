"""Blobs in an S3-compatible bucket (`blob.backend = "s3"`, moto here) instead of the data dir.

The scale-out shape: a reference imported, BAM and CRAM read sets uploaded (CRAM decoding needs
the reference back from the bucket), then read through GetReadSet, GetReference and the S3
endpoint. Expected ETags and records come from samtools and md5 run here on the originals; the
stored bytes are read back from the bucket itself with boto3.
"""

from __future__ import annotations

import hashlib
import time
import uuid

import pytest

from e2e_support import MOTO_KEYS, REGION, new_account_id, unique
from read_set_api import download, indexed_original, upload_read_set, wait_read_set
from read_set_support import sam_records
from reference_support import SOURCE_BUCKET, new_reference_store, reference_arn, run_import, source_item
from s3_support import file_uri, hts_env, run_tool, s3_client


@pytest.fixture
def s3_blob_server(server_factory, moto_s3):
    bucket = f"seqstore-blobs-{uuid.uuid4().hex[:12]}"
    moto_s3.client().create_bucket(Bucket=bucket)
    srv = server_factory.new(env={
        "SEQSTORE_BLOB__BACKEND": "s3",
        "SEQSTORE_BLOB__BUCKET": bucket,
        "SEQSTORE_BLOB__ENDPOINT": moto_s3.endpoint,
        "SEQSTORE_BLOB__REGION": REGION,
        "SEQSTORE_BLOB__PATH_STYLE": "true",
        "SEQSTORE_BLOB__ACCESS_KEY_ID": MOTO_KEYS.access_key_id,
        "SEQSTORE_BLOB__SECRET_ACCESS_KEY": MOTO_KEYS.secret_access_key,
    })
    return srv, bucket


def bucket_object(moto_s3, bucket: str, key: str) -> bytes:
    return moto_s3.client().get_object(Bucket=bucket, Key=key)["Body"].read()


def test_read_sets_and_references_live_in_the_bucket(s3_blob_server, moto_s3, read_set_files, tmp_path):
    srv, bucket = s3_blob_server
    account = new_account_id()
    keys, _ = srv.create_keys(account)
    client = srv.client(keys)
    ref_store = new_reference_store(client)
    job = run_import(client, ref_store, [source_item(f"s3://{SOURCE_BUCKET}/read-sets/ref/ref.fa", "blob-s3-ref")])
    assert job["status"] == "COMPLETED", job
    ref_id = job["sources"][0]["referenceId"]
    ref_meta = client.get_reference_metadata(referenceStoreId=ref_store, id=ref_id)
    ref_obj = file_uri(ref_meta, "source")
    fasta = read_set_files.reference.read_bytes()
    assert bucket_object(moto_s3, bucket, ref_obj.key) == fasta, "the reference is not in the blob bucket"

    store_id = client.create_sequence_store(name=unique("blob-s3"))["id"]
    s3 = s3_client(srv, keys)
    for case in ("bam", "cram30"):
        src = read_set_files[case]
        _, rs_id, _, _ = upload_read_set(client, store_id, src.file_type, src.paths, f"blob-s3-{case}",
                                         reference=reference_arn(account, ref_store, ref_id),
                                         subjectId="s", sampleId="s")
        meta = wait_read_set(client, store_id, rs_id)
        assert meta["status"] == "ACTIVE", meta.get("statusMessage")
        assert meta["etag"]["source1"] == src.etag("MD5up")["source1"]

        got = download(client, store_id, rs_id, "SOURCE1", meta["files"]["source1"], tmp_path / f"{case}.dl")
        stored = file_uri(meta, "source1")
        assert bucket_object(moto_s3, bucket, stored.key) == got.read_bytes()
        index = file_uri(meta, "index")
        index_bytes = bucket_object(moto_s3, bucket, index.key)
        assert index_bytes, "no index in the bucket"

        # The S3 endpoint streams the same bytes from the bucket, under their MD5.
        obj = s3.get_object(Bucket=stored.bucket, Key=stored.key)
        body = obj["Body"].read()
        assert body == got.read_bytes()
        assert obj["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
        assert s3.get_object(Bucket=index.bucket, Key=index.key)["Body"].read() == index_bytes

        # samtools reads a region through the endpoint: the same records as the original.
        region = "chr1:1000-5000"
        workdir = tmp_path / f"hts-{case}"
        workdir.mkdir()
        ref_args = ["--reference", str(src.reference)] if case.startswith("cram") else []
        over_s3 = run_tool(["samtools", "view", *ref_args, f"s3+http://{stored.bucket}/{stored.key}", region],
                           env=hts_env(srv, keys), cwd=workdir).stdout
        assert over_s3 == sam_records(indexed_original(src.paths[0]), src.reference, region)
        assert over_s3.count(b"\n") > 10

    # Nothing went to the data dir's blob directory.
    local = srv.data_dir / "blobs"
    assert not local.exists() or not any(p.is_file() for p in local.rglob("*")), list(local.rglob("*"))[:5]


def test_archiving_moves_files_to_the_archive_bucket_and_back(server_factory, moto_s3, read_set_files):
    """On the S3 backend the archive tier is `lifecycle.archive_bucket`: an idle BAM read set's
    files move there under the same keys, and activation brings the same bytes back."""
    blobs, archive = (f"seqstore-{what}-{uuid.uuid4().hex[:12]}" for what in ("blobs", "archive"))
    for bucket in (blobs, archive):
        moto_s3.client().create_bucket(Bucket=bucket)
    srv = server_factory.new(env={
        "SEQSTORE_BLOB__BACKEND": "s3",
        "SEQSTORE_BLOB__BUCKET": blobs,
        "SEQSTORE_BLOB__ENDPOINT": moto_s3.endpoint,
        "SEQSTORE_BLOB__REGION": REGION,
        "SEQSTORE_BLOB__PATH_STYLE": "true",
        "SEQSTORE_BLOB__ACCESS_KEY_ID": MOTO_KEYS.access_key_id,
        "SEQSTORE_BLOB__SECRET_ACCESS_KEY": MOTO_KEYS.secret_access_key,
        "SEQSTORE_LIFECYCLE__ARCHIVE_BUCKET": archive,
        "SEQSTORE_LIFECYCLE__ARCHIVE_AFTER": "2s",
        "SEQSTORE_LIFECYCLE__SCAN_INTERVAL": "1s",
    })
    account = new_account_id()
    keys, _ = srv.create_keys(account)
    client = srv.client(keys)
    ref_store = new_reference_store(client)
    job = run_import(client, ref_store, [source_item(f"s3://{SOURCE_BUCKET}/read-sets/ref/ref.fa", "archive-ref")])
    assert job["status"] == "COMPLETED", job
    ref = reference_arn(account, ref_store, job["sources"][0]["referenceId"])
    store_id = client.create_sequence_store(name=unique("blob-s3-archive"))["id"]
    src = read_set_files["bam"]
    _, rs_id, _, _ = upload_read_set(client, store_id, "BAM", src.paths, "archived-bam", reference=ref,
                                     subjectId="s", sampleId="s")
    meta = wait_read_set(client, store_id, rs_id)
    assert meta["status"] == "ACTIVE", meta.get("statusMessage")
    files = {f: file_uri(meta, f) for f in ("source1", "index")}
    before = {f: hashlib.md5(bucket_object(moto_s3, blobs, uri.key)).hexdigest() for f, uri in files.items()}

    deadline = time.monotonic() + 60
    while client.get_read_set_metadata(sequenceStoreId=store_id, id=rs_id)["status"] != "ARCHIVED":
        assert time.monotonic() < deadline, f"read set {rs_id} not ARCHIVED 60 s after it went idle"
        time.sleep(0.2)
    s3 = moto_s3.client()
    for f, uri in files.items():
        assert s3.list_objects_v2(Bucket=blobs, Prefix=uri.key).get("KeyCount") == 0, f"{f} still active"
        assert s3.head_object(Bucket=archive, Key=uri.key)["ContentLength"] > 0, f"{f} not in the archive bucket"

    # Activation brings the same bytes back to the same keys (then the archive copies go); the
    # server restarts with archiving off so that nothing archives the read set again meanwhile.
    srv.stop()
    srv.extra_env["SEQSTORE_LIFECYCLE__ARCHIVE_AFTER"] = "0"
    srv.start()
    client = srv.client(keys)
    started = client.start_read_set_activation_job(sequenceStoreId=store_id, sources=[{"readSetId": rs_id}])
    client.get_waiter("read_set_activation_job_completed").wait(
        sequenceStoreId=store_id, id=started["id"], WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    after = client.get_read_set_metadata(sequenceStoreId=store_id, id=rs_id)
    assert (after["status"], after["etag"], after["files"]) == ("ACTIVE", meta["etag"], meta["files"])
    restored = {f: hashlib.md5(bucket_object(moto_s3, blobs, uri.key)).hexdigest() for f, uri in files.items()}
    assert restored == before
    for f, uri in files.items():
        assert s3.list_objects_v2(Bucket=archive, Prefix=uri.key).get("KeyCount") == 0, f"{f} left in the archive"
