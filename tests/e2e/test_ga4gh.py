"""GA4GH htsget 1.3 and refget v2 on the third listener (`seqstore serve --ga4gh-listen`).

Reads are fetched with the PyPI `htsget` client (and, for POST, with a ticket fetcher written
here); what it writes must be a valid BAM/CRAM whose records for each region are those
`samtools view` gives of the original file for that region. Sequences come back as
`samtools faidx` prints them, named by the MD5 and the GA4GH `sha512t24u` this test computes
with `hashlib`. samtools decodes a CRAM with nothing but `REF_PATH` pointing at refget.

Access follows the store's S3 access policy: bearer tokens from `seqstore tokens create` act
as their account (or user); no token is the principal `*`.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import random
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import htsget
import pytest
import requests

from e2e_support import new_account_id, unique
from read_set_api import upload_read_set, wait_read_set
from read_set_support import CHROMS, aligned_records, samtools, write_sam, sam_header_lines
from reference_support import SOURCE_BUCKET, fasta, new_reference_store, reference_arn, run_import, source_item
from s3_support import objects_arn, policy, sibling_access_point_arn, statement, store_access

TEXT = "text/vnd.ga4gh.refget.v2.0.0+plain"


# ---------------------------------------------------------------------------------------
# The account, its stores, read sets and tokens (once per backend)
# ---------------------------------------------------------------------------------------


@dataclass
class Env:
    server: object
    account: str
    client: object
    token: str
    base: str  # http://127.0.0.1:<ga4gh port>
    store: str
    seq_ap: str
    ref_store: str
    ref_ap: str
    ref: Path  # ref.fa
    genome: dict[str, str]  # name -> bases as in the FASTA
    bam: Path  # the original BAM, indexed
    cram: Path  # the original CRAM, indexed
    ids: dict[str, str]  # bam | cram | ubam | fastq -> read set id
    name: str  # the name the BAM and the CRAM share
    ref_arn: str

    def reads_url(self, id_or_name: str) -> str:
        return f"{self.base}/reads/{self.store}/{id_or_name}"

    def auth(self, token: str | None = "own") -> dict:
        token = self.token if token == "own" else token
        return {"Authorization": f"Bearer {token}"} if token else {}


def create_token(server, account: str, *args: str) -> str:
    res = server.run_cli("tokens", "create", "--account-id", account, *args,
                         "--data-dir", str(server.data_dir), *server.catalog_args())
    assert res.returncode == 0, f"seqstore tokens create failed: {res.returncode}\n{res.stderr}"
    token = res.stdout.strip()
    assert token.startswith("sqt_") and len(token.split("_")) == 3, res.stdout
    return token


def read_fasta(path: Path) -> dict[str, str]:
    genome, name = {}, None
    for line in path.read_text().splitlines():
        if line.startswith(">"):
            name = line[1:].split()[0]
            genome[name] = ""
        elif name:
            genome[name] += line.strip()
    return genome


def digests(bases: str) -> tuple[str, str]:
    """(md5 hex, GA4GH sha512t24u) of a sequence as refget digests it: uppercased."""
    upper = bases.upper().encode()
    sq = base64.urlsafe_b64encode(hashlib.sha512(upper).digest()[:24]).decode()
    return hashlib.md5(upper).hexdigest(), sq


@pytest.fixture(scope="module")
def g(server, read_set_files, tmp_path_factory) -> Env:
    work = tmp_path_factory.mktemp("ga4gh")
    account = new_account_id()
    keys, _ = server.create_keys(account)
    client = server.client(keys)
    ref_store = new_reference_store(client)
    job = run_import(client, ref_store, [source_item(f"s3://{SOURCE_BUCKET}/read-sets/ref/ref.fa", "ga4gh-genome")])
    assert job["status"] == "COMPLETED", job
    ref_arn = reference_arn(account, ref_store, job["sources"][0]["referenceId"])
    ref = read_set_files["cram30"].reference
    genome = read_fasta(ref)

    # A BAM of many BGZF blocks, so that regions start and end inside blocks; its CRAM.
    records = aligned_records(genome, 6000, seed=31)
    sam = write_sam(work / "big.sam", sam_header_lines(), records)
    bam = work / "big.bam"
    samtools("sort", "-o", bam, sam)
    samtools("index", bam)
    cram = work / "big.cram"
    samtools("view", "-C", "--reference", ref, "--output-fmt-option", "seqs_per_slice=400", "-o", cram, bam)
    samtools("index", cram)

    store = client.create_sequence_store(name=unique("ga4gh"))["id"]
    _, seq_ap = store_access(client, store)
    ref_ap = sibling_access_point_arn(seq_ap, account, ref_store)
    name = unique("sample")
    ids = {}
    for case, file_type, paths, reference in [
        ("bam", "BAM", [bam], ref_arn),
        ("cram", "CRAM", [cram], ref_arn),
        ("ubam", "UBAM", read_set_files["ubam"].paths, None),
        ("fastq", "FASTQ", read_set_files["fastq_gzip"].paths, None),
    ]:
        shared = name if case in ("bam", "cram") else unique(case)
        _, rs, _, _ = upload_read_set(client, store, file_type, paths, shared, reference)
        assert wait_read_set(client, store, rs)["status"] == "ACTIVE"
        ids[case] = rs
    token = create_token(server, account)
    return Env(server, account, client, token, f"http://127.0.0.1:{server.ga4gh_port}", store, seq_ap,
               ref_store, ref_ap, ref, genome, bam, cram, ids, name, ref_arn)


# ---------------------------------------------------------------------------------------
# htsget: tickets and what they give
# ---------------------------------------------------------------------------------------


def fetch_ticket(ticket: dict, dest: Path) -> Path:
    """Concatenates a ticket's URLs: data: URLs decoded, others fetched with their headers."""
    with open(dest, "wb") as out:
        for entry in ticket["htsget"]["urls"]:
            url = entry["url"]
            if url.startswith("data:"):
                out.write(base64.b64decode(url.split(",", 1)[1]))
                continue
            resp = requests.get(url, headers=entry.get("headers", {}), timeout=60)
            assert resp.status_code in (200, 206), (url, resp.status_code, resp.text)
            out.write(resp.content)
    return dest


def htsget_download(g: Env, dest: Path, fmt: str, name: str | None = None, start: int | None = None,
                    end: int | None = None, id_or_name: str | None = None) -> Path:
    """The PyPI htsget client's download of a region."""
    id_or_name = id_or_name or g.ids[fmt.lower()]
    with open(dest, "wb") as out:
        htsget.get(g.reads_url(id_or_name), out, reference_name=name, start=start, end=end,
                   data_format=fmt, bearer_token=g.token, max_retries=0, timeout=60)
    return dest


def view(path: Path, g: Env, *args: str) -> list[str]:
    res = samtools("view", "--reference", g.ref, path, *args)
    return res.stdout.decode().splitlines()


def check_region(g: Env, got: Path, original: Path, region: str, tmp_path: Path) -> None:
    """`got` is a valid file whose records for `region` are the original's, and all of whose
    records are records of the original, in its order."""
    samtools("quickcheck", got)
    everything = view(got, g)
    indexed = tmp_path / f"indexed{got.suffix}"
    indexed.write_bytes(got.read_bytes())
    samtools("index", indexed)
    wanted = view(original, g, region)
    assert view(indexed, g, region) == wanted, f"{region}: records differ from samtools view"
    assert len(everything) >= len(wanted)
    all_original = view(original, g)
    positions = {rec: i for i, rec in enumerate(all_original)}
    at = [positions.get(rec) for rec in everything]
    assert None not in at, f"{region}: the download holds records the original lacks"
    assert at == sorted(at), f"{region}: records out of the original's order"


REGIONS = [
    ("chr1", 1000, 5000),
    ("chr2", None, None),
    ("chr1", 29000, None),
    ("chr3", 0, 1),
    ("chr2", 19990, 20000),
]


def samtools_region(name: str, start: int | None, end: int | None) -> str:
    if start is None and end is None:
        return name
    return f"{name}:{(start or 0) + 1}-{end if end is not None else ''}".rstrip("-")


@pytest.mark.parametrize("fmt", ["BAM", "CRAM"])
def test_htsget_client_regions_equal_samtools_view(g, fmt, tmp_path):
    original = g.bam if fmt == "BAM" else g.cram
    for name, start, end in REGIONS:
        got = htsget_download(g, tmp_path / f"{name}-{start}-{end}.{fmt.lower()}", fmt, name, start, end)
        check_region(g, got, original, samtools_region(name, start, end), tmp_path)
        if (name, start, end) == ("chr3", 0, 1):
            share = got.stat().st_size / original.stat().st_size
            assert share < 0.2, f"a one-base region took {share:.0%} of the file: the index was not used"
    # Unplaced reads: exactly those.
    got = htsget_download(g, tmp_path / f"unplaced.{fmt.lower()}", fmt, "*")
    assert view(got, g) == view(original, g, "*") and view(got, g), "referenceName=* gives the unplaced reads"


@pytest.mark.parametrize("fmt", ["BAM", "CRAM"])
def test_whole_file_and_header_only(g, fmt, tmp_path):
    original = g.bam if fmt == "BAM" else g.cram
    stored = g.client.get_read_set_metadata(sequenceStoreId=g.store, id=g.ids[fmt.lower()])
    whole = htsget_download(g, tmp_path / f"whole.{fmt.lower()}", fmt)
    assert whole.stat().st_size == stored["files"]["source1"]["contentLength"]
    assert view(whole, g) == view(original, g)
    resp = requests.get(g.reads_url(g.ids[fmt.lower()]), params={"format": fmt, "class": "header"},
                        headers=g.auth(), timeout=30)
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"].startswith("application/vnd.ga4gh.htsget.v1.3.0+json")
    ticket = resp.json()
    assert ticket["htsget"]["format"] == fmt
    assert {u["class"] for u in ticket["htsget"]["urls"]} == {"header"}
    header = fetch_ticket(ticket, tmp_path / f"header.{fmt.lower()}")
    samtools("quickcheck", header)
    assert view(header, g) == []
    got_header = samtools("view", "-H", "--no-PG", "--reference", g.ref, header).stdout
    assert got_header == samtools("view", "-H", "--no-PG", "--reference", g.ref, whole).stdout


def test_post_regions_in_file_order(g, tmp_path):
    body = {"format": "BAM", "regions": [{"referenceName": "chr2", "start": 100, "end": 4000},
                                         {"referenceName": "chr1", "start": 20000},
                                         {"referenceName": "chr1", "end": 3000}]}
    resp = requests.post(g.reads_url(g.ids["bam"]), json=body, headers=g.auth(), timeout=30)
    assert resp.status_code == 200, resp.text
    urls = resp.json()["htsget"]["urls"]
    assert {u["class"] for u in urls} == {"header", "body"}
    assert [u["class"] for u in urls] == sorted((u["class"] for u in urls), key=["header", "body"].index)
    got = fetch_ticket(resp.json(), tmp_path / "post.bam")
    for region in ("chr2:101-4000", "chr1:20001-", "chr1:1-3000"):
        check_region(g, got, g.bam, region.rstrip("-"), tmp_path)
    indexed = tmp_path / "post-indexed.bam"
    indexed.write_bytes(got.read_bytes())
    samtools("index", indexed)
    assert view(indexed, g, "chr3") == [], "chr3 was not asked for and no chunk of it lies near"


def test_many_regions_make_a_bounded_ticket(g, tmp_path):
    regions = [{"referenceName": name, "start": start, "end": start + 10}
               for name, length in CHROMS for start in range(0, length - 10, 97)][:1000]
    for fmt, original in (("BAM", g.bam), ("CRAM", g.cram)):
        resp = requests.post(g.reads_url(g.ids[fmt.lower()]), json={"format": fmt, "regions": regions},
                             headers=g.auth(), timeout=60)
        assert resp.status_code == 200, resp.text[:300]
        assert len(resp.content) < 20 << 20, f"a {len(resp.content)}-byte ticket"
        got = fetch_ticket(resp.json(), tmp_path / f"many.{fmt.lower()}")
        for r in regions[::50]:
            check_region(g, got, original, f"{r['referenceName']}:{r['start'] + 1}-{r['end']}", tmp_path)
    too_many = {"regions": [{"referenceName": "chr1"}] * 1001}
    resp = requests.post(g.reads_url(g.ids["bam"]), json=too_many, headers=g.auth(), timeout=30)
    assert (resp.status_code, resp.json()["htsget"]["error"]) == (400, "InvalidInput")


def test_a_name_picks_the_read_set_of_the_format(g, tmp_path):
    by_name_bam = htsget_download(g, tmp_path / "n.bam", "BAM", "chr1", 0, 2000, id_or_name=g.name)
    by_name_cram = htsget_download(g, tmp_path / "n.cram", "CRAM", "chr1", 0, 2000, id_or_name=g.name)
    check_region(g, by_name_bam, g.bam, "chr1:1-2000", tmp_path)
    check_region(g, by_name_cram, g.cram, "chr1:1-2000", tmp_path)
    assert samtools("view", "-H", by_name_cram).stdout.startswith(b"@HD")
    # A second BAM of the same name makes the name ambiguous for BAM, not for CRAM.
    _, second, _, _ = upload_read_set(g.client, g.store, "BAM", [g.bam], g.name, g.ref_arn)
    assert wait_read_set(g.client, g.store, second)["status"] == "ACTIVE"
    resp = requests.get(g.reads_url(g.name), headers=g.auth(), timeout=30)
    assert resp.status_code == 400 and resp.json()["htsget"]["error"] == "InvalidInput", resp.text
    message = resp.json()["htsget"]["message"]
    assert g.ids["bam"] in message and second in message, message
    assert requests.get(g.reads_url(g.name), params={"format": "CRAM"}, headers=g.auth(),
                        timeout=30).status_code == 200
    g.client.batch_delete_read_set(sequenceStoreId=g.store, ids=[second])
    assert requests.get(g.reads_url(g.name), headers=g.auth(), timeout=30).status_code == 200


def test_unaligned_bam_serves_every_read_as_unplaced(g, tmp_path):
    ubam = g.ids["ubam"]
    whole = htsget_download(g, tmp_path / "u.bam", "BAM", id_or_name=ubam)
    unplaced = htsget_download(g, tmp_path / "u-star.bam", "BAM", "*", id_or_name=ubam)
    assert view(unplaced, g) == view(whole, g) and view(whole, g)


ERRORS = [
    # (path under /reads/<store>/, query, status, htsget error)
    ("{bam}", {"format": "VCF"}, 400, "UnsupportedFormat"),
    ("{bam}", {"format": "CRAM"}, 400, "UnsupportedFormat"),
    ("{cram}", {}, 400, "UnsupportedFormat"),
    ("{fastq}", {}, 400, "UnsupportedFormat"),
    ("{bam}", {"class": "body"}, 400, "InvalidInput"),
    ("{bam}", {"class": "header", "referenceName": "chr1"}, 400, "InvalidInput"),
    ("{bam}", {"start": "10"}, 400, "InvalidInput"),
    ("{bam}", {"referenceName": "*", "start": "10"}, 400, "InvalidInput"),
    ("{bam}", {"referenceName": "chr1", "start": "-1"}, 400, "InvalidInput"),
    ("{bam}", {"referenceName": "chr1", "start": "abc"}, 400, "InvalidInput"),
    ("{bam}", {"referenceName": "chr1", "start": "4294967296"}, 400, "InvalidInput"),
    ("{bam}", {"referenceName": "chr1", "start": "500", "end": "100"}, 400, "InvalidRange"),
    ("{bam}", {"referenceName": "chrX"}, 404, "NotFound"),
    ("{bam}", {"tags": "NM,MD", "notags": "MD"}, 400, "InvalidInput"),
    ("9999999999", {}, 404, "NotFound"),
    ("no-such-name", {}, 404, "NotFound"),
]


@pytest.mark.parametrize("path,query,status,error", ERRORS)
def test_htsget_errors(g, path, query, status, error):
    url = g.reads_url(path.format(**g.ids))
    resp = requests.get(url, params=query, headers=g.auth(), timeout=30)
    assert resp.status_code == status, resp.text
    assert resp.json()["htsget"]["error"] == error, resp.text
    assert resp.json()["htsget"]["message"], resp.text


def test_htsget_errors_of_stores_and_posts(g):
    resp = requests.get(f"{g.base}/reads/1234512345/{g.ids['bam']}", headers=g.auth(), timeout=30)
    assert (resp.status_code, resp.json()["htsget"]["error"]) == (404, "NotFound")
    url = g.reads_url(g.ids["bam"])
    for body, status, error in [
        ({"regions": []}, 400, "InvalidInput"),
        ({"regions": [{"start": 5}]}, 400, "InvalidInput"),
        ({"regions": [{"referenceName": "chr1", "start": 10, "end": 10}]}, 400, "InvalidRange"),
        ({"format": "BAM", "unknown": 1}, 400, "InvalidInput"),
        ({"class": "header", "regions": [{"referenceName": "chr1"}]}, 400, "InvalidInput"),
        ("not json", 400, "InvalidInput"),
    ]:
        data = body if isinstance(body, str) else json.dumps(body)
        resp = requests.post(url, data=data, headers=g.auth(), timeout=30)
        assert (resp.status_code, resp.json()["htsget"]["error"]) == (status, error), (body, resp.text)
    resp = requests.post(url + "?format=BAM", json={}, headers=g.auth(), timeout=30)
    assert (resp.status_code, resp.json()["htsget"]["error"]) == (400, "InvalidInput")
    resp = requests.get(f"{g.base}/variants/spec-v4.3", headers=g.auth(), timeout=30)
    assert (resp.status_code, resp.json()["htsget"]["error"]) == (404, "NotFound"), resp.text
    assert "reads" in resp.json()["htsget"]["message"]


def test_service_info(g):
    for path in ("/reads/service-info", f"/reads/{g.store}/service-info"):
        info = requests.get(g.base + path, timeout=30).json()
        assert info["type"] == {"group": "org.ga4gh", "artifact": "htsget", "version": "1.3.0"}, info
        assert info["htsget"] == {"datatype": "reads", "formats": ["BAM", "CRAM"],
                                  "fieldsParameterEffective": False, "tagsParametersEffective": False}
    info = requests.get(g.base + "/sequence/service-info", timeout=30).json()
    assert info["type"]["artifact"] == "refget" and info["type"]["version"] == "2.0.0", info
    assert info["refget"] == {"circular_supported": False, "subsequence_limit": None,
                              "algorithms": ["md5", "ga4gh"], "identifier_types": []}


# ---------------------------------------------------------------------------------------
# Access: policies and tokens
# ---------------------------------------------------------------------------------------


def ticket_status(g: Env, token: str | None, fmt: str = "BAM") -> tuple[int, str | None]:
    resp = requests.get(g.reads_url(g.ids[fmt.lower()]),
                        params={"format": fmt, "referenceName": "chr1", "end": "1000"},
                        headers=g.auth(token), timeout=30)
    return resp.status_code, (resp.json()["htsget"]["error"] if resp.status_code != 200 else None)


def test_tokens_and_policies_decide_who_reads(g, tmp_path):
    server, a = g.server, g.account
    other = create_token(server, new_account_id())
    assert ticket_status(g, None) == (403, "PermissionDenied"), "the default policy names the owner only"
    assert ticket_status(g, other) == (403, "PermissionDenied")
    assert ticket_status(g, "sqt_" + "x" * 16 + "_" + "y" * 40) == (401, "InvalidAuthentication")
    assert ticket_status(g, "not-a-token") == (401, "InvalidAuthentication")
    assert ticket_status(g, g.token) == (200, None)

    alice = create_token(server, a, "--user", "alice")
    bob = create_token(server, a, "--user", "bob")
    objects = objects_arn(g.seq_ap, f"{a}/sequenceStore/{g.store}/")
    own = statement("Allow", {"AWS": a}, "s3:GetObject", objects, sid="Account")
    no_alice = statement("Deny", {"AWS": f"arn:aws:iam::{a}:user/alice"}, "s3:GetObject", objects, sid="NotAlice")
    anyone_bam = statement("Allow", "*", "s3:GetObject",
                           objects_arn(g.seq_ap, f"{a}/sequenceStore/{g.store}/readSet/{g.ids['bam']}/"),
                           sid="PublicBam")
    try:
        g.client.put_s3_access_policy(s3AccessPointArn=g.seq_ap, s3AccessPolicy=policy(own, no_alice, anyone_bam))
        assert ticket_status(g, alice) == (403, "PermissionDenied")
        assert ticket_status(g, bob) == (200, None)
        assert ticket_status(g, g.token) == (200, None)
        assert ticket_status(g, None) == (200, None), "Principal * lets anyone read the BAM"
        assert ticket_status(g, None, "CRAM") == (403, "PermissionDenied"), "but not the CRAM"
        # What anyone may read downloads without a token.
        with open(tmp_path / "public.bam", "wb") as out:
            htsget.get(g.reads_url(g.ids["bam"]), out, reference_name="chr2", start=0, end=3000, max_retries=0)
        check_region(g, tmp_path / "public.bam", g.bam, "chr2:1-3000", tmp_path)
    finally:
        g.client.delete_s3_access_policy(s3AccessPointArn=g.seq_ap)
    # Without a policy nobody reads.
    assert ticket_status(g, g.token) == (403, "PermissionDenied")
    g.client.put_s3_access_policy(s3AccessPointArn=g.seq_ap, s3AccessPolicy=policy(own))
    assert ticket_status(g, g.token) == (200, None)

    # Deleted and expired tokens are refused.
    doomed = create_token(server, a)
    assert ticket_status(g, doomed) == (200, None)
    listed = server.run_cli("tokens", "list", "--data-dir", str(server.data_dir), *server.catalog_args())
    doomed_id = doomed.split("_")[1]
    assert doomed_id in listed.stdout and doomed.split("_")[2] not in listed.stdout, listed.stdout
    res = server.run_cli("tokens", "delete", doomed_id, "--data-dir", str(server.data_dir), *server.catalog_args())
    assert res.returncode == 0, res.stderr
    assert ticket_status(g, doomed) == (401, "InvalidAuthentication")
    brief = create_token(server, a, "--expires", "2s")
    assert ticket_status(g, brief) == (200, None)
    time.sleep(2.5)
    assert ticket_status(g, brief) == (401, "InvalidAuthentication")
    res = server.run_cli("tokens", "create", "--account-id", a, "--expires", "soon",
                         "--data-dir", str(server.data_dir), *server.catalog_args())
    assert res.returncode != 0 and "--expires" in res.stderr


def test_ticket_urls_read_only_their_file_until_they_expire(g, tmp_path):
    resp = requests.get(g.reads_url(g.ids["bam"]), params={"referenceName": "chr1"}, headers=g.auth(), timeout=30)
    urls = [u for u in resp.json()["htsget"]["urls"] if u["url"].startswith("http")]
    entry = urls[0]
    url = entry["url"]
    assert requests.get(url, headers=entry["headers"], timeout=30).status_code == 206
    # No credentials are needed, but the signature must match the URL.
    tampered = url[:-1] + ("0" if url[-1] != "0" else "1")
    resp = requests.get(tampered, headers=entry["headers"], timeout=30)
    assert (resp.status_code, resp.json()["htsget"]["error"]) == (401, "InvalidAuthentication")
    meta = g.client.get_read_set_metadata(sequenceStoreId=g.store, id=g.ids["bam"])
    index_name = Path(meta["files"]["index"]["s3Access"]["s3Uri"]).name
    path, query = url.split("?", 1)
    other_file = path.rsplit("/", 1)[0] + "/" + index_name + "?" + query
    assert requests.get(other_file, timeout=30).status_code == 401
    longer = url.replace("expires=", "expires=9")
    assert requests.get(longer, timeout=30).status_code == 401
    # A ticket from one node is served by every node: they share the signing key.
    for node in getattr(g.server, "nodes", [g.server]):
        elsewhere = url.replace(f":{g.server.ga4gh_port}/", f":{node.ga4gh_port}/")
        assert requests.get(elsewhere, headers=entry["headers"], timeout=30).status_code == 206, node
    # Ranges: closed, open, beyond the end (cut), and outside the file.
    size = meta["files"]["source1"]["contentLength"]
    stored = requests.get(url, timeout=60).content
    assert len(stored) == size
    for header, status, want in [("bytes=0-9", 206, stored[:10]), (f"bytes={size - 5}-", 206, stored[-5:]),
                                 (f"bytes={size - 3}-{size + 100}", 206, stored[-3:]),
                                 (f"bytes={size}-", 416, None), ("bytes=5-", 206, stored[5:]),
                                 ("items=0-1", 400, None)]:
        resp = requests.get(url, headers={"Range": header}, timeout=30)
        assert resp.status_code == status, (header, resp.text[:200])
        if want is not None:
            assert resp.content == want, header
    # A deleted read set's URLs stop working.
    _, doomed, _, _ = upload_read_set(g.client, g.store, "BAM", [g.bam], unique("doomed"), g.ref_arn)
    assert wait_read_set(g.client, g.store, doomed)["status"] == "ACTIVE"
    t = requests.get(g.reads_url(doomed), headers=g.auth(), timeout=30).json()
    doomed_url = t["htsget"]["urls"][0]["url"]
    assert requests.get(doomed_url, timeout=30).status_code == 200
    g.client.batch_delete_read_set(sequenceStoreId=g.store, ids=[doomed])
    resp = requests.get(doomed_url, timeout=30)
    assert (resp.status_code, resp.json()["htsget"]["error"]) == (404, "NotFound")


def test_ticket_urls_expire(server_factory, backend, tmp_path):
    if backend != "sqlite":
        pytest.skip("one backend suffices: expiry is the server's clock, not the catalog's")
    srv = server_factory.new(config="[ga4gh]\nticket_seconds = 1\n")
    keys, _ = srv.create_keys(srv_account := new_account_id())
    client = srv.client(keys)
    store = client.create_sequence_store(name=unique("expiry"))["id"]
    sam = write_sam(tmp_path / "u.sam", sam_header_lines(with_sq=False, sort_order="queryname"),
                    [f"r{i}\t4\t*\t0\t0\t*\t*\t0\t0\tACGT\tIIII" for i in range(10)])
    ubam = tmp_path / "u.bam"
    samtools("view", "-b", "-o", ubam, sam)
    _, rs, _, _ = upload_read_set(client, store, "UBAM", [ubam], "expiry")
    assert wait_read_set(client, store, rs)["status"] == "ACTIVE"
    token = create_token(srv, srv_account)
    t = requests.get(f"http://127.0.0.1:{srv.ga4gh_port}/reads/{store}/{rs}",
                     headers={"Authorization": f"Bearer {token}"}, timeout=30).json()
    url = t["htsget"]["urls"][0]["url"]
    assert requests.get(url, timeout=30).status_code == 200
    time.sleep(2.2)
    resp = requests.get(url, timeout=30)
    assert (resp.status_code, resp.json()["htsget"]["error"]) == (401, "InvalidAuthentication"), resp.text
    assert "expired" in resp.json()["htsget"]["message"]


# ---------------------------------------------------------------------------------------
# refget
# ---------------------------------------------------------------------------------------


def faidx(g: Env, region: str) -> str:
    out = samtools("faidx", g.ref, region).stdout.decode().splitlines()
    return "".join(out[1:]).upper()


def refget(g: Env, ident: str, token: str | None = "own", accept: str | None = TEXT, **kwargs):
    headers = {**g.auth(token), **kwargs.pop("headers", {})}
    if accept is not None:
        headers["Accept"] = accept
    return requests.get(f"{g.base}/sequence/{ident}", headers=headers, timeout=30, **kwargs)


def test_refget_sequences_equal_samtools_faidx(g):
    for name, length in CHROMS:
        md5, sq = digests(g.genome[name])
        whole = faidx(g, name)
        assert len(whole) == length
        for ident in (md5, md5.upper(), f"md5:{md5}", f"SQ.{sq}", f"ga4gh:SQ.{sq}"):
            resp = refget(g, ident)
            assert resp.status_code == 200, (ident, resp.text)
            assert resp.text == whole, ident
            assert resp.headers["Content-Type"].startswith(TEXT)
            assert int(resp.headers["Content-Length"]) == length
        for start, end in [(0, 10), (59, 61), (120, 121), (length - 7, length), (1000, 1000), (0, length)]:
            resp = refget(g, md5, params={"start": start, "end": end})
            assert resp.status_code == 200, resp.text
            want = faidx(g, f"{name}:{start + 1}-{end}") if end > start else ""
            assert resp.text == want and int(resp.headers["Content-Length"]) == end - start, (name, start, end)
        assert refget(g, md5, params={"start": length - 3}).text == whole[-3:]
        assert refget(g, md5, params={"end": 5}).text == whole[:5]
        for header, first, last in [("bytes=10-19", 10, 19), (f"bytes=5-{length + 50}", 5, length - 1),
                                    ("bytes=0-0", 0, 0), (f"bytes={length - 1}-", length - 1, length - 1)]:
            resp = refget(g, md5, headers={"Range": header})
            assert resp.status_code == 206, (header, resp.text)
            assert resp.text == whole[first:last + 1], header
            assert resp.headers["Content-Range"] == f"bytes {first}-{last}/{length}"
        meta = refget(g, f"{md5}/metadata", accept="application/json").json()["metadata"]
        assert meta["md5"] == md5 and meta["ga4gh"] == f"SQ.{sq}" and meta["length"] == length, meta
        assert {"alias": name, "naming_authority": "unknown"} in meta["aliases"], meta


@pytest.mark.parametrize("suffix", [".fa.gz", ".fa"])
def test_refget_serves_a_gzip_reference(g, moto_s3, suffix, tmp_path):
    """Whatever its name says: the import knows gzip by its first bytes, and so do refget and
    the ingestion of a CRAM against it."""
    rng = random.Random(suffix)
    seqs = {"gz_a": "".join(rng.choice("ACGTacgtN") for _ in range(5000)),
            "gz_b": "".join(rng.choice("ACGT") for _ in range(7001))}
    text = fasta([(name, bases.encode(), 61) for name, bases in seqs.items()])
    key = f"ga4gh/{unique('gz')}{suffix}"
    moto_s3.client().put_object(Bucket=SOURCE_BUCKET, Key=key, Body=gzip.compress(text))
    job = run_import(g.client, g.ref_store, [source_item(f"s3://{SOURCE_BUCKET}/{key}", unique("gz-genome"))])
    assert job["status"] == "COMPLETED", job
    for name, bases in seqs.items():
        md5, sq = digests(bases)
        upper = bases.upper()
        assert refget(g, f"SQ.{sq}").text == upper
        for start, end in [(0, 1), (60, 62), (4000, 5000), (len(bases) - 1, len(bases))]:
            assert refget(g, md5, params={"start": start, "end": end}).text == upper[start:end]
        resp = refget(g, md5, headers={"Range": "bytes=100-199"})
        assert (resp.status_code, resp.text) == (206, upper[100:200])
        meta = refget(g, f"{md5}/metadata", accept=None).json()["metadata"]
        assert meta["length"] == len(bases) and meta["aliases"] == [{"alias": name, "naming_authority": "unknown"}]
    plain = tmp_path / "plain.fa"
    plain.write_bytes(text)
    header = ["@HD\tVN:1.6\tSO:coordinate"] + [f"@SQ\tSN:{n}\tLN:{len(b)}" for n, b in seqs.items()]
    reads = [f"r{i}\t0\tgz_a\t{1 + 40 * i}\t60\t100M\t*\t0\t0\t{seqs['gz_a'][40 * i:40 * i + 100].upper()}\t*"
             for i in range(50)]
    sam = write_sam(tmp_path / "gz.sam", header, reads)
    cram = tmp_path / "gz.cram"
    samtools("view", "-C", "--reference", plain, "-o", cram, sam)
    ref_arn = reference_arn(g.account, g.ref_store, job["sources"][0]["referenceId"])
    _, rs, _, _ = upload_read_set(g.client, g.store, "CRAM", [cram], unique("gz-cram"), ref_arn)
    meta = wait_read_set(g.client, g.store, rs)
    assert meta["status"] == "ACTIVE", meta.get("statusMessage")
    assert meta["sequenceInformation"]["totalReadCount"] == 50


def test_refget_accepts_v1_and_plain_types_and_refuses_others(g):
    md5, _ = digests(g.genome["chr3"])
    for accept in (None, "text/plain", "text/vnd.ga4gh.refget.v1.0.0+plain", "*/*",
                   "application/json, text/vnd.ga4gh.refget.v2.0.0+plain; charset=us-ascii"):
        assert refget(g, md5, accept=accept).status_code == 200, accept
    assert refget(g, md5, accept="embl/some_json").status_code == 406
    assert refget(g, f"{md5}/metadata", accept="embl/some_json").status_code == 406
    assert refget(g, f"{md5}/metadata", accept="application/vnd.ga4gh.refget.v1.0.0+json").status_code == 200


def test_refget_errors(g):
    md5, _ = digests(g.genome["chr3"])
    length = dict(CHROMS)["chr3"]
    cases = [
        ({"params": {"start": "abc"}}, 400),
        ({"params": {"start": "-10", "end": "-29"}}, 400),
        ({"params": {"start": length, "end": length}}, 416),
        ({"params": {"start": 5, "end": length + 1}}, 416),
        ({"params": {"start": 20, "end": 4}}, 501),
        ({"params": {"start": 0}, "headers": {"Range": "bytes=0-1"}}, 400),
        ({"headers": {"Range": "bytes=ab-19"}}, 400),
        ({"headers": {"Range": "units=1-2"}}, 400),
        ({"headers": {"Range": "bytes=59-50"}}, 416),
        ({"headers": {"Range": f"bytes={length}-{length + 4}"}}, 416),
    ]
    for kwargs, status in cases:
        resp = refget(g, md5, **kwargs)
        assert resp.status_code == status, (kwargs, resp.status_code, resp.text)
    assert refget(g, "0" * 32).status_code == 404
    assert refget(g, "some1111garbage1111ID").status_code == 404
    assert refget(g, "some1111garbage1111ID/metadata", accept=None).status_code == 404


def test_refget_follows_the_reference_store_policy_and_htslib_fetches_through_it(g, tmp_path):
    md5, _ = digests(g.genome["chr1"])
    other = create_token(g.server, new_account_id())
    assert refget(g, md5, token=None).status_code == 403
    assert refget(g, md5, token=other).status_code == 403
    assert refget(g, md5, token="sqt_" + "x" * 16 + "_" + "y" * 40).status_code == 401
    public = statement("Allow", "*", "s3:GetObject",
                       objects_arn(g.ref_ap, f"{g.account}/referenceStore/{g.ref_store}/"), sid="Public")
    g.client.put_s3_access_policy(s3AccessPointArn=g.ref_ap, s3AccessPolicy=policy(public))
    try:
        assert refget(g, md5, token=None).text == faidx(g, "chr1")
        assert refget(g, md5, token=other).status_code == 200
        # htslib finds every reference of the CRAM by its M5 through REF_PATH alone.
        cache = tmp_path / "ref-cache"
        env = {**os.environ, "REF_PATH": f"{g.base}/sequence/%s", "REF_CACHE": f"{cache}/%2s/%2s/%s"}
        got = subprocess.run(["samtools", "view", str(g.cram)], capture_output=True, env=env, timeout=300)
        assert got.returncode == 0, got.stderr.decode()
        assert got.stdout.decode().splitlines() == view(g.cram, g)
        cached = sorted(p.parent.parent.name + p.parent.name + p.name for p in cache.rglob("*") if p.is_file())
        assert cached and set(cached) <= {digests(b)[0] for b in g.genome.values()}, cached
    finally:
        g.client.delete_s3_access_policy(s3AccessPointArn=g.ref_ap)
    assert refget(g, md5).status_code == 403, "no policy: nobody reads"
    owner = statement("Allow", {"AWS": g.account}, "s3:GetObject",
                      objects_arn(g.ref_ap, f"{g.account}/referenceStore/{g.ref_store}/"), sid="Owner")
    g.client.put_s3_access_policy(s3AccessPointArn=g.ref_ap, s3AccessPolicy=policy(owner))
    assert refget(g, md5).status_code == 200


def test_references_imported_before_refget_are_indexed_at_start(server_factory, backend, read_set_files):
    if backend != "sqlite":
        pytest.skip("the pass is the same on both catalogs; SQLite lets the test forget the rows")
    srv = server_factory.new()
    keys, _ = srv.create_keys(account := new_account_id())
    client = srv.client(keys)
    ref_store = new_reference_store(client)
    job = run_import(client, ref_store, [source_item(f"s3://{SOURCE_BUCKET}/read-sets/ref/ref.fa", "old")])
    assert job["status"] == "COMPLETED", job
    token = create_token(srv, account)
    genome = read_fasta(read_set_files["cram30"].reference)
    md5, sq = digests(genome["chr2"])
    auth = {"Authorization": f"Bearer {token}"}

    def url(ident: str) -> str:
        return f"http://127.0.0.1:{srv.ga4gh_port}/sequence/{ident}"

    assert requests.get(url(f"ga4gh:SQ.{sq}"), headers=auth, timeout=30).status_code == 200
    srv.stop()
    with sqlite3.connect(srv.data_dir / "catalog.db") as db:
        db.execute("DELETE FROM reference_sequences")
    srv.start()
    deadline = time.monotonic() + 60
    while (resp := requests.get(url(f"ga4gh:SQ.{sq}"), headers=auth, timeout=30)).status_code != 200:
        assert resp.status_code == 404, resp.text
        assert time.monotonic() < deadline, "the sequences were not indexed again after the restart"
        time.sleep(0.2)
    assert resp.text == genome["chr2"].upper()
    assert requests.get(url(md5), headers=auth, timeout=30).status_code == 200


def test_the_start_up_lines_name_the_ga4gh_endpoint(server):
    node = getattr(server, "nodes", [server])[0]
    assert f"ga4gh endpoint  http://127.0.0.1:{node.ga4gh_port}" in node.stdout(), node.stdout()
    assert f"REF_PATH=http://127.0.0.1:{node.ga4gh_port}/sequence/%s" in node.stdout()
    assert "REF_PATH" not in node.exports(), "REF_PATH is an example, not a line to paste"
