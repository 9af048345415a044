"""`seqstore upload | download | ls`: the client in the binary, configured like the AWS CLI (a
profile in the shared config and credentials files, `AWS_ENDPOINT_URL_OMICS`), against the real
server on both catalogs.

Oracles: ETags from gzip/samtools and md5sum/sha256sum (read_set_support), bytes from
sha256sum, and what boto3 reads back from the server.
"""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest

from e2e_support import clean_env, seqstore_bin, unique
from read_set_api import check_fastq_download, download, list_parts, list_uploads, wait_read_set
from read_set_support import Source, gzip_file, shell, write_fastq_pair

MIB = 1024 * 1024


class ClientEnv:
    """A user's machine: HOME with ~/.aws/config and ~/.aws/credentials naming the server."""

    def __init__(self, rs_env, home: Path):
        self.rs = rs_env
        server = rs_env.server
        keys, profile_text = server.create_keys(rs_env.account)
        self.keys = keys
        self.profile = f"seqstore-{rs_env.account}"
        aws = home / ".aws"
        aws.mkdir(parents=True, exist_ok=True)
        (aws / "credentials").write_text(profile_text)
        (aws / "config").write_text(
            f"[profile {self.profile}]\nregion = us-east-1\nservices = lab\n\n"
            f"[services lab]\nomics =\n  endpoint_url = {server.endpoint}\n"
        )
        self.env = clean_env(HOME=str(home), AWS_PROFILE=self.profile)

    def popen(self, *args: str, **kwargs) -> subprocess.Popen:
        return subprocess.Popen([str(seqstore_bin()), *args], env=kwargs.pop("env", self.env),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)

    def run(self, *args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run([str(seqstore_bin()), *args], env=env or self.env, capture_output=True,
                              text=True, timeout=timeout)

    def ok(self, *args: str) -> str:
        res = self.run(*args)
        assert res.returncode == 0, f"seqstore {' '.join(args)} exited {res.returncode}:\n{res.stderr}"
        assert "panicked" not in res.stderr
        return res.stdout


@pytest.fixture(scope="module")
def client_env(rs_env, tmp_path_factory) -> ClientEnv:
    return ClientEnv(rs_env, tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="module")
def big_fastq(tmp_path_factory) -> Source:
    """A paired gzip FASTQ of several MiB each, so 1 MiB parts make several parts."""
    d = tmp_path_factory.mktemp("client-fastq")
    r1, r2 = write_fastq_pair(d, "big", 50000, seed=7)
    return Source("big_fastq", "FASTQ", [gzip_file(r1, d / "big_R1.fastq.gz"), gzip_file(r2, d / "big_R2.fastq.gz")])


def sha256sum(path: Path) -> str:
    return shell('sha256sum -- "$1"', path).split()[0]


def one_line_error(res: subprocess.CompletedProcess) -> str:
    assert res.returncode != 0
    lines = res.stderr.strip().splitlines()
    # notes such as "upload N created" may come first; the error is the one last line
    errors = [line for line in lines if line.startswith("seqstore: ")]
    assert errors == lines[-1:], f"not one clear line:\n{res.stderr}"
    assert "panicked" not in res.stderr and "Backtrace" not in res.stderr
    return lines[-1]


def upload_args(store: str, src: Source, name: str, *extra: str) -> list[str]:
    args = ["upload", "--sequence-store-id", store, "--type", src.file_type, "--name", name,
            "--subject-id", "subject-9", "--sample-id", "sample-9", *extra]
    return args + [str(p) for p in src.paths]


@pytest.mark.parametrize("case,family", [("big_fastq", "MD5up"), ("bam", "SHA256up"), ("cram31", "SHA512up"),
                                         ("ubam", "MD5up")])
def test_upload_then_download_verifies_etags(client_env, big_fastq, read_set_files, tmp_path, case, family):
    rs = client_env.rs
    src = big_fastq if case == "big_fastq" else read_set_files[case]
    store = rs.stores[family]
    extra = ["--part-size", "1", "--concurrency", "3", "--tag", "project=client"]
    if src.file_type in ("BAM", "CRAM"):
        extra += ["--reference-arn", rs.refs["main"]]
    if src.file_type == "CRAM":
        extra += ["--reference-fasta", str(src.reference)]
    name = unique("client")
    out = json.loads(client_env.ok(*upload_args(store, src, name, *extra)))

    want = src.etag(family)
    assert out["status"] == "ACTIVE" and out["verified"] is True, out
    assert out["etag"] == want, f"the client's report against the tools: {out['etag']} != {want}"
    assert out["partsSkipped"] == 0
    sizes = [p.stat().st_size for p in src.paths]
    assert out["partsUploaded"] == sum(-(-s // MIB) for s in sizes)
    meta = rs.client.get_read_set_metadata(sequenceStoreId=store, id=out["readSetId"])
    assert meta["etag"] == want and meta["name"] == name and meta["sampleId"] == "sample-9"
    tags = rs.client.list_tags_for_resource(resourceArn=meta["arn"])["tags"]
    assert tags == {"project": "client"}

    dest = tmp_path / "down"
    dest.mkdir()
    report = json.loads(client_env.ok("download", "--sequence-store-id", store, "--read-set-id", out["readSetId"],
                                      "-o", str(dest), "--concurrency", "2",
                                      *(["--reference-fasta", str(src.reference)] if src.file_type == "CRAM" else [])))
    assert [r["file"] for r in report] == [f"SOURCE{i + 1}" for i in range(len(src.paths))]
    for i, r in enumerate(report):
        got = Path(r["path"])
        assert r["verified"] is True and r["etag"] == want[f"source{i + 1}"], r
        info = meta["files"][f"source{i + 1}"]
        assert got.name == info["s3Access"]["s3Uri"].rsplit("/", 1)[1]
        boto = download(rs.client, store, out["readSetId"], f"SOURCE{i + 1}", info, tmp_path / f"boto{i}")
        assert sha256sum(got) == sha256sum(boto), f"{got.name}: the client's bytes differ from boto3's"
        if src.file_type == "FASTQ":
            check_fastq_download(src.paths[i], got)
    assert not [p for p in dest.iterdir() if p.name.startswith(".seqstore-download-")]

    # the index too, by name; an existing file is not replaced without --overwrite
    if src.file_type in ("BAM", "CRAM"):
        idx = json.loads(client_env.ok("download", "--sequence-store-id", store, "--read-set-id", out["readSetId"],
                                       "--file", "INDEX", "-o", str(dest)))
        boto = download(rs.client, store, out["readSetId"], "INDEX", meta["files"]["index"], tmp_path / "boto-index")
        assert sha256sum(Path(idx[0]["path"])) == sha256sum(boto) and idx[0]["verified"] is False
    # --no-verify: the same bytes, nothing recomputed
    quick = tmp_path / "quick"
    quick.mkdir()
    fast = json.loads(client_env.ok("download", "--sequence-store-id", store, "--read-set-id", out["readSetId"],
                                    "-o", str(quick), "--no-verify"))
    assert [r["verified"] for r in fast] == [False] * len(src.paths)
    assert [sha256sum(Path(r["path"])) for r in fast] == [sha256sum(Path(r["path"])) for r in report]
    again = client_env.run("download", "--sequence-store-id", store, "--read-set-id", out["readSetId"],
                           "-o", str(dest))
    assert "exists (--overwrite replaces it)" in one_line_error(again)


def test_an_interrupted_upload_resumes_without_resending_parts(client_env, big_fastq, tmp_path):
    """The source comes through a pipe that stops after three and a half parts; Ctrl-C then leaves
    three parts on the server, and `--upload-id` sends only the rest."""
    rs = client_env.rs
    store = rs.stores["MD5up"]
    path = big_fastq.paths[0]
    fifo = tmp_path / "source.fastq.gz"
    os.mkfifo(fifo)
    name = unique("resume")
    proc = client_env.popen("upload", "--sequence-store-id", store, "--type", "FASTQ", "--name", name,
                            "--subject-id", "s", "--sample-id", "s", "--part-size", "1", "--concurrency", "1",
                            str(fifo))
    writer = open(fifo, "wb")
    try:
        data = path.read_bytes()
        assert len(data) > 5 * MIB
        writer.write(data[: 3 * MIB + MIB // 2])
        writer.flush()
        deadline = time.monotonic() + 60
        while True:
            uploads = [u for u in list_uploads(rs.client, store) if u.get("name") == name]
            if uploads and len(list_parts(rs.client, store, uploads[0]["uploadId"], "SOURCE1")) == 3:
                break
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "three parts never arrived"
            time.sleep(0.1)
        upload_id = uploads[0]["uploadId"]
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        try:
            writer.close()
        except BrokenPipeError:
            pass
    err = err.decode()
    assert proc.returncode == 130, err
    assert f"upload {upload_id} created" in err
    assert (f"seqstore: interrupted; resume with: seqstore upload --sequence-store-id {store} "
            f"--upload-id {upload_id}") in err, err
    assert [u["uploadId"] for u in list_uploads(rs.client, store) if u.get("name") == name] == [upload_id]

    out = json.loads(client_env.ok("upload", "--sequence-store-id", store, "--upload-id", upload_id, str(path)))
    total = -(-len(data) // MIB)
    assert (out["partsSkipped"], out["partsUploaded"]) == (3, total - 3), out
    assert out["verified"] is True and out["etag"]["source1"] == big_fastq.etag("MD5up")["source1"]
    meta = wait_read_set(rs.client, store, out["readSetId"])
    assert meta["status"] == "ACTIVE" and meta["name"] == name
    assert meta["files"]["source1"]["contentLength"] == len(data)
    # a finished upload cannot be resumed
    res = client_env.run("upload", "--sequence-store-id", store, "--upload-id", upload_id, str(path))
    assert f"upload {upload_id} is not in progress" in one_line_error(res)


def test_a_file_the_server_would_refuse_is_refused_here_and_the_upload_aborted(client_env, tmp_path):
    rs = client_env.rs
    store = rs.stores["MD5up"]
    bad = tmp_path / "bad.fastq"
    bad.write_text("@r1\nACGT\n+\nIII\n")
    name = unique("bad")
    res = client_env.run(*upload_args(store, Source("bad", "FASTQ", [bad]), name))
    line = one_line_error(res)
    assert str(bad) in line, line
    assert not [u for u in list_uploads(rs.client, store) if u.get("name") == name], "the upload was left behind"


def test_errors_are_one_clear_line(client_env, tmp_path):
    rs = client_env.rs
    store = rs.stores["MD5up"]
    src = Source("x", "FASTQ", [tmp_path / "absent.fastq"])
    line = one_line_error(client_env.run(*upload_args(store, src, "x")))
    assert "absent.fastq" in line

    nowhere = clean_env(HOME=str(tmp_path))
    line = one_line_error(client_env.run("ls", env=nowhere))
    assert line.startswith("seqstore: no endpoint: set AWS_ENDPOINT_URL_OMICS"), line
    line = one_line_error(client_env.run("ls", env={**nowhere, "AWS_ENDPOINT_URL_OMICS": rs.server.endpoint}))
    assert line.startswith("seqstore: no credentials"), line

    forged = clean_env(HOME=str(tmp_path), AWS_ENDPOINT_URL_OMICS=rs.server.endpoint,
                       AWS_ACCESS_KEY_ID=client_env.keys.access_key_id, AWS_SECRET_ACCESS_KEY="wrong" * 8)
    line = one_line_error(client_env.run("ls", env=forged))
    assert line.startswith("seqstore: InvalidSignatureException: "), line

    line = one_line_error(client_env.run("ls", "1234567890"))
    assert line.startswith("seqstore: ResourceNotFoundException: "), line
    line = one_line_error(client_env.run("download", "--sequence-store-id", store, "--read-set-id", "1234567890"))
    assert line.startswith("seqstore: ResourceNotFoundException: "), line
    line = one_line_error(client_env.run("upload", "--sequence-store-id", store, "--upload-id", "9999999999",
                                         str(tmp_path)))
    assert "is a directory" in line, line


def test_ls_lists_stores_read_sets_uploads_and_references(client_env, read_set_files):
    rs = client_env.rs
    store = rs.stores["MD5up"]
    up = rs.client.create_multipart_read_set_upload(sequenceStoreId=store, sourceFileType="FASTQ",
                                                    subjectId="s", sampleId="s", name=unique("ls-upload"))
    try:
        lines = client_env.ok("ls").splitlines()
        assert lines[0].split() == ["id", "name", "eTagAlgorithmFamily", "creationTime"]
        assert {line.split()[0] for line in lines[1:]} >= set(rs.stores.values())

        read_sets = rs.client.list_read_sets(sequenceStoreId=store, maxResults=100)["readSets"]
        listed = json.loads(client_env.ok("ls", store, "--json"))
        assert {r["id"] for r in listed} >= {r["id"] for r in read_sets}
        table = client_env.ok("ls", store).splitlines()
        assert table[0].split() == ["id", "status", "fileType", "name", "sampleId", "creationTime"]
        assert len(table) == len(listed) + 1

        uploads = json.loads(client_env.ok("ls", store, "--uploads", "--json"))
        assert up["uploadId"] in {u["uploadId"] for u in uploads}

        refs = json.loads(client_env.ok("ls", "--references", "--json"))
        assert [r["id"] for r in refs] == [rs.reference_store_id]
        references = json.loads(client_env.ok("ls", "--references", rs.reference_store_id, "--json"))
        assert {r["id"] for r in references} == set(rs.ref_ids.values())
    finally:
        rs.client.abort_multipart_read_set_upload(sequenceStoreId=store, uploadId=up["uploadId"])


def test_the_progress_bar_is_drawn_on_a_terminal_only(client_env, read_set_files):
    rs = client_env.rs
    src = read_set_files["fastq_gzip"]
    store = rs.stores["MD5up"]
    # stderr a pipe: notes only, no bar
    res = client_env.run(*upload_args(store, src, unique("pipe")))
    assert res.returncode == 0, res.stderr
    assert "%" not in res.stderr and "uploading" not in res.stderr, res.stderr
    # --quiet: nothing at all; --no-verify: the server's ETag, not compared here
    res = client_env.run(*upload_args(store, src, unique("quiet"), "--quiet", "--no-verify"))
    assert res.returncode == 0 and res.stderr == "", res.stderr
    quiet = json.loads(res.stdout)
    assert quiet["verified"] is False and quiet["etag"] == src.etag("MD5up"), quiet

    # stderr a terminal: the bar reaches 100 %
    main, secondary = pty.openpty()
    proc = subprocess.Popen([str(seqstore_bin()), *upload_args(store, src, unique("tty"))], env=client_env.env,
                            stdout=subprocess.PIPE, stderr=secondary)
    os.close(secondary)
    seen = b""
    while True:
        ready, _, _ = select.select([main], [], [], 60)
        assert ready, "no output on the terminal"
        try:
            chunk = os.read(main, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    out, _ = proc.communicate(timeout=60)
    os.close(main)
    assert proc.returncode == 0
    text = seen.decode(errors="replace")
    assert "uploading" in text and "100%" in text, text
    assert json.loads(out)["status"] == "ACTIVE"
