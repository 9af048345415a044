"""Deleting while work runs: a read set deleted during its ingestion stays deleted, with its
files gone, and a store cannot be deleted while an upload or a job still works on it."""

from __future__ import annotations

import gzip
import threading

import botocore.exceptions

from e2e_support import raises_aws
from read_set_api import (
    create_upload,
    list_read_sets,
    upload_file_parts,
    upload_part,
    upload_read_set,
    wait_no_staging,
    wait_read_set,
)


def read_set_files(server, account: str, store_id: str, read_set_id: str) -> list[str]:
    return server.blob_keys(f"{account}/sequenceStore/{store_id}/readSet/{read_set_id}/")


def test_a_read_set_deleted_during_ingestion_stays_deleted(rs_env):
    client, big = rs_env.client, rs_env.files.big
    assert big is not None, "the session's files include the big FASTQ"
    store_id = rs_env.new_store()
    upload_id, read_set_id, _, _ = upload_read_set(client, store_id, "FASTQ", big.paths, "doomed",
                                                   tags={"k": "v"})
    # Ingesting a file of more than one part takes far longer than this call.
    status = client.get_read_set_metadata(sequenceStoreId=store_id, id=read_set_id)["status"]
    assert status == "PROCESSING_UPLOAD", "the delete must race the ingestion"
    resp = client.batch_delete_read_set(sequenceStoreId=store_id, ids=[read_set_id])
    assert not resp.get("errors"), resp
    # The ingestion ends (its staging goes) without bringing the read set back.
    wait_no_staging(rs_env.server, upload_id, timeout=180)
    with raises_aws("ResourceNotFoundException", 404):
        client.get_read_set_metadata(sequenceStoreId=store_id, id=read_set_id)
    with raises_aws("ResourceNotFoundException", 404):
        client.get_read_set(sequenceStoreId=store_id, id=read_set_id, partNumber=1)
    assert list_read_sets(client, store_id) == []
    deleted = list_read_sets(client, store_id, filter={"status": "DELETED"})
    assert [r["id"] for r in deleted] == [read_set_id]
    arn = rs_env.read_set_arn(store_id, read_set_id)
    with raises_aws("ResourceNotFoundException", 404):
        client.list_tags_for_resource(resourceArn=arn)
    assert read_set_files(rs_env.server, rs_env.account, store_id, read_set_id) == []
    # With nothing in flight any more, the store can go.
    client.delete_sequence_store(id=store_id)


def test_a_store_with_an_upload_in_progress_is_not_deleted(rs_env, tmp_path):
    client = rs_env.client
    store_id = rs_env.new_store()
    upload_id = create_upload(client, store_id, "FASTQ", "pending")["uploadId"]
    fastq = tmp_path / "one.fastq"
    fastq.write_bytes(b"@r1\nACGT\n+\nIIII\n")
    upload_file_parts(client, store_id, upload_id, "SOURCE1", fastq)
    with raises_aws("ConflictException", 409, message_contains=[f"upload {upload_id}", "abort"]):
        client.delete_sequence_store(id=store_id)
    client.abort_multipart_read_set_upload(sequenceStoreId=store_id, uploadId=upload_id)
    client.delete_sequence_store(id=store_id)


def test_complete_ingests_exactly_the_parts_it_verified(rs_env):
    """A part uploaded again while Complete runs cannot swap the bytes Complete checked: the
    read set holds the verified bytes, or Complete fails and nothing is made."""
    client = rs_env.client
    store_id = rs_env.new_store()
    verified = b"".join(b"@v%d\nACGTACGT\n+\nIIIIIIII\n" % i for i in range(2000))
    swapped = b"".join(b"@s%d\nTTTTGGGG\n+\n########\n" % i for i in range(2000))
    outcomes = []
    for round_ in range(8):
        upload_id = create_upload(client, store_id, "FASTQ", f"pin-{round_}")["uploadId"]
        part = upload_part(client, store_id, upload_id, "SOURCE1", 1, verified)
        stop = threading.Event()

        def reupload():
            while not stop.is_set():
                try:
                    client.upload_read_set_part(sequenceStoreId=store_id, uploadId=upload_id,
                                                partSource="SOURCE1", partNumber=1, payload=swapped)
                except botocore.exceptions.ClientError:
                    return  # the upload is completed: no more parts

        racer = threading.Thread(target=reupload)
        racer.start()
        try:
            read_set_id = client.complete_multipart_read_set_upload(
                sequenceStoreId=store_id, uploadId=upload_id, parts=[part])["readSetId"]
        except botocore.exceptions.ClientError as exc:
            code = exc.response["Error"]["Code"]
            assert code in ("ConflictException", "ValidationException"), exc
            outcomes.append(code)
            continue
        finally:
            stop.set()
            racer.join()
        meta = wait_read_set(client, store_id, read_set_id)
        assert meta["status"] == "ACTIVE", meta
        body = client.get_read_set(sequenceStoreId=store_id, id=read_set_id, partNumber=1)["payload"].read()
        assert gzip.decompress(body) == verified, "the read set holds bytes Complete never verified"
        outcomes.append("ACTIVE")
    assert len(outcomes) == 8, outcomes
