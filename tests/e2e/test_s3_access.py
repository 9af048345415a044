"""S3 direct access: the read-only S3 endpoint (`seqstore serve --s3-listen`) with real clients.

Every stored read set and reference file is an object `s3://<access point alias>/<key>` (the
`s3Uri` of GetReadSetMetadata / GetReferenceMetadata). Readers: samtools/htslib
(`s3+http://ALIAS/KEY`), boto3's `s3` client and its TransferManager, presigned URLs fetched with
`curl`, the AWS CLI configured only by the lines `seqstore serve` prints, rclone configured only
by environment. Access point policies (Put/Get/DeleteS3AccessPolicy) decide who reads.

Expected values come from the omics API (GetReadSet/GetReference bytes, metadata sizes),
`hashlib.md5` of those bytes, `samtools view`/`idxstats`/`index`/`faidx` run here on local
copies, never from the S3 endpoint itself. The read sets of `uploaded` (conftest) are reused;
tests that change policies, tags or states make a small store of their own.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import gzip
import itertools
import json
import re
import shutil
import subprocess
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import boto3.s3.transfer
import botocore
import botocore.exceptions
import pytest

from e2e_support import Keys, clean_env, new_account_id, raises_aws, unique
from read_set_api import download, indexed_original, list_read_sets, upload_read_set, wait_read_set
from read_set_support import HTS_ENV, REGIONS, RS_ROLE_ARN
from reference_support import (
    SOURCE_BUCKET,
    get_part,
    new_reference_store,
    require_tool,
    run_import,
    samtools_faidx,
    source_item,
)
from s3_support import (
    S3Uri,
    credentials_file,
    file_uri,
    hts_env,
    list_all,
    md5_hex,
    objects_arn,
    policy,
    quote_key,
    raises_s3,
    raw_s3,
    rclone,
    rclone_env,
    run_tool,
    s3_client,
    catalog_sql,
    set_read_set_status,
    sibling_access_point_arn,
    statement,
    store_access,
    user_keys,
    xml_code,
)

FILE_PARAM = {"source1": "SOURCE1", "source2": "SOURCE2", "index": "INDEX"}


# ---------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def owner_keys(server, rs_env):
    """A key of the account that owns the `uploaded` read sets (its root principal)."""
    keys, _ = server.create_keys(rs_env.account)
    return keys


@pytest.fixture(scope="module")
def owner_s3(server, owner_keys):
    return s3_client(server, owner_keys)


@dataclass
class Obj:
    """One object a store must serve, with what the omics API says about it."""

    uri: S3Uri
    read_set_id: str
    file: str  # source1 | source2 | index
    size: int  # contentLength of GetReadSetMetadata
    path: Path  # the bytes GetReadSet returns
    md5: str  # hashlib.md5 of those bytes

    def data(self) -> bytes:
        return self.path.read_bytes()


@dataclass
class StoreAccess:
    store_id: str
    uri: S3Uri  # s3://ALIAS/<account>/sequenceStore/<id>/
    ap_arn: str

    @property
    def bucket(self) -> str:
        return self.uri.bucket

    @property
    def prefix(self) -> str:
        return self.uri.key


@dataclass
class ListedStore(StoreAccess):
    objects: dict[str, Obj]  # key -> object, of every readable read set
    unreadable: list[str]  # ids of read sets that must not appear (failed, in progress)

    def keys(self) -> list[str]:
        return sorted(self.objects)


def readable_objects(client, store_id: str, workdir: Path) -> tuple[dict[str, Obj], list[str]]:
    """Every file of every ACTIVE read set of the store (GetReadSetMetadata + GetReadSet), and the
    ids of the read sets S3 must not show."""
    objects, unreadable = {}, []
    for item in list_read_sets(client, store_id):
        if item["status"] != "ACTIVE":
            unreadable.append(item["id"])
            continue
        meta = client.get_read_set_metadata(sequenceStoreId=store_id, id=item["id"])
        for file, info in meta["files"].items():
            uri = file_uri(meta, file)
            dest = workdir / item["id"] / uri.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            download(client, store_id, item["id"], FILE_PARAM[file], info, dest)
            objects[uri.key] = Obj(uri, item["id"], file, info["contentLength"], dest, md5_hex(dest.read_bytes()))
    return objects, unreadable


@pytest.fixture(scope="module")
def listed(rs_env, uploaded, tmp_path_factory) -> ListedStore:
    """The SHA512up store of `uploaded`: what S3 must list, from the omics API."""
    store_id = rs_env.stores["SHA512up"]
    uri, ap_arn = store_access(rs_env.client, store_id)
    objects, unreadable = readable_objects(rs_env.client, store_id, tmp_path_factory.mktemp("s3-listed"))
    assert len(objects) >= 9, f"expected the standard read sets in store {store_id}, got {sorted(objects)}"
    return ListedStore(store_id, uri, ap_arn, objects, unreadable)


TINY_READS = 3
MANY_READ_SETS = 130  # more than one page of the catalog queries behind a listing


def tiny_fastq(path: Path, seed: int) -> Path:
    """A few FASTQ records, different for every seed."""
    bases = "ACGT"
    recs = []
    for i in range(TINY_READS):
        seq = "".join(bases[(seed * 7 + i * 3 + j * j) % 4] for j in range(20 + seed % 13))
        recs.append(f"@tiny{seed}-{i}\n{seq}\n+\n{'I' * len(seq)}\n")
    path.write_text("".join(recs))
    return path


@dataclass
class SmallReadSet:
    id: str
    meta: dict
    source: Path  # the FASTQ uploaded

    def uri(self, file: str = "source1") -> S3Uri:
        return file_uri(self.meta, file)


@dataclass
class SmallStore(StoreAccess):
    read_sets: list[SmallReadSet]

    def folder(self, i: int) -> str:
        """`<account>/sequenceStore/<id>/readSet/<readSetId>/` of read set i."""
        return f"{self.prefix}readSet/{self.read_sets[i].id}/"


_SEEDS = itertools.count(1)


def small_store(rs_env, workdir: Path, specs: list[dict], **store_kwargs) -> SmallStore:
    """A new sequence store of the `uploaded` account with one tiny FASTQ read set per spec
    (CreateMultipartReadSetUpload keyword arguments: tags, subjectId, sampleId...)."""
    client = rs_env.client
    store_id = rs_env.new_store("MD5up", **store_kwargs)
    uri, ap_arn = store_access(client, store_id)
    assert uri.key == f"{rs_env.account}/sequenceStore/{store_id}/", uri
    read_sets = []
    for spec in specs:
        seed = next(_SEEDS)
        path = tiny_fastq(workdir / f"tiny-{seed}.fastq", seed)
        _, rs_id, _, _ = upload_read_set(client, store_id, "FASTQ", [path], f"tiny-{seed}", **spec)
        meta = wait_read_set(client, store_id, rs_id)
        assert meta["status"] == "ACTIVE", meta
        read_sets.append(SmallReadSet(rs_id, meta, path))
    return SmallStore(store_id, uri, ap_arn, read_sets)


def s3_read(s3, store: SmallStore, i: int, file: str = "source1") -> bytes:
    u = store.read_sets[i].uri(file)
    return s3.get_object(Bucket=u.bucket, Key=u.key)["Body"].read()


def check_tiny(body: bytes, rs: SmallReadSet) -> None:
    assert gzip.decompress(body) == rs.source.read_bytes(), f"read set {rs.id}: S3 bytes are not the upload"


@pytest.fixture(scope="module")
def account_b(server):
    """A second account (id, keys, omics client): not the owner of anything it reads."""
    account = new_account_id()
    keys, _ = server.create_keys(account)
    return account, keys, server.client(keys)


@pytest.fixture(scope="module")
def account_c(server):
    account = new_account_id()
    keys, _ = server.create_keys(account)
    return account, keys


def as_list(value) -> list:
    return [value] if isinstance(value, str) else list(value)


def root_arn(account: str) -> str:
    return f"arn:aws:iam::{account}:root"


def owner_statements(account: str, ap_arn: str, prefix: str) -> list[dict]:
    """What a user keeps of the default policy: the owner account reads and lists the store."""
    return [
        statement("Allow", {"AWS": root_arn(account)}, ["s3:GetObject", "s3:GetObjectTagging"],
                  objects_arn(ap_arn, prefix), sid="OwnerRead"),
        statement("Allow", {"AWS": root_arn(account)}, "s3:ListBucket", ap_arn,
                  {"StringLike": {"s3:prefix": f"{prefix}*"}}, sid="OwnerList"),
    ]


# ---------------------------------------------------------------------------------------
# 1. samtools / htslib over S3
# ---------------------------------------------------------------------------------------

ALIGNED = [("MD5up", "bam"), ("SHA256up", "cram30"), ("MD5up", "cram31")]


@pytest.mark.parametrize("key", ALIGNED, ids=[f"{f}-{c}" for f, c in ALIGNED])
def test_samtools_reads_regions_over_s3(server, rs_env, uploaded, owner_keys, key, tmp_path):
    u = uploaded[key]
    files = u.meta["files"]
    src = u.source
    ref = ["--reference", str(src.reference)] if src.reference is not None else []
    obj = file_uri(u.meta, "source1")
    index_obj = file_uri(u.meta, "index")
    assert obj.bucket == rs_env.aliases[u.store_id]
    # The local oracle: the file GetReadSet returns, indexed here by `samtools index`.
    local_dir = tmp_path / "local"
    local_dir.mkdir()
    local = download(rs_env.client, u.store_id, u.read_set_id, "SOURCE1", files["source1"], local_dir / obj.name)
    samtools = require_tool("samtools")
    local_env = clean_env(**HTS_ENV)
    run_tool([samtools, "index", local], env=local_env)
    original = indexed_original(src.paths[0])
    # S3 reads run in a fresh directory: htslib downloads the index into the working directory.
    s3_dir = tmp_path / "s3"
    s3_dir.mkdir()
    env = hts_env(server, owner_keys)

    def over_s3(*args) -> bytes:
        return run_tool([samtools, *args], env=env, cwd=s3_dir).stdout

    header_s3 = over_s3("view", "-H", "--no-PG", *ref, obj.hts_url)
    header_local = run_tool([samtools, "view", "-H", "--no-PG", *ref, local], env=local_env).stdout
    assert header_s3 == header_local, f"{u.case}: header over S3 differs from the GetReadSet download"
    assert header_s3.splitlines()[-1].startswith(b"@CO\tHealthOmics sequence store"), header_s3[-200:]

    whole = over_s3("view", *ref, obj.hts_url)
    assert whole == run_tool([samtools, "view", *ref, local], env=local_env).stdout, (
        f"{u.case}: every record, read from start to end over S3, differs from the local copy")

    total = 0
    for region in REGIONS:
        got = over_s3("view", *ref, obj.hts_url, region)
        want = run_tool([samtools, "view", *ref, local, region], env=local_env).stdout
        orig = run_tool([samtools, "view", *ref, original, region], env=local_env).stdout
        assert want == orig, f"{u.case} {region}: the GetReadSet download and the original disagree"
        if got != want:
            a, b = got.decode().splitlines(), want.decode().splitlines()
            pytest.fail(f"{u.case}: `samtools view s3+http://… {region}` gave {len(a)} records, the local "
                        f"indexed copy {len(b)}; first over S3: {a[:1]}, first local: {b[:1]}")
        total += len(got.splitlines())
    assert total > 100, f"{u.case}: the regions {REGIONS} selected only {total} records: a weak comparison"

    # htslib fetched the store's own index (KEY.bai / KEY.crai) into the working directory.
    fetched = s3_dir / index_obj.name
    left = sorted(p.name for p in s3_dir.iterdir())
    assert fetched.is_file(), f"htslib left no {index_obj.name} in its working directory: {left}"
    stored_index = download(rs_env.client, u.store_id, u.read_set_id, "INDEX", files["index"],
                            tmp_path / f"stored-{index_obj.name}")
    assert fetched.read_bytes() == stored_index.read_bytes(), "the index htslib read is not the stored index"

    idx_s3 = over_s3("idxstats", obj.hts_url)
    idx_local = run_tool([samtools, "idxstats", local], env=local_env).stdout
    assert idx_s3 == idx_local, f"{u.case}: idxstats over S3\n{idx_s3.decode()}\nlocal\n{idx_local.decode()}"
    assert len(idx_local.splitlines()) == 4  # chr1-3 and '*'


def test_samtools_over_s3_without_access_fails(server, uploaded, owner_keys, account_c, tmp_path):
    """The same URL read with the key of an account the default policy does not name."""
    u = uploaded[("MD5up", "bam")]
    obj = file_uri(u.meta, "source1")
    _, keys = account_c
    res = run_tool([require_tool("samtools"), "view", "-c", obj.hts_url], env=hts_env(server, keys), cwd=tmp_path,
                   check=False)
    assert res.returncode != 0, f"samtools read {obj.key} with another account's key: {res.stdout!r}"
    # htslib maps HTTP 403 to EACCES.
    assert b"Permission denied" in res.stderr, res.stderr.decode(errors="replace")
    assert not any(tmp_path.iterdir()), "htslib downloaded something it may not read"
    # The owner's key opens the same URL from the same place.
    env = hts_env(server, owner_keys)
    res = run_tool([require_tool("samtools"), "view", "-c", obj.hts_url], env=env, cwd=tmp_path)
    want = run_tool([require_tool("samtools"), "view", "-c", u.source.paths[0]], env=env)
    assert res.stdout == want.stdout and int(want.stdout) > 0


# ---------------------------------------------------------------------------------------
# 2. boto3 `s3`
# ---------------------------------------------------------------------------------------


def test_list_objects_v2_lists_every_readable_file(owner_s3, listed):
    resp = owner_s3.list_objects_v2(Bucket=listed.bucket, Prefix=listed.prefix)
    assert resp["IsTruncated"] is False
    contents = resp.get("Contents", [])
    keys = [o["Key"] for o in contents]
    assert keys == listed.keys(), (
        f"listed {len(keys)} objects, the store has {len(listed.objects)} readable files\n"
        f"missing: {sorted(set(listed.objects) - set(keys))}\nextra: {sorted(set(keys) - set(listed.objects))}"
    )
    assert resp["KeyCount"] == len(keys)
    for o in contents:
        want = listed.objects[o["Key"]]
        assert o["Size"] == want.size, f"{o['Key']}: Size {o['Size']}, contentLength {want.size}"
        assert o["ETag"] == f'"{want.md5}"', f"{o['Key']}: ETag {o['ETag']}, md5 of the bytes {want.md5}"
    for rs_id in listed.unreadable:
        assert not any(f"/readSet/{rs_id}/" in k for k in keys), f"read set {rs_id} (not ACTIVE) is listed"
    # ListObjects (v1) says the same.
    v1 = owner_s3.list_objects(Bucket=listed.bucket, Prefix=listed.prefix)
    assert [(o["Key"], o["Size"], o["ETag"]) for o in v1["Contents"]] == [
        (o["Key"], o["Size"], o["ETag"]) for o in contents]


def test_list_objects_pages(owner_s3, listed):
    keys, token, pages = [], None, 0
    while True:
        kwargs = {"ContinuationToken": token} if token else {}
        page = owner_s3.list_objects_v2(Bucket=listed.bucket, Prefix=listed.prefix, MaxKeys=1, **kwargs)
        pages += 1
        assert page["KeyCount"] == len(page.get("Contents", [])) == 1, page.get("Contents")
        assert page["MaxKeys"] == 1
        keys += [o["Key"] for o in page["Contents"]]
        if not page["IsTruncated"]:
            assert "NextContinuationToken" not in page
            break
        token = page["NextContinuationToken"]
        assert token
        assert pages <= len(listed.objects), "more pages than objects"
    assert keys == listed.keys(), "MaxKeys=1 pages must give every key once, in order"
    # v1: Marker paging through boto3's paginator.
    got = [o["Key"] for p in owner_s3.get_paginator("list_objects").paginate(
        Bucket=listed.bucket, Prefix=listed.prefix, PaginationConfig={"PageSize": 2}) for o in p.get("Contents", [])]
    assert got == listed.keys()
    # StartAfter skips what sorts before it.
    after = listed.keys()[2]
    got = [o["Key"] for o in owner_s3.list_objects_v2(Bucket=listed.bucket, Prefix=listed.prefix,
                                                     StartAfter=after).get("Contents", [])]
    assert got == listed.keys()[3:]


def test_list_objects_with_delimiter(owner_s3, listed):
    top = owner_s3.list_objects_v2(Bucket=listed.bucket, Prefix=listed.prefix, Delimiter="/")
    assert "Contents" not in top, top.get("Contents")
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == [listed.prefix + "readSet/"]
    folders = owner_s3.list_objects_v2(Bucket=listed.bucket, Prefix=listed.prefix + "readSet/", Delimiter="/")
    want = sorted({f"{listed.prefix}readSet/{o.read_set_id}/" for o in listed.objects.values()})
    assert [p["Prefix"] for p in folders["CommonPrefixes"]] == want
    assert "Contents" not in folders
    # One read set folder: its files.
    some = next(iter(listed.objects.values()))
    inside = owner_s3.list_objects_v2(Bucket=listed.bucket, Prefix=f"{listed.prefix}readSet/{some.read_set_id}/",
                                      Delimiter="/")
    assert [o["Key"] for o in inside["Contents"]] == sorted(
        k for k, o in listed.objects.items() if o.read_set_id == some.read_set_id)
    # Paged common prefixes: every folder once.
    got = [p["Prefix"] for page in owner_s3.get_paginator("list_objects_v2").paginate(
        Bucket=listed.bucket, Prefix=listed.prefix + "readSet/", Delimiter="/", PaginationConfig={"PageSize": 2})
        for p in page.get("CommonPrefixes", [])]
    assert got == want
    got = [p["Prefix"] for page in owner_s3.get_paginator("list_objects").paginate(
        Bucket=listed.bucket, Prefix=listed.prefix + "readSet/", Delimiter="/", PaginationConfig={"PageSize": 2})
        for p in page.get("CommonPrefixes", [])]
    assert got == want, "ListObjects (v1) paged by NextMarker"
    # Prefixes that end inside a read set id or a file name, and StartAfter inside a folder.
    for obj in listed.objects.values():
        for prefix in (f"{listed.prefix}readSet/{obj.read_set_id[:4]}", obj.uri.key[:-3]):
            got = [o["Key"] for o in list_all(owner_s3, listed.bucket, prefix)]
            assert got == [k for k in listed.keys() if k.startswith(prefix)], prefix
    first = listed.keys()[0]
    got = [o["Key"] for o in list_all(owner_s3, listed.bucket, listed.prefix, StartAfter=first[:-1])]
    assert got == listed.keys()


def test_listing_a_store_of_many_read_sets(server, rs_env, owner_keys, tmp_path):
    """More read sets than one catalog page: every key once, in order, with and without paging."""
    client = rs_env.client
    store_id = rs_env.new_store()
    uri, _ = store_access(client, store_id)
    paths = [tiny_fastq(tmp_path / f"many-{i}.fastq", 1000 + i) for i in range(MANY_READ_SETS)]

    def one(i):
        _, rs_id, _, _ = upload_read_set(client, store_id, "FASTQ", [paths[i]], f"many-{i}")
        return rs_id

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        ids = list(pool.map(one, range(MANY_READ_SETS)))
    want = sorted(file_uri(wait_read_set(client, store_id, rs_id), "source1").key for rs_id in ids)
    s3 = s3_client(server, owner_keys)
    whole = s3.list_objects_v2(Bucket=uri.bucket, Prefix=uri.key)
    assert [o["Key"] for o in whole["Contents"]] == want
    for size in (7, 100):
        assert [o["Key"] for o in list_all(s3, uri.bucket, uri.key, PaginationConfig={"PageSize": size})] == want
    folders = [p["Prefix"] for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=uri.bucket, Prefix=uri.key + "readSet/", Delimiter="/", PaginationConfig={"PageSize": 30})
        for p in page.get("CommonPrefixes", [])]
    assert folders == sorted(f"{uri.key}readSet/{rs_id}/" for rs_id in ids)


def test_list_objects_url_encoding(server, owner_keys, owner_s3, listed):
    resp = owner_s3.list_objects_v2(Bucket=listed.bucket, Prefix=listed.prefix, EncodingType="url")
    assert [o["Key"] for o in resp["Contents"]] == listed.keys()
    query = urllib.parse.urlencode({"list-type": "2", "prefix": listed.prefix, "encoding-type": "url"},
                                   quote_via=urllib.parse.quote)
    raw = raw_s3(server, "GET", f"/{listed.bucket}?{query}", keys=owner_keys)
    assert raw.status == 200, raw.data[:500]
    assert b"<EncodingType>url</EncodingType>" in raw.data, raw.data[:500]
    keys = [urllib.parse.unquote(k) for k in re.findall(r"<Key>([^<]*)</Key>", raw.data.decode())]
    assert keys == listed.keys()


def test_head_object(owner_s3, listed):
    for key, obj in listed.objects.items():
        head = owner_s3.head_object(Bucket=listed.bucket, Key=key)
        assert head["ContentLength"] == obj.size, key
        assert head["ETag"] == f'"{obj.md5}"', key
        assert head["AcceptRanges"] == "bytes"


def test_get_object_bytes_and_etag(owner_s3, listed):
    for key, obj in listed.objects.items():
        resp = owner_s3.get_object(Bucket=listed.bucket, Key=key)
        body = resp["Body"].read()
        assert body == obj.data(), f"{key}: GetObject bytes differ from GetReadSet"
        assert resp["ETag"] == f'"{md5_hex(body)}"'
        assert resp["ContentLength"] == obj.size


def test_download_file_with_transfer_manager(server, owner_keys, listed, tmp_path):
    """s3transfer: HEAD, then concurrent ranged GETs of 64 KiB chunks."""
    s3 = s3_client(server, owner_keys)
    biggest = max(listed.objects.values(), key=lambda o: o.size)
    chunk = 64 * 1024
    assert biggest.size > 3 * chunk, f"the biggest object has {biggest.size} bytes: no multipart download"
    ranges = []
    s3.meta.events.register("before-call.s3.GetObject",
                            lambda params, **kw: ranges.append(params.get("headers", {}).get("Range")))
    config = boto3.s3.transfer.TransferConfig(multipart_threshold=chunk, multipart_chunksize=chunk, max_concurrency=4)
    for obj in (biggest, min(listed.objects.values(), key=lambda o: o.size)):
        dest = tmp_path / obj.uri.name
        s3.download_file(listed.bucket, obj.uri.key, str(dest), Config=config)
        assert dest.read_bytes() == obj.data(), f"{obj.uri.key}: download_file bytes differ from GetReadSet"
        assert md5_hex(dest.read_bytes()) == obj.md5
    assert len([r for r in ranges if r]) >= 3, f"no ranged GETs: {ranges}"


def test_get_object_ranges_and_conditions(owner_s3, listed):
    obj = max(listed.objects.values(), key=lambda o: o.size)
    data, size, key = obj.data(), obj.size, obj.uri.key
    for header, lo, hi in [("bytes=0-0", 0, 0), ("bytes=100-1099", 100, 1099),
                           (f"bytes={size - 28}-", size - 28, size - 1),  # htslib's BGZF EOF check
                           ("bytes=-500", size - 500, size - 1),
                           (f"bytes={size - 10}-{size + 100}", size - 10, size - 1)]:
        resp = owner_s3.get_object(Bucket=listed.bucket, Key=key, Range=header)
        assert resp["ResponseMetadata"]["HTTPStatusCode"] == 206, header
        assert resp["ContentRange"] == f"bytes {lo}-{hi}/{size}", header
        assert resp["Body"].read() == data[lo:hi + 1], header
    with raises_s3("InvalidRange", 416):
        owner_s3.get_object(Bucket=listed.bucket, Key=key, Range=f"bytes={size}-")
    etag = f'"{obj.md5}"'
    assert owner_s3.get_object(Bucket=listed.bucket, Key=key, IfMatch=etag)["Body"].read() == data
    with raises_s3("PreconditionFailed", 412):
        owner_s3.get_object(Bucket=listed.bucket, Key=key, IfMatch='"0123456789abcdef0123456789abcdef"')
    with raises_s3("304", 304):
        owner_s3.get_object(Bucket=listed.bucket, Key=key, IfNoneMatch=etag)
    modified = owner_s3.head_object(Bucket=listed.bucket, Key=key)["LastModified"]
    with raises_s3("304", 304):
        owner_s3.get_object(Bucket=listed.bucket, Key=key, IfModifiedSince=modified + dt.timedelta(seconds=1))
    with raises_s3("PreconditionFailed", 412):
        owner_s3.get_object(Bucket=listed.bucket, Key=key, IfUnmodifiedSince=modified - dt.timedelta(days=1))
    assert owner_s3.get_object(Bucket=listed.bucket, Key=key,
                               IfModifiedSince=modified - dt.timedelta(days=1))["Body"].read() == data


def curl(*args, cwd: Path) -> subprocess.CompletedProcess:
    """Plain curl (no ~/.curlrc): no AWS credentials anywhere in its environment."""
    return run_tool([require_tool("curl"), "-q", "-sS", *args], env=clean_env(), cwd=cwd)


def test_presigned_url_with_curl(owner_s3, listed, tmp_path):
    obj = next(o for o in listed.objects.values() if o.file == "source1")
    url = owner_s3.generate_presigned_url("get_object", Params={"Bucket": listed.bucket, "Key": obj.uri.key},
                                          ExpiresIn=300)
    res = curl("-o", "out", "-w", "%{http_code}", url, cwd=tmp_path)
    assert res.stdout == b"200", res.stdout
    assert (tmp_path / "out").read_bytes() == obj.data()
    res = curl("-o", "part", "-w", "%{http_code}", "-r", "10-109", url, cwd=tmp_path)
    assert res.stdout == b"206"
    assert (tmp_path / "part").read_bytes() == obj.data()[10:110]
    # The same URL without its signature: refused.
    bare = url.split("?", 1)[0]
    res = curl("-o", "denied", "-w", "%{http_code}", bare, cwd=tmp_path)
    assert res.stdout == b"403", res.stdout
    assert xml_code((tmp_path / "denied").read_bytes()) == "AccessDenied"


def test_expired_presigned_url(owner_s3, listed, tmp_path):
    obj = next(iter(listed.objects.values()))
    url = owner_s3.generate_presigned_url("get_object", Params={"Bucket": listed.bucket, "Key": obj.uri.key},
                                          ExpiresIn=1)
    time.sleep(2.2)
    res = curl("-o", "body", "-w", "%{http_code}", url, cwd=tmp_path)
    body = (tmp_path / "body").read_bytes()
    assert res.stdout == b"403", (res.stdout, body[:300])
    assert b"<Code>AccessDenied</Code>" in body, body[:300]


def test_bad_credentials(server, owner_keys, listed):
    obj = next(iter(listed.objects.values()))
    wrong = s3_client(server, Keys(owner_keys.access_key_id, owner_keys.secret_access_key[::-1]))
    with raises_s3("SignatureDoesNotMatch", 403):
        wrong.get_object(Bucket=listed.bucket, Key=obj.uri.key)
    with raises_s3("SignatureDoesNotMatch", 403):
        wrong.list_objects_v2(Bucket=listed.bucket, Prefix=listed.prefix)
    unknown = s3_client(server, Keys("AKIAIOSFODNN7EXAMPLE", owner_keys.secret_access_key))
    with raises_s3("InvalidAccessKeyId", 403):
        unknown.get_object(Bucket=listed.bucket, Key=obj.uri.key)
    anonymous = s3_client(server, owner_keys, signature_version=botocore.UNSIGNED)
    with raises_s3("AccessDenied", 403):
        anonymous.get_object(Bucket=listed.bucket, Key=obj.uri.key)


def test_missing_keys_and_buckets(server, owner_keys, owner_s3, listed):
    bam = next(o for o in listed.objects.values() if o.uri.key.endswith(".bam") and o.file == "source1")
    for missing in (bam.uri.key + ".csi", bam.uri.key[:-len(".bam")] + ".csi",
                    f"{listed.prefix}readSet/{bam.read_set_id}/nothing.bam",
                    f"{listed.prefix}readSet/9999999999/x.bam", f"{listed.prefix}elsewhere"):
        with raises_s3("NoSuchKey", 404, missing):
            owner_s3.get_object(Bucket=listed.bucket, Key=missing)
        with raises_s3("404", 404, missing):
            owner_s3.head_object(Bucket=listed.bucket, Key=missing)
    # What htslib sends when it probes for a .csi: a signed GET, open-ended range.
    for probe in (bam.uri.key + ".csi", bam.uri.key[:-len(".bam")] + ".csi"):
        resp = raw_s3(server, "GET", f"/{listed.bucket}/{quote_key(probe)}", keys=owner_keys,
                      headers={"Range": "bytes=0-"})
        assert resp.status == 404, (probe, resp.status, resp.data[:300])
        assert xml_code(resp.data) == "NoSuchKey", resp.data[:300]
    # An unknown access point answers as another account's store does (no probing for stores).
    nobucket = "nothere-" + listed.bucket[8:]
    with raises_s3("AccessDenied", 403):
        owner_s3.get_object(Bucket=nobucket, Key=bam.uri.key)
    with raises_s3("AccessDenied", 403):
        owner_s3.list_objects_v2(Bucket=nobucket, Prefix=listed.prefix)
    with raises_s3("403", 403):
        owner_s3.head_bucket(Bucket=nobucket)
    with raises_s3("AccessDenied", 403):
        owner_s3.get_object(Bucket="no-such-bucket", Key=bam.uri.key)


def test_keys_of_another_store(owner_s3, listed, uploaded):
    """A key is only served through the access point of its own store. Outside the store prefix
    the access point policy grants nothing, so the answer is AccessDenied (authorization comes
    before lookup, as on AWS), not the other store's bytes."""
    other = file_uri(uploaded[("MD5up", "bam")].meta, "source1")
    assert other.bucket != listed.bucket
    assert owner_s3.head_object(Bucket=other.bucket, Key=other.key)["ContentLength"] > 0
    with raises_s3("AccessDenied", 403):
        owner_s3.get_object(Bucket=listed.bucket, Key=other.key)
    mine = next(iter(listed.objects.values()))
    with raises_s3("AccessDenied", 403):
        owner_s3.get_object(Bucket=other.bucket, Key=mine.uri.key)
    with raises_s3("AccessDenied", 403):
        owner_s3.list_objects_v2(Bucket=listed.bucket, Prefix=other.key.rsplit("/", 1)[0] + "/")


def test_deleted_store_is_no_bucket(server, rs_env, owner_keys):
    store_id = rs_env.new_store()
    uri, _ = store_access(rs_env.client, store_id)
    s3 = s3_client(server, owner_keys)
    assert s3.list_objects_v2(Bucket=uri.bucket, Prefix=uri.key)["KeyCount"] == 0
    rs_env.client.delete_sequence_store(id=store_id)
    with raises_s3("AccessDenied", 403):
        s3.list_objects_v2(Bucket=uri.bucket, Prefix=uri.key)
    with raises_s3("AccessDenied", 403):
        s3.get_object(Bucket=uri.bucket, Key=f"{uri.key}readSet/1234567890/x.bam")


def test_writes_are_refused(owner_s3, listed):
    obj = next(iter(listed.objects.values()))
    b, k = listed.bucket, obj.uri.key
    for what, call in [
        ("PutObject new", lambda: owner_s3.put_object(Bucket=b, Key=listed.prefix + "new.txt", Body=b"x")),
        ("PutObject over", lambda: owner_s3.put_object(Bucket=b, Key=k, Body=b"overwritten")),
        ("DeleteObject", lambda: owner_s3.delete_object(Bucket=b, Key=k)),
        ("CopyObject", lambda: owner_s3.copy_object(Bucket=b, Key=k + ".copy", CopySource={"Bucket": b, "Key": k})),
        ("CreateMultipartUpload", lambda: owner_s3.create_multipart_upload(Bucket=b, Key=listed.prefix + "mp")),
    ]:
        with raises_s3("AccessDenied", 403, what):
            call()
    assert owner_s3.get_object(Bucket=b, Key=k)["Body"].read() == obj.data(), "a refused write changed the object"
    keys = [o["Key"] for o in list_all(owner_s3, b, listed.prefix)]
    assert keys == listed.keys()


def test_access_point_arn_as_bucket(server, owner_keys, owner_s3, listed):
    obj = next(o for o in listed.objects.values() if o.file == "source1")
    # Path style: /<access point ARN>/<key>, signed like any request.
    resp = raw_s3(server, "GET", f"/{listed.ap_arn}/{quote_key(obj.uri.key)}", keys=owner_keys)
    assert resp.status == 200, resp.data[:300]
    assert resp.data == obj.data()
    assert resp.headers["ETag"] == f'"{obj.md5}"'
    # boto3 turns an access point ARN into the virtual host `<name>-<account>.<endpoint host>`;
    # with the endpoint named `localhost` (s3_base_domain) and the server as HTTP proxy that host
    # needs no DNS.
    vh = s3_client(server, owner_keys, addressing_style="virtual", proxy=True,
                   endpoint=f"http://localhost:{server.s3_port}")
    assert vh.get_object(Bucket=listed.ap_arn, Key=obj.uri.key)["Body"].read() == obj.data()
    # Virtual-hosted style with the alias: Host: ALIAS.localhost:PORT.
    assert vh.get_object(Bucket=listed.bucket, Key=obj.uri.key)["Body"].read() == obj.data()
    got = [o["Key"] for o in vh.list_objects_v2(Bucket=listed.bucket, Prefix=listed.prefix)["Contents"]]
    assert got == listed.keys()


def test_imported_read_sets_are_objects(server, rs_env, owner_keys, tmp_path):
    """Read sets made by an import job (another write path) have their objects and MD5 ETags too."""
    client = rs_env.client
    store_id = rs_env.new_store("SHA256up")
    uri, _ = store_access(client, store_id)
    items = []
    for case in ("fastq_gzip", "bam"):
        src = rs_env.files[case]
        item = {"sourceFiles": {f"source{i + 1}": src.s3_uri(i) for i in range(len(src.paths))},
                "sourceFileType": src.file_type, "subjectId": f"imp-{case}", "sampleId": "imp", "name": f"imp {case}"}
        if src.needs_reference:
            item["referenceArn"] = rs_env.refs["main"]
        items.append(item)
    job = client.start_read_set_import_job(sequenceStoreId=store_id, roleArn=RS_ROLE_ARN, sources=items)
    client.get_waiter("read_set_import_job_completed").wait(
        sequenceStoreId=store_id, id=job["id"], WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    done = client.get_read_set_import_job(sequenceStoreId=store_id, id=job["id"])
    assert done["status"] == "COMPLETED", done
    for item in done["sources"]:
        wait_read_set(client, store_id, item["readSetId"])
    want, _ = readable_objects(client, store_id, tmp_path)
    assert len(want) == 4, sorted(want)  # R1, R2, BAM, BAI
    s3 = s3_client(server, owner_keys)
    listing = s3.list_objects_v2(Bucket=uri.bucket, Prefix=uri.key)["Contents"]
    assert {o["Key"]: (o["Size"], o["ETag"]) for o in listing} == {
        k: (o.size, f'"{o.md5}"') for k, o in want.items()}
    for key, obj in want.items():
        assert s3.get_object(Bucket=uri.bucket, Key=key)["Body"].read() == obj.data(), key


def test_object_tags_of_uploaded_read_set(owner_s3, uploaded):
    u = uploaded[("MD5up", "bam")]
    for file in ("source1", "index"):
        obj = file_uri(u.meta, file)
        tags = {t["Key"]: t["Value"] for t in owner_s3.get_object_tagging(Bucket=obj.bucket, Key=obj.key)["TagSet"]}
        assert tags == {"omics:subjectId": u.request["subjectId"], "omics:sampleId": u.request["sampleId"],
                        "omics:readSetStatus": "ACTIVE"}, f"{file}: {tags}"


# ---------------------------------------------------------------------------------------
# 3. References
# ---------------------------------------------------------------------------------------


def whole_reference_file(client, store_id: str, ref_id: str, file: str, info: dict) -> bytes:
    return b"".join(get_part(client, store_id, ref_id, n, file)[0] for n in range(1, info["totalParts"] + 1))


def test_reference_objects(server, rs_env, owner_s3, account_c, read_set_files, tmp_path):
    client, store_id, ref_id = rs_env.client, rs_env.reference_store_id, rs_env.ref_ids["main"]
    meta = client.get_reference_metadata(referenceStoreId=store_id, id=ref_id)
    src, idx = file_uri(meta, "source"), file_uri(meta, "index")
    folder = f"{rs_env.account}/referenceStore/{store_id}/reference/{ref_id}/"
    assert src.bucket == idx.bucket
    assert src.key.startswith(folder) and "/" not in src.key[len(folder):], src.key
    assert idx.key == src.key + ".fai"

    listed = owner_s3.list_objects_v2(Bucket=src.bucket, Prefix=folder)["Contents"]
    assert [o["Key"] for o in listed] == [src.key, idx.key]
    sizes = {o["Key"]: o["Size"] for o in listed}
    etags = {o["Key"]: o["ETag"] for o in listed}
    fai = samtools_faidx(read_set_files.reference, tmp_path / "faidx")
    for obj, file, info in ((src, "SOURCE", meta["files"]["source"]), (idx, "INDEX", meta["files"]["index"])):
        want = whole_reference_file(client, store_id, ref_id, file, info)
        assert len(want) == info["contentLength"] == sizes[obj.key], obj.key
        assert etags[obj.key] == f'"{md5_hex(want)}"', obj.key
        head = owner_s3.head_object(Bucket=obj.bucket, Key=obj.key)
        assert head["ContentLength"] == len(want) and head["ETag"] == etags[obj.key]
        got = owner_s3.get_object(Bucket=obj.bucket, Key=obj.key)["Body"].read()
        assert got == want, f"{obj.key}: S3 bytes differ from GetReference"
        assert owner_s3.get_object_tagging(Bucket=obj.bucket, Key=obj.key)["TagSet"] == []
    assert owner_s3.get_object(Bucket=idx.bucket, Key=idx.key)["Body"].read() == fai, ".fai differs from samtools faidx"
    # The default policy of the reference store names its owner only.
    stranger = s3_client(server, account_c[1])
    with raises_s3("AccessDenied", 403):
        stranger.get_object(Bucket=idx.bucket, Key=idx.key)
    with raises_s3("AccessDenied", 403):
        stranger.list_objects_v2(Bucket=src.bucket, Prefix=folder)
    # The whole store: every reference as a pair (FASTA, FASTA.fai).
    store_prefix = f"{rs_env.account}/referenceStore/{store_id}/"
    keys = [o["Key"] for o in list_all(owner_s3, src.bucket, store_prefix)]
    assert src.key in keys and idx.key in keys
    assert len(keys) % 2 == 0 and all(b == a + ".fai" for a, b in zip(keys[::2], keys[1::2])), keys


def test_samtools_faidx_over_s3(server, rs_env, owner_keys, read_set_files, tmp_path):
    """samtools faidx reads a region of the stored reference through its stored .fai."""
    meta = rs_env.client.get_reference_metadata(referenceStoreId=rs_env.reference_store_id,
                                                id=rs_env.ref_ids["main"])
    src = file_uri(meta, "source")
    samtools = require_tool("samtools")
    env = hts_env(server, owner_keys)
    got = run_tool([samtools, "faidx", src.hts_url, "chr2:100-260", "chr3:1-70"], env=env, cwd=tmp_path).stdout
    local = tmp_path / "local.fa"
    shutil.copyfile(read_set_files.reference, local)
    want = run_tool([samtools, "faidx", local, "chr2:100-260", "chr3:1-70"], env=clean_env(**HTS_ENV)).stdout
    assert got == want and want.count(b">") == 2


# ---------------------------------------------------------------------------------------
# 4. The AWS CLI
# ---------------------------------------------------------------------------------------


def test_aws_cli_ls_and_cp(aws_cli, server, rs_env, owner_keys, listed, tmp_path):
    exports = server.exports()
    assert exports.get("AWS_ENDPOINT_URL_S3") == f"http://127.0.0.1:{server.s3_port}", exports
    profile = f"seqstore-{rs_env.account}"
    creds = credentials_file(tmp_path / "credentials", profile, owner_keys)
    env = aws_cli.env(AWS_SHARED_CREDENTIALS_FILE=str(creds), AWS_PROFILE=profile)
    out = aws_cli.run("s3", "ls", f"s3://{listed.bucket}/{listed.prefix}", "--recursive", env=env).stdout
    rows = {}
    for line in out.splitlines():
        m = re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\s+(\d+) (.+)", line.strip())
        assert m, f"unexpected `aws s3 ls` line {line!r}"
        rows[m.group(2)] = int(m.group(1))
    assert rows == {k: o.size for k, o in listed.objects.items()}
    obj = max(listed.objects.values(), key=lambda o: o.size)
    dest = tmp_path / "one" / obj.uri.name
    aws_cli.run("s3", "cp", f"s3://{listed.bucket}/{obj.uri.key}", str(dest), env=env)
    assert dest.read_bytes() == obj.data()
    # A whole read set folder.
    folder = f"{listed.prefix}readSet/{obj.read_set_id}/"
    aws_cli.run("s3", "cp", "--recursive", f"s3://{listed.bucket}/{folder}", str(tmp_path / "folder"), env=env)
    got = {p.name: p.read_bytes() for p in (tmp_path / "folder").iterdir()}
    want = {o.uri.name: o.data() for o in listed.objects.values() if o.read_set_id == obj.read_set_id}
    assert got == want
    # The CLI reports S3 errors as they are.
    res = aws_cli.run("s3", "cp", f"s3://{listed.bucket}/{listed.prefix}nothing", str(tmp_path / "x"),
                      env=env, check=False)
    assert res.returncode != 0 and "404" in res.stderr, res.stderr


# ---------------------------------------------------------------------------------------
# 5. rclone
# ---------------------------------------------------------------------------------------


def test_rclone_lists_and_copies(server, owner_keys, listed, tmp_path):
    # Reading needs no bucket check or HEAD tricks: rclone only creates/checks buckets when it
    # writes, and it HEADs a path only to tell a file from a directory (HeadObject works).
    env = rclone_env(server, owner_keys, tmp_path)
    remote = f"seq:{listed.bucket}/{listed.prefix}"
    rel = {k[len(listed.prefix):]: o for k, o in listed.objects.items()}
    files = rclone("lsf", "-R", "--files-only", remote, env=env).stdout.decode().split()
    assert sorted(files) == sorted(rel)
    sizes = {}
    for line in rclone("ls", remote, env=env).stdout.decode().splitlines():
        size, name = line.strip().split(None, 1)
        sizes[name] = int(size)
    assert sizes == {name: o.size for name, o in rel.items()}
    md5sum = rclone("md5sum", remote, env=env).stdout.decode()
    sums = {name: digest for digest, name in (line.split(None, 1) for line in md5sum.splitlines())}
    assert sums == {name: o.md5 for name, o in rel.items()}, "rclone md5sum (from the ETags) differs from md5"
    # copy checks every downloaded file against the ETag's MD5 and says so at -vv.
    out = tmp_path / "copy"
    res = rclone("copy", "-vv", remote, out, env=env)
    log = res.stderr.decode(errors="replace")
    assert "corrupted on transfer" not in log and " ERROR " not in log, log[-3000:]
    for name, o in rel.items():
        assert (out / name).read_bytes() == o.data(), name
        assert f"{name}: md5 = {o.md5} OK" in log, f"rclone did not confirm the MD5 of {name}:\n{log[-3000:]}"
    one = next(iter(listed.objects.values()))
    assert rclone("cat", f"seq:{listed.bucket}/{one.uri.key}", env=env).stdout == one.data()


# ---------------------------------------------------------------------------------------
# 6. Access point policies
# ---------------------------------------------------------------------------------------


def test_default_policy(server, rs_env, owner_keys, account_b, tmp_path):
    store = small_store(rs_env, tmp_path, [{}])
    a = rs_env.account
    got = rs_env.client.get_s3_access_policy(s3AccessPointArn=store.ap_arn)
    assert got["s3AccessPointArn"] == store.ap_arn
    assert got["storeId"] == store.store_id
    assert got["storeType"] == "SEQUENCE_STORE"
    assert isinstance(got["updateTime"], dt.datetime)
    doc = json.loads(got["s3AccessPolicy"])
    grants = set()
    for st in doc["Statement"]:
        assert st["Effect"] == "Allow", st
        assert all(p in (a, root_arn(a)) for p in as_list(st["Principal"]["AWS"])), st
        for action in as_list(st["Action"]):
            for resource in as_list(st["Resource"]):
                grants.add((action, resource, json.dumps(st.get("Condition"), sort_keys=True)))
    objects = objects_arn(store.ap_arn, store.prefix)
    assert grants == {
        ("s3:GetObject", objects, "null"),
        ("s3:GetObjectTagging", objects, "null"),
        ("s3:ListBucket", store.ap_arn, json.dumps({"StringLike": {"s3:prefix": f"{store.prefix}*"}}, sort_keys=True)),
    }, grants

    owner = s3_client(server, owner_keys)
    check_tiny(s3_read(owner, store, 0), store.read_sets[0])
    assert owner.get_object_tagging(Bucket=store.bucket, Key=store.read_sets[0].uri().key)["TagSet"]
    assert [o["Key"] for o in owner.list_objects_v2(Bucket=store.bucket, Prefix=store.prefix)["Contents"]] == [
        store.read_sets[0].uri().key]
    # Listing without a prefix (or outside the store) is not granted, as on AWS.
    with raises_s3("AccessDenied", 403):
        owner.list_objects_v2(Bucket=store.bucket)
    with raises_s3("AccessDenied", 403):
        owner.list_objects_v2(Bucket=store.bucket, Prefix=f"{a}/")
    with raises_s3("403", 403):  # HeadBucket is ListBucket without a prefix
        owner.head_bucket(Bucket=store.bucket)
    # A user key of the owner account is covered by the account principal.
    alice = s3_client(server, user_keys(server, a, "alice"))
    check_tiny(s3_read(alice, store, 0), store.read_sets[0])
    # Another account: nothing.
    other = s3_client(server, account_b[1])
    key = store.read_sets[0].uri().key
    with raises_s3("AccessDenied", 403):
        other.get_object(Bucket=store.bucket, Key=key)
    with raises_s3("403", 403):
        other.head_object(Bucket=store.bucket, Key=key)
    with raises_s3("AccessDenied", 403):
        other.get_object_tagging(Bucket=store.bucket, Key=key)
    with raises_s3("AccessDenied", 403):
        other.list_objects_v2(Bucket=store.bucket, Prefix=store.prefix)


def test_policy_grants_another_account_one_read_set(server, rs_env, owner_keys, account_b, tmp_path):
    store = small_store(rs_env, tmp_path, [{}, {}])
    b_account, b_keys, b_omics = account_b
    text = policy(
        *owner_statements(rs_env.account, store.ap_arn, store.prefix),
        statement("Allow", {"AWS": b_account}, "s3:GetObject", objects_arn(store.ap_arn, store.folder(0)),
                  sid="PartnerReadsOne"),
    )
    before = dt.datetime.now(dt.timezone.utc)
    put = rs_env.client.put_s3_access_policy(s3AccessPointArn=store.ap_arn, s3AccessPolicy=text)
    after = dt.datetime.now(dt.timezone.utc)
    assert (put["s3AccessPointArn"], put["storeId"], put["storeType"]) == (store.ap_arn, store.store_id,
                                                                           "SEQUENCE_STORE")
    got = rs_env.client.get_s3_access_policy(s3AccessPointArn=store.ap_arn)
    assert got["s3AccessPolicy"] == text, "GetS3AccessPolicy must return the document exactly as put"
    assert (got["storeId"], got["storeType"], got["s3AccessPointArn"]) == (store.store_id, "SEQUENCE_STORE",
                                                                           store.ap_arn)
    assert before - dt.timedelta(seconds=1) <= got["updateTime"] <= after + dt.timedelta(seconds=1), got["updateTime"]

    b = s3_client(server, b_keys)
    check_tiny(s3_read(b, store, 0), store.read_sets[0])
    assert b.head_object(Bucket=store.bucket, Key=store.read_sets[0].uri().key)["ContentLength"] == \
        store.read_sets[0].meta["files"]["source1"]["contentLength"]
    with raises_s3("AccessDenied", 403):
        s3_read(b, store, 1)
    with raises_s3("AccessDenied", 403):  # GetObject only, not GetObjectTagging
        b.get_object_tagging(Bucket=store.bucket, Key=store.read_sets[0].uri().key)
    for prefix in (store.prefix, store.folder(0)):
        with raises_s3("AccessDenied", 403):
            b.list_objects_v2(Bucket=store.bucket, Prefix=prefix)
    # The owner keeps what the policy gives it.
    owner = s3_client(server, owner_keys)
    check_tiny(s3_read(owner, store, 1), store.read_sets[1])
    # B still sees nothing of the store through the omics API.
    with raises_aws("ResourceNotFoundException", 404):
        b_omics.get_read_set_metadata(sequenceStoreId=store.store_id, id=store.read_sets[0].id)


def test_explicit_deny_for_a_user(server, rs_env, owner_keys, account_b, tmp_path):
    store = small_store(rs_env, tmp_path, [{}])
    a = rs_env.account
    alice = s3_client(server, user_keys(server, a, "alice"))
    bob = s3_client(server, user_keys(server, a, "bob"))
    root = s3_client(server, owner_keys)
    objects = objects_arn(store.ap_arn, store.prefix)
    allow_account = statement("Allow", {"AWS": a}, "s3:GetObject", objects, sid="Account")
    rs_env.client.put_s3_access_policy(s3AccessPointArn=store.ap_arn, s3AccessPolicy=policy(allow_account))
    for who in (root, alice, bob):
        check_tiny(s3_read(who, store, 0), store.read_sets[0])
    deny = statement("Deny", {"AWS": f"arn:aws:iam::{a}:user/alice"}, "s3:*", objects, sid="NotAlice")
    rs_env.client.put_s3_access_policy(s3AccessPointArn=store.ap_arn, s3AccessPolicy=policy(allow_account, deny))
    with raises_s3("AccessDenied", 403):
        s3_read(alice, store, 0)
    check_tiny(s3_read(root, store, 0), store.read_sets[0])
    check_tiny(s3_read(bob, store, 0), store.read_sets[0])
    # A user ARN names that user only: a grant to bob alone leaves the root without access.
    only_bob = statement("Allow", {"AWS": f"arn:aws:iam::{a}:user/bob"}, "s3:GetObject", objects)
    rs_env.client.put_s3_access_policy(s3AccessPointArn=store.ap_arn, s3AccessPolicy=policy(only_bob))
    check_tiny(s3_read(bob, store, 0), store.read_sets[0])
    # ... and only in its own account: a `bob` of account B is someone else.
    other_bob = s3_client(server, user_keys(server, account_b[0], "bob"))
    for who in (root, alice, other_bob):
        with raises_s3("AccessDenied", 403):
            s3_read(who, store, 0)


def test_principal_account_condition(server, rs_env, owner_keys, account_b, account_c, tmp_path):
    store = small_store(rs_env, tmp_path, [{}])
    text = policy(statement("Allow", "*", "s3:GetObject", objects_arn(store.ap_arn, store.prefix),
                            {"StringEquals": {"aws:PrincipalAccount": account_b[0]}}))
    rs_env.client.put_s3_access_policy(s3AccessPointArn=store.ap_arn, s3AccessPolicy=text)
    check_tiny(s3_read(s3_client(server, account_b[1]), store, 0), store.read_sets[0])
    for keys in (account_c[1], owner_keys):
        with raises_s3("AccessDenied", 403):
            s3_read(s3_client(server, keys), store, 0)
    # aws:PrincipalArn: one user of the owner account.
    a = rs_env.account
    carol, dave = (s3_client(server, user_keys(server, a, name)) for name in ("carol", "dave"))
    text = policy(statement("Allow", {"AWS": a}, "s3:GetObject", objects_arn(store.ap_arn, store.prefix),
                            {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{a}:user/car*"}}))
    rs_env.client.put_s3_access_policy(s3AccessPointArn=store.ap_arn, s3AccessPolicy=text)
    check_tiny(s3_read(carol, store, 0), store.read_sets[0])
    for who in (dave, s3_client(server, owner_keys)):
        with raises_s3("AccessDenied", 403):
            s3_read(who, store, 0)


def test_signature_version_condition(server, rs_env, account_b, tmp_path):
    """The usual "SigV4 only" statement: Deny when s3:signatureversion is not AWS4-HMAC-SHA256.
    The endpoint refuses SigV2 before any policy (as access points do), so the statement
    changes nothing, and a SigV4 request still passes it."""
    store = small_store(rs_env, tmp_path, [{}])
    objects = objects_arn(store.ap_arn, store.prefix)
    text = policy(statement("Allow", {"AWS": account_b[0]}, "s3:GetObject", objects),
                  statement("Deny", "*", "s3:*", objects,
                            {"StringNotEquals": {"s3:signatureversion": "AWS4-HMAC-SHA256"}}, sid="SigV4Only"))
    rs_env.client.put_s3_access_policy(s3AccessPointArn=store.ap_arn, s3AccessPolicy=text)
    check_tiny(s3_read(s3_client(server, account_b[1]), store, 0), store.read_sets[0])
    # boto3's SigV2 signer (signature_version="s3"): refused before the policy is read.
    sigv2 = s3_client(server, account_b[1], signature_version="s3")
    with raises_s3("InvalidRequest", 400):
        s3_read(sigv2, store, 0)


def test_prefix_condition(server, rs_env, account_b, tmp_path):
    store = small_store(rs_env, tmp_path, [{}, {}])
    b = s3_client(server, account_b[1])
    text = policy(statement("Allow", {"AWS": root_arn(account_b[0])}, "s3:ListBucket", store.ap_arn,
                            {"StringLike": {"s3:prefix": f"{store.folder(0)}*"}}))
    rs_env.client.put_s3_access_policy(s3AccessPointArn=store.ap_arn, s3AccessPolicy=text)
    got = b.list_objects_v2(Bucket=store.bucket, Prefix=store.folder(0))
    assert [o["Key"] for o in got["Contents"]] == [store.read_sets[0].uri().key]
    for prefix in (store.folder(1), store.prefix, None):
        with raises_s3("AccessDenied", 403):
            b.list_objects_v2(Bucket=store.bucket, **({"Prefix": prefix} if prefix is not None else {}))
    with raises_s3("AccessDenied", 403):  # listing is not reading
        s3_read(b, store, 0)
    with raises_s3("403", 403):
        b.head_bucket(Bucket=store.bucket)
    # ListBucket without a condition: any prefix, none, and HeadBucket.
    text = policy(statement("Allow", {"AWS": root_arn(account_b[0])}, "s3:ListBucket", store.ap_arn))
    rs_env.client.put_s3_access_policy(s3AccessPointArn=store.ap_arn, s3AccessPolicy=text)
    everything = sorted(rs.uri().key for rs in store.read_sets)
    assert [o["Key"] for o in b.list_objects_v2(Bucket=store.bucket)["Contents"]] == everything
    assert [o["Key"] for o in b.list_objects_v2(Bucket=store.bucket, Prefix=store.folder(1))["Contents"]] == [
        store.read_sets[1].uri().key]
    head = b.head_bucket(Bucket=store.bucket)
    assert head["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert head.get("BucketRegion") == "us-east-1"


def test_delete_policy(server, rs_env, owner_keys, tmp_path):
    store = small_store(rs_env, tmp_path, [{}])
    owner = s3_client(server, owner_keys)
    check_tiny(s3_read(owner, store, 0), store.read_sets[0])
    rs_env.client.delete_s3_access_policy(s3AccessPointArn=store.ap_arn)
    with raises_s3("AccessDenied", 403):
        s3_read(owner, store, 0)
    with raises_s3("AccessDenied", 403):
        owner.list_objects_v2(Bucket=store.bucket, Prefix=store.prefix)
    with raises_aws("ResourceNotFoundException", 404):
        rs_env.client.get_s3_access_policy(s3AccessPointArn=store.ap_arn)
    # The omics API is not affected.
    body = rs_env.client.get_read_set(sequenceStoreId=store.store_id, id=store.read_sets[0].id, partNumber=1)
    check_tiny(body["payload"].read(), store.read_sets[0])
    # A new policy opens it again.
    text = policy(*owner_statements(rs_env.account, store.ap_arn, store.prefix))
    rs_env.client.put_s3_access_policy(s3AccessPointArn=store.ap_arn, s3AccessPolicy=text)
    check_tiny(s3_read(owner, store, 0), store.read_sets[0])
    assert rs_env.client.get_s3_access_policy(s3AccessPointArn=store.ap_arn)["s3AccessPolicy"] == text


def test_policy_validation(rs_env, tmp_path):
    store = small_store(rs_env, tmp_path, [])
    a, ap, prefix = rs_env.account, store.ap_arn, store.prefix
    objects = objects_arn(ap, prefix)
    good = statement("Allow", {"AWS": a}, "s3:GetObject", objects)
    other_store = sibling_access_point_arn(ap, a, rs_env.stores["MD5up"])
    # Exactly at the limit and one byte over it (a longer Sid).
    base = statement("Allow", {"AWS": a}, "s3:GetObject", objects, sid="S")
    pad = 15360 - len(policy(base).encode())
    at_limit, big = (policy(dict(base, Sid="S" + "x" * (pad + extra))) for extra in (0, 1))
    assert (len(at_limit.encode()), len(big.encode())) == (15360, 15361)
    cases = [
        ("s3:PutObject", policy(statement("Allow", {"AWS": a}, "s3:PutObject", objects)), "s3:PutObject"),
        ("s3:DeleteObject among good actions",
         policy(statement("Allow", {"AWS": a}, ["s3:GetObject", "s3:DeleteObject"], objects)), "s3:DeleteObject"),
        ("resource of another store", policy(statement("Allow", {"AWS": a}, "s3:GetObject",
                                                       f"{ap}/object/{a}/sequenceStore/{rs_env.stores['MD5up']}/*")),
         f"{a}/sequenceStore/{rs_env.stores['MD5up']}/*"),
        ("another access point", policy(statement("Allow", {"AWS": a}, "s3:GetObject", f"{other_store}/object/*")),
         other_store),
        ("NotAction", json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": a}, "NotAction": "s3:GetObject", "Resource": objects}]}),
         "NotAction"),
        ("NotPrincipal", json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "NotPrincipal": {"AWS": a}, "Action": "s3:GetObject", "Resource": objects}]}),
         "NotPrincipal"),
        ("NotResource", json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": a}, "Action": "s3:GetObject", "NotResource": objects}]}),
         "NotResource"),
        ("unknown top-level element", json.dumps({"Version": "2012-10-17", "Comment": "mine", "Statement": [good]}),
         "Comment"),
        ("unknown statement element", policy(dict(good, Description="mine")), "Description"),
        ("unknown condition key", policy(statement("Allow", {"AWS": a}, "s3:GetObject", objects,
                                                   {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}})),
         "aws:SourceVpce"),
        ("unknown condition operator", policy(statement("Allow", {"AWS": a}, "s3:GetObject", objects,
                                                        {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})),
         "IpAddress"),
        ("15361 bytes", big, "15360"),
        ("not JSON", '{"Version": "2012-10-17", "Statement": [', "JSON"),
    ]
    for what, text, fragment in cases:
        with raises_aws("ValidationException", 400, fragment):
            rs_env.client.put_s3_access_policy(s3AccessPointArn=ap, s3AccessPolicy=text)
    # Nothing was stored: still the default policy.
    got = json.loads(rs_env.client.get_s3_access_policy(s3AccessPointArn=ap)["s3AccessPolicy"])
    actions = {a2 for st in got["Statement"] for a2 in as_list(st["Action"])}
    assert actions == {"s3:GetObject", "s3:GetObjectTagging", "s3:ListBucket"}, got
    # Wildcards that only reach the allowed actions, conditions on allowed keys: accepted.
    fine = policy(good, statement("Allow", {"AWS": [a, f"arn:aws:iam::{a}:user/alice"]}, "s3:Get*", objects,
                                  {"StringEquals": {"s3:ExistingObjectTag/project": "x", "aws:PrincipalArn":
                                                    f"arn:aws:iam::{a}:user/alice"}}),
                  statement("Deny", "*", "s3:List*", ap, {"StringNotLike": {"s3:prefix": f"{prefix}*"}}))
    for text in (at_limit, fine):
        rs_env.client.put_s3_access_policy(s3AccessPointArn=ap, s3AccessPolicy=text)
        assert rs_env.client.get_s3_access_policy(s3AccessPointArn=ap)["s3AccessPolicy"] == text


def test_policy_of_unknown_or_foreign_access_points(server, rs_env, owner_keys, account_b, tmp_path):
    store = small_store(rs_env, tmp_path, [{}])
    b_omics = account_b[2]
    unknown = sibling_access_point_arn(store.ap_arn, rs_env.account, "9" * 10)
    text = policy(statement("Allow", {"AWS": account_b[0]}, "s3:GetObject", objects_arn(store.ap_arn, store.prefix)))
    for client, arn in ((rs_env.client, unknown), (b_omics, store.ap_arn)):
        with raises_aws("ResourceNotFoundException", 404):
            client.get_s3_access_policy(s3AccessPointArn=arn)
        with raises_aws("ResourceNotFoundException", 404):
            client.put_s3_access_policy(s3AccessPointArn=arn, s3AccessPolicy=text)
        with raises_aws("ResourceNotFoundException", 404):
            client.delete_s3_access_policy(s3AccessPointArn=arn)
    # B's attempts changed nothing: the owner still reads, B still does not.
    check_tiny(s3_read(s3_client(server, owner_keys), store, 0), store.read_sets[0])
    with raises_s3("AccessDenied", 403):
        s3_read(s3_client(server, account_b[1]), store, 0)


def test_reference_store_access_point_policy(server, rs_env, tmp_path):
    # The shared reference store of `uploaded`: its default policy.
    ap = sibling_access_point_arn(store_access(rs_env.client, rs_env.stores["MD5up"])[1], rs_env.account,
                                  rs_env.reference_store_id)
    got = rs_env.client.get_s3_access_policy(s3AccessPointArn=ap)
    assert (got["s3AccessPointArn"], got["storeId"], got["storeType"]) == (ap, rs_env.reference_store_id,
                                                                           "REFERENCE_STORE")
    assert f"{rs_env.account}/referenceStore/{rs_env.reference_store_id}/" in got["s3AccessPolicy"]
    # A reference store of a new account (one per account): put, get and delete its policy.
    account = new_account_id()
    keys, _ = server.create_keys(account)
    client = server.client(keys)
    ref_store = new_reference_store(client)
    seq_store = client.create_sequence_store(name=unique("s3-ref-policy"))["id"]
    ref_ap = sibling_access_point_arn(store_access(client, seq_store)[1], account, ref_store)
    text = policy(statement("Allow", {"AWS": account}, "s3:GetObject",
                            objects_arn(ref_ap, f"{account}/referenceStore/{ref_store}/")))
    put = client.put_s3_access_policy(s3AccessPointArn=ref_ap, s3AccessPolicy=text)
    assert (put["s3AccessPointArn"], put["storeId"], put["storeType"]) == (ref_ap, ref_store, "REFERENCE_STORE")
    got = client.get_s3_access_policy(s3AccessPointArn=ref_ap)
    assert (got["s3AccessPolicy"], got["storeType"]) == (text, "REFERENCE_STORE")
    with raises_aws("ValidationException", 400, "referenceStore"):  # sequence-store resources do not fit
        client.put_s3_access_policy(s3AccessPointArn=ref_ap, s3AccessPolicy=policy(statement(
            "Allow", {"AWS": account}, "s3:GetObject", objects_arn(ref_ap, f"{account}/sequenceStore/{seq_store}/"))))
    client.delete_s3_access_policy(s3AccessPointArn=ref_ap)
    with raises_aws("ResourceNotFoundException", 404):
        client.get_s3_access_policy(s3AccessPointArn=ref_ap)


# ---------------------------------------------------------------------------------------
# 7. Object tags
# ---------------------------------------------------------------------------------------


def test_object_tags_and_tag_conditions(server, rs_env, owner_keys, account_b, tmp_path):
    store = small_store(rs_env, tmp_path, [
        dict(subjectId="subj-t1", sampleId="samp-t1", tags={"project": "alpha", "other": "kept-back"}),
        dict(subjectId="subj-t2", sampleId="samp-t2", tags={"project": "beta"}),
        dict(subjectId="subj-t3", sampleId="samp-t3"),
    ], propagatedSetLevelTags=["project"])
    owner = s3_client(server, owner_keys)

    def tags(i: int) -> dict:
        u = store.read_sets[i].uri()
        return {t["Key"]: t["Value"] for t in owner.get_object_tagging(Bucket=store.bucket, Key=u.key)["TagSet"]}

    assert tags(0) == {"omics:subjectId": "subj-t1", "omics:sampleId": "samp-t1", "omics:readSetStatus": "ACTIVE",
                       "project": "alpha"}
    assert tags(2) == {"omics:subjectId": "subj-t3", "omics:sampleId": "samp-t3", "omics:readSetStatus": "ACTIVE"}

    text = policy(statement("Allow", {"AWS": account_b[0]}, "s3:GetObject", objects_arn(store.ap_arn, store.prefix),
                            {"StringEquals": {"s3:ExistingObjectTag/project": "alpha"}}))
    rs_env.client.put_s3_access_policy(s3AccessPointArn=store.ap_arn, s3AccessPolicy=text)
    b = s3_client(server, account_b[1])
    check_tiny(s3_read(b, store, 0), store.read_sets[0])
    for i in (1, 2):
        with raises_s3("AccessDenied", 403):
            s3_read(b, store, i)
    # Tags are read when the request comes: retagging the read sets moves the access with them.
    arn = lambda i: rs_env.read_set_arn(store.store_id, store.read_sets[i].id)  # noqa: E731
    rs_env.client.tag_resource(resourceArn=arn(1), tags={"project": "alpha"})
    rs_env.client.untag_resource(resourceArn=arn(0), tagKeys=["project"])
    check_tiny(s3_read(b, store, 1), store.read_sets[1])
    with raises_s3("AccessDenied", 403):
        s3_read(b, store, 0)
    # UpdateSequenceStore changes which read set tags reach the objects.
    rs_env.client.update_sequence_store(id=store.store_id, propagatedSetLevelTags=["project", "other"])
    text = policy(*owner_statements(rs_env.account, store.ap_arn, store.prefix))
    rs_env.client.put_s3_access_policy(s3AccessPointArn=store.ap_arn, s3AccessPolicy=text)
    assert tags(0) == {"omics:subjectId": "subj-t1", "omics:sampleId": "samp-t1", "omics:readSetStatus": "ACTIVE",
                       "other": "kept-back"}
    assert tags(1)["project"] == "alpha"


# ---------------------------------------------------------------------------------------
# 8. Archived read sets, 9. deleted read sets
# ---------------------------------------------------------------------------------------


def test_archived_read_set_is_described_not_served(server, rs_env, owner_keys, tmp_path):
    store = small_store(rs_env, tmp_path, [{}, {}])
    archived, active = store.read_sets
    # seqstore has no archiving yet: no API puts a read set in ARCHIVED. This sets the catalog
    # row directly to simulate the state a future archiving feature produces.
    set_read_set_status(server, store.store_id, archived.id, "ARCHIVED")
    assert rs_env.client.get_read_set_metadata(sequenceStoreId=store.store_id, id=archived.id)["status"] == "ARCHIVED"
    owner = s3_client(server, owner_keys)
    key = archived.uri().key
    with raises_s3("InvalidObjectState", 403):
        owner.get_object(Bucket=store.bucket, Key=key)
    with raises_s3("InvalidObjectState", 403):
        owner.get_object(Bucket=store.bucket, Key=key, Range="bytes=0-9")
    size = archived.meta["files"]["source1"]["contentLength"]
    assert owner.head_object(Bucket=store.bucket, Key=key)["ContentLength"] == size
    listing = {o["Key"]: o["Size"] for o in owner.list_objects_v2(Bucket=store.bucket, Prefix=store.prefix)["Contents"]}
    assert listing == {key: size, active.uri().key: active.meta["files"]["source1"]["contentLength"]}
    tagging = {t["Key"]: t["Value"] for t in owner.get_object_tagging(Bucket=store.bucket, Key=key)["TagSet"]}
    assert tagging["omics:readSetStatus"] == "ARCHIVED"
    check_tiny(s3_read(owner, store, 1), active)


def test_deleted_read_set_disappears(server, rs_env, owner_keys, tmp_path):
    store = small_store(rs_env, tmp_path, [{}, {}])
    gone, kept = store.read_sets
    owner = s3_client(server, owner_keys)
    # A read set whose upload failed has no objects either.
    bad = tmp_path / "bad.fastq"
    bad.write_bytes(b"@b1\nACGT\n+\nII\n")
    _, failed, _, _ = upload_read_set(rs_env.client, store.store_id, "FASTQ", [bad], "failed")
    assert wait_read_set(rs_env.client, store.store_id, failed)["status"] == "UPLOAD_FAILED"
    keys = [o["Key"] for o in owner.list_objects_v2(Bucket=store.bucket, Prefix=store.prefix)["Contents"]]
    assert keys == sorted([gone.uri().key, kept.uri().key])
    check_tiny(s3_read(owner, store, 0), gone)
    resp = rs_env.client.batch_delete_read_set(sequenceStoreId=store.store_id, ids=[gone.id])
    assert not resp.get("errors"), resp
    keys = [o["Key"] for o in owner.list_objects_v2(Bucket=store.bucket, Prefix=store.prefix)["Contents"]]
    assert keys == [kept.uri().key]
    with raises_s3("NoSuchKey", 404):
        owner.get_object(Bucket=store.bucket, Key=gone.uri().key)
    with raises_s3("404", 404):
        owner.head_object(Bucket=store.bucket, Key=gone.uri().key)
    with raises_s3("NoSuchKey", 404):
        owner.get_object_tagging(Bucket=store.bucket, Key=gone.uri().key)
    check_tiny(s3_read(owner, store, 1), kept)


# ---------------------------------------------------------------------------------------
# Restarts
# ---------------------------------------------------------------------------------------


def test_objects_and_policies_survive_a_restart(server_factory, tmp_path):
    srv = server_factory.installation()
    keys = srv.root_keys()
    client = srv.client()
    store_id = client.create_sequence_store(name=unique("s3-restart"))["id"]
    uri, ap_arn = store_access(client, store_id)
    fastq = tiny_fastq(tmp_path / "restart.fastq", 4242)
    _, rs_id, _, _ = upload_read_set(client, store_id, "FASTQ", [fastq], "restart")
    obj = file_uri(wait_read_set(client, store_id, rs_id), "source1")
    reader = new_account_id()
    reader_keys, _ = srv.create_keys(reader)
    text = policy(statement("Allow", {"AWS": reader}, "s3:GetObject", objects_arn(ap_arn, uri.key)))
    client.put_s3_access_policy(s3AccessPointArn=ap_arn, s3AccessPolicy=text)
    before = s3_client(srv, keys).list_objects_v2
    with raises_s3("AccessDenied", 403):  # the owner is no longer named
        before(Bucket=uri.bucket, Prefix=uri.key)
    body = s3_client(srv, reader_keys).get_object(Bucket=uri.bucket, Key=obj.key)
    etag, data = body["ETag"], body["Body"].read()
    assert gzip.decompress(data) == fastq.read_bytes() and etag == f'"{md5_hex(data)}"'

    assert srv.stop() == 0, srv.describe_logs()
    srv.start()
    assert srv.client().get_s3_access_policy(s3AccessPointArn=ap_arn)["s3AccessPolicy"] == text
    again = s3_client(srv, reader_keys).get_object(Bucket=uri.bucket, Key=obj.key)
    assert (again["ETag"], again["Body"].read()) == (etag, data)
    with raises_s3("AccessDenied", 403):
        s3_client(srv, keys).get_object(Bucket=uri.bucket, Key=obj.key)


def test_files_stored_without_s3_etags_get_them_at_start(server_factory, read_set_files, tmp_path):
    """Files stored before S3 ETags were recorded at write time (simulated by clearing the
    columns in the catalog, as an older version left them) are hashed once when the server
    starts; until then the endpoint answers 503, never an ETag computed on the read path."""
    srv = server_factory.installation()
    client = srv.client()
    store_id = client.create_sequence_store(name=unique("s3-backfill"))["id"]
    fastq = tiny_fastq(tmp_path / "backfill.fastq", 777)
    _, rs_id, _, _ = upload_read_set(client, store_id, "FASTQ", [fastq], "backfill")
    rs_obj = file_uri(wait_read_set(client, store_id, rs_id), "source1")
    rs_data = client.get_read_set(sequenceStoreId=store_id, id=rs_id, file="SOURCE1", partNumber=1)["payload"].read()
    ref_store = new_reference_store(client)
    job = run_import(client, ref_store, [source_item(f"s3://{SOURCE_BUCKET}/read-sets/ref/ref.fa", "backfill")])
    assert job["status"] == "COMPLETED", job
    ref_id = job["sources"][0]["referenceId"]
    ref_meta = client.get_reference_metadata(referenceStoreId=ref_store, id=ref_id)
    fasta = read_set_files.reference.read_bytes()
    fai = samtools_faidx(read_set_files.reference, tmp_path)
    assert srv.stop() == 0, srv.describe_logs()
    assert len(catalog_sql(srv, f"UPDATE read_sets SET source1_s3_etag = NULL WHERE id = '{rs_id}' RETURNING id")) == 1
    assert len(catalog_sql(srv, "UPDATE genome_references SET source_s3_etag = NULL, index_s3_etag = NULL "
                                f"WHERE id = '{ref_id}' RETURNING id")) == 1

    srv.start()
    s3 = s3_client(srv, srv.root_keys())

    def head_when_ready(obj):
        deadline = time.monotonic() + 30
        while True:
            try:
                return s3.head_object(Bucket=obj.bucket, Key=obj.key)
            except botocore.exceptions.ClientError as exc:
                status = exc.response["ResponseMetadata"]["HTTPStatusCode"]
                assert status == 503 and time.monotonic() < deadline, f"backfill did not happen: {exc}"
                time.sleep(0.2)

    assert head_when_ready(rs_obj)["ETag"] == f'"{md5_hex(rs_data)}"'
    assert head_when_ready(file_uri(ref_meta, "source"))["ETag"] == f'"{md5_hex(fasta)}"'
    assert head_when_ready(file_uri(ref_meta, "index"))["ETag"] == f'"{md5_hex(fai)}"'
    assert catalog_sql(srv, f"SELECT source1_s3_etag FROM read_sets WHERE id = '{rs_id}'") == [(md5_hex(rs_data),)]
