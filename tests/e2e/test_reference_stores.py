"""Reference stores: one per account, create/get/list/delete, idempotency, isolation.

Each test works in an account of its own (`new_account`), since the quota is per account.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from e2e_support import (
    REGION,
    STORE_ID_RE,
    RawCapture,
    assert_wire_timestamp,
    raises_aws,
    unique,
)


def ref_store_arn(store_id: str, account: str) -> str:
    return f"arn:aws:omics:{REGION}:{account}:referenceStore/{store_id}"


def list_all(client, **kwargs) -> list[dict]:
    pages = client.get_paginator("list_reference_stores").paginate(**kwargs)
    return [s for page in pages for s in page["referenceStores"]]


def test_create_get_list_delete(new_account):
    account, client = new_account()
    name = unique("refs")
    with RawCapture(client) as raw:
        created = client.create_reference_store(name=name, description="genomes")
    wire = raw.last_json()
    assert raw.last["status"] == 200
    store_id = created["id"]
    assert STORE_ID_RE.match(store_id), store_id
    assert created["arn"] == ref_store_arn(store_id, account)
    assert created["name"] == name
    assert created["description"] == "genomes"
    assert "status" not in wire, "reference stores have no status field"
    assert "sseConfig" not in wire
    assert_wire_timestamp(wire["creationTime"], "creationTime")

    with RawCapture(client) as raw:
        got = client.get_reference_store(id=store_id)
    assert "status" not in raw.last_json()
    assert_wire_timestamp(raw.last_json()["creationTime"], "creationTime")
    assert got["id"] == store_id
    assert got["arn"] == created["arn"]
    assert got["name"] == name
    assert got["description"] == "genomes"
    assert got["creationTime"] == created["creationTime"]

    with RawCapture(client) as raw:
        listed = client.list_reference_stores()
    assert [s["id"] for s in listed["referenceStores"]] == [store_id]
    item = listed["referenceStores"][0]
    assert item["arn"] == created["arn"]
    assert item["name"] == name
    assert item["description"] == "genomes"
    assert "status" not in raw.last_json()["referenceStores"][0]

    resp = client.delete_reference_store(id=store_id)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    with raises_aws("ResourceNotFoundException", 404):
        client.get_reference_store(id=store_id)
    assert client.list_reference_stores()["referenceStores"] == []
    with raises_aws("ResourceNotFoundException", 404):
        client.delete_reference_store(id=store_id)


def test_only_one_reference_store_per_account(new_account):
    _, client = new_account()
    first = client.create_reference_store(name=unique("first"))["id"]
    with raises_aws("ServiceQuotaExceededException", 402):
        client.create_reference_store(name=unique("second"))
    assert [s["id"] for s in list_all(client)] == [first]

    client.delete_reference_store(id=first)
    again = client.create_reference_store(name=unique("again"))["id"]
    assert again != first
    assert client.get_reference_store(id=again)["id"] == again
    assert [s["id"] for s in list_all(client)] == [again]


def test_quota_is_per_account(new_account):
    _, a = new_account()
    _, b = new_account()
    sa = a.create_reference_store(name=unique("a"))["id"]
    sb = b.create_reference_store(name=unique("b"))["id"]
    assert sa != sb
    with raises_aws("ResourceNotFoundException", 404):
        b.get_reference_store(id=sa)
    with raises_aws("ResourceNotFoundException", 404):
        b.delete_reference_store(id=sa)
    assert [s["id"] for s in list_all(b)] == [sb]
    assert a.get_reference_store(id=sa)["id"] == sa


def test_sse_config_is_echoed_when_given(new_account):
    account, client = new_account()
    key = f"arn:aws:kms:{REGION}:{account}:key/11111111-2222-3333-4444-555555555555"
    created = client.create_reference_store(
        name=unique("sse"), sseConfig={"type": "KMS", "keyArn": key}
    )
    assert created["sseConfig"] == {"type": "KMS", "keyArn": key}
    assert client.get_reference_store(id=created["id"])["sseConfig"] == {"type": "KMS", "keyArn": key}


def test_tags_given_at_create_are_listed(new_account):
    _, client = new_account()
    created = client.create_reference_store(name=unique("tagged"), tags={"team": "genomics", "env": ""})
    assert client.list_tags_for_resource(resourceArn=created["arn"])["tags"] == {
        "team": "genomics",
        "env": "",
    }


def test_client_token_replays_instead_of_hitting_the_quota(new_account):
    _, client = new_account()
    name = unique("idem")
    token = uuid.uuid4().hex
    first = client.create_reference_store(name=name, clientToken=token)
    second = client.create_reference_store(name=name, clientToken=token)
    assert second["id"] == first["id"]
    assert second["creationTime"] == first["creationTime"]
    with raises_aws("ValidationException", 400):
        client.create_reference_store(name=name, description="different", clientToken=token)
    assert [s["id"] for s in list_all(client)] == [first["id"]]


def test_list_filters(new_account):
    _, client = new_account()
    name = unique("filtered")
    created = client.create_reference_store(name=name)
    t = created["creationTime"]
    ms = dt.timedelta(milliseconds=1)

    def ids(**flt):
        return [s["id"] for s in list_all(client, filter=flt)]

    assert ids(name=name) == [created["id"]]
    assert ids(name=name + "x") == []
    assert ids(name=name[:-1]) == []
    assert ids(createdAfter=t, createdBefore=t) == [created["id"]]
    assert ids(createdAfter=t + ms) == []
    assert ids(createdBefore=t - ms) == []


@pytest.mark.parametrize("max_results", [0, 101])
def test_list_max_results_out_of_range(raw_omics, max_results):
    with raises_aws("ValidationException", 400, "maxResults"):
        raw_omics.list_reference_stores(maxResults=max_results)


def test_list_garbage_next_token(omics):
    with raises_aws("ValidationException", 400):
        omics.list_reference_stores(nextToken="garbage")


def test_get_unknown_reference_store(omics):
    with raises_aws("ResourceNotFoundException", 404):
        omics.get_reference_store(id="7" * 10)
    with raises_aws("ResourceNotFoundException", 404):
        omics.delete_reference_store(id="7" * 10)
