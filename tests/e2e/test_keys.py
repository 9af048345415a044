"""`seqstore keys list` and `seqstore keys delete` on a running server: a deleted key is refused
by the omics API and by the S3 endpoint within 2 seconds, whatever either had cached."""

from __future__ import annotations

from e2e_support import new_account_id, refused_within
from s3_support import s3_client


def keys_cli(server, *args: str):
    return server.run_cli("keys", *args, "--data-dir", str(server.data_dir), *server.catalog_args())


REFUSED = ("UnrecognizedClientException", "InvalidAccessKeyId", "403")


def test_a_deleted_key_is_refused_on_both_endpoints(server):
    account = new_account_id()
    keys, _ = server.create_keys(account)
    listed = keys_cli(server, "list")
    assert listed.returncode == 0, listed.stderr
    rows = [line.split("\t") for line in listed.stdout.splitlines()]
    assert rows[0] == ["ACCESS_KEY_ID", "ACCOUNT", "USER", "CREATED"]
    assert [keys.access_key_id, account, "-"] in [r[:3] for r in rows[1:]], listed.stdout
    assert keys.secret_access_key not in listed.stdout

    omics = server.client(keys)
    store_id = omics.create_sequence_store(name="keys")["id"]
    uri = omics.get_sequence_store(id=store_id)["s3Access"]["s3Uri"]
    bucket, prefix = uri[len("s3://"):].split("/", 1)
    s3 = s3_client(server, keys)
    assert s3.list_objects_v2(Bucket=bucket, Prefix=prefix)["KeyCount"] == 0  # cached now

    deleted = keys_cli(server, "delete", keys.access_key_id)
    assert deleted.returncode == 0, deleted.stderr
    for call in (lambda: omics.get_sequence_store(id=store_id),
                 lambda: s3.list_objects_v2(Bucket=bucket, Prefix=prefix)):
        took, code = refused_within(2.0, call)
        assert code in REFUSED and took < 2.0, (code, took)
    listed = keys_cli(server, "list")
    assert keys.access_key_id not in listed.stdout

    again = keys_cli(server, "delete", keys.access_key_id)
    assert again.returncode != 0 and f"no access key {keys.access_key_id}" in again.stderr, again
