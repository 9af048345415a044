"""Clients that cannot turn host-prefix injection off: the server routes on method + path only.

Such a client reaches the server through HTTP_PROXY-style settings and sends absolute-form
targets (`POST http://control-storage-omics.test:PORT/sequencestore`) with the prefixed Host.
"""

from __future__ import annotations

import urllib.parse

import boto3
import botocore.config

from e2e_support import REGION, unique


def prefixed_client(server):
    keys = server.root_keys()
    session = boto3.session.Session(
        aws_access_key_id=keys.access_key_id,
        aws_secret_access_key=keys.secret_access_key,
        region_name=REGION,
    )
    return session.client(
        "omics",
        endpoint_url=f"http://omics.test:{server.port}",
        config=botocore.config.Config(
            proxies={"http": f"http://127.0.0.1:{server.port}"},
            retries={"total_max_attempts": 1},
            connect_timeout=5,
            read_timeout=60,
        ),
    )


def test_prefixed_hosts_through_proxy_settings(server, omics):
    client = prefixed_client(server)
    sent_hosts = []

    def record(request, **kwargs):
        sent_hosts.append(urllib.parse.urlsplit(request.url).netloc)

    client.meta.events.register("before-send.omics", record)

    created = client.create_sequence_store(name=unique("prefixed"))
    got = client.get_sequence_store(id=created["id"])
    assert got["id"] == created["id"]
    listed = client.list_sequence_stores(filter={"name": created["name"]})["sequenceStores"]
    assert [s["id"] for s in listed] == [created["id"]]
    client.tag_resource(resourceArn=created["arn"], tags={"via": "proxy"})
    assert client.list_tags_for_resource(resourceArn=created["arn"])["tags"] == {"via": "proxy"}

    # the requests really carried the injected prefixes
    assert f"control-storage-omics.test:{server.port}" in sent_hosts, sent_hosts
    assert f"tags-omics.test:{server.port}" in sent_hosts, sent_hosts
    # and they are the same stores a plain client sees
    assert omics.get_sequence_store(id=created["id"])["name"] == created["name"]
