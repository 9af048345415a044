"""TagResource / UntagResource / ListTagsForResource on sequence and reference stores."""

from __future__ import annotations

import botocore.exceptions
import pytest

from e2e_support import ACCOUNT_ID, REGION, raises_aws, unique


@pytest.fixture
def seq_store(omics):
    return omics.create_sequence_store(name=unique("tags"))


def tags_of(client, arn: str) -> dict:
    return client.list_tags_for_resource(resourceArn=arn)["tags"]


def test_store_without_tags_lists_empty_map(omics, seq_store):
    resp = omics.list_tags_for_resource(resourceArn=seq_store["arn"])
    assert resp["tags"] == {}
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_tags_given_at_create_are_listed(omics):
    created = omics.create_sequence_store(name=unique("tagged"), tags={"a": "1", "b": ""})
    assert tags_of(omics, created["arn"]) == {"a": "1", "b": ""}


def test_tag_merge_and_untag(omics, seq_store):
    arn = seq_store["arn"]
    resp = omics.tag_resource(resourceArn=arn, tags={"a": "1", "b c": "two words"})
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    omics.tag_resource(resourceArn=arn, tags={"a": "3", "d": "4"})
    assert tags_of(omics, arn) == {"a": "3", "b c": "two words", "d": "4"}

    resp = omics.untag_resource(resourceArn=arn, tagKeys=["a", "b c"])
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert tags_of(omics, arn) == {"d": "4"}


def test_untag_of_absent_keys_is_fine(omics, seq_store):
    arn = seq_store["arn"]
    omics.tag_resource(resourceArn=arn, tags={"keep": "me"})
    omics.untag_resource(resourceArn=arn, tagKeys=["never-set", "also-absent"])
    assert tags_of(omics, arn) == {"keep": "me"}


def test_tag_keys_are_case_sensitive(omics, seq_store):
    arn = seq_store["arn"]
    omics.tag_resource(resourceArn=arn, tags={"Key": "upper", "key": "lower"})
    omics.untag_resource(resourceArn=arn, tagKeys=["KEY"])
    assert tags_of(omics, arn) == {"Key": "upper", "key": "lower"}


def test_allowed_characters(omics, seq_store):
    arn = seq_store["arn"]
    tags = {
        "a_b.c:d/e=f+g-h@i j": "v_._:/=+-@ x",
        "größe": "groß",
        "k" * 128: "v" * 256,
        "empty-value": "",
    }
    omics.tag_resource(resourceArn=arn, tags=tags)
    assert tags_of(omics, arn) == tags


def test_tags_on_reference_store(new_account):
    account, client = new_account()
    store = client.create_reference_store(name=unique("ref-tags"))
    arn = store["arn"]
    assert arn == f"arn:aws:omics:{REGION}:{account}:referenceStore/{store['id']}"
    client.tag_resource(resourceArn=arn, tags={"x": "1", "y": "2"})
    client.untag_resource(resourceArn=arn, tagKeys=["x"])
    assert tags_of(client, arn) == {"y": "2"}


def test_fifty_tags_is_the_limit_after_merging(omics, seq_store):
    arn = seq_store["arn"]
    omics.tag_resource(resourceArn=arn, tags={f"k{i}": str(i) for i in range(30)})
    with raises_aws("ServiceQuotaExceededException", 402):
        omics.tag_resource(resourceArn=arn, tags={f"n{i}": str(i) for i in range(21)})
    assert len(tags_of(omics, arn)) == 30, "a rejected TagResource must not apply any tag"
    # overwriting existing keys does not count twice
    omics.tag_resource(resourceArn=arn, tags={f"k{i}": "new" for i in range(30)})
    omics.tag_resource(resourceArn=arn, tags={f"n{i}": str(i) for i in range(20)})
    assert len(tags_of(omics, arn)) == 50


def test_more_than_fifty_tags_in_one_request(omics, seq_store):
    with raises_aws("ValidationException", 400, "tags"):
        omics.tag_resource(resourceArn=seq_store["arn"], tags={f"k{i}": "v" for i in range(51)})
    assert tags_of(omics, seq_store["arn"]) == {}


def test_tags_at_create_over_fifty_creates_nothing(omics):
    name = unique("too-many")
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        omics.create_sequence_store(name=name, tags={f"k{i}": "v" for i in range(51)})
    code = exc.value.response["Error"]["Code"]
    assert code in ("ServiceQuotaExceededException", "ValidationException"), code
    assert omics.list_sequence_stores(filter={"name": name})["sequenceStores"] == []


@pytest.mark.parametrize(
    "key",
    ["aws:reserved", "aws:", "bad#char", "bad!char", "semi;colon", "percent%", "quote\"", "brace{"],
)
def test_invalid_tag_keys(omics, seq_store, key):
    with raises_aws("ValidationException", 400):
        omics.tag_resource(resourceArn=seq_store["arn"], tags={key: "v"})
    assert tags_of(omics, seq_store["arn"]) == {}


def test_aws_prefixed_key_rejected_at_create(omics):
    with raises_aws("ValidationException", 400):
        omics.create_sequence_store(name=unique("aws-tag"), tags={"aws:owner": "me"})


def test_too_long_key_and_value(omics, seq_store):
    with raises_aws("ValidationException", 400):
        omics.tag_resource(resourceArn=seq_store["arn"], tags={"k" * 129: "v"})
    with raises_aws("ValidationException", 400):
        omics.tag_resource(resourceArn=seq_store["arn"], tags={"k": "v" * 257})
    assert tags_of(omics, seq_store["arn"]) == {}


def test_empty_key(raw_omics, seq_store):
    with raises_aws("ValidationException", 400):
        raw_omics.tag_resource(resourceArn=seq_store["arn"], tags={"": "v"})


@pytest.mark.parametrize("op", ["list", "tag", "untag"])
def test_arn_not_starting_with_arn_is_invalid(omics, op):
    bad = f"omics:{REGION}:{ACCOUNT_ID}:sequenceStore/1234567890"
    with raises_aws("ValidationException", 400, "resourceArn"):
        if op == "list":
            omics.list_tags_for_resource(resourceArn=bad)
        elif op == "tag":
            omics.tag_resource(resourceArn=bad, tags={"a": "b"})
        else:
            omics.untag_resource(resourceArn=bad, tagKeys=["a"])


def test_arn_too_long_is_invalid(omics):
    bad = f"arn:aws:omics:{REGION}:{ACCOUNT_ID}:sequenceStore/" + "1" * 120
    with raises_aws("ValidationException", 400, "resourceArn"):
        omics.list_tags_for_resource(resourceArn=bad)


@pytest.mark.parametrize("op", ["list", "tag", "untag"])
def test_unknown_store_arn_is_not_found(omics, op):
    arn = f"arn:aws:omics:{REGION}:{ACCOUNT_ID}:sequenceStore/9999999999"
    with raises_aws("ResourceNotFoundException", 404):
        if op == "list":
            omics.list_tags_for_resource(resourceArn=arn)
        elif op == "tag":
            omics.tag_resource(resourceArn=arn, tags={"a": "b"})
        else:
            omics.untag_resource(resourceArn=arn, tagKeys=["a"])


def test_unknown_reference_store_arn_is_not_found(omics):
    arn = f"arn:aws:omics:{REGION}:{ACCOUNT_ID}:referenceStore/9999999999"
    with raises_aws("ResourceNotFoundException", 404):
        omics.list_tags_for_resource(resourceArn=arn)


def test_other_accounts_resources_are_not_found(omics, other_account, seq_store):
    other_id, other = other_account
    # their client, our store
    with raises_aws("ResourceNotFoundException", 404):
        other.list_tags_for_resource(resourceArn=seq_store["arn"])
    with raises_aws("ResourceNotFoundException", 404):
        other.tag_resource(resourceArn=seq_store["arn"], tags={"stolen": "yes"})
    with raises_aws("ResourceNotFoundException", 404):
        other.untag_resource(resourceArn=seq_store["arn"], tagKeys=["a"])
    assert tags_of(omics, seq_store["arn"]) == {}
    # our client, their store (a well-formed ARN naming their account)
    theirs = other.create_sequence_store(name=unique("theirs"), tags={"owner": "other"})
    assert f":{other_id}:" in theirs["arn"]
    with raises_aws("ResourceNotFoundException", 404):
        omics.list_tags_for_resource(resourceArn=theirs["arn"])
    # their id under our account number is not theirs either
    with raises_aws("ResourceNotFoundException", 404):
        omics.list_tags_for_resource(
            resourceArn=f"arn:aws:omics:{REGION}:{ACCOUNT_ID}:sequenceStore/{theirs['id']}"
        )
    assert tags_of(other, theirs["arn"]) == {"owner": "other"}


def test_deleting_a_store_deletes_its_tags(omics):
    created = omics.create_sequence_store(name=unique("deltags"), tags={"a": "1"})
    omics.delete_sequence_store(id=created["id"])
    with raises_aws("ResourceNotFoundException", 404):
        omics.list_tags_for_resource(resourceArn=created["arn"])
