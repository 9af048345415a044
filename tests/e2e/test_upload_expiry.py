"""Multipart uploads left in progress are aborted after `uploads.expire_after_seconds` (default
7 days; 2 s here), their staged parts removed; completed uploads are not touched."""

from __future__ import annotations

import time

from e2e_support import new_account_id, raises_aws
from read_set_api import (
    create_upload,
    list_uploads,
    staging_files,
    upload_part,
    upload_read_set,
    wait_read_set,
)

FASTQ = b"@r1\nACGT\n+\nIIII\n"


def test_an_abandoned_upload_expires_with_its_parts(server_factory, tmp_path):
    srv = server_factory.installation(env={"SEQSTORE_UPLOADS__EXPIRE_AFTER_SECONDS": "2"})
    keys, _ = srv.create_keys(new_account_id())
    client = srv.client(keys)
    store_id = client.create_sequence_store(name="expiry")["id"]
    abandoned = create_upload(client, store_id, "FASTQ", "abandoned")["uploadId"]
    upload_part(client, store_id, abandoned, "SOURCE1", 1, FASTQ)
    assert staging_files(srv, abandoned), "the part is staged"
    small = tmp_path / "small.fastq"
    small.write_bytes(FASTQ)
    _, read_set_id, _, _ = upload_read_set(client, store_id, "FASTQ", [small], "kept")
    assert wait_read_set(client, store_id, read_set_id)["status"] == "ACTIVE"

    deadline = time.monotonic() + 15
    while any(u["uploadId"] == abandoned for u in list_uploads(client, store_id)):
        assert time.monotonic() < deadline, "an upload older than expire_after is still listed"
        time.sleep(0.25)
    assert staging_files(srv, abandoned) == []
    with raises_aws("ResourceNotFoundException", 404):
        upload_part(client, store_id, abandoned, "SOURCE1", 2, FASTQ)
    assert client.get_read_set_metadata(sequenceStoreId=store_id, id=read_set_id)["status"] == "ACTIVE"
    assert "expired an upload" in srv.stdout() + srv.stderr()
