"""`seqstore serve` as a user runs it: credentials, startup lines, signals, restarts, keys."""

from __future__ import annotations

import os
import signal
import socket
import stat
from pathlib import Path

import boto3

from e2e_support import (
    ACCOUNT_ID,
    OTHER_ACCOUNT_ID,
    REGION,
    Keys,
    make_client,
    parse_credentials_ini,
    raises_aws,
    unique,
)


def port_closed(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return False
    except OSError:
        return True


def test_credentials_file_is_generated_private_and_not_logged(server_factory):
    srv = server_factory.new()
    path = srv.credentials_path
    assert path.is_file(), f"{path} was not created"
    mode = stat.S_IMODE(path.stat().st_mode)
    assert mode == 0o600, f"{path} has mode {oct(mode)}, expected 0o600"
    profiles = parse_credentials_ini(path.read_text())
    assert "seqstore" in profiles, path.read_text()
    keys = profiles["seqstore"]
    assert keys.access_key_id and keys.secret_access_key
    assert len(keys.secret_access_key) >= 20

    client = make_client(srv.endpoint, keys)
    created = client.create_sequence_store(name=unique("creds"))
    assert f":{ACCOUNT_ID}:" in created["arn"]

    output = srv.all_output()
    assert keys.secret_access_key not in output, "the root secret appears in the server's output"


def test_startup_lines_configure_unmodified_boto3(server_factory, monkeypatch, tmp_path):
    srv = server_factory.new()
    exports = srv.exports()
    assert exports.get("AWS_ENDPOINT_URL_OMICS") == f"http://127.0.0.1:{srv.port}", srv.stdout()
    assert exports.get("AWS_DISABLE_HOST_PREFIX_INJECTION") == "true", srv.stdout()
    assert exports.get("AWS_PROFILE") == "seqstore", srv.stdout()
    assert exports.get("AWS_DEFAULT_REGION") == REGION, srv.stdout()
    creds_file = exports.get("AWS_SHARED_CREDENTIALS_FILE")
    assert creds_file, srv.stdout()
    assert Path(creds_file).resolve() == srv.credentials_path.resolve()

    # A user who pastes these lines gets a working client without any Config.
    config = tmp_path / "config"
    config.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    for name, value in exports.items():
        monkeypatch.setenv(name, value)
    client = boto3.session.Session().client("omics")
    created = client.create_sequence_store(name=unique("exports"))
    assert client.get_sequence_store(id=created["id"])["name"] == created["name"]


def test_sigterm_exits_zero(server_factory):
    srv = server_factory.new()
    port = srv.port
    srv.client().list_sequence_stores()
    assert srv.stop(signal.SIGTERM) == 0, srv.describe_logs()
    assert port_closed(port)


def test_sigint_exits_zero(server_factory):
    srv = server_factory.new()
    srv.client().list_sequence_stores()
    assert srv.stop(signal.SIGINT) == 0, srv.describe_logs()


def test_restart_keeps_data_tags_and_keys(server_factory):
    srv = server_factory.new()
    creds_before = srv.credentials_path.read_text()
    root = srv.client()
    store = root.create_sequence_store(
        name=unique("durable"),
        description="survives restarts",
        eTagAlgorithmFamily="SHA512up",
        fallbackLocation="s3://fallback-bucket/x/",
        tags={"keep": "me"},
    )
    ref = root.create_reference_store(name=unique("durable-ref"))
    other_keys, _ = srv.create_keys(OTHER_ACCOUNT_ID)
    other_store = make_client(srv.endpoint, other_keys).create_sequence_store(name=unique("theirs"))

    assert srv.stop() == 0, srv.describe_logs()
    srv.start()

    assert srv.credentials_path.read_text() == creds_before, "restart changed the root credentials"
    root = srv.client()
    got = root.get_sequence_store(id=store["id"])
    assert got["name"] == store["name"]
    assert got["description"] == "survives restarts"
    assert got["eTagAlgorithmFamily"] == "SHA512up"
    assert got["fallbackLocation"] == "s3://fallback-bucket/x/"
    assert got["creationTime"] == store["creationTime"]
    assert got["s3Access"] == store["s3Access"]
    assert root.list_tags_for_resource(resourceArn=store["arn"])["tags"] == {"keep": "me"}
    assert root.get_reference_store(id=ref["id"])["name"] == ref["name"]
    with raises_aws("ServiceQuotaExceededException", 402):
        root.create_reference_store(name=unique("second"))

    other = make_client(srv.endpoint, other_keys)
    assert other.get_sequence_store(id=other_store["id"])["id"] == other_store["id"]
    with raises_aws("ResourceNotFoundException", 404):
        other.get_sequence_store(id=store["id"])

    # ids keep being unique after a restart
    new_store = root.create_sequence_store(name=unique("after-restart"))
    assert new_store["id"] not in (store["id"], other_store["id"])

    root_secret = srv.root_keys().secret_access_key
    assert root_secret not in srv.all_output()
    assert other_keys.secret_access_key not in srv.all_output()


def test_root_credentials_from_environment(server_factory):
    keys = Keys("AKIASEQSTOREE2E00001", "e2e-secret-" + "q" * 29)
    srv = server_factory.new(
        env={
            "SEQSTORE_ROOT_ACCESS_KEY_ID": keys.access_key_id,
            "SEQSTORE_ROOT_SECRET_ACCESS_KEY": keys.secret_access_key,
        }
    )
    client = make_client(srv.endpoint, keys)
    created = client.create_sequence_store(name=unique("env-keys"))
    assert f":{ACCOUNT_ID}:" in created["arn"]
    wrong = make_client(srv.endpoint, Keys(keys.access_key_id, keys.secret_access_key + "x"))
    with raises_aws("InvalidSignatureException", 403):
        wrong.list_sequence_stores()
    assert keys.secret_access_key not in srv.all_output()


def test_keys_create_prints_an_ini_block(server):
    account = "333344445555"
    keys, printed = server.create_keys(account)
    lines = [line.strip() for line in printed.strip().splitlines() if line.strip()]
    assert lines[0] == f"[seqstore-{account}]", printed
    assert any(line.startswith("aws_access_key_id = ") for line in lines), printed
    assert any(line.startswith("aws_secret_access_key = ") for line in lines), printed
    client = make_client(server.endpoint, keys)
    assert client.list_sequence_stores()["sequenceStores"] == []
    assert keys.secret_access_key not in server.all_output(), "a created secret appears in the server log"


def test_keys_create_rejects_bad_account_ids(server):
    for bad in ("1234", "abcdefghijkl", "1234567890123"):
        res = server.run_cli(
            "keys", "create", "--account-id", bad, "--data-dir", str(server.data_dir), *server.catalog_args()
        )
        assert res.returncode != 0, f"keys create accepted account id {bad!r}: {res.stdout}"
        assert "[seqstore-" not in res.stdout


def test_two_keys_for_one_account_share_its_resources(server):
    account = "444455556666"
    k1, _ = server.create_keys(account)
    k2, _ = server.create_keys(account)
    assert k1.access_key_id != k2.access_key_id
    c1, c2 = make_client(server.endpoint, k1), make_client(server.endpoint, k2)
    store = c1.create_sequence_store(name=unique("shared"))
    assert c2.get_sequence_store(id=store["id"])["id"] == store["id"]


def test_server_keeps_running_after_client_errors(server, omics, raw_omics):
    with raises_aws("ValidationException", 400):
        raw_omics.create_sequence_store(name="")
    with raises_aws("ResourceNotFoundException", 404):
        omics.get_sequence_store(id="5" * 10)
    assert server.alive()
    omics.list_sequence_stores(maxResults=1)


def test_sqlite_catalog_lives_in_data_dir(backend, server_factory):
    srv = server_factory.new()
    srv.client().create_sequence_store(name=unique("where"))
    files = [p for p in srv.data_dir.rglob("*") if p.is_file()]
    names = [p.name for p in files]
    if backend == "sqlite":
        assert any(
            open(p, "rb").read(16) == b"SQLite format 3\x00" for p in files
        ), f"no SQLite database under {srv.data_dir}: {names}"
    else:
        assert not any(
            open(p, "rb").read(16) == b"SQLite format 3\x00" for p in files
        ), f"--catalog postgres://... but a SQLite database was written: {names}"
    assert os.access(srv.credentials_path, os.R_OK)
