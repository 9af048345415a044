"""Import sources as users configure them: an S3 endpoint at an IP address with no
`path_style` setting, object keys used exactly as written, and failures that say what is wrong
(missing bucket, missing key, access denied).

Oracles: boto3 uploads the objects under the exact keys, `md5sum` gives the expected md5.
"""

from __future__ import annotations

import json
import random

import boto3
import botocore.config
import pytest

from conftest import ServerFactory
from e2e_support import MOTO_KEYS, REGION, MotoS3, new_account_id
from reference_support import md5sum, new_reference_store, random_bases, run_import, source_item, wrap

ODD_BUCKET = "seqstore-e2e-odd-keys"

# case -> key, uploaded and imported exactly so. A `\` may not be in a reference's file name
# (the last segment), so it sits in a folder.
ODD_KEYS = {
    "backslash": "odd\\keys/back-slash.fa",
    "percent": "odd-keys/100% of %41.fa",
    "hash": "odd-keys/hash#tag.fa",
    "tilde": "odd-keys/~home/ti~lde.fa",
    "double_slash": "odd-keys//double-slash.fa",
    "leading_slash": "/odd-keys-leading-slash.fa",
    "space": "odd keys/with space.fa",
    "unicode": "odd-keys/ünïcødé-参考.fa",
}

# Where a client that rewrote those keys would read instead: other bytes, so a rewritten key
# shows up as a wrong md5 rather than passing.
DECOYS = {
    "percent": "odd-keys/100% of A.fa",
    "double_slash": "odd-keys/double-slash.fa",
    "leading_slash": "odd-keys-leading-slash.fa",
}

SOURCE_ENV = ("ENDPOINT", "REGION", "ACCESS_KEY_ID", "SECRET_ACCESS_KEY")


def sources_env(endpoint: str, access_key_id: str, secret_access_key: str) -> dict[str, str]:
    """`[sources.s3]` as the README says to set it for MinIO/moto/Ceph: no PATH_STYLE."""
    values = (endpoint, REGION, access_key_id, secret_access_key)
    return {f"SEQSTORE_SOURCES__S3__{name}": value for name, value in zip(SOURCE_ENV, values)}


def start_server(backend, tmp_path_factory, env: dict[str, str]):
    factory = ServerFactory(tmp_path_factory, backend, env)
    server = factory.new()
    return factory, server


@pytest.fixture(scope="module")
def ip_server(backend, tmp_path_factory, moto_s3):
    """A server whose only source setting besides keys and region is an `http://127.0.0.1:PORT`
    endpoint."""
    assert moto_s3.endpoint.startswith("http://127.0.0.1:"), moto_s3.endpoint
    env = sources_env(moto_s3.endpoint, MOTO_KEYS.access_key_id, MOTO_KEYS.secret_access_key)
    factory, server = start_server(backend, tmp_path_factory, env)
    yield server
    factory.close()


def new_store(server):
    keys, _ = server.create_keys(new_account_id())
    client = server.client(keys)
    return client, new_reference_store(client)


def a_fasta(rng: random.Random, name: str) -> bytes:
    return f">{name}\n".encode() + wrap(random_bases(rng, rng.randint(200, 900)), 60)


@pytest.fixture(scope="module")
def odd_sources(moto_s3, tmp_path_factory) -> dict:
    """case -> (uri, local file) of objects stored under ODD_KEYS, plus the decoys."""
    s3 = moto_s3.client()
    try:
        s3.create_bucket(Bucket=ODD_BUCKET)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    workdir = tmp_path_factory.mktemp("odd-keys")
    rng = random.Random(99)
    for case, key in DECOYS.items():
        s3.put_object(Bucket=ODD_BUCKET, Key=key, Body=a_fasta(rng, f"decoy_{case}"))
    sources = {}
    for case, key in ODD_KEYS.items():
        path = workdir / f"{case}.fa"
        path.write_bytes(a_fasta(rng, f"chr_{case}"))
        s3.upload_file(str(path), ODD_BUCKET, key)
        listed = s3.list_objects_v2(Bucket=ODD_BUCKET, Prefix=key)["Contents"]
        assert key in [o["Key"] for o in listed], f"moto did not store {key!r} as is"
        sources[case] = (f"s3://{ODD_BUCKET}/{key}", path)
    return sources


def test_ip_endpoint_without_path_style_imports_a_reference(ip_server, small_sources):
    assert not any("PATH_STYLE" in name for name in ip_server.extra_env), ip_server.extra_env
    client, store = new_store(ip_server)
    src = small_sources["plain"]
    job = run_import(client, store, [source_item(src, "ip-endpoint")])
    item = job["sources"][0]
    assert job["status"] == "COMPLETED", item
    meta = client.get_reference_metadata(referenceStoreId=store, id=item["referenceId"])
    assert meta["md5"] == src.md5


@pytest.fixture(scope="module")
def odd_imported(ip_server, odd_sources):
    client, store = new_store(ip_server)
    cases = list(odd_sources)
    items = [source_item(odd_sources[c][0], f"odd-{c.replace('_', '-')}") for c in cases]
    job = run_import(client, store, items)
    return client, store, dict(zip(cases, job["sources"]))


@pytest.mark.parametrize("case", list(ODD_KEYS))
def test_keys_are_read_exactly_as_written(odd_imported, odd_sources, case):
    client, store, items = odd_imported
    uri, path = odd_sources[case]
    item = items[case]
    assert item["sourceFile"] == uri
    assert item["status"] == "FINISHED", f"{uri!r}: {item.get('statusMessage')}"
    meta = client.get_reference_metadata(referenceStoreId=store, id=item["referenceId"])
    assert meta["md5"] == md5sum(path), f"{uri!r} was not imported from its own bytes"


def test_missing_bucket_and_key_say_which(ip_server, moto_s3):
    client, store = new_store(ip_server)
    missing = {
        "s3://seqstore-e2e-no-such-bucket/ref.fa":
            f"bucket 'seqstore-e2e-no-such-bucket' not found at {moto_s3.endpoint}",
        f"s3://{ODD_BUCKET}/odd-keys//no such %41.fa":
            f"key 'odd-keys//no such %41.fa' not found in bucket '{ODD_BUCKET}'",
    }
    job = run_import(client, store, [source_item(uri, f"missing-{i}") for i, uri in enumerate(missing)])
    assert job["status"] == "FAILED", job
    for item, (uri, message) in zip(job["sources"], missing.items()):
        assert item["sourceFile"] == uri
        assert item["status"] == "FAILED"
        assert item["statusMessage"] == message


# ---------------------------------------------------------------------------------------
# Access denied: a moto of its own with IAM checks on, and a user without any policy.
# ---------------------------------------------------------------------------------------

LOCKED_BUCKET = "seqstore-e2e-locked"
LOCKED_KEY = "private/plain.fa"


@pytest.fixture(scope="module")
def locked_s3(tmp_path_factory):
    """(endpoint, access key id, secret) of an IAM user that may not read LOCKED_KEY.

    moto checks credentials and IAM policies once `INITIAL_NO_AUTH_ACTION_COUNT` requests have
    been answered (its start-up probe counts): the set-up fits in them, the rest are used up."""
    moto = MotoS3(tmp_path_factory.mktemp("moto-locked"), env={"INITIAL_NO_AUTH_ACTION_COUNT": "10"}).start()
    admin = dict(endpoint_url=moto.endpoint, region_name=REGION, aws_access_key_id=MOTO_KEYS.access_key_id,
                  aws_secret_access_key=MOTO_KEYS.secret_access_key)
    path_style = botocore.config.Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1})
    s3 = boto3.client("s3", config=path_style, **admin)
    iam = boto3.client("iam", **admin)
    s3.create_bucket(Bucket=LOCKED_BUCKET)
    s3.put_object(Bucket=LOCKED_BUCKET, Key=LOCKED_KEY, Body=b">chr1\nACGT\n")
    iam.create_user(UserName="no-policy")
    key = iam.create_access_key(UserName="no-policy")["AccessKey"]
    # Checks are on once the unknown admin key fails.
    for _ in range(10):
        try:
            s3.list_buckets()
        except s3.exceptions.ClientError as e:
            assert e.response["Error"]["Code"] == "InvalidAccessKeyId", e.response
            break
    else:
        pytest.fail("moto did not turn its IAM checks on")
    yield moto.endpoint, key["AccessKeyId"], key["SecretAccessKey"]
    problem = moto.stop()
    if problem:
        pytest.fail(problem, pytrace=False)


def test_denied_source_says_access_denied(backend, tmp_path_factory, locked_s3):
    endpoint, key_id, secret = locked_s3
    factory, server = start_server(backend, tmp_path_factory, sources_env(endpoint, key_id, secret))
    try:
        client, store = new_store(server)
        uri = f"s3://{LOCKED_BUCKET}/{LOCKED_KEY}"
        job = run_import(client, store, [source_item(uri, "locked")])
        item = job["sources"][0]
        assert item["status"] == "FAILED"
        assert item["statusMessage"] == f"access denied reading {uri}"
    finally:
        factory.close()


def test_moto_users_without_policy_are_denied(locked_s3):
    # The oracle for the test above: boto3 with the same key is refused too.
    endpoint, key_id, secret = locked_s3
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=key_id,
                      aws_secret_access_key=secret,
                      config=botocore.config.Config(s3={"addressing_style": "path"}))
    with pytest.raises(s3.exceptions.ClientError) as e:
        s3.get_object(Bucket=LOCKED_BUCKET, Key=LOCKED_KEY)
    assert e.value.response["Error"]["Code"] == "AccessDenied", json.dumps(e.value.response, default=str)
