"""The AWS CLI v1, configured only by the `export` lines `seqstore serve` prints."""

from __future__ import annotations

import json

from e2e_support import unique


def cli_json(aws_cli, *args, env=None) -> dict:
    res = aws_cli.run("omics", *args, "--output", "json", env=env)
    return json.loads(res.stdout) if res.stdout.strip() else {}


def test_sequence_store_lifecycle(aws_cli):
    created = cli_json(aws_cli, "create-sequence-store", "--name", "demo", "--e-tag-algorithm-family", "SHA256up")
    store_id = created["id"]
    assert created["name"] == "demo"
    assert created["eTagAlgorithmFamily"] == "SHA256up"

    got = cli_json(aws_cli, "get-sequence-store", "--id", store_id)
    assert got["id"] == store_id
    assert got["eTagAlgorithmFamily"] == "SHA256up"
    assert got["status"] == "ACTIVE"
    assert got["s3Access"]["s3Uri"].startswith("s3://")
    assert got["s3Access"]["s3Uri"].endswith(f"/sequenceStore/{store_id}/")
    assert got["s3Access"]["s3AccessPointArn"].startswith("arn:aws:s3:")
    assert got["creationTime"].endswith("Z") or "+00:00" in got["creationTime"]

    listed = cli_json(aws_cli, "list-sequence-stores", "--filter", "name=demo")
    assert store_id in [s["id"] for s in listed["sequenceStores"]]

    updated = cli_json(aws_cli, "update-sequence-store", "--id", store_id, "--description", "from the cli")
    assert updated["description"] == "from the cli"

    arn = got["arn"]
    aws_cli.run("omics", "tag-resource", "--resource-arn", arn, "--tags", "team=genomics,stage=dev")
    tags = cli_json(aws_cli, "list-tags-for-resource", "--resource-arn", arn)
    assert tags["tags"] == {"team": "genomics", "stage": "dev"}
    aws_cli.run("omics", "untag-resource", "--resource-arn", arn, "--tag-keys", "team")
    assert cli_json(aws_cli, "list-tags-for-resource", "--resource-arn", arn)["tags"] == {"stage": "dev"}

    aws_cli.run("omics", "delete-sequence-store", "--id", store_id)
    res = aws_cli.run("omics", "get-sequence-store", "--id", store_id, check=False)
    assert res.returncode != 0
    assert "ResourceNotFoundException" in res.stderr, res.stderr


def test_cli_pagination_collects_every_page(aws_cli):
    name = unique("cli-pages")
    ids = [cli_json(aws_cli, "create-sequence-store", "--name", name)["id"] for _ in range(3)]
    listed = cli_json(aws_cli, "list-sequence-stores", "--filter", f"name={name}", "--page-size", "2")
    assert [s["id"] for s in listed["sequenceStores"]] == ids


def test_cli_errors_are_readable(aws_cli):
    res = aws_cli.run("omics", "get-sequence-store", "--id", "9999999999", check=False)
    assert res.returncode != 0
    assert "ResourceNotFoundException" in res.stderr, res.stderr
    res = aws_cli.run("omics", "create-sequence-store", "--name", "n" * 128, check=False)
    assert res.returncode != 0
    assert "ValidationException" in res.stderr, res.stderr


def test_reference_store_lifecycle(aws_cli):
    created = cli_json(aws_cli, "create-reference-store", "--name", unique("cli-ref"))
    store_id = created["id"]
    try:
        assert created["arn"].endswith(f":referenceStore/{store_id}")
        res = aws_cli.run("omics", "create-reference-store", "--name", unique("cli-ref2"), check=False)
        assert res.returncode != 0
        assert "ServiceQuotaExceededException" in res.stderr, res.stderr
        got = cli_json(aws_cli, "get-reference-store", "--id", store_id)
        assert got["name"] == created["name"]
        listed = cli_json(aws_cli, "list-reference-stores")
        assert [s["id"] for s in listed["referenceStores"]] == [store_id]
    finally:
        aws_cli.run("omics", "delete-reference-store", "--id", store_id)
    assert cli_json(aws_cli, "list-reference-stores")["referenceStores"] == []


def test_profile_from_keys_create_output(server, aws_cli, tmp_path):
    """The INI block `seqstore keys create` prints works when pasted into a credentials file."""
    from e2e_support import new_account_id

    account = new_account_id()
    _, printed = server.create_keys(account)
    creds = tmp_path / "credentials"
    creds.write_text(server.credentials_path.read_text() + "\n" + printed)
    env = aws_cli.env(AWS_SHARED_CREDENTIALS_FILE=str(creds), AWS_PROFILE=f"seqstore-{account}")

    mine = cli_json(aws_cli, "create-sequence-store", "--name", unique("cli-acct"), env=env)
    assert f":{account}:sequenceStore/" in mine["arn"]
    listed = cli_json(aws_cli, "list-sequence-stores", env=env)
    assert [s["id"] for s in listed["sequenceStores"]] == [mine["id"]]
    # the root profile does not see it
    res = aws_cli.run("omics", "get-sequence-store", "--id", mine["id"], check=False)
    assert res.returncode != 0 and "ResourceNotFoundException" in res.stderr, res.stderr
