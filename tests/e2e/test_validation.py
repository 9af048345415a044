"""Server-side model validation: every constraint gives a ValidationException naming the field.

botocore itself only checks `required`, types and minimums; `raw_omics` turns even that off,
so these requests reach the server as a buggy or non-Python client would send them.
"""

from __future__ import annotations

import json

import pytest

from e2e_support import ACCOUNT_ID, REGION, raises_aws, signed_request, unique

# (create_sequence_store kwargs without name, field named in the message)
BAD_CREATE_SEQUENCE_STORE = [
    pytest.param({"name": "n" * 128}, "name", id="name-too-long"),
    pytest.param({"name": ""}, "name", id="name-empty"),
    pytest.param({"name": "tab\there"}, "name", id="name-control-char"),
    pytest.param({"description": "d" * 256}, "description", id="description-too-long"),
    pytest.param({"description": ""}, "description", id="description-empty"),
    pytest.param({"eTagAlgorithmFamily": "MD5"}, "eTagAlgorithmFamily", id="etag-family-enum"),
    pytest.param({"eTagAlgorithmFamily": "md5up"}, "eTagAlgorithmFamily", id="etag-family-case"),
    pytest.param({"sseConfig": {"type": "AES256"}}, "type", id="sse-type-enum"),
    pytest.param({"sseConfig": {"type": "KMS", "keyArn": "arn:short"}}, "keyArn", id="sse-keyarn-short"),
    pytest.param({"sseConfig": {"type": "KMS", "keyArn": "x" * 30}}, "keyArn", id="sse-keyarn-pattern"),
    pytest.param({"fallbackLocation": "not-an-s3-uri"}, "fallbackLocation", id="fallback-pattern"),
    pytest.param({"fallbackLocation": "s3://Bad_Bucket/"}, "fallbackLocation", id="fallback-bucket"),
    pytest.param({"fallbackLocation": "https://bucket/x/"}, "fallbackLocation", id="fallback-scheme"),
    pytest.param(
        {"s3AccessConfig": {"accessLogLocation": "ftp://log-bucket/"}},
        "accessLogLocation",
        id="access-log-pattern",
    ),
    pytest.param({"clientToken": "t" * 128}, "clientToken", id="client-token-too-long"),
    pytest.param({"propagatedSetLevelTags": ["k" * 129]}, "propagatedSetLevelTags", id="propagated-key-long"),
    pytest.param({"tags": {"k": "v" * 257}}, "tags", id="tag-value-long"),
]


@pytest.mark.parametrize("kwargs, field", BAD_CREATE_SEQUENCE_STORE)
def test_create_sequence_store_constraints(raw_omics, kwargs, field):
    params = {"name": unique("bad"), **kwargs}
    with raises_aws("ValidationException", 400, field):
        raw_omics.create_sequence_store(**params)
    if params["name"] and len(params["name"]) <= 127 and "\t" not in params["name"]:
        listed = raw_omics.list_sequence_stores(filter={"name": params["name"]})["sequenceStores"]
        assert listed == [], "a rejected CreateSequenceStore must not create a store"


def test_name_too_long_message_is_aws_style(omics):
    name = "n" * 128
    with raises_aws("ValidationException", 400) as err:
        omics.create_sequence_store(name=name)
    assert "'name'" in err.message, err.message
    assert "failed to satisfy constraint" in err.message, err.message
    assert "length less than or equal to 127" in err.message, err.message


def test_missing_required_name(raw_omics):
    with raises_aws("ValidationException", 400, "name"):
        raw_omics.create_sequence_store()


def test_wrong_json_type(raw_omics):
    with raises_aws("ValidationException", 400):
        raw_omics.create_sequence_store(name=12345)


def test_name_at_the_limits_is_fine(omics):
    for name in ("n", "n" * 127, "Ünïcödé name with spaces & punctuation!"):
        created = omics.create_sequence_store(name=name)
        assert omics.get_sequence_store(id=created["id"])["name"] == name


BAD_UPDATE_SEQUENCE_STORE = [
    pytest.param({"name": ""}, "name", id="name-empty"),
    pytest.param({"name": "n" * 128}, "name", id="name-too-long"),
    pytest.param({"description": "d" * 256}, "description", id="description-too-long"),
    pytest.param({"fallbackLocation": "bucket/x"}, "fallbackLocation", id="fallback-pattern"),
    pytest.param(
        {"s3AccessConfig": {"accessLogLocation": "s3://x/"}}, "accessLogLocation", id="access-log-bucket-short"
    ),
    pytest.param({"clientToken": ""}, "clientToken", id="client-token-empty"),
]


@pytest.mark.parametrize("kwargs, field", BAD_UPDATE_SEQUENCE_STORE)
def test_update_sequence_store_constraints(omics, raw_omics, kwargs, field):
    created = omics.create_sequence_store(name=unique("upd-bad"), description="unchanged")
    with raises_aws("ValidationException", 400, field):
        raw_omics.update_sequence_store(id=created["id"], **kwargs)
    got = omics.get_sequence_store(id=created["id"])
    assert got["name"] == created["name"]
    assert got["description"] == "unchanged"


@pytest.mark.parametrize(
    "bad_id",
    ["abc", "123", "12345abcde", "1" * 37, "-123456789", "12345 67890"],
)
def test_path_ids_must_be_10_to_36_digits(raw_omics, bad_id):
    with raises_aws("ValidationException", 400, "id"):
        raw_omics.get_sequence_store(id=bad_id)
    with raises_aws("ValidationException", 400, "id"):
        raw_omics.delete_sequence_store(id=bad_id)
    with raises_aws("ValidationException", 400, "id"):
        raw_omics.get_reference_store(id=bad_id)


def test_long_numeric_ids_are_well_formed_but_unknown(omics):
    with raises_aws("ResourceNotFoundException", 404):
        omics.get_sequence_store(id="1" * 36)
    with raises_aws("ResourceNotFoundException", 404):
        omics.get_sequence_store(id="0" * 10)


BAD_LIST_SEQUENCE_STORES = [
    pytest.param({"filter": {"name": "n" * 128}}, "name", id="filter-name-too-long"),
    pytest.param({"filter": {"status": "BOGUS"}}, "status", id="filter-status-enum"),
    pytest.param({"nextToken": "t" * 6145}, "nextToken", id="next-token-too-long"),
]


@pytest.mark.parametrize("kwargs, field", BAD_LIST_SEQUENCE_STORES)
def test_list_sequence_stores_constraints(raw_omics, kwargs, field):
    with raises_aws("ValidationException", 400, field):
        raw_omics.list_sequence_stores(**kwargs)


BAD_CREATE_REFERENCE_STORE = [
    pytest.param({"name": "n" * 128}, "name", id="name-too-long"),
    pytest.param({"name": ""}, "name", id="name-empty"),
    pytest.param({"description": "d" * 256}, "description", id="description-too-long"),
    pytest.param({"sseConfig": {"type": "NOPE"}}, "type", id="sse-type-enum"),
    pytest.param({"clientToken": "t" * 128}, "clientToken", id="client-token-too-long"),
]


@pytest.mark.parametrize("kwargs, field", BAD_CREATE_REFERENCE_STORE)
def test_create_reference_store_constraints(new_account, kwargs, field):
    _, client, raw = new_account(with_raw=True)
    params = {"name": unique("bad-ref"), **kwargs}
    with raises_aws("ValidationException", 400, field):
        raw.create_reference_store(**params)
    assert client.list_reference_stores()["referenceStores"] == [], (
        "a rejected CreateReferenceStore must not create a store"
    )


def test_list_reference_stores_filter_name_too_long(raw_omics):
    with raises_aws("ValidationException", 400, "name"):
        raw_omics.list_reference_stores(filter={"name": "n" * 128})


def test_malformed_json_body_is_rejected(server, omics):
    """A body that is not JSON at all is a client error, answered in the AWS error format."""
    resp = signed_request(server, "POST", "/sequencestore", body=b'{"name": "unterminated')
    assert resp.status == 400, (resp.status, resp.data)
    assert resp.headers.get("x-amzn-ErrorType") in ("ValidationException", "SerializationException"), dict(
        resp.headers
    )
    assert resp.headers.get("x-amzn-RequestId")
    assert json.loads(resp.data)["message"]


def test_unknown_tag_resource_type_is_rejected(omics):
    arn = f"arn:aws:omics:{REGION}:{ACCOUNT_ID}:workflow/1234567"
    with pytest.raises(Exception) as exc:
        omics.list_tags_for_resource(resourceArn=arn)
    code = exc.value.response["Error"]["Code"]
    assert code in ("ValidationException", "ResourceNotFoundException"), code
