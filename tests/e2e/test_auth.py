"""SigV4 authentication (service `omics`): header auth, presigned URLs, accounts."""

from __future__ import annotations

import datetime as dt
import time
import urllib.parse

import botocore.auth
import pytest

from e2e_support import (
    Keys,
    error_type,
    http,
    json_body,
    make_client,
    raises_aws,
    signed_request,
    unique,
)


@pytest.fixture(scope="module")
def store_id(omics):
    return omics.create_sequence_store(name=unique("auth"))["id"]


def assert_error(resp, status: int, code: str, contains: str | None = None):
    assert resp.status == status, f"expected HTTP {status} {code}, got {resp.status}: {resp.data[:300]!r}"
    assert error_type(resp) == code, f"x-amzn-ErrorType: expected {code}, got {error_type(resp)!r}"
    assert resp.headers.get("x-amzn-RequestId"), "error without x-amzn-RequestId"
    message = json_body(resp).get("message", "")
    assert message, f"{code} without a message"
    if contains:
        assert contains in message, f"{code} message {message!r} does not contain {contains!r}"


def test_signed_request_succeeds(server, store_id):
    resp = signed_request(server, "GET", f"/sequencestore/{store_id}")
    assert resp.status == 200, resp.data
    assert json_body(resp)["id"] == store_id
    assert resp.headers.get("x-amzn-RequestId")


def test_request_ids_differ(server, store_id):
    a = signed_request(server, "GET", f"/sequencestore/{store_id}")
    b = signed_request(server, "GET", f"/sequencestore/{store_id}")
    assert a.headers["x-amzn-RequestId"] != b.headers["x-amzn-RequestId"]


def test_missing_authorization(server, store_id):
    resp = signed_request(server, "GET", f"/sequencestore/{store_id}", sign=False)
    assert_error(resp, 403, "MissingAuthenticationTokenException")


def test_missing_authorization_on_every_kind_of_route(server):
    for method, path in [
        ("POST", "/sequencestores"),
        ("POST", "/sequencestore"),
        ("GET", "/referencestore/1234567890"),
        ("GET", "/tags/arn%3Aaws%3Aomics%3Aus-east-1%3A111122223333%3AsequenceStore%2F1234567890"),
    ]:
        resp = signed_request(server, method, path, sign=False, body=b"{}" if method == "POST" else b"")
        assert_error(resp, 403, "MissingAuthenticationTokenException")


def test_wrong_secret(server, store_id):
    good = server.root_keys()
    resp = signed_request(
        server, "GET", f"/sequencestore/{store_id}", keys=Keys(good.access_key_id, "x" * 40)
    )
    assert_error(resp, 403, "InvalidSignatureException")


def test_wrong_secret_through_boto3(server, store_id):
    good = server.root_keys()
    client = make_client(server.endpoint, Keys(good.access_key_id, good.secret_access_key + "x"))
    with raises_aws("InvalidSignatureException", 403):
        client.get_sequence_store(id=store_id)


def test_unknown_access_key(server, store_id):
    resp = signed_request(
        server, "GET", f"/sequencestore/{store_id}", keys=Keys("AKIAUNKNOWNKEY000000", "y" * 40)
    )
    assert_error(resp, 403, "UnrecognizedClientException")


def test_unknown_access_key_through_boto3(server):
    client = make_client(server.endpoint, Keys("AKIAUNKNOWNKEY000001", "z" * 40))
    with raises_aws("UnrecognizedClientException", 403):
        client.list_sequence_stores()


def test_request_signed_twenty_minutes_ago(server, store_id, monkeypatch):
    past = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - dt.timedelta(minutes=20)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *a, **k: past)
    resp = signed_request(server, "GET", f"/sequencestore/{store_id}")
    assert_error(resp, 403, "InvalidSignatureException", "Signature expired")


def test_body_changed_after_signing(server):
    name = unique("tampered")
    resp = signed_request(
        server,
        "POST",
        "/sequencestore",
        body=f'{{"name": "{name}"}}'.encode(),
        send_body=f'{{"name": "{name}-evil"}}'.encode(),
    )
    assert_error(resp, 403, "InvalidSignatureException")


def test_presigned_get_sequence_store(omics, store_id):
    url = omics.generate_presigned_url("get_sequence_store", Params={"id": store_id}, ExpiresIn=300)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert "X-Amz-Signature" in query, url
    resp = http().request("GET", url)
    assert resp.status == 200, resp.data
    assert json_body(resp)["id"] == store_id


def test_presigned_url_with_bad_signature(omics, store_id):
    url = omics.generate_presigned_url("get_sequence_store", Params={"id": store_id}, ExpiresIn=300)
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query)
    query = [(k, ("0" * 64 if k == "X-Amz-Signature" else v)) for k, v in query]
    bad = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))
    assert_error(http().request("GET", bad), 403, "InvalidSignatureException")


def test_presigned_url_expires(omics, store_id):
    url = omics.generate_presigned_url("get_sequence_store", Params={"id": store_id}, ExpiresIn=1)
    time.sleep(2.2)
    resp = http().request("GET", url)
    assert resp.status == 403, resp.data


def test_presigned_url_for_other_store_path_is_rejected(omics, store_id):
    other = omics.create_sequence_store(name=unique("other"))["id"]
    url = omics.generate_presigned_url("get_sequence_store", Params={"id": store_id}, ExpiresIn=300)
    assert_error(http().request("GET", url.replace(store_id, other)), 403, "InvalidSignatureException")


def test_other_accounts_key_sees_not_found(other_account, store_id):
    _, other = other_account
    with raises_aws("ResourceNotFoundException", 404):
        other.get_sequence_store(id=store_id)


def test_keys_of_other_account_work_immediately(server, omics):
    """`seqstore keys create` while the server runs: the new keys work at once."""
    from e2e_support import new_account_id

    account = new_account_id()
    keys, printed = server.create_keys(account)
    client = make_client(server.endpoint, keys)
    assert client.list_sequence_stores()["sequenceStores"] == []
    created = client.create_sequence_store(name=unique("fresh-acct"))
    assert f":{account}:sequenceStore/" in created["arn"]
    assert keys.secret_access_key in printed


class _UnsignedPayloadAuth(botocore.auth.SigV4Auth):
    """botocore's signer with `UNSIGNED-PAYLOAD` in place of the body's digest."""

    def payload(self, request):
        return "UNSIGNED-PAYLOAD"


def test_unsigned_payload_is_refused_on_json_operations(server):
    """On plain HTTP an unsigned JSON body could be swapped under a valid signature: only
    UploadReadSetPart (a streamed body) may declare UNSIGNED-PAYLOAD."""
    import botocore.awsrequest
    import botocore.credentials

    keys = server.root_keys()
    body = b'{"name": "%s"}' % unique("unsigned").encode()
    req = botocore.awsrequest.AWSRequest(
        method="POST", url=f"{server.endpoint}/sequencestore", data=body,
        headers={"Content-Type": "application/json", "X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"},
    )
    creds = botocore.credentials.Credentials(keys.access_key_id, keys.secret_access_key)
    _UnsignedPayloadAuth(creds, "omics", "us-east-1").add_auth(req)
    resp = http().request("POST", req.url, body=body, headers=dict(req.headers.items()))
    assert_error(resp, 403, "InvalidSignatureException", "UNSIGNED-PAYLOAD")


def test_a_request_by_an_unknown_key_is_refused_before_its_body_is_read(server):
    """The server answers from the headers alone: an unauthenticated client cannot make it
    read (and hold) a body."""
    import socket

    now = dt.datetime.now(dt.timezone.utc)
    auth = (f"AWS4-HMAC-SHA256 Credential=AKIAUNKNOWNKEY000000/{now:%Y%m%d}/us-east-1/omics/"
            f"aws4_request, SignedHeaders=host;x-amz-date, Signature={'0' * 64}")
    head = (f"POST /sequencestore HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: 1048576\r\nX-Amz-Date: {now:%Y%m%dT%H%M%SZ}\r\nAuthorization: {auth}\r\n\r\n")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(head.encode())
        answer = s.recv(65536)  # no byte of the announced body was sent
    assert answer.startswith(b"HTTP/1.1 403"), answer[:300]
    assert b"UnrecognizedClientException" in answer, answer[:500]
