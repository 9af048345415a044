#!/usr/bin/env python3
"""Print SigV4 requests signed by botocore, as JSON fixtures for seqstore-auth's tests.

Each request is what a real boto3 client would put on the wire (captured on the
`before-send` event, so nothing is sent), signed at a fixed time. The fixtures pin what
the verifier must accept: double URI encoding for `omics`, UNSIGNED-PAYLOAD for
UploadReadSetPart, a signed Range header, and S3 (single encoding, presigned URL).

Regenerate from the repository root (the output names the botocore version used):

    python3 crates/seqstore-auth/tests/data/botocore/gen_fixtures.py \
        > crates/seqstore-auth/tests/data/botocore/fixtures.json
"""

import datetime
import hashlib
import json
from unittest import mock
from urllib.parse import urlsplit

import boto3
import botocore
from botocore.auth import _host_from_url
from botocore.config import Config

NOW = datetime.datetime(2024, 1, 15, 10, 30, 0)
ACCESS_KEY = "AKIDSEQSTOREFIXTURE1"
SECRET_KEY = "seqstore/Fixture+Secret/Key0123456789abcdef"
REGION = "us-east-1"
OMICS_ENDPOINT = "http://127.0.0.1:8080"
S3_ENDPOINT = "http://127.0.0.1:9000"
ARN = "arn:aws:omics:us-east-1:123456789012:sequenceStore/1234567890"
S3_KEY = "123456789012/sequenceStore/1234567890/readSet/1234567890/a b+c~.bam"


class Captured(Exception):
    """Raised from before-send so the request never leaves the process."""


def session():
    return boto3.session.Session(
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=REGION
    )


def capture(client, name, call):
    """Run one client call and return the signed request botocore would send."""
    seen = []

    def before_send(request, **_):
        seen.append(request)
        raise Captured()

    client.meta.events.register("before-send", before_send)
    try:
        call()
    except Captured:
        pass
    finally:
        client.meta.events.unregister("before-send", before_send)
    (request,) = seen
    return describe(name, request.method, request.url, dict(request.headers), request.body)


def describe(name, method, url, headers, body):
    split = urlsplit(url)
    body = body or b""
    if isinstance(body, str):
        body = body.encode()
    if hasattr(body, "read"):
        body = body.read()
    # urllib3 adds Host from the URL; botocore signs the same value (_host_from_url).
    wire = [["Host", _host_from_url(url)]]
    wire += [[k, v.decode() if isinstance(v, bytes) else v] for k, v in headers.items()]
    return {
        "name": name,
        "method": method,
        "path": split.path,
        "query": split.query or None,
        "headers": wire,
        "body_sha256": hashlib.sha256(body).hexdigest(),
    }


def omics_requests():
    omics = session().client(
        "omics", endpoint_url=OMICS_ENDPOINT, config=Config(inject_host_prefix=False)
    )
    return [
        capture(omics, "omics-get-arn-in-path",
                lambda: omics.list_tags_for_resource(resourceArn=ARN)),
        capture(omics, "omics-post-json-body",
                lambda: omics.tag_resource(resourceArn=ARN, tags={"a": "1", "k y": "v w"})),
        capture(omics, "omics-post-query-and-json",
                lambda: omics.list_read_sets(sequenceStoreId="1234567890", maxResults=5,
                                             nextToken="abc/def=",
                                             filter={"status": "ACTIVE"})),
        capture(omics, "omics-delete-repeated-query",
                lambda: omics.untag_resource(resourceArn=ARN, tagKeys=["a", "b c", "a+b"])),
        capture(omics, "omics-put-unsigned-payload",
                lambda: omics.upload_read_set_part(sequenceStoreId="1234567890",
                                                   uploadId="9876543210", partSource="SOURCE1",
                                                   partNumber=1, payload=b"@r1\nACGT\n+\nIIII\n")),
        capture(omics, "omics-get-range",
                lambda: omics.get_reference(referenceStoreId="1234567890", id="1234567891",
                                            partNumber=1, range="bytes=0-99")),
    ]


def s3_requests():
    s3 = session().client(
        "s3", endpoint_url=S3_ENDPOINT,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": "seqstore-ap", "Key": S3_KEY}, ExpiresIn=3600
    )
    return [
        capture(s3, "s3-get-object-range",
                lambda: s3.get_object(Bucket="seqstore-ap", Key=S3_KEY, Range="bytes=100-")),
        describe("s3-presigned-get-object", "GET", url, {}, b""),
    ]


def main():
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW):
        requests = omics_requests() + s3_requests()
    print(json.dumps({
        "generator": "gen_fixtures.py",
        "botocore_version": botocore.__version__,
        "access_key_id": ACCESS_KEY,
        "secret_access_key": SECRET_KEY,
        "region": REGION,
        "now": NOW.strftime("%Y%m%dT%H%M%SZ"),
        "presigned_expires": 3600,
        "requests": requests,
    }, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
