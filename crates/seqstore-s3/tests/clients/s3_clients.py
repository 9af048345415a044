"""boto3 (botocore's s3 client) against the seqstore S3 endpoint.

Usage: python3 s3_clients.py MANIFEST CASE [CASE...]

The manifest (written by fixture.rs) names the endpoint, the credentials and every object with
a local copy of its bytes. Each case raises on the first behaviour a user would see differ.
"""

import datetime
import hashlib
import json
import socket
import sys
import time
import urllib.error
import urllib.request

import boto3
import botocore
import botocore.config
from botocore.exceptions import ClientError

M = json.load(open(sys.argv[1]))
OBJECTS = {o["key"]: o for o in M["objects"]}
BUCKET = M["bucket"]
PREFIX = M["prefix"]


def data(key):
    with open(OBJECTS[key]["path"], "rb") as f:
        return f.read()


def key(name):
    return PREFIX + name


BIG = key("readSet/1000000002/big.bin")
SMALL = key("readSet/1000000003/small.txt")
ODD = key("readSet/1000000004/a b+c \u00fc.txt")
ARCHIVED = key("readSet/1000000005/old.bam")
EMPTY = key("readSet/1000000006/empty.txt")


def client(key_id=None, secret=None, region=None, endpoint=None, **config):
    return boto3.client(
        "s3",
        endpoint_url=endpoint or M["endpoint"],
        region_name=region or M["region"],
        aws_access_key_id=key_id or M["key_id"],
        aws_secret_access_key=secret or M["secret"],
        config=botocore.config.Config(
            s3={"addressing_style": config.pop("addressing_style", "path")},
            retries={"max_attempts": 1},
            # Access points take SigV4 only; boto3 presigns S3 URLs with SigV2 unless told.
            signature_version=config.pop("signature_version", "s3v4"),
            **config,
        ),
    )


S3 = client()


def expect_error(fn, code, status, **kwargs):
    try:
        fn(**kwargs)
    except ClientError as e:
        got = (e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"])
        assert got == (code, status), f"expected {(code, status)}, got {got}: {e}"
        return e
    raise AssertionError(f"expected {code} ({status}), got success")


def eq(got, want, what=""):
    assert got == want, f"{what}: got {got!r}, want {want!r}"


# ---------------------------------------------------------------------------------------------


def case_head_object():
    h = S3.head_object(Bucket=BUCKET, Key=BIG)
    eq(h["ContentLength"], OBJECTS[BIG]["size"], "ContentLength")
    eq(h["ETag"], '"%s"' % OBJECTS[BIG]["etag"], "ETag")
    eq(h["LastModified"], datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc))
    eq(h["AcceptRanges"], "bytes", "AcceptRanges")
    assert "StorageClass" not in h, h
    h = S3.head_object(Bucket=BUCKET, Key=EMPTY)
    eq(h["ContentLength"], 0, "empty ContentLength")
    h = S3.head_object(Bucket=BUCKET, Key=BIG, Range="bytes=10-19")
    eq(h["ContentLength"], 10, "ranged HEAD")
    eq(h["ContentRange"], "bytes 10-19/%d" % OBJECTS[BIG]["size"], "ranged HEAD ContentRange")


def case_get_object():
    for k in (BIG, SMALL, ODD, EMPTY):
        r = S3.get_object(Bucket=BUCKET, Key=k)
        body = r["Body"].read()
        eq(hashlib.sha256(body).hexdigest(), hashlib.sha256(data(k)).hexdigest(), k)
        eq(r["ContentLength"], len(data(k)), "ContentLength " + k)
        eq(r["ETag"], '"%s"' % OBJECTS[k]["etag"], "ETag")


def case_get_ranges():
    whole = data(BIG)
    size = len(whole)
    for header, lo, hi in [
        ("bytes=0-99", 0, 99),
        ("bytes=100-", 100, size - 1),
        ("bytes=-50", size - 50, size - 1),
        ("bytes=%d-%d" % (size - 10, size + 1000), size - 10, size - 1),
        ("bytes=-%d" % (size + 5), 0, size - 1),
        ("bytes=%d-" % (size - 28), size - 28, size - 1),
    ]:
        r = S3.get_object(Bucket=BUCKET, Key=BIG, Range=header)
        eq(r["ResponseMetadata"]["HTTPStatusCode"], 206, header)
        eq(r["ContentRange"], "bytes %d-%d/%d" % (lo, hi, size), header)
        eq(r["ContentLength"], hi - lo + 1, header)
        eq(r["Body"].read(), whole[lo : hi + 1], header)
    e = expect_error(S3.get_object, "InvalidRange", 416, Bucket=BUCKET, Key=BIG, Range="bytes=%d-" % size)
    eq(e.response["ResponseMetadata"]["HTTPHeaders"].get("content-range"), "bytes */%d" % size)
    expect_error(S3.get_object, "InvalidRange", 416, Bucket=BUCKET, Key=EMPTY, Range="bytes=0-")


def case_conditional():
    etag = '"%s"' % OBJECTS[SMALL]["etag"]
    modified = datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc)
    second = datetime.timedelta(seconds=1)
    eq(S3.get_object(Bucket=BUCKET, Key=SMALL, IfMatch=etag)["Body"].read(), data(SMALL))
    expect_error(S3.get_object, "PreconditionFailed", 412, Bucket=BUCKET, Key=SMALL, IfMatch='"nope"')
    expect_error(S3.get_object, "304", 304, Bucket=BUCKET, Key=SMALL, IfNoneMatch=etag)
    expect_error(S3.get_object, "304", 304, Bucket=BUCKET, Key=SMALL, IfNoneMatch="*")
    eq(S3.get_object(Bucket=BUCKET, Key=SMALL, IfNoneMatch='"other"')["Body"].read(), data(SMALL))
    expect_error(S3.get_object, "304", 304, Bucket=BUCKET, Key=SMALL, IfModifiedSince=modified)
    eq(S3.get_object(Bucket=BUCKET, Key=SMALL, IfModifiedSince=modified - second)["Body"].read(), data(SMALL))
    expect_error(
        S3.get_object, "PreconditionFailed", 412, Bucket=BUCKET, Key=SMALL, IfUnmodifiedSince=modified - second
    )
    eq(S3.get_object(Bucket=BUCKET, Key=SMALL, IfUnmodifiedSince=modified)["Body"].read(), data(SMALL))
    expect_error(S3.head_object, "304", 304, Bucket=BUCKET, Key=SMALL, IfNoneMatch=etag)
    expect_error(S3.head_object, "412", 412, Bucket=BUCKET, Key=SMALL, IfMatch='"nope"')
    # A 304 carries the validators and no body.
    try:
        S3.get_object(Bucket=BUCKET, Key=SMALL, IfNoneMatch=etag)
    except ClientError as e:
        headers = e.response["ResponseMetadata"]["HTTPHeaders"]
        eq(headers.get("etag"), etag, "304 ETag")
        eq(headers.get("last-modified"), "Mon, 06 May 2024 07:08:09 GMT", "304 Last-Modified")


def case_missing():
    expect_error(S3.get_object, "NoSuchKey", 404, Bucket=BUCKET, Key=SMALL + ".csi")
    expect_error(S3.head_object, "404", 404, Bucket=BUCKET, Key=SMALL + ".csi")
    expect_error(S3.get_object_tagging, "NoSuchKey", 404, Bucket=BUCKET, Key=SMALL + ".csi")
    # An unknown access point answers as another account's does: no probing for stores.
    nobucket = "nothere-s3alias"
    expect_error(S3.get_object, "AccessDenied", 403, Bucket=nobucket, Key="k")
    expect_error(S3.head_bucket, "403", 403, Bucket=nobucket)
    expect_error(S3.list_objects_v2, "AccessDenied", 403, Bucket=nobucket)


def case_head_bucket():
    r = S3.head_bucket(Bucket=BUCKET)
    eq(r["ResponseMetadata"]["HTTPStatusCode"], 200)
    eq(r["BucketRegion"], M["region"], "BucketRegion")


def case_tagging():
    r = S3.get_object_tagging(Bucket=BUCKET, Key=SMALL)
    eq({t["Key"]: t["Value"] for t in r["TagSet"]}, OBJECTS[SMALL]["tags"])
    eq(S3.get_object_tagging(Bucket=BUCKET, Key=BIG)["TagSet"], [])


def all_keys(prefix=PREFIX):
    return sorted(k for k in OBJECTS if k.startswith(prefix))


def case_list_v2():
    r = S3.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX)
    eq([o["Key"] for o in r["Contents"]], all_keys(), "flat listing")
    eq(r["KeyCount"], len(all_keys()))
    eq(r["IsTruncated"], False)
    by_key = {o["Key"]: o for o in r["Contents"]}
    eq(by_key[BIG]["Size"], OBJECTS[BIG]["size"])
    eq(by_key[BIG]["ETag"], '"%s"' % OBJECTS[BIG]["etag"])
    eq(by_key[BIG]["StorageClass"], "STANDARD")
    eq(by_key[ARCHIVED]["StorageClass"], "GLACIER")
    # Keys with a space, a plus and a non-ASCII letter survive encoding-type=url (boto3's default).
    assert ODD in by_key, sorted(by_key)

    r = S3.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX + "readSet/", Delimiter="/")
    assert "Contents" not in r, r.get("Contents")
    dirs = sorted({PREFIX + "readSet/" + k[len(PREFIX + "readSet/") :].split("/")[0] + "/" for k in all_keys()})
    eq([p["Prefix"] for p in r["CommonPrefixes"]], dirs, "common prefixes")
    r = S3.list_objects_v2(Bucket=BUCKET, Prefix="", Delimiter="/")
    eq([p["Prefix"] for p in r["CommonPrefixes"]], ["111122223333/"], "top level")

    # Pagination: every key once, in order, for several page sizes, with and without a delimiter.
    pages = S3.get_paginator("list_objects_v2")
    for size in (1, 3, 7):
        got = [o["Key"] for p in pages.paginate(Bucket=BUCKET, Prefix=PREFIX, PaginationConfig={"PageSize": size}) for o in p.get("Contents", [])]
        eq(got, all_keys(), "paginated flat %d" % size)
        got = [
            c["Prefix"]
            for p in pages.paginate(Bucket=BUCKET, Prefix=PREFIX + "readSet/", Delimiter="/", PaginationConfig={"PageSize": size})
            for c in p.get("CommonPrefixes", [])
        ]
        eq(got, dirs, "paginated prefixes %d" % size)
    first = S3.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX, MaxKeys=2)
    eq(first["IsTruncated"], True)
    eq(first["KeyCount"], 2)
    eq(first["MaxKeys"], 2)
    assert first["NextContinuationToken"]
    second = S3.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX, MaxKeys=2, ContinuationToken=first["NextContinuationToken"])
    eq([o["Key"] for o in second["Contents"]], all_keys()[2:4], "second page")
    eq(second["ContinuationToken"], first["NextContinuationToken"])

    after = all_keys()[5]
    r = S3.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX, StartAfter=after)
    eq([o["Key"] for o in r["Contents"]], all_keys()[6:], "start-after")
    eq(r["StartAfter"], after)
    r = S3.list_objects_v2(Bucket=BUCKET, Prefix=ODD)
    eq([o["Key"] for o in r["Contents"]], [ODD])
    eq(r["Prefix"], ODD, "decoded prefix")
    expect_error(S3.list_objects_v2, "InvalidArgument", 400, Bucket=BUCKET, ContinuationToken="garbage!")


def case_list_v1():
    pages = S3.get_paginator("list_objects")
    for size in (2, 5):
        got = [o["Key"] for p in pages.paginate(Bucket=BUCKET, Prefix=PREFIX, PaginationConfig={"PageSize": size}) for o in p.get("Contents", [])]
        eq(got, all_keys(), "v1 paginated %d" % size)
        got = [
            c["Prefix"]
            for p in pages.paginate(Bucket=BUCKET, Prefix=PREFIX + "readSet/", Delimiter="/", PaginationConfig={"PageSize": size})
            for c in p.get("CommonPrefixes", [])
        ]
        eq(len(got), len(set(got)), "v1 prefixes unique")
        eq(len(got), 17, "v1 prefixes")


def case_presigned():
    url = S3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": BIG}, ExpiresIn=300)
    with urllib.request.urlopen(url) as r:
        eq(r.status, 200)
        eq(r.read(), data(BIG), "presigned body")
    req = urllib.request.Request(url, headers={"Range": "bytes=5-9"})
    with urllib.request.urlopen(req) as r:
        eq(r.status, 206)
        eq(r.read(), data(BIG)[5:10])
    url = S3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": ODD}, ExpiresIn=300)
    with urllib.request.urlopen(url) as r:
        eq(r.read(), data(ODD), "presigned odd key")
    head = S3.generate_presigned_url("head_object", Params={"Bucket": BUCKET, "Key": SMALL}, ExpiresIn=300)
    with urllib.request.urlopen(urllib.request.Request(head, method="HEAD")) as r:
        eq(r.headers["Content-Length"], str(len(data(SMALL))))


def http_error(url, method="GET"):
    try:
        urllib.request.urlopen(urllib.request.Request(url, method=method))
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    raise AssertionError("expected an HTTP error for " + url)


def case_presigned_refused():
    url = S3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": SMALL}, ExpiresIn=1)
    time.sleep(2.2)
    status, body = http_error(url)
    eq(status, 403, "expired")
    assert "<Code>AccessDenied</Code>" in body and "expired" in body, body
    url = S3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": SMALL}, ExpiresIn=300)
    tampered = url.replace("small.txt", "small.txu")
    status, body = http_error(tampered)
    eq(status, 403, "tampered")
    assert "<Code>SignatureDoesNotMatch</Code>" in body, body
    bad = client(secret="not-the-secret").generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": SMALL})
    status, body = http_error(bad)
    eq(status, 403, "wrong secret")
    assert "<Code>SignatureDoesNotMatch</Code>" in body, body
    # A presigned URL lives a week at most.
    week = S3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": SMALL}, ExpiresIn=604800)
    with urllib.request.urlopen(week) as r:
        eq(r.read(), data(SMALL), "a week")
    for too_long in (604801, 4000000000):
        url = S3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": SMALL}, ExpiresIn=too_long)
        status, body = http_error(url)
        eq(status, 400, f"X-Amz-Expires={too_long}")
        assert "<Code>AuthorizationQueryParametersError</Code>" in body, body


def case_auth_refused():
    expect_error(client(secret="wrong").get_object, "SignatureDoesNotMatch", 403, Bucket=BUCKET, Key=SMALL)
    expect_error(client(secret="wrong").list_objects_v2, "SignatureDoesNotMatch", 403, Bucket=BUCKET)
    expect_error(client(key_id="AKIANOSUCHKEY0000000").get_object, "InvalidAccessKeyId", 403, Bucket=BUCKET, Key=SMALL)
    anon = boto3.client(
        "s3", endpoint_url=M["endpoint"], region_name=M["region"],
        config=botocore.config.Config(signature_version=botocore.UNSIGNED, s3={"addressing_style": "path"}),
    )
    expect_error(anon.get_object, "AccessDenied", 403, Bucket=BUCKET, Key=SMALL)
    expect_error(anon.list_objects_v2, "AccessDenied", 403, Bucket=BUCKET)
    other = client(key_id=M["other_key_id"], secret=M["other_secret"])
    expect_error(other.get_object, "AccessDenied", 403, Bucket=BUCKET, Key=SMALL)
    expect_error(other.list_objects_v2, "AccessDenied", 403, Bucket=BUCKET)
    expect_error(other.head_object, "403", 403, Bucket=BUCKET, Key=SMALL)
    # Access points take SigV4 only: SigV2, right or wrong, is refused before any check.
    for v2 in (client(signature_version="s3"), client(signature_version="s3", secret="wrong")):
        expect_error(v2.get_object, "InvalidRequest", 400, Bucket=BUCKET, Key=SMALL)
    v2_url = client(signature_version="s3").generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": SMALL}, ExpiresIn=300)
    status, body = http_error(v2_url)
    eq(status, 400, "SigV2 presigned")
    assert "<Code>InvalidRequest</Code>" in body, body
    status, _, body = signed("GET", f"/{BUCKET}/{SMALL}", service="sts")
    eq(status, 400, "credential scope for sts")
    assert b"<Code>AuthorizationHeaderMalformed</Code>" in body, body
    wrong_region = client(region="eu-west-1")
    expect_error(wrong_region.get_object, "AuthorizationHeaderMalformed", 400, Bucket=BUCKET, Key=SMALL)


def case_writes_refused():
    for fn, kwargs in [
        (S3.put_object, dict(Bucket=BUCKET, Key=key("new.txt"), Body=b"x")),
        (S3.put_object, dict(Bucket=BUCKET, Key=SMALL, Body=b"overwrite")),
        (S3.delete_object, dict(Bucket=BUCKET, Key=SMALL)),
        (S3.delete_objects, dict(Bucket=BUCKET, Delete={"Objects": [{"Key": SMALL}]})),
        (S3.create_multipart_upload, dict(Bucket=BUCKET, Key=key("mp.bin"))),
        (S3.copy_object, dict(Bucket=BUCKET, Key=key("copy.txt"), CopySource={"Bucket": BUCKET, "Key": SMALL})),
        (S3.put_object_tagging, dict(Bucket=BUCKET, Key=SMALL, Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})),
        (S3.delete_object_tagging, dict(Bucket=BUCKET, Key=SMALL)),
        (S3.create_bucket, dict(Bucket="new-bucket")),
        (S3.delete_bucket, dict(Bucket=BUCKET)),
        (S3.put_bucket_policy, dict(Bucket=BUCKET, Policy="{}")),
    ]:
        try:
            fn(**kwargs)
        except ClientError as e:
            eq(e.response["Error"]["Code"], "AccessDenied", fn.__name__)
            eq(e.response["ResponseMetadata"]["HTTPStatusCode"], 403, fn.__name__)
        else:
            raise AssertionError(fn.__name__ + " succeeded")
    eq(S3.get_object(Bucket=BUCKET, Key=SMALL)["Body"].read(), data(SMALL), "unchanged")


def case_archived():
    h = S3.head_object(Bucket=BUCKET, Key=ARCHIVED)
    eq(h["StorageClass"], "GLACIER")
    eq(h["ContentLength"], OBJECTS[ARCHIVED]["size"])
    expect_error(S3.get_object, "InvalidObjectState", 403, Bucket=BUCKET, Key=ARCHIVED)


def case_download_file():
    # s3transfer: HEAD, then concurrent ranged GETs above the 8 MiB multipart threshold.
    import os
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "big.bin")
        S3.download_file(BUCKET, BIG, out)
        eq(open(out, "rb").read(), data(BIG), "download_file")


def proxied(**kwargs):
    """A client whose requests go to the endpoint as an HTTP proxy: the Host header then names
    `<bucket>.<base domain>` without any DNS set-up."""
    return client(
        endpoint="http://%s:%d" % (M["base_domain"], M["port"]),
        proxies={"http": M["endpoint"]},
        **kwargs,
    )


def case_virtual_host():
    vh = proxied(addressing_style="virtual")
    eq(vh.get_object(Bucket=BUCKET, Key=SMALL)["Body"].read(), data(SMALL), "virtual-hosted get")
    eq(vh.head_object(Bucket=BUCKET, Key=BIG)["ContentLength"], OBJECTS[BIG]["size"])
    r = vh.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX, MaxKeys=3)
    eq([o["Key"] for o in r["Contents"]], all_keys()[:3], "virtual-hosted list")
    expect_error(vh.get_object, "NoSuchKey", 404, Bucket=BUCKET, Key=SMALL + ".csi")
    # A path-style request through the same proxy (Host is the base domain itself).
    ps = proxied(addressing_style="path")
    eq(ps.get_object(Bucket=BUCKET, Key=SMALL)["Body"].read(), data(SMALL), "path-style via base domain")
    # An access point ARN as the bucket: botocore addresses <name>-<account>.<endpoint host>.
    eq(vh.get_object(Bucket=M["arn"], Key=SMALL)["Body"].read(), data(SMALL), "ARN bucket")
    r = vh.list_objects_v2(Bucket=M["arn"], Prefix=PREFIX, MaxKeys=2)
    eq(r["KeyCount"], 2, "ARN bucket list")


def case_disconnect():
    """Read a little of a big object and hang up, as htslib does; the server must carry on."""
    url = S3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": BIG}, ExpiresIn=300)
    path = url[len(M["endpoint"]) :]
    for _ in range(3):
        s = socket.create_connection(("127.0.0.1", M["port"]))
        s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % (path, M["port"])).encode())
        got = b""
        while len(got) < 100_000:
            chunk = s.recv(65536)
            assert chunk, "connection closed early"
            got += chunk
        assert got.startswith(b"HTTP/1.1 200"), got[:200]
        s.close()
    eq(S3.get_object(Bucket=BUCKET, Key=SMALL)["Body"].read(), data(SMALL), "still serving")


def signed(method, path, headers=None, key_id=None, secret=None, service="s3"):
    """A raw request signed by botocore's SigV4 signer (for `service`), sent with http.client."""
    import http.client

    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials

    creds = botocore.credentials.Credentials(key_id or M["key_id"], secret or M["secret"])
    headers = {"X-Amz-Content-SHA256": hashlib.sha256(b"").hexdigest(), **(headers or {})}
    req = botocore.awsrequest.AWSRequest(method=method, url=M["endpoint"] + path, headers=headers)
    botocore.auth.SigV4Auth(creds, service, M["region"]).add_auth(req)
    conn = http.client.HTTPConnection("127.0.0.1", M["port"])
    conn.request(method, path, headers=dict(req.headers.items()))
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, body


def case_raw_http():
    """What clients see on the wire beyond what boto3 exposes."""
    import urllib.parse

    small = "/%s/%s" % (BUCKET, urllib.parse.quote(SMALL))
    status, headers, body = signed("GET", small, {"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
    eq((status, body), (200, data(SMALL)), "UNSIGNED-PAYLOAD")
    eq(headers["content-length"], str(len(data(SMALL))))
    eq(len(headers["x-amz-request-id"]), 16, "request id")
    status, headers, body = signed("GET", small, {"If-None-Match": '"%s"' % OBJECTS[SMALL]["etag"]})
    eq((status, body), (304, b""), "304 without a body")
    status, headers, body = signed("GET", small + ".csi")
    eq(status, 404)
    eq(headers["content-type"], "application/xml")
    eq(len(headers["x-amz-request-id"]), 16, "request id of an error")
    assert b"<Code>NoSuchKey</Code>" in body, body
    status, _, body = signed("HEAD", small + ".csi")
    eq((status, body), (404, b""), "HEAD 404")
    status, headers, body = signed("GET", small, {"Range": "bytes=3-7"})
    eq((status, body, headers["content-range"]), (206, data(SMALL)[3:8], "bytes 3-7/15"), "raw range")
    query = "list-type=2&max-keys=1&prefix=" + urllib.parse.quote(PREFIX, safe="")
    status, _, body = signed("GET", "/%s?%s" % (BUCKET, query))
    eq(status, 200, body)
    assert b"<KeyCount>1</KeyCount>" in body and b"<IsTruncated>true</IsTruncated>" in body, body
    status, _, body = signed("GET", small + "?partNumber=1")
    eq((status, body), (200, data(SMALL)), "partNumber=1")
    status, _, body = signed("GET", small + "?partNumber=2")
    eq(status, 416, "partNumber=2")
    assert b"<Code>InvalidPartNumber</Code>" in body, body
    status, _, body = signed("PUT", small)
    eq(status, 403, "raw PUT")
    assert b"<Code>AccessDenied</Code>" in body, body



def case_broken_stream():
    """The declared length is never faked: a stream that fails mid-body aborts the response."""
    import http.client

    broken = key("readSet/1000000007/broken.bin")
    eq(S3.head_object(Bucket=BUCKET, Key=broken)["ContentLength"], 300_000)
    try:
        S3.get_object(Bucket=BUCKET, Key=broken)["Body"].read()
    except (
        botocore.exceptions.ResponseStreamingError,
        botocore.exceptions.ConnectionClosedError,
        http.client.IncompleteRead,
    ) as e:
        # Either the headers went out and the body stops short, or nothing went out at all.
        print("aborted as expected:", type(e).__name__)
    else:
        raise AssertionError("a truncated body was accepted as whole")
    eq(S3.get_object(Bucket=BUCKET, Key=SMALL)["Body"].read(), data(SMALL), "still serving")


if __name__ == "__main__":
    for name in sys.argv[2:]:
        globals()["case_" + name]()
        print("ok", name)
