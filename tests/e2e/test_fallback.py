"""fallbackLocation: the bytes of a direct upload that fails validation are copied to the
store's fallback S3 location (one object per source), and nothing stays staged."""

from __future__ import annotations

import hashlib

from e2e_support import unique
from read_set_api import create_upload, upload_part, wait_no_staging, wait_read_set


def test_failed_upload_is_copied_to_the_fallback_location(omics, server, moto_s3):
    s3 = moto_s3.client()
    bucket = unique("fallback").lower()
    s3.create_bucket(Bucket=bucket)
    store = omics.create_sequence_store(name=unique("fb"), fallbackLocation=f"s3://{bucket}/failed/")["id"]
    # Not FASTQ at all: two parts of bytes that fail at the first record.
    part1 = b"this is not a FASTQ file\n" * 4000
    part2 = hashlib.sha256(b"x").digest() * 1000
    upload = create_upload(omics, store, "FASTQ", unique("bad"))["uploadId"]
    parts = [upload_part(omics, store, upload, "SOURCE1", 1, part1), upload_part(omics, store, upload, "SOURCE1", 2, part2)]
    read_set = omics.complete_multipart_read_set_upload(sequenceStoreId=store, uploadId=upload, parts=parts)["readSetId"]

    meta = wait_read_set(omics, store, read_set)
    assert meta["status"] == "UPLOAD_FAILED", meta
    assert f"s3://{bucket}/failed/{read_set}/" in meta["statusMessage"], meta["statusMessage"]
    copied = s3.get_object(Bucket=bucket, Key=f"failed/{read_set}/source1")["Body"].read()
    assert copied == part1 + part2, "the fallback object is the uploaded source, parts joined in order"
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"failed/{read_set}/")["Contents"]
    assert [o["Key"] for o in listed] == [f"failed/{read_set}/source1"]
    wait_no_staging(server, upload)


def test_store_without_fallback_location_just_fails(omics, server):
    store = omics.create_sequence_store(name=unique("nofb"))["id"]
    upload = create_upload(omics, store, "FASTQ", unique("bad"))["uploadId"]
    parts = [upload_part(omics, store, upload, "SOURCE1", 1, b"@r1\nACGT\n+\n!!\n")]
    read_set = omics.complete_multipart_read_set_upload(sequenceStoreId=store, uploadId=upload, parts=parts)["readSetId"]
    meta = wait_read_set(omics, store, read_set)
    assert meta["status"] == "UPLOAD_FAILED"
    assert "quality" in meta["statusMessage"] and "copied" not in meta["statusMessage"], meta["statusMessage"]
    wait_no_staging(server, upload)
