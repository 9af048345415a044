"""Blobs in an S3-compatible bucket (`blob.backend = "s3"`, moto here) instead of the data dir.

The scale-out shape: a reference imported, BAM and CRAM read sets uploaded (CRAM decoding needs
the reference back from the bucket), then read through GetReadSet, GetReference and the S3
endpoint. Expected ETags and records come from samtools and md5 run here on the originals; the
stored bytes are read back from the bucket itself with boto3.
"""

from __future__ import annotations

import hashlib
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
