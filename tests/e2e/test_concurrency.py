"""Several clients at once, as TransferManager-style tools and shared deployments behave."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from e2e_support import unique

WORKERS = 8


def test_concurrent_creates_get_distinct_ids(server):
    name = unique("parallel")
    clients = [server.client() for _ in range(WORKERS)]

    def create(i):
        return clients[i % WORKERS].create_sequence_store(name=name, tags={"n": str(i)})["id"]

    with ThreadPoolExecutor(WORKERS) as pool:
        ids = list(pool.map(create, range(24)))
    assert len(set(ids)) == 24
    listed = [
        s["id"]
        for page in clients[0].get_paginator("list_sequence_stores").paginate(
            filter={"name": name}, PaginationConfig={"PageSize": 7}
        )
        for s in page["sequenceStores"]
    ]
    assert sorted(listed) == sorted(ids)
    assert len(listed) == len(set(listed))


def test_concurrent_same_client_token_creates_one_store(server):
    name = unique("race")
    token = uuid.uuid4().hex
    clients = [server.client() for _ in range(WORKERS)]

    def create(i):
        return clients[i].create_sequence_store(name=name, clientToken=token)["id"]

    with ThreadPoolExecutor(WORKERS) as pool:
        ids = list(pool.map(create, range(WORKERS)))
    assert len(set(ids)) == 1, f"one clientToken produced several stores: {sorted(set(ids))}"
    listed = clients[0].list_sequence_stores(filter={"name": name})["sequenceStores"]
    assert [s["id"] for s in listed] == [ids[0]]


def test_concurrent_tagging_of_one_store_keeps_every_tag(server):
    client = server.client()
    arn = client.create_sequence_store(name=unique("tag-race"))["arn"]
    clients = [server.client() for _ in range(WORKERS)]

    def tag(i):
        clients[i % WORKERS].tag_resource(resourceArn=arn, tags={f"k{i}": str(i)})

    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(tag, range(32)))
    assert client.list_tags_for_resource(resourceArn=arn)["tags"] == {f"k{i}": str(i) for i in range(32)}


def test_concurrent_updates_and_reads(server):
    client = server.client()
    store_id = client.create_sequence_store(name=unique("upd-race"))["id"]
    clients = [server.client() for _ in range(WORKERS)]

    def work(i):
        c = clients[i % WORKERS]
        if i % 2:
            return c.update_sequence_store(id=store_id, description=f"d{i}")["description"]
        return c.get_sequence_store(id=store_id)["id"]

    with ThreadPoolExecutor(WORKERS) as pool:
        results = list(pool.map(work, range(32)))
    final = client.get_sequence_store(id=store_id)["description"]
    assert final in {f"d{i}" for i in range(1, 32, 2)}
    assert results[0] == store_id
