"""Ingesting an upload while its parts arrive (`uploads.early_ingests`): parts that come in
order feed a running ingestion, so Complete only finishes it; parts out of order, uploaded
again, or a Complete that lists other parts must give exactly what ingesting the staged parts
after Complete gives: the tools' ETags, counts and bytes.

On a private single-node server: the early ingestion is one node's, and which path ran is read
from that node's log.
"""

from __future__ import annotations

import gzip
import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import ServerFactory
from read_set_api import build_env, check_alignment_download, create_upload, upload_part, wait_read_set
from read_set_support import Source

LOG_FILTER = "info,sqlx=warn,s3s=off,seqstore_core::early_ingest=debug"
USED = "ingested an upload's source as its parts arrived"
UNUSED = "ingesting an upload's source from staging"


@pytest.fixture(scope="module")
def env(backend, tmp_path_factory, moto_s3, read_set_files):
    factory = ServerFactory(tmp_path_factory, backend, moto_s3.server_env())
    try:
        server = factory.new(env={"RUST_LOG": LOG_FILTER})
        yield build_env(server, read_set_files)
    finally:
        factory.close()


def log_lines(env, upload_id: str, message: str) -> list[str]:
    return [line for line in env.server.all_output().splitlines()
            if message in line and f"upload_id={upload_id}" in line]


def wait_fed(env, upload_id: str, source: str, part: int, timeout: float = 30.0) -> None:
    """Until the node's log says part `part` of `source` went to the early ingestion."""
    deadline = time.monotonic() + timeout
    pattern = re.compile(rf"fed a staged part.*upload_id={upload_id}.*source={source}.*part={part}\b")
    while not any(pattern.search(line) for line in env.server.all_output().splitlines()):
        if time.monotonic() > deadline:
            pytest.fail(f"part {part} of {source} of upload {upload_id} was not fed within {timeout}s:\n"
                        f"{env.server.describe_logs()}")
        time.sleep(0.05)


def thirds(data: bytes) -> dict[int, bytes]:
    a, b = len(data) // 3, 2 * len(data) // 3
    return {1: data[:a], 2: data[a:b], 3: data[b:]}


def fastq_thirds(path) -> dict[int, bytes]:
    """A plain FASTQ cut at record boundaries, so that any subset of parts is FASTQ."""
    lines = path.read_bytes().splitlines(keepends=True)
    records = [b"".join(lines[i:i + 4]) for i in range(0, len(lines), 4)]
    a, b = len(records) // 3, 2 * len(records) // 3
    return {1: b"".join(records[:a]), 2: b"".join(records[a:b]), 3: b"".join(records[b:])}


def complete(env, store_id, upload_id, parts) -> dict:
    done = env.client.complete_multipart_read_set_upload(sequenceStoreId=store_id, uploadId=upload_id,
                                                         parts=parts)
    return wait_read_set(env.client, store_id, done["readSetId"]) | {"id": done["readSetId"]}


def expect_read_set(meta, src: Source, family: str) -> None:
    assert meta["status"] == "ACTIVE", meta.get("statusMessage")
    assert meta["etag"] == src.etag(family)
    reads, bases = src.counts()
    assert meta["sequenceInformation"]["totalReadCount"] == reads
    assert meta["sequenceInformation"]["totalBaseCount"] == bases


@pytest.mark.parametrize("case", ["bam", "cram31", "ubam"])
def test_aligned_parts_in_order_are_ingested_as_they_arrive(env, read_set_files, case, tmp_path):
    src = read_set_files[case]
    store_id = env.stores["SHA512up"]
    reference = env.refs["main"] if case != "ubam" else None
    upload_id = create_upload(env.client, store_id, src.file_type, f"early-{case}", reference)["uploadId"]
    parts = [upload_part(env.client, store_id, upload_id, "SOURCE1", n, data)
             for n, data in thirds(src.paths[0].read_bytes()).items()]
    meta = complete(env, store_id, upload_id, parts)
    expect_read_set(meta, src, "SHA512up")
    assert len(log_lines(env, upload_id, USED)) == 1, env.server.describe_logs()
    assert not log_lines(env, upload_id, UNUSED)
    if src.file_type != "UBAM":
        got = tmp_path / f"got.{case[:4]}"
        got.write_bytes(env.client.get_read_set(sequenceStoreId=store_id, id=meta["id"],
                                                partNumber=1)["payload"].read())
        check_alignment_download(src, got, None, store_id)


def test_paired_fastq_out_of_order_is_ingested_once_part_1_arrives(env, read_set_files):
    """Parts sent 3, 2, 1 on each source: part 1 starts the ingestion, which then reads 2 and 3."""
    src = read_set_files["fastq_gzip"]
    store_id = env.stores["MD5up"]
    upload_id = create_upload(env.client, store_id, "FASTQ", "early-paired")["uploadId"]
    parts = []
    for i, path in enumerate(src.paths, start=1):
        cut = thirds(path.read_bytes())
        parts += [upload_part(env.client, store_id, upload_id, f"SOURCE{i}", n, cut[n]) for n in (3, 2, 1)]
    for source in ("SOURCE1", "SOURCE2"):
        wait_fed(env, upload_id, source, 3)
    meta = complete(env, store_id, upload_id, parts)
    expect_read_set(meta, src, "MD5up")
    used = log_lines(env, upload_id, USED)
    assert len(used) == 2 and all("fed_at_complete=0" in line for line in used), used
    for i, path in enumerate(src.paths, start=1):
        body = env.client.get_read_set(sequenceStoreId=store_id, id=meta["id"], file=f"SOURCE{i}",
                                       partNumber=1)["payload"].read()
        assert body == path.read_bytes(), f"SOURCE{i}: a .gz upload is stored as sent"


def test_parts_sent_at_once_are_each_read_once(env, read_set_files):
    """Parts 2-8 sent concurrently, as TransferManager does: whichever part's staging feeds
    the ingestion reads every part staged by then, so a later part's own call comes after that
    part was read. That is not an upload again: nothing starts over and each part is read
    once (it used to start over, up to once per part)."""
    src = read_set_files["bam"]
    store_id = env.stores["MD5up"]
    upload_id = create_upload(env.client, store_id, "BAM", "early-at-once", env.refs["main"])["uploadId"]
    data = src.paths[0].read_bytes()
    step = -(-len(data) // 8)
    cut = {n + 1: data[n * step:(n + 1) * step] for n in range(8)}
    first = upload_part(env.client, store_id, upload_id, "SOURCE1", 1, cut[1])
    wait_fed(env, upload_id, "SOURCE1", 1)
    with ThreadPoolExecutor(7) as pool:
        rest = list(pool.map(lambda n: upload_part(env.client, store_id, upload_id, "SOURCE1", n, cut[n]),
                             range(2, 9)))
    wait_fed(env, upload_id, "SOURCE1", 8)
    meta = complete(env, store_id, upload_id, [first, *rest])
    expect_read_set(meta, src, "MD5up")
    assert not log_lines(env, upload_id, "early ingestion starts over"), env.server.describe_logs()
    used = log_lines(env, upload_id, USED)
    assert len(used) == 1 and "fed_at_complete=0" in used[0], env.server.describe_logs()
    fed = log_lines(env, upload_id, "fed a staged part")
    for n in range(1, 9):
        assert len([line for line in fed if re.search(rf"part={n}\b", line)]) == 1, (n, fed)


def test_a_part_uploaded_again_after_it_was_read_starts_over(env, read_set_files, tmp_path):
    """Part 2 first carries other (valid) reads; once the early ingestion has read parts 1-3 it
    is uploaded again with the right ones: the read set must be the final parts'."""
    plain = read_set_files["fastq_plain"]
    store_id = env.stores["SHA256up"]
    cut = fastq_thirds(plain.paths[0])
    impostor = fastq_thirds(plain.paths[1])[2]
    upload_id = create_upload(env.client, store_id, "FASTQ", "early-again")["uploadId"]
    upload_part(env.client, store_id, upload_id, "SOURCE1", 1, cut[1])
    upload_part(env.client, store_id, upload_id, "SOURCE1", 2, impostor)
    upload_part(env.client, store_id, upload_id, "SOURCE1", 3, cut[3])
    wait_fed(env, upload_id, "SOURCE1", 3)
    parts = [upload_part(env.client, store_id, upload_id, "SOURCE1", n, cut[n]) for n in (1, 2, 3)]
    meta = complete(env, store_id, upload_id, parts)
    expect_read_set(meta, Source("r1", "FASTQ", [plain.paths[0]]), "SHA256up")
    assert log_lines(env, upload_id, "early ingestion starts over"), env.server.describe_logs()
    body = env.client.get_read_set(sequenceStoreId=store_id, id=meta["id"], partNumber=1)["payload"].read()
    assert gzip.decompress(body) == plain.paths[0].read_bytes()


@pytest.mark.parametrize("listed", [(1, 2), (1, 3), (2, 3)])
def test_complete_with_other_parts_than_were_read_ingests_from_staging(env, read_set_files, listed, tmp_path):
    plain = read_set_files["fastq_plain"]
    store_id = env.stores["SHA256up"]
    cut = fastq_thirds(plain.paths[0])
    upload_id = create_upload(env.client, store_id, "FASTQ", f"early-subset-{listed}")["uploadId"]
    parts = {n: upload_part(env.client, store_id, upload_id, "SOURCE1", n, cut[n]) for n in (1, 2, 3)}
    wait_fed(env, upload_id, "SOURCE1", 3)
    meta = complete(env, store_id, upload_id, [parts[n] for n in listed])
    expected = tmp_path / "listed.fastq"
    expected.write_bytes(b"".join(cut[n] for n in listed))
    expect_read_set(meta, Source("listed", "FASTQ", [expected]), "SHA256up")
    assert log_lines(env, upload_id, UNUSED) and not log_lines(env, upload_id, USED), env.server.describe_logs()


def test_bad_bytes_fail_the_upload_as_after_complete(env):
    """A FASTQ of about 9 MB in 8 parts with a record whose quality is a base short near its
    middle: the early ingestion stops once (validation runs on a thread of its own, so at a
    part fed after the validator met the record, or at Complete) and does not start again for
    the parts staged after it (bad bytes cost one ingestion, not one per part); the job reads
    the staged parts and says what is wrong in the words of the staging path (the source named
    first)."""
    records = [b"@r%06d\n%s\n+\n%s\n" % (i, b"ACGT" * 25, b"I" * (99 if i == 20_000 else 100))
               for i in range(40_000)]
    data = b"".join(records)
    size = len(data) // 8 + 1
    cut = {n + 1: data[n * size:(n + 1) * size] for n in range(8)}
    store_id = env.stores["MD5up"]
    upload_id = create_upload(env.client, store_id, "FASTQ", "early-bad")["uploadId"]
    parts = [upload_part(env.client, store_id, upload_id, "SOURCE1", n, cut[n]) for n in range(1, 8)]
    fed_7 = re.compile(r"fed a staged part.*part=7\b")
    deadline = time.monotonic() + 30
    while not (log_lines(env, upload_id, "early ingestion stopped")
               or any(fed_7.search(line) for line in log_lines(env, upload_id, "fed a staged part"))):
        assert time.monotonic() < deadline, env.server.describe_logs()
        time.sleep(0.05)
    parts.append(upload_part(env.client, store_id, upload_id, "SOURCE1", 8, cut[8]))
    while not log_lines(env, upload_id, "early ingestion stopped"):
        assert time.monotonic() < deadline, env.server.describe_logs()
        time.sleep(0.05)
    meta = complete(env, store_id, upload_id, parts)
    assert meta["status"] == "UPLOAD_FAILED"
    assert meta["statusMessage"].startswith("SOURCE1: "), meta["statusMessage"]
    assert "20001" in meta["statusMessage"] or "80004" in meta["statusMessage"], meta["statusMessage"]
    assert not log_lines(env, upload_id, USED), env.server.describe_logs()
    assert len(log_lines(env, upload_id, "early ingestion stopped")) == 1, env.server.describe_logs()
    fed_first = [line for line in log_lines(env, upload_id, "fed a staged part") if re.search(r"part=1\b", line)]
    assert len(fed_first) == 1, fed_first
