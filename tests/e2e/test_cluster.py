"""Several nodes, one truth: `seqstore serve` processes on one PostgreSQL catalog and one blob
bucket (moto), with the same root key and each its own data dir.

The rest of the suite runs on such a cluster too (the shared `server` of the `postgres`
variants, requests alternating between its nodes); these tests cover what only a cluster has:
a node killed while it holds work, the chores one node does for all, and what each node keeps
in memory about keys, policies and read sets.
"""

from __future__ import annotations

import json
import re
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import botocore.exceptions

from e2e_support import make_client, new_account_id, refused_within, unique
from read_set_api import create_upload, upload_part, upload_read_set, wait_read_set
from read_set_support import Source
from reference_support import new_reference_store, source_item, start_import
from s3_support import catalog_sql, file_uri, objects_arn, policy, s3_client, statement, store_access

# The shortest lease the server takes: a killed node's items move on after it.
LEASE = {"SEQSTORE_JOBS__LEASE_SECONDS": "3"}
ON_DUTY = "this node does the cluster's chores"
OFF_DUTY = "another node does the cluster's chores now"


def on_duty(node) -> bool:
    """Whether the node's log says, last, that it does the cluster's chores."""
    log = node.stderr()
    return log.rfind(ON_DUTY) > log.rfind(OFF_DUTY)


def wait_for(what: str, check, timeout: float):
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        assert time.monotonic() < deadline, f"{what}: not within {timeout}s"
        time.sleep(0.1)


def lease_owner(cluster, job_id: str) -> str:
    rows = catalog_sql(cluster, f"SELECT COALESCE(lease_owner, '') FROM jobs WHERE id = '{job_id}'")
    return rows[0][0] if rows else ""


def node_id(node) -> str:
    return (node.data_dir / "node-id").read_text().strip()


def test_one_node_does_the_chores_and_another_takes_over_when_it_dies(cluster_factory):
    cluster = cluster_factory(env=LEASE, start=False)
    nodes = cluster.nodes
    # Both start at once on an empty catalog: both migrate it and store the root key.
    with ThreadPoolExecutor(len(nodes)) as pool:
        list(pool.map(lambda n: n.start(), nodes))
    wait_for("one node on duty", lambda: sum(map(on_duty, nodes)) == 1, 10)
    time.sleep(2)  # heartbeats go round: still exactly one
    duty = [n for n in nodes if on_duty(n)]
    assert len(duty) == 1, [n.stderr()[-2000:] for n in nodes]
    # The live node with the smallest id is on duty.
    assert node_id(duty[0]) == min(map(node_id, nodes))
    other = next(n for n in nodes if n is not duty[0])
    duty[0].kill()
    started = time.monotonic()
    wait_for("the other node on duty after the first was killed", lambda: on_duty(other), 3 + 5)
    taken = time.monotonic() - started
    assert taken <= 3 + 3, f"took over after {taken:.1f}s with a 3 s lease"


def test_a_node_killed_mid_ingestion_leaves_the_read_set_to_another(cluster_factory, read_set_files):
    cluster = cluster_factory(env=LEASE, start=False)
    first, second = cluster.nodes
    first.start()
    client = first.client(cluster.root_keys())
    big = read_set_files.big
    store_id = client.create_sequence_store(name=unique("cluster-ingest"))["id"]
    name = unique("killed-mid-ingest")
    _, read_set_id, _, _ = upload_read_set(client, store_id, "FASTQ", big.paths, name)
    job = wait_for("the ingest job leased by the first node",
                   lambda: catalog_sql(cluster, "SELECT j.id FROM jobs j JOIN job_items i ON i.job_id = j.id "
                                                f"WHERE i.result_id = '{read_set_id}' "
                                                f"AND i.status = 'IN_PROGRESS' AND j.lease_owner = '{node_id(first)}'"),
                   30)
    first.stop(signal.SIGKILL)
    second.start()
    assert client_of(second).get_read_set_metadata(
        sequenceStoreId=store_id, id=read_set_id)["status"] == "PROCESSING_UPLOAD"
    meta = wait_read_set(client_of(second), store_id, read_set_id, timeout=120)
    assert meta["status"] == "ACTIVE", meta.get("statusMessage")
    assert meta["etag"]["source1"] == big.etag("MD5up")["source1"]
    assert lease_owner(cluster, job[0][0]) == "", "the job still has a lease"
    listed = client_of(second).list_read_sets(sequenceStoreId=store_id, filter={"name": name})["readSets"]
    assert [r["id"] for r in listed] == [read_set_id], "one upload, one read set"
    code, report = cluster.fsck()
    assert code == 0 and report["clean"], json.dumps(report["problems"], indent=1)


def test_a_node_killed_mid_import_leaves_the_reference_to_another(cluster_factory, big_source):
    cluster = cluster_factory(env=LEASE, start=False)
    first, second = cluster.nodes
    first.start()
    client = first.client(cluster.root_keys())
    store_id = new_reference_store(client)
    name = unique("killed-mid-import")
    job_id = start_import(client, store_id, [source_item(big_source, name)])["id"]
    wait_for("the import leased by the first node",
             lambda: lease_owner(cluster, job_id) == node_id(first)
             and catalog_sql(cluster, f"SELECT 1 FROM job_items WHERE job_id = '{job_id}' "
                                      "AND status = 'IN_PROGRESS'"),
             30)
    first.stop(signal.SIGKILL)
    second.start()
    other = client_of(second)
    job = wait_for("the import finished by the second node",
                   lambda: (j := other.get_reference_import_job(referenceStoreId=store_id, id=job_id))["status"]
                   in ("COMPLETED", "COMPLETED_WITH_FAILURES", "FAILED") and j, 120)
    assert job["status"] == "COMPLETED", job
    refs = other.list_references(referenceStoreId=store_id, filter={"name": name})["references"]
    assert len(refs) == 1 and refs[0]["status"] == "ACTIVE", refs
    assert refs[0]["md5"] == big_source.md5
    code, report = cluster.fsck()
    assert code == 0 and report["clean"], json.dumps(report["problems"], indent=1)


def client_of(node, keys=None):
    return make_client(node.endpoint, keys or node.root_keys())


def test_what_one_node_changes_takes_effect_on_the_other(cluster_factory, read_set_files, tmp_path):
    """A changed access policy and a deleted read set, changed through one node, hold on the other
    node's very next request, though it has just served them (and keeps its S3 lookups); a key
    deleted in the shared catalog is refused by the other node within 2 s."""
    cluster = cluster_factory()
    first, second = cluster.nodes
    account = new_account_id()
    keys, _ = cluster.create_keys(account)
    user = make_client(first.endpoint, keys)
    store_id = user.create_sequence_store(name=unique("coherent"))["id"]
    src = read_set_files["fastq_gzip"]
    _, read_set_id, _, _ = upload_read_set(user, store_id, src.file_type, src.paths, unique("coherent"))
    meta = wait_read_set(user, store_id, read_set_id)
    assert meta["status"] == "ACTIVE", meta.get("statusMessage")
    obj = file_uri(meta, "source1")
    s3_second = s3_client(second, keys, endpoint=f"http://127.0.0.1:{second.s3_port}")
    omics_second = make_client(second.endpoint, keys)
    for _ in range(3):  # served, and looked up from memory
        assert s3_second.head_object(Bucket=obj.bucket, Key=obj.key)["ContentLength"] > 0

    # A policy that denies the account's own reads, put through the first node.
    access, ap_arn = store_access(user, store_id)
    default = user.get_s3_access_policy(s3AccessPointArn=ap_arn)["s3AccessPolicy"]
    deny = policy(statement("Deny", {"AWS": f"arn:aws:iam::{account}:root"}, ["s3:GetObject"],
                            [objects_arn(ap_arn, "")]))
    user.put_s3_access_policy(s3AccessPointArn=ap_arn, s3AccessPolicy=deny)
    took, code = refused_within(0.0, lambda: s3_second.get_object(Bucket=obj.bucket, Key=obj.key)["Body"].read())
    assert code in ("AccessDenied", "403"), code
    user.put_s3_access_policy(s3AccessPointArn=ap_arn, s3AccessPolicy=default)
    assert ok(lambda: s3_second.head_object(Bucket=obj.bucket, Key=obj.key)), "reads not allowed again at once"

    # A read set deleted through the first node.
    assert not user.batch_delete_read_set(sequenceStoreId=store_id, ids=[read_set_id]).get("errors")
    took, code = refused_within(0.0, lambda: s3_second.head_object(Bucket=obj.bucket, Key=obj.key))
    assert code in ("NoSuchKey", "404"), code

    # A key deleted in the shared catalog (`seqstore keys delete`), refused by both of the second
    # node's endpoints.
    listing = (lambda: s3_second.list_objects_v2(Bucket=access.bucket, Prefix=access.key))
    assert omics_second.list_sequence_stores()["sequenceStores"] and listing()["KeyCount"] == 0
    deleted = cluster.run_cli("keys", "delete", keys.access_key_id, "--data-dir", str(first.data_dir),
                              *cluster.catalog_args())
    assert deleted.returncode == 0, deleted.stderr
    for call in (lambda: omics_second.list_sequence_stores(), listing):
        took, code = refused_within(2.0, call)
        assert code in ("UnrecognizedClientException", "InvalidAccessKeyId", "403"), code


def ok(call) -> bool:
    try:
        call()
        return True
    except botocore.exceptions.ClientError:
        return False


def test_quotas_hold_across_nodes(cluster_factory):
    """One reference store per account and 50 tags per resource, with requests racing on
    both nodes."""
    cluster = cluster_factory()
    account = new_account_id()
    keys, _ = cluster.create_keys(account)
    clients = [make_client(n.endpoint, keys) for n in cluster.nodes for _ in range(4)]

    def create(i):
        try:
            return clients[i % len(clients)].create_reference_store(name=unique("one-per-account"))["id"]
        except botocore.exceptions.ClientError as exc:
            return exc.response["Error"]["Code"]

    with ThreadPoolExecutor(len(clients)) as pool:
        results = list(pool.map(create, range(16)))
    created = [r for r in results if re.fullmatch(r"[0-9]{10}", r)]
    assert len(created) == 1, results
    assert set(results) - set(created) <= {"ServiceQuotaExceededException", "ConflictException"}, results

    arn = clients[0].create_sequence_store(name=unique("tag-quota"))["arn"]

    def tag(i):
        try:
            clients[i % len(clients)].tag_resource(resourceArn=arn, tags={f"k{i}": "v"})
            return "ok"
        except botocore.exceptions.ClientError as exc:
            return exc.response["Error"]["Code"]

    with ThreadPoolExecutor(len(clients)) as pool:
        results = list(pool.map(tag, range(80)))
    tags = clients[1].list_tags_for_resource(resourceArn=arn)["tags"]
    assert len(tags) == results.count("ok") <= 50, (len(tags), results)
    assert results.count("ok") == 50, results


def test_an_upload_ingested_early_on_one_node_and_completed_on_another(cluster_factory, read_set_files):
    """Parts staged through the first node start its early ingestion; Complete goes through the
    second. Whichever node runs the ingest job, the read set has the tools' ETag, and the first
    node does not keep its early ingestion: it finished it (its job) or dropped it (the upload
    ended elsewhere)."""
    cluster = cluster_factory(env=LEASE)
    first, second = cluster.nodes
    keys, _ = cluster.create_keys(new_account_id())
    via_first, via_second = make_client(first.endpoint, keys), make_client(second.endpoint, keys)
    store_id = via_first.create_sequence_store(name=unique("early"))["id"]
    path = read_set_files["fastq_gzip"].paths[0]
    data = path.read_bytes()
    cut = [data[: len(data) // 3], data[len(data) // 3: 2 * len(data) // 3], data[2 * len(data) // 3:]]
    upload_id = create_upload(via_first, store_id, "FASTQ", unique("early"))["uploadId"]
    parts = [upload_part(via_first, store_id, upload_id, "SOURCE1", n, chunk) for n, chunk in enumerate(cut, 1)]
    done = via_second.complete_multipart_read_set_upload(sequenceStoreId=store_id, uploadId=upload_id, parts=parts)
    meta = wait_read_set(via_second, store_id, done["readSetId"])
    assert meta["status"] == "ACTIVE", meta.get("statusMessage")
    assert meta["etag"] == Source("r1", "FASTQ", [path]).etag("MD5up")
    settled = ("ingested an upload's source as its parts arrived", "dropped an early ingestion")
    wait_for("the first node settles its early ingestion",
             lambda: any(m in line and f"upload_id={upload_id}" in line
                         for line in first.stderr().splitlines() for m in settled), 10)
