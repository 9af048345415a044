"""Which buckets an account may name (`[[sources.grants]]`): the server's S3 credentials reach
every bucket they can, so an account may import from, or fall back to, only the buckets granted
to it. Without grants the server's own account may use any bucket and other accounts none. A
refused bucket is an AccessDeniedException naming it, at the call that names the bucket."""

from __future__ import annotations

from e2e_support import ACCOUNT_ID, new_account_id, raises_aws, unique
from read_set_api import create_upload, upload_part, wait_read_set
from reference_support import ROLE_ARN, new_reference_store, run_import, source_item, start_import

FASTA = b">chr1\nACGTACGTAC\nGTACGT\n"
FASTQ = b"@r1\nACGT\n+\nIIII\n"


def bucket_with_sources(moto_s3) -> str:
    s3 = moto_s3.client()
    bucket = unique("grants").lower()
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="ref.fa", Body=FASTA)
    s3.put_object(Bucket=bucket, Key="reads.fq", Body=FASTQ)
    return bucket


def reference_store(client) -> str:
    """The account's reference store (an account has at most one)."""
    stores = client.list_reference_stores()["referenceStores"]
    return stores[0]["id"] if stores else new_reference_store(client)


def read_set_import(client, store: str, bucket: str) -> dict:
    source = {"sourceFiles": {"source1": f"s3://{bucket}/reads.fq"}, "sourceFileType": "FASTQ",
              "subjectId": "s", "sampleId": "x"}
    return client.start_read_set_import_job(sequenceStoreId=store, roleArn=ROLE_ARN, sources=[source])


def assert_denied_everywhere(client, bucket: str) -> None:
    """Every call that names `bucket` is refused, and refused before anything is made."""
    name = unique("denied")
    with raises_aws("AccessDeniedException", 403, message_contains=bucket):
        client.create_sequence_store(name=name, fallbackLocation=f"s3://{bucket}/failed/")
    assert not [s for s in client.list_sequence_stores()["sequenceStores"] if s["name"] == name]
    store = client.create_sequence_store(name=unique("plain"))["id"]
    with raises_aws("AccessDeniedException", 403, message_contains=bucket):
        client.update_sequence_store(id=store, fallbackLocation=f"s3://{bucket}/")
    assert "fallbackLocation" not in client.get_sequence_store(id=store)
    with raises_aws("AccessDeniedException", 403, message_contains=[bucket, "sources.0.sourceFiles.source1"]):
        read_set_import(client, store, bucket)
    assert client.list_read_set_import_jobs(sequenceStoreId=store)["importJobs"] == []
    ref_store = reference_store(client)
    jobs = client.list_reference_import_jobs(referenceStoreId=ref_store)["importJobs"]
    with raises_aws("AccessDeniedException", 403, message_contains=[bucket, "sources.0.sourceFile"]):
        start_import(client, ref_store, [source_item(f"s3://{bucket}/ref.fa", "ref")])
    assert client.list_reference_import_jobs(referenceStoreId=ref_store)["importJobs"] == jobs


def test_without_grants_only_the_servers_account_names_buckets(server_factory, moto_s3):
    bucket = bucket_with_sources(moto_s3)
    server = server_factory.installation(config="")
    keys, _ = server.create_keys(new_account_id())
    assert_denied_everywhere(server.client(keys), bucket)
    omics = server.client()
    # The server's own account may use it: the import reads it.
    job = run_import(omics, reference_store(omics), [source_item(f"s3://{bucket}/ref.fa", "mine")])
    assert job["status"] == "COMPLETED", job
    store = omics.create_sequence_store(name=unique("fb"), fallbackLocation=f"s3://{bucket}/failed/")
    assert store["fallbackLocation"] == f"s3://{bucket}/failed/"


def test_grants_give_each_account_its_buckets(server_factory, moto_s3):
    granted, shared, other = (bucket_with_sources(moto_s3) for _ in range(3))
    lab = new_account_id()
    server = server_factory.installation(config=(
        f'[[sources.grants]]\naccount = "{lab}"\nbuckets = ["{granted}"]\n'
        f'[[sources.grants]]\naccount = "*"\nbuckets = ["{shared}"]\n'
    ))
    keys, _ = server.create_keys(lab)
    client = server.client(keys)
    for bucket in (granted, shared):
        job = run_import(client, reference_store(client), [source_item(f"s3://{bucket}/ref.fa", "ref")])
        assert job["status"] == "COMPLETED", job
        store = client.create_sequence_store(name=unique("fb"), fallbackLocation=f"s3://{bucket}/x/")
        assert store["fallbackLocation"] == f"s3://{bucket}/x/"
    assert_denied_everywhere(client, other)
    # Once grants exist they bind the server's own account too: it has only the `*` grant.
    owner = server.client()
    assert_denied_everywhere(owner, granted)
    job = run_import(owner, reference_store(owner), [source_item(f"s3://{shared}/ref.fa", "ref")])
    assert job["status"] == "COMPLETED", job


def test_a_grant_withdrawn_stops_the_fallback_copy(server_factory, moto_s3):
    """Grants are read again when the bytes move: a store's fallbackLocation granted when it was
    set gets no copy once the grant is gone."""
    bucket = bucket_with_sources(moto_s3)
    server = server_factory.installation(config=f'[[sources.grants]]\naccount = "{ACCOUNT_ID}"\nbuckets = ["{bucket}"]\n')
    client = server.client()
    store = client.create_sequence_store(name=unique("fb"), fallbackLocation=f"s3://{bucket}/failed/")["id"]
    server.stop()
    server.config = f'[[sources.grants]]\naccount = "{ACCOUNT_ID}"\nbuckets = ["elsewhere"]\n'
    server.start()
    client = server.client()
    upload = create_upload(client, store, "FASTQ", unique("bad"))["uploadId"]
    parts = [upload_part(client, store, upload, "SOURCE1", 1, b"not a FASTQ file\n" * 100)]
    read_set = client.complete_multipart_read_set_upload(sequenceStoreId=store, uploadId=upload, parts=parts)["readSetId"]
    meta = wait_read_set(client, store, read_set)
    assert meta["status"] == "UPLOAD_FAILED", meta
    assert "not copied" in meta["statusMessage"] and bucket in meta["statusMessage"], meta["statusMessage"]
    listed = moto_s3.client().list_objects_v2(Bucket=bucket, Prefix="failed/")
    assert listed.get("KeyCount", 0) == 0, listed
