"""Metrics and health on the admin listener (`seqstore serve --admin-listen`).

`/metrics` is parsed with the official Prometheus client's OpenMetrics parser; every counter
this test looks at must move by exactly what the test did between two scrapes (a private
server, so nothing else talks to it), and the catalog gauges must say what the omics API says.
`/readyz` fails, naming the blob store, while the local blob directory is gone.
"""

from __future__ import annotations

import time

import pytest
import requests
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from e2e_support import new_account_id, unique
from read_set_api import upload_read_set, wait_read_set
from s3_support import parse_s3_uri, s3_client


def scrape(srv) -> dict[tuple[str, tuple], float]:
    resp = requests.get(f"http://127.0.0.1:{srv.admin_port}/metrics", timeout=30)
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"].startswith("application/openmetrics-text")
    samples = {}
    for family in text_string_to_metric_families(resp.text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted((k, str(v)) for k, v in labels.items()))), 0.0)


def matching(samples: dict, name: str, **labels) -> float:
    """The sum over the samples of `name` whose labels include `labels`."""
    want = {k: str(v) for k, v in labels.items()}
    return sum(v for (n, ls), v in samples.items() if n == name and want.items() <= dict(ls).items())


def test_metrics_count_the_requests_made(server_factory, read_set_files, tmp_path):
    srv = server_factory.new()
    keys, _ = srv.create_keys(account := new_account_id())
    client = srv.client(keys)
    before = scrape(srv)

    store = client.create_sequence_store(name=unique("metrics"))["id"]
    for _ in range(3):
        client.get_sequence_store(id=store)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_sequence_store(id="1234512345")
    fastq = read_set_files["fastq_gzip"]
    _, rs, _, _ = upload_read_set(client, store, "FASTQ", fastq.paths, unique("m"))
    meta = wait_read_set(client, store, rs)
    assert meta["status"] == "ACTIVE"
    uri = parse_s3_uri(meta["files"]["source1"]["s3Access"]["s3Uri"])
    body = s3_client(srv, keys).get_object(Bucket=uri.bucket, Key=uri.key)["Body"].read()
    assert requests.get(f"http://127.0.0.1:{srv.ga4gh_port}/sequence/{'0' * 32}", timeout=30).status_code == 404

    after = scrape(srv)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    omics = dict(endpoint="omics")
    assert delta("seqstore_requests_total", operation="CreateSequenceStore", status=200, **omics) == 1
    assert delta("seqstore_requests_total", operation="GetSequenceStore", status=200, **omics) == 3
    assert delta("seqstore_requests_total", operation="GetSequenceStore", status=404, **omics) == 1
    parts = delta("seqstore_requests_total", operation="UploadReadSetPart", status=200, **omics)
    assert parts == 2, "one part per FASTQ of the pair"
    assert delta("seqstore_requests_total", endpoint="s3", operation="GetObject", status=200) == 1
    assert delta("seqstore_requests_total", endpoint="ga4gh", operation="RefgetSequence", status=404) == 1
    assert delta("seqstore_request_duration_seconds_count", operation="GetSequenceStore", **omics) == 4
    uploaded = sum(p.stat().st_size for p in fastq.paths)
    assert delta("seqstore_request_bytes_total", **omics) >= uploaded
    assert delta("seqstore_response_bytes_total", endpoint="s3") == len(body)
    assert delta("seqstore_ingested_bytes_total", file_type="FASTQ") == uploaded
    assert delta("seqstore_ingested_sources_total", file_type="FASTQ", outcome="stored") == 2
    assert value(after, "seqstore_ingestions_running") == 0

    # Catalog gauges (read at most every 10 s): what the omics API reports.
    time.sleep(10.5)
    now = scrape(srv)
    assert value(now, "seqstore_read_sets", status="ACTIVE") == 1
    stored = sum(f["contentLength"] for f in meta["files"].values())
    assert value(now, "seqstore_store_bytes", account=account, store=store, tier="active") == stored
    assert value(now, "seqstore_store_bytes", account=account, store=store, tier="archive") == 0
    assert matching(now, "seqstore_jobs", kind="READ_SET_INGEST", status="COMPLETED") >= 1


def test_health_and_readiness(server_factory, backend):
    srv = server_factory.new()
    admin = f"http://127.0.0.1:{srv.admin_port}"
    assert requests.get(f"{admin}/healthz", timeout=10).text == "ok\n"
    assert requests.get(f"{admin}/readyz", timeout=10).status_code == 200
    assert requests.get(f"{admin}/nothing", timeout=10).status_code == 404
    assert requests.post(f"{admin}/metrics", timeout=10).status_code == 405
    if backend != "sqlite":
        return  # the local blob directory is this node's on both; one backend suffices
    blobs = srv.data_dir / "blobs"
    hidden = srv.data_dir / "blobs-away"
    blobs.rename(hidden)
    try:
        resp = requests.get(f"{admin}/readyz", timeout=10)
        assert resp.status_code == 503 and "blob store" in resp.text, resp.text
        assert requests.get(f"{admin}/healthz", timeout=10).status_code == 200, "alive, not ready"
    finally:
        hidden.rename(blobs)
    assert requests.get(f"{admin}/readyz", timeout=10).status_code == 200
