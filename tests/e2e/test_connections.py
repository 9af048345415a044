"""What a client connection may take of the server, on both endpoints: headers (and the next
request on an idle keep-alive connection) within `http.header_timeout_seconds`, at most
`http.max_connections` open at once, and an upload body that stalls for
`http.body_stall_seconds` is dropped with its staging; an account runs at most
`http.max_part_uploads_per_account` part uploads at once. Short limits keep the test quick; the
defaults are 30 s, 1024 and 60 s."""

from __future__ import annotations

import socket
import time

import pytest

from read_set_api import create_upload, staging_files, wait_no_staging

LIMITS = {
    "SEQSTORE_HTTP__HEADER_TIMEOUT_SECONDS": "2",
    "SEQSTORE_HTTP__BODY_STALL_SECONDS": "2",
    "SEQSTORE_HTTP__MAX_CONNECTIONS": "6",
    "SEQSTORE_HTTP__MAX_PART_UPLOADS_PER_ACCOUNT": "1",
}


@pytest.fixture
def limited(server_factory):
    return server_factory.new(env=LIMITS)


def closed_within(sock: socket.socket, seconds: float) -> bool:
    """Whether the server closes `sock` within `seconds` (reading whatever it sends)."""
    sock.settimeout(seconds)
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            if not sock.recv(65536):
                return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return False


def ports(srv) -> list[int]:
    return [srv.port, srv.s3_port]


def test_slow_headers_and_idle_keep_alive_are_cut_off(limited):
    for port in ports(limited):
        slow = socket.create_connection(("127.0.0.1", port))
        slow.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the blank line
        assert closed_within(slow, 6), f"port {port}: a header trickle kept its connection"
        idle = socket.create_connection(("127.0.0.1", port))
        idle.sendall(b"GET /sequencestore/0000000000 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        idle.settimeout(5)
        assert idle.recv(65536).startswith(b"HTTP/1.1 "), f"port {port}: no answer"
        assert closed_within(idle, 6), f"port {port}: an idle keep-alive connection stayed open"


def test_connections_beyond_the_cap_are_closed(limited):
    for port in ports(limited):
        # A connection counts until the server has seen it close (the readiness probe too).
        time.sleep(0.5)
        held = [socket.create_connection(("127.0.0.1", port)) for _ in range(6)]
        extra = socket.create_connection(("127.0.0.1", port))
        assert closed_within(extra, 1.5), f"port {port}: a 7th connection was kept"
        for s in held:
            s.close()
        time.sleep(0.3)
        again = socket.create_connection(("127.0.0.1", port))
        again.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        again.settimeout(5)
        assert again.recv(65536).startswith(b"HTTP/1.1 "), f"port {port}: no answer once freed"
        again.close()


def account_with_upload(srv):
    """A new account's keys, client, store and upload in progress."""
    from e2e_support import new_account_id

    keys, _ = srv.create_keys(new_account_id())
    client = srv.client(keys)
    store_id = client.create_sequence_store(name="limits")["id"]
    upload_id = create_upload(client, store_id, "FASTQ", "limits")["uploadId"]
    return keys, client, store_id, upload_id


def start_stalled_part(srv, keys, store_id: str, upload_id: str, body: bytes) -> socket.socket:
    """A signed UploadReadSetPart whose body stops after its first 4 KiB."""
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials

    path = f"/sequencestore/{store_id}/upload/{upload_id}/part?partSource=SOURCE1&partNumber=1"
    class Unsigned(botocore.auth.SigV4Auth):
        def payload(self, request):
            return "UNSIGNED-PAYLOAD"

    # As botocore sends a part: the streamed body is not signed.
    req = botocore.awsrequest.AWSRequest(
        method="PUT", url=f"{srv.endpoint}{path}", data=body,
        headers={"Content-Type": "application/octet-stream", "X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"},
    )
    creds = botocore.credentials.Credentials(keys.access_key_id, keys.secret_access_key)
    Unsigned(creds, "omics", "us-east-1").add_auth(req)
    head = f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in req.headers.items())
    head += f"Content-Length: {len(body)}\r\n\r\n"
    s = socket.create_connection(("127.0.0.1", srv.port))
    s.sendall(head.encode() + body[:4096])
    s.settimeout(0.5)
    try:
        early = s.recv(65536)
    except TimeoutError:
        early = None
    assert early is None, f"the part upload was answered before its body ended: {early[:300]!r}"
    return s


def test_a_stalled_part_upload_is_dropped_with_its_staging(limited):
    keys, client, store_id, upload_id = account_with_upload(limited)
    s = start_stalled_part(limited, keys, store_id, upload_id, b"@r\nACGT\n+\nIIII\n" * 1000)
    started = time.monotonic()
    assert closed_within(s, 10), "a stalled upload body kept its connection"
    assert time.monotonic() - started < 8
    wait_no_staging(limited, upload_id, timeout=10)
    assert staging_files(limited, upload_id) == []
    parts = client.list_read_set_upload_parts(sequenceStoreId=store_id, uploadId=upload_id,
                                              partSource="SOURCE1")
    assert parts.get("parts", []) == [], parts


def test_an_account_runs_a_bounded_number_of_part_uploads(limited):
    from e2e_support import raises_aws

    keys, client, store_id, upload_id = account_with_upload(limited)
    data = b"@r\nACGT\n+\nIIII\n"
    running = start_stalled_part(limited, keys, store_id, upload_id, data * 1000)
    time.sleep(0.5)  # the server has taken the first upload's slot
    with raises_aws("ThrottlingException", message_contains="part uploads in progress") as refused:
        client.upload_read_set_part(sequenceStoreId=store_id, uploadId=upload_id,
                                    partSource="SOURCE1", partNumber=2, payload=data)
    # Refused before its body was read: the answer closes the connection, which the server
    # cannot reuse, instead of leaving the client to send its next request into it.
    assert refused.headers.get("connection") == "close", refused.headers
    # Another account is not held up.
    _, other, other_store, other_upload = account_with_upload(limited)
    done = other.upload_read_set_part(sequenceStoreId=other_store, uploadId=other_upload,
                                      partSource="SOURCE1", partNumber=1, payload=data)
    assert "connection" not in done["ResponseMetadata"]["HTTPHeaders"], "a read body keeps the connection"
    # Once the first upload has ended (it stalls out), the account may upload again.
    assert closed_within(running, 10)
    client.upload_read_set_part(sequenceStoreId=store_id, uploadId=upload_id,
                                partSource="SOURCE1", partNumber=2, payload=data)
