"""Local import sources: `file:///path` under the directories of `[sources.local] roots`,
for the accounts `[[sources.grants]] roots` name; the same jobs, validation and messages as
`s3://` sources. Expected ETags and MD5s come from `gzip -dc | md5sum` and `md5sum`.

Refused: paths under no root or under a root not granted to the account (AccessDenied at the
call), `.`/`..` parts (ValidationException), and, when the job reads it, a symbolic link that
leaves its root or a missing file (the item FAILS with a message saying which).
"""

from __future__ import annotations

import shutil

import pytest

from e2e_support import new_account_id, raises_aws, unique
from read_set_api import wait_read_set
from read_set_support import RS_ROLE_ARN
from reference_support import md5sum, new_reference_store, run_import, source_item
from test_read_set_import import wait_job


@pytest.fixture
def local(server_factory, read_set_files, tmp_path):
    runs, other, outside = tmp_path / "runs", tmp_path / "other", tmp_path / "outside"
    for d in (runs / "genomes", runs / "fq", other, outside):
        d.mkdir(parents=True)
    shutil.copy(read_set_files["cram30"].reference, runs / "genomes" / "ref.fa")
    fastq = read_set_files["fastq_gzip"]
    for p in fastq.paths:
        shutil.copy(p, runs / "fq" / p.name)
    shutil.copy(read_set_files["cram30"].reference, other / "ref.fa")
    shutil.copy(read_set_files["cram30"].reference, outside / "secret.fa")
    (runs / "escape.fa").symlink_to(outside / "secret.fa")
    (runs / "inside.fa").symlink_to("genomes/ref.fa")
    granted, bucket_only = new_account_id(), new_account_id()
    config = (f'[sources.local]\nroots = ["{runs}", "{other}"]\n'
              f'[[sources.grants]]\naccount = "{granted}"\nbuckets = ["*"]\nroots = ["{runs}"]\n'
              f'[[sources.grants]]\naccount = "{bucket_only}"\nbuckets = ["*"]\n')
    srv = server_factory.new(config=config)
    clients = {}
    for name, account in (("granted", granted), ("bucket_only", bucket_only)):
        keys, _ = srv.create_keys(account)
        clients[name] = srv.client(keys)
    return dict(srv=srv, runs=runs, other=other, outside=outside, clients=clients, fastq=fastq)


def uri(path) -> str:
    return f"file://{path}"


def test_references_and_read_sets_import_from_local_files(local):
    client, runs = local["clients"]["granted"], local["runs"]
    ref_store = new_reference_store(client)
    job = run_import(client, ref_store, [source_item(uri(runs / "genomes" / "ref.fa"), "local-genome"),
                                         source_item(uri(runs / "inside.fa"), "linked-inside")])
    assert job["status"] == "COMPLETED", job
    for source in job["sources"]:
        meta = client.get_reference_metadata(referenceStoreId=ref_store, id=source["referenceId"])
        assert meta["status"] == "ACTIVE" and meta["md5"] == md5sum(runs / "genomes" / "ref.fa"), meta

    store = client.create_sequence_store(name=unique("local"))["id"]
    fastq = local["fastq"]
    item = {"sourceFiles": {"source1": uri(runs / "fq" / fastq.paths[0].name),
                            "source2": uri(runs / "fq" / fastq.paths[1].name)},
            "sourceFileType": "FASTQ", "subjectId": "s", "sampleId": "x", "name": unique("local-fq")}
    started = client.start_read_set_import_job(sequenceStoreId=store, roleArn=RS_ROLE_ARN, sources=[item])
    done, _ = wait_job(client, store, started["id"])
    assert done["status"] == "COMPLETED", done
    assert done["sources"][0]["sourceFiles"] == item["sourceFiles"]
    meta = wait_read_set(client, store, done["sources"][0]["readSetId"])
    assert meta["status"] == "ACTIVE"
    assert meta["etag"] == fastq.etag("MD5up"), "the ETag gzip -dc | md5sum gives"


def test_local_paths_outside_roots_or_grants_are_refused(local):
    granted, bucket_only = local["clients"]["granted"], local["clients"]["bucket_only"]
    runs, other, outside = local["runs"], local["other"], local["outside"]
    ref_store = new_reference_store(granted)
    for path, why in [(other / "ref.fa", f"no grant names {other}"),
                      (outside / "secret.fa", "not under any directory of [sources.local] roots")]:
        with raises_aws("AccessDeniedException", 403, why):
            granted.start_reference_import_job(referenceStoreId=ref_store, roleArn=RS_ROLE_ARN,
                                               sources=[source_item(uri(path), unique("r"))])
    with raises_aws("ValidationException", 400, "without . or .. parts"):
        granted.start_reference_import_job(
            referenceStoreId=ref_store, roleArn=RS_ROLE_ARN,
            sources=[source_item(f"file://{runs}/genomes/../../outside/secret.fa", unique("r"))])
    with raises_aws("ValidationException", 400):
        granted.start_reference_import_job(referenceStoreId=ref_store, roleArn=RS_ROLE_ARN,
                                           sources=[source_item("file://relative/ref.fa", unique("r"))])
    other_store = new_reference_store(bucket_only)
    with raises_aws("AccessDeniedException", 403, f"no grant names {runs}"):
        bucket_only.start_reference_import_job(referenceStoreId=other_store, roleArn=RS_ROLE_ARN,
                                               sources=[source_item(uri(runs / "genomes" / "ref.fa"), unique("r"))])
    # What the call cannot see: a link out of the root, a file that is not there.
    job = run_import(granted, ref_store, [source_item(uri(runs / "escape.fa"), unique("escape")),
                                          source_item(uri(runs / "missing.fa"), unique("missing"))])
    assert job["status"] == "COMPLETED_WITH_FAILURES" or job["status"] == "FAILED", job
    messages = [s.get("statusMessage", "") for s in job["sources"]]
    assert [s["status"] for s in job["sources"]] == ["FAILED", "FAILED"], job
    assert messages[0].startswith("outside the [sources.local] roots: "), messages
    assert messages[1].startswith("file not found: "), messages
