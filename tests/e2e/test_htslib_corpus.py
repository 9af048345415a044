"""Accept what htslib accepts: every file of the htslib corpus (htslib_corpus.py) that samtools 1.16
reads, the store takes by direct upload and ends ACTIVE with the ETag and counts samtools gives;
where htslib refuses a file (`expect="UPLOAD_FAILED"`), the store refuses it too.

The corpus is made once per session by samtools/bgzip/gzip; per backend it goes into a sequence
store of its own (MD5up) of the `rs_env` account, BAM/CRAM linked to `ref.fa` (`main`) or to
`corpus.fa` (imported here into the account's reference store). Expected values come from the
tools (read_set_support.Source), never from seqstore.
"""

from __future__ import annotations

import concurrent.futures
import re

import pytest

from e2e_support import unique
from htslib_corpus import CORPUS_CASES, CORPUS_REFERENCE_KEY, Corpus, build_corpus, htslib_verdict
from read_set_api import (
    Uploaded,
    check_alignment_download,
    check_fastq_download,
    download,
    indexed_original,
    upload_read_set,
    wait_read_set,
)
from read_set_support import REGIONS, SOURCE_BUCKET, sam_records
from reference_support import reference_arn, run_import, source_item

FAMILY = "MD5up"
# Region queries through the store's index, per linked reference (as test_read_sets asks them).
CORPUS_REGIONS = ["ctg01", "ctg02:100-900", "ctg17", "ctg30:1-50", "long1:1-2000", "long1:30000-30010", "long1"]
REGIONS_OF = {"main": REGIONS, "corpus": CORPUS_REGIONS}


@pytest.fixture(scope="session")
def htslib_corpus(read_set_files, moto_s3, tmp_path_factory) -> Corpus:
    corpus = build_corpus(tmp_path_factory.mktemp("htslib-corpus"), read_set_files.reference, moto_s3.client())
    assert list(corpus.cases) == CORPUS_CASES, "htslib_corpus.CORPUS_CASES lists other cases than it builds"
    return corpus


@pytest.fixture(scope="session")
def corpus_uploads(rs_env, htslib_corpus) -> dict[str, Uploaded]:
    """Per backend: corpus.fa imported, every corpus file uploaded into a new MD5up store."""
    client = rs_env.client
    job = run_import(client, rs_env.reference_store_id,
                     [source_item(f"s3://{SOURCE_BUCKET}/{CORPUS_REFERENCE_KEY}", unique("htslib-corpus"))])
    assert job["status"] == "COMPLETED", f"import of corpus.fa failed: {job}"
    refs = {"main": rs_env.refs["main"],
            "corpus": reference_arn(rs_env.account, rs_env.reference_store_id, job["sources"][0]["referenceId"])}
    store_id = rs_env.new_store(FAMILY)

    def one(case: str) -> Uploaded:
        c = htslib_corpus[case]
        ref = refs[c.reference] if c.source.needs_reference else None
        upload_id, rs_id, request, created = upload_read_set(client, store_id, c.source.file_type, c.source.paths,
                                                             f"htslib {case}", ref)
        return Uploaded(case, FAMILY, store_id, upload_id, rs_id, request, created, c.source)

    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        started = list(pool.map(one, CORPUS_CASES))
    out = {}
    for u in started:
        u.meta = wait_read_set(client, store_id, u.read_set_id, statuses=u.statuses)
        out[u.case] = u
    return out


# ---------------------------------------------------------------------------------------
# The corpus itself: htslib's verdict, and each file has the feature it stands for
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CORPUS_CASES)
def test_htslib_verdict_is_the_expected_one(htslib_corpus, case):
    c = htslib_corpus[case]
    verdict = htslib_verdict(c)
    if c.expect == "ACTIVE":
        assert verdict is None, f"{case} ({c.why}): htslib refuses the file: {verdict}"
    else:
        assert verdict is not None, f"{case} ({c.why}): expected to be refused, but htslib reads it"


@pytest.mark.parametrize("case", CORPUS_CASES)
def test_corpus_file_has_its_feature(htslib_corpus, case):
    c = htslib_corpus[case]
    if c.feature is not None:
        c.feature(c.source)


# ---------------------------------------------------------------------------------------
# What the store makes of it
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CORPUS_CASES)
def test_read_set_ends_as_htslib_says(htslib_corpus, corpus_uploads, case):
    c, u = htslib_corpus[case], corpus_uploads[case]
    meta = u.meta
    if c.expect == "UPLOAD_FAILED":
        assert meta["status"] == "UPLOAD_FAILED", (
            f"{case} ({c.why}): htslib refuses it, the store made it {meta['status']}")
        assert re.search(r"source\s*1", meta.get("statusMessage", ""), re.IGNORECASE), meta.get("statusMessage")
        return
    assert meta["status"] == "ACTIVE", (
        f"{case} ({c.why}): {meta['status']}: {meta.get('statusMessage')!r} (history {u.statuses})")
    want = c.source.etag(FAMILY)
    assert meta["etag"] == want, f"{case} ({c.why}): etag {meta['etag']}, samtools says {want}"
    info = meta["sequenceInformation"]
    want_info = c.source.sequence_information()
    got = {k: info.get(k) for k in want_info}
    assert got == want_info, f"{case} ({c.why}): sequenceInformation {got}, samtools says {want_info}"


@pytest.mark.parametrize("case", CORPUS_CASES)
def test_stored_file_reads_back(rs_env, htslib_corpus, corpus_uploads, case, tmp_path):
    """FASTQ: gzip -dc of the stored file = the original text. BAM/CRAM: header + provenance line,
    the same records, and region queries through the store's index = through `samtools index`."""
    c, u = htslib_corpus[case], corpus_uploads[case]
    if c.expect != "ACTIVE":
        return
    assert u.meta["status"] == "ACTIVE", f"{case}: {u.meta['status']}: {u.meta.get('statusMessage')!r}"
    files = u.meta["files"]
    name = files["source1"]["s3Access"]["s3Uri"].rsplit("/", 1)[-1]
    got = download(rs_env.client, u.store_id, u.read_set_id, "SOURCE1",
                   files["source1"], tmp_path / name)
    if c.source.file_type == "FASTQ":
        check_fastq_download(c.source.paths[0], got)
        return
    index_name = files["index"]["s3Access"]["s3Uri"].rsplit("/", 1)[-1]
    download(rs_env.client, u.store_id, u.read_set_id, "INDEX", files["index"], tmp_path / index_name)
    check_alignment_download(c.source, got, None, u.store_id, created_after=u.created["creationTime"])
    ref = c.source.reference
    original = indexed_original(c.source.paths[0])
    for region in REGIONS_OF[c.reference]:
        want = sam_records(original, ref, region)
        have = sam_records(got, ref, region)
        assert have == want, (f"{case}: `samtools view F {region}` with the store's index gives "
                              f"{len(have.splitlines())} records, with samtools index {len(want.splitlines())}")
