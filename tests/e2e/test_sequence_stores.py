"""Sequence stores through boto3: create, get, update, delete, list, idempotency."""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid

import pytest

from e2e_support import (
    ACCOUNT_ID,
    REGION,
    STORE_ID_RE,
    RawCapture,
    assert_wire_timestamp,
    raises_aws,
    unique,
)

KMS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/0a1b2c3d-4e5f-6789-abcd-ef0123456789"


def store_arn(store_id: str, account: str = ACCOUNT_ID) -> str:
    return f"arn:aws:omics:{REGION}:{account}:sequenceStore/{store_id}"


def assert_s3_access(s3_access: dict, store_id: str, account: str = ACCOUNT_ID) -> str:
    """Check the s3Access block of a store; return the alias (bucket part of s3Uri)."""
    ap = s3_access.get("s3AccessPointArn", "")
    assert re.fullmatch(rf"arn:aws:s3:{REGION}:[0-9]{{12}}:accesspoint/{account}-{store_id}", ap), ap
    uri = s3_access.get("s3Uri", "")
    m = re.fullmatch(rf"s3://([^/]+)/{account}/sequenceStore/{store_id}/", uri)
    assert m, f"s3Uri {uri!r} is not s3://<alias>/{account}/sequenceStore/{store_id}/"
    alias = m.group(1)
    assert alias.endswith("-s3alias"), alias
    assert len(alias) <= 63 and re.fullmatch(r"[a-z0-9-]+", alias), alias
    return alias


def list_all(client, **kwargs) -> list[dict]:
    pages = client.get_paginator("list_sequence_stores").paginate(**kwargs)
    return [s for page in pages for s in page["sequenceStores"]]


# ---------------------------------------------------------------------------------------
# Create / Get
# ---------------------------------------------------------------------------------------


def test_create_minimal_store_defaults(omics):
    name = unique("minimal")
    with RawCapture(omics) as raw:
        created = omics.create_sequence_store(name=name)
        wire = raw.last_json()
    assert raw.last["status"] == 200
    store_id = created["id"]
    assert STORE_ID_RE.match(store_id), store_id
    assert created["arn"] == store_arn(store_id)
    assert created["name"] == name
    assert created["status"] == "ACTIVE"
    assert created["eTagAlgorithmFamily"] == "MD5up"
    assert "sseConfig" not in created
    assert "fallbackLocation" not in created
    assert "description" not in created
    assert_wire_timestamp(wire["creationTime"], "creationTime")
    age = dt.datetime.now(dt.timezone.utc) - created["creationTime"]
    assert dt.timedelta(seconds=-5) < age < dt.timedelta(seconds=60), f"creationTime is off by {age}"
    assert_s3_access(created["s3Access"], store_id)
    assert "accessLogLocation" not in created["s3Access"]

    got = omics.get_sequence_store(id=store_id)
    assert got["id"] == store_id
    assert got["arn"] == created["arn"]
    assert got["name"] == name
    assert got["status"] == "ACTIVE"
    assert got["eTagAlgorithmFamily"] == "MD5up"
    assert got["creationTime"] == created["creationTime"]
    assert "sseConfig" not in got
    assert got["s3Access"] == created["s3Access"]

    (item,) = omics.list_sequence_stores(filter={"name": name})["sequenceStores"]
    assert item["eTagAlgorithmFamily"] == "MD5up"
    assert item["status"] == "ACTIVE"
    assert "sseConfig" not in item


def test_get_has_iso8601_millisecond_timestamps_and_request_id(omics):
    store_id = omics.create_sequence_store(name=unique("ts"))["id"]
    with RawCapture(omics) as raw:
        omics.get_sequence_store(id=store_id)
    wire = raw.last_json()
    assert_wire_timestamp(wire["creationTime"], "creationTime")
    assert_wire_timestamp(wire["updateTime"], "updateTime")
    assert raw.last["headers"].get("x-amzn-requestid")
    assert raw.last["headers"].get("content-type", "").startswith("application/json")


def test_create_with_every_field_echoes_them(omics):
    name = unique("full")
    created = omics.create_sequence_store(
        name=name,
        description="a store with everything set",
        sseConfig={"type": "KMS", "keyArn": KMS_KEY},
        fallbackLocation="s3://fallback-bucket/failed-uploads/",
        eTagAlgorithmFamily="SHA512up",
        propagatedSetLevelTags=["project", "sample"],
        s3AccessConfig={"accessLogLocation": "s3://log-bucket/seqstore-logs/"},
        tags={"project": "p1"},
    )
    store_id = created["id"]
    for resp in (created, omics.get_sequence_store(id=store_id)):
        assert resp["name"] == name
        assert resp["description"] == "a store with everything set"
        assert resp["sseConfig"] == {"type": "KMS", "keyArn": KMS_KEY}
        assert resp["fallbackLocation"] == "s3://fallback-bucket/failed-uploads/"
        assert resp["eTagAlgorithmFamily"] == "SHA512up"
        assert sorted(resp["propagatedSetLevelTags"]) == ["project", "sample"]
        assert resp["s3Access"]["accessLogLocation"] == "s3://log-bucket/seqstore-logs/"
        assert resp["status"] == "ACTIVE"
        assert_s3_access(resp["s3Access"], store_id)


@pytest.mark.parametrize("family", ["MD5up", "SHA256up", "SHA512up"])
def test_etag_algorithm_family_is_kept(omics, family):
    store_id = omics.create_sequence_store(name=unique("etag"), eTagAlgorithmFamily=family)["id"]
    assert omics.get_sequence_store(id=store_id)["eTagAlgorithmFamily"] == family


def test_sse_config_without_key_arn(omics):
    created = omics.create_sequence_store(name=unique("sse"), sseConfig={"type": "KMS"})
    assert created["sseConfig"]["type"] == "KMS"
    assert omics.get_sequence_store(id=created["id"])["sseConfig"]["type"] == "KMS"


def test_ids_are_unique_and_names_are_not(omics):
    name = unique("same-name")
    a = omics.create_sequence_store(name=name)["id"]
    b = omics.create_sequence_store(name=name)["id"]
    assert a != b
    listed = list_all(omics, filter={"name": name})
    assert sorted(s["id"] for s in listed) == sorted([a, b])


def test_alias_is_stable_and_distinct_per_store(omics):
    a = omics.create_sequence_store(name=unique("alias"))
    b = omics.create_sequence_store(name=unique("alias"))
    alias_a = assert_s3_access(a["s3Access"], a["id"])
    alias_b = assert_s3_access(b["s3Access"], b["id"])
    assert alias_a != alias_b
    assert assert_s3_access(omics.get_sequence_store(id=a["id"])["s3Access"], a["id"]) == alias_a
    updated = omics.update_sequence_store(id=a["id"], description="new description")
    assert assert_s3_access(updated["s3Access"], a["id"]) == alias_a
    listed = {s["id"]: s for s in list_all(omics, filter={"name": a["name"]})}
    assert a["id"] in listed


def test_get_unknown_store_is_not_found(omics):
    with raises_aws("ResourceNotFoundException", 404):
        omics.get_sequence_store(id="9" * 10)


# ---------------------------------------------------------------------------------------
# Update
# ---------------------------------------------------------------------------------------


def test_update_is_partial_and_advances_update_time(omics):
    created = omics.create_sequence_store(
        name=unique("upd"),
        description="before",
        fallbackLocation="s3://fallback-bucket/x/",
        eTagAlgorithmFamily="SHA256up",
        propagatedSetLevelTags=["a"],
        s3AccessConfig={"accessLogLocation": "s3://log-bucket/logs/"},
    )
    store_id = created["id"]
    before = omics.get_sequence_store(id=store_id)
    time.sleep(0.05)

    with RawCapture(omics) as raw:
        updated = omics.update_sequence_store(id=store_id, description="after")
    assert_wire_timestamp(raw.last_json()["updateTime"], "updateTime")
    assert_wire_timestamp(raw.last_json()["creationTime"], "creationTime")
    assert updated["id"] == store_id
    assert updated["arn"] == created["arn"]
    assert updated["description"] == "after"
    assert updated["name"] == created["name"]
    assert updated["fallbackLocation"] == "s3://fallback-bucket/x/"
    assert updated["eTagAlgorithmFamily"] == "SHA256up"
    assert updated["propagatedSetLevelTags"] == ["a"]
    assert updated["s3Access"]["accessLogLocation"] == "s3://log-bucket/logs/"
    assert updated["creationTime"] == before["creationTime"]
    assert updated["updateTime"] > before["updateTime"]

    got = omics.get_sequence_store(id=store_id)
    assert got["description"] == "after"
    assert got["name"] == created["name"]
    assert got["fallbackLocation"] == "s3://fallback-bucket/x/"
    assert got["updateTime"] == updated["updateTime"]


def test_update_every_updatable_field(omics):
    store_id = omics.create_sequence_store(name=unique("upd-all"))["id"]
    new_name = unique("renamed")
    updated = omics.update_sequence_store(
        id=store_id,
        name=new_name,
        description="d2",
        fallbackLocation="s3://other-bucket/",
        propagatedSetLevelTags=["k1", "k2", "k3", "k4", "k5"],
        s3AccessConfig={"accessLogLocation": "s3://log-bucket/new/"},
    )
    got = omics.get_sequence_store(id=store_id)
    for resp in (updated, got):
        assert resp["name"] == new_name
        assert resp["description"] == "d2"
        assert resp["fallbackLocation"] == "s3://other-bucket/"
        assert sorted(resp["propagatedSetLevelTags"]) == ["k1", "k2", "k3", "k4", "k5"]
        assert resp["s3Access"]["accessLogLocation"] == "s3://log-bucket/new/"
        assert resp["eTagAlgorithmFamily"] == "MD5up"
    # the new name is what the name filter finds
    assert [s["id"] for s in list_all(omics, filter={"name": new_name})] == [store_id]


def test_update_with_empty_strings_clears_locations(omics):
    store_id = omics.create_sequence_store(
        name=unique("clear"),
        fallbackLocation="s3://fallback-bucket/x/",
        s3AccessConfig={"accessLogLocation": "s3://log-bucket/logs/"},
    )["id"]
    updated = omics.update_sequence_store(
        id=store_id, fallbackLocation="", s3AccessConfig={"accessLogLocation": ""}
    )
    got = omics.get_sequence_store(id=store_id)
    for resp in (updated, got):
        assert resp.get("fallbackLocation", "") == "", resp.get("fallbackLocation")
        assert resp["s3Access"].get("accessLogLocation", "") == "", resp["s3Access"]
        assert_s3_access(resp["s3Access"], store_id)


def test_propagated_set_level_tags_quota_is_five(omics):
    with raises_aws("ValidationException", 400, "propagatedSetLevelTags"):
        omics.create_sequence_store(
            name=unique("quota"), propagatedSetLevelTags=[f"k{i}" for i in range(6)]
        )
    store_id = omics.create_sequence_store(
        name=unique("quota"), propagatedSetLevelTags=[f"k{i}" for i in range(5)]
    )["id"]
    with raises_aws("ValidationException", 400, "propagatedSetLevelTags"):
        omics.update_sequence_store(id=store_id, propagatedSetLevelTags=[f"x{i}" for i in range(6)])
    assert len(omics.get_sequence_store(id=store_id)["propagatedSetLevelTags"]) == 5


def test_update_unknown_store_is_not_found(omics):
    with raises_aws("ResourceNotFoundException", 404):
        omics.update_sequence_store(id="9" * 10, description="x")


# ---------------------------------------------------------------------------------------
# Idempotency (spec E20)
# ---------------------------------------------------------------------------------------


def test_create_same_token_same_parameters_returns_same_store(omics):
    name = unique("idem")
    token = uuid.uuid4().hex
    first = omics.create_sequence_store(name=name, description="d", clientToken=token)
    second = omics.create_sequence_store(name=name, description="d", clientToken=token)
    assert second["id"] == first["id"]
    assert second["arn"] == first["arn"]
    assert second["creationTime"] == first["creationTime"]
    assert [s["id"] for s in list_all(omics, filter={"name": name})] == [first["id"]]


def test_create_same_token_different_parameters_is_rejected(omics):
    name = unique("idem")
    token = uuid.uuid4().hex
    first = omics.create_sequence_store(name=name, description="one", clientToken=token)
    with raises_aws("ValidationException", 400):
        omics.create_sequence_store(name=name, description="two", clientToken=token)
    assert [s["id"] for s in list_all(omics, filter={"name": name})] == [first["id"]]


def test_client_tokens_are_per_account(omics, other_account):
    _, other = other_account
    name = unique("idem-acct")
    token = uuid.uuid4().hex
    mine = omics.create_sequence_store(name=name, clientToken=token)["id"]
    theirs = other.create_sequence_store(name=name, clientToken=token)["id"]
    assert mine != theirs
    with raises_aws("ResourceNotFoundException", 404):
        other.get_sequence_store(id=mine)


def test_update_same_token_same_parameters_is_replayed(omics):
    store_id = omics.create_sequence_store(name=unique("idem-upd"))["id"]
    token = uuid.uuid4().hex
    first = omics.update_sequence_store(id=store_id, description="x", clientToken=token)
    time.sleep(0.05)
    second = omics.update_sequence_store(id=store_id, description="x", clientToken=token)
    assert second["updateTime"] == first["updateTime"]
    assert second["description"] == "x"


def test_update_same_token_different_parameters_conflicts(omics):
    store_id = omics.create_sequence_store(name=unique("idem-upd"))["id"]
    token = uuid.uuid4().hex
    omics.update_sequence_store(id=store_id, description="x", clientToken=token)
    with raises_aws("ConflictException", 409):
        omics.update_sequence_store(id=store_id, description="y", clientToken=token)
    assert omics.get_sequence_store(id=store_id)["description"] == "x"


# ---------------------------------------------------------------------------------------
# Delete
# ---------------------------------------------------------------------------------------


def test_delete_store(omics):
    name = unique("del")
    store_id = omics.create_sequence_store(name=name)["id"]
    resp = omics.delete_sequence_store(id=store_id)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    with raises_aws("ResourceNotFoundException", 404):
        omics.get_sequence_store(id=store_id)
    assert list_all(omics, filter={"name": name}) == []
    with raises_aws("ResourceNotFoundException", 404):
        omics.delete_sequence_store(id=store_id)
    with raises_aws("ResourceNotFoundException", 404):
        omics.update_sequence_store(id=store_id, description="gone")


def test_delete_unknown_store_is_not_found(omics):
    with raises_aws("ResourceNotFoundException", 404):
        omics.delete_sequence_store(id="8" * 10)


def test_other_account_cannot_see_or_touch_store(omics, other_account):
    _, other = other_account
    name = unique("private")
    store_id = omics.create_sequence_store(name=name)["id"]
    with raises_aws("ResourceNotFoundException", 404):
        other.get_sequence_store(id=store_id)
    with raises_aws("ResourceNotFoundException", 404):
        other.update_sequence_store(id=store_id, description="mine now")
    with raises_aws("ResourceNotFoundException", 404):
        other.delete_sequence_store(id=store_id)
    assert list_all(other, filter={"name": name}) == []
    assert omics.get_sequence_store(id=store_id)["name"] == name


def test_other_account_store_arn_names_its_account(other_account):
    account, other = other_account
    created = other.create_sequence_store(name=unique("theirs"))
    assert created["arn"] == store_arn(created["id"], account)
    assert_s3_access(created["s3Access"], created["id"], account)


# ---------------------------------------------------------------------------------------
# List
# ---------------------------------------------------------------------------------------


def test_list_contains_store_with_details(omics):
    name = unique("listed")
    created = omics.create_sequence_store(
        name=name, description="listed one", eTagAlgorithmFamily="SHA256up"
    )
    with RawCapture(omics) as raw:
        resp = omics.list_sequence_stores(filter={"name": name})
    assert resp["sequenceStores"], resp
    (item,) = resp["sequenceStores"]
    assert item["id"] == created["id"]
    assert item["arn"] == created["arn"]
    assert item["name"] == name
    assert item["description"] == "listed one"
    assert item["eTagAlgorithmFamily"] == "SHA256up"
    assert item["status"] == "ACTIVE"
    assert item["creationTime"] == created["creationTime"]
    assert not resp.get("nextToken")
    wire_item = raw.last_json()["sequenceStores"][0]
    assert_wire_timestamp(wire_item["creationTime"], "sequenceStores[].creationTime")


def test_list_without_filter_includes_new_stores_in_creation_order(omics):
    ids = [omics.create_sequence_store(name=unique("order"))["id"] for _ in range(3)]
    everything = list_all(omics)
    positions = [i for i, s in enumerate(everything) if s["id"] in ids]
    assert [everything[i]["id"] for i in positions] == ids
    keys = [(s["creationTime"], s["id"]) for s in everything]
    assert keys == sorted(keys), "ListSequenceStores is not ordered by creationTime, then id"


def test_name_filter_is_exact(omics):
    base = unique("exact")
    exact = omics.create_sequence_store(name=base)["id"]
    omics.create_sequence_store(name=base + "-suffix")
    omics.create_sequence_store(name=base.upper())
    assert [s["id"] for s in list_all(omics, filter={"name": base})] == [exact]


def test_created_after_and_before_are_inclusive(omics):
    name = unique("window")
    created = omics.create_sequence_store(name=name)
    t = created["creationTime"]
    ms = dt.timedelta(milliseconds=1)

    def ids(**flt):
        return [s["id"] for s in list_all(omics, filter={"name": name, **flt})]

    assert ids(createdAfter=t) == [created["id"]]
    assert ids(createdBefore=t) == [created["id"]]
    assert ids(createdAfter=t, createdBefore=t) == [created["id"]]
    assert ids(createdAfter=t + ms) == []
    assert ids(createdBefore=t - ms) == []


def test_status_and_updated_filters(omics):
    name = unique("upd-filter")
    store_id = omics.create_sequence_store(name=name)["id"]
    updated = omics.update_sequence_store(id=store_id, description="touched")
    u = updated["updateTime"]
    ms = dt.timedelta(milliseconds=1)

    def ids(**flt):
        return [s["id"] for s in list_all(omics, filter={"name": name, **flt})]

    assert ids(status="ACTIVE") == [store_id]
    assert ids(status="DELETING") == []
    assert ids(updatedAfter=u) == [store_id]
    assert ids(updatedBefore=u) == [store_id]
    assert ids(updatedAfter=u + ms) == []
    assert ids(updatedBefore=u - ms) == []


def test_paginator_walks_every_page_exactly_once(omics):
    name = unique("pages")
    ids = [omics.create_sequence_store(name=name)["id"] for _ in range(25)]
    pages = list(
        omics.get_paginator("list_sequence_stores").paginate(
            filter={"name": name}, PaginationConfig={"PageSize": 10}
        )
    )
    sizes = [len(p["sequenceStores"]) for p in pages]
    assert sizes == [10, 10, 5], sizes
    seen = [s["id"] for p in pages for s in p["sequenceStores"]]
    assert seen == ids
    assert not pages[-1].get("nextToken")


def test_manual_paging_with_next_token(omics):
    name = unique("manual-pages")
    ids = [omics.create_sequence_store(name=name)["id"] for _ in range(3)]
    first = omics.list_sequence_stores(maxResults=2, filter={"name": name})
    assert [s["id"] for s in first["sequenceStores"]] == ids[:2]
    assert first["nextToken"]
    second = omics.list_sequence_stores(
        maxResults=2, nextToken=first["nextToken"], filter={"name": name}
    )
    assert [s["id"] for s in second["sequenceStores"]] == ids[2:]
    assert not second.get("nextToken")


@pytest.mark.parametrize("max_results", [0, 101, -1])
def test_max_results_out_of_range(raw_omics, max_results):
    with raises_aws("ValidationException", 400, "maxResults"):
        raw_omics.list_sequence_stores(maxResults=max_results)


@pytest.mark.parametrize("token", ["garbage", "not-a-token-%%%", "AAAAAAAAAAAAAAAA"])
def test_garbage_next_token(omics, token):
    with raises_aws("ValidationException", 400):
        omics.list_sequence_stores(nextToken=token)
