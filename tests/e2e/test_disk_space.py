"""A nearly full blob volume: below `blob.min_free_bytes` new parts are refused with a clear
error, and what is already stored (parts of an upload in progress included) stays usable."""

from __future__ import annotations

import contextlib
import gzip
import os
import random
import shutil
import subprocess
import time

import pytest

from e2e_support import raises_aws, unique
from read_set_api import (
    create_upload,
    list_parts,
    staging_files,
    upload_part,
    wait_read_set,
)

FASTQ = b"".join(b"@r%d\nACGTACGT\n+\nIIIIIIII\n" % i for i in range(500))
# More than any test volume has free: the server must believe its disk is full.
ALL_OF_IT = str(2**62)


def test_parts_are_refused_below_min_free_bytes(server_factory):
    server = server_factory.new()
    client = server.client()
    store = client.create_sequence_store(name=unique("full"))["id"]
    upload = create_upload(client, store, "FASTQ", unique("rs"))["uploadId"]
    first = upload_part(client, store, upload, "SOURCE1", 1, FASTQ)

    server.stop()
    server.extra_env["SEQSTORE_BLOB__MIN_FREE_BYTES"] = ALL_OF_IT
    server.start()
    client = server.client()
    with raises_aws("ServiceQuotaExceededException", 402, message_contains=["bytes free", "blob.min_free_bytes"]):
        client.upload_read_set_part(sequenceStoreId=store, uploadId=upload, partSource="SOURCE1",
                                    partNumber=2, payload=FASTQ)
    assert [p["partNumber"] for p in list_parts(client, store, upload, "SOURCE1")] == [1]
    assert len(staging_files(server, upload)) == 1, "the refused part left nothing staged"

    # Once space is back the upload goes on from where it was.
    server.stop()
    del server.extra_env["SEQSTORE_BLOB__MIN_FREE_BYTES"]
    server.start()
    client = server.client()
    read_set = client.complete_multipart_read_set_upload(sequenceStoreId=store, uploadId=upload,
                                                         parts=[first])["readSetId"]
    assert wait_read_set(client, store, read_set)["status"] == "ACTIVE"


@pytest.fixture
def small_volume(tmp_path):
    """A 20 MiB tmpfs: a disk that really fills up."""
    mnt = tmp_path / "volume"
    mnt.mkdir()
    mount = ["mount"] if os.geteuid() == 0 else ["sudo", "-n", "mount"]
    res = subprocess.run([*mount, "-t", "tmpfs", "-o", "size=20m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if res.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"CI must be able to mount a small tmpfs for the disk-full test: {res.stderr}")
        pytest.skip(f"cannot mount a tmpfs here: {res.stderr.strip()}")
    yield mnt
    umount = ["umount"] if os.geteuid() == 0 else ["sudo", "-n", "umount"]
    subprocess.run([*umount, "-l", str(mnt)], check=False)


BASES = bytes(b"ACGT"[i % 4] for i in range(256))
QUALITIES = bytes(33 + i % 41 for i in range(256))


def random_fastq(reads: int, seed: int) -> bytes:
    """Reads that gzip cannot shrink much (random bases and qualities)."""
    rng = random.Random(seed)
    out = bytearray()
    for i in range(reads):
        seq, qual = rng.randbytes(100).translate(BASES), rng.randbytes(100).translate(QUALITIES)
        out += b"@r%d\n%s\n+\n%s\n" % (i, seq, qual)
    return bytes(out)


def staged(volume, upload_id: str) -> list:
    d = volume / "staging" / "uploads" / upload_id
    return sorted(p for p in d.rglob("*") if p.is_file()) if d.exists() else []


def wait_unstaged(volume, upload_id: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while staged(volume, upload_id):
        assert time.monotonic() < deadline, f"upload {upload_id} still staged: {staged(volume, upload_id)}"
        time.sleep(0.2)


def test_a_full_disk_fails_cleanly_and_keeps_what_is_stored(server_factory, small_volume):
    # The floor is off: this test is about what happens when a write still hits ENOSPC.
    server = server_factory.new(env={"SEQSTORE_BLOB__ROOT": str(small_volume), "SEQSTORE_BLOB__MIN_FREE_BYTES": "0"})
    client = server.client()
    store = client.create_sequence_store(name=unique("full"))["id"]
    kept = client.complete_multipart_read_set_upload(
        sequenceStoreId=store, uploadId=(u := create_upload(client, store, "FASTQ", unique("kept"))["uploadId"]),
        parts=[upload_part(client, store, u, "SOURCE1", 1, FASTQ)])["readSetId"]
    kept_meta = wait_read_set(client, store, kept)
    assert kept_meta["status"] == "ACTIVE", kept_meta

    # 16 MiB staged leaves about 4 MiB, less than the gzip the ingestion writes.
    big = random_fastq(80_000, seed=3)
    assert len(big) > 16 * 1024 * 1024
    upload = create_upload(client, store, "FASTQ", unique("big"))["uploadId"]
    part = upload_part(client, store, upload, "SOURCE1", 1, big)
    assert staged(small_volume, upload), "parts are staged on the blob volume"
    failed = client.complete_multipart_read_set_upload(sequenceStoreId=store, uploadId=upload, parts=[part])["readSetId"]
    meta = wait_read_set(client, store, failed)
    assert meta["status"] == "UPLOAD_FAILED", meta
    assert "no space left" in meta["statusMessage"], meta["statusMessage"]
    wait_unstaged(small_volume, upload)
    assert shutil.disk_usage(small_volume).used < 2 * 1024 * 1024, "the failed read set left bytes behind"

    # A part that does not fit is refused and leaves nothing behind.
    filler = small_volume / "filler"
    with open(filler, "wb") as f:
        with contextlib.suppress(OSError):
            f.write(b"\0" * (shutil.disk_usage(small_volume).free - 1024 * 1024))
    upload = create_upload(client, store, "FASTQ", unique("nofit"))["uploadId"]
    with raises_aws("ServiceQuotaExceededException", 402, message_contains="no space left"):
        client.upload_read_set_part(sequenceStoreId=store, uploadId=upload, partSource="SOURCE1",
                                    partNumber=1, payload=random_fastq(20_000, seed=4))
    assert staged(small_volume, upload) == []
    filler.unlink()

    # What was stored before is untouched.
    assert client.get_read_set_metadata(sequenceStoreId=store, id=kept)["etag"] == kept_meta["etag"]
    body = client.get_read_set(sequenceStoreId=store, id=kept, partNumber=1)["payload"].read()
    assert gzip.decompress(body) == FASTQ
