"""`seqstore etag FILE [FILE2] --type T [--reference FASTA] [--family F]`: the ETag and counts the
store would report, without a server.

Expected: what md5sum/sha256sum/sha512sum and samtools say (read_set_support), and what the
store reported for the same files (`uploaded`).
"""

from __future__ import annotations

import json

import pytest

from read_set_api import MD5_ONLY_CASES, STANDARD_CASES, seqstore_etag
from read_set_support import FAMILIES

GOOD_CASES = STANDARD_CASES + MD5_ONLY_CASES


def etag_args(src, family: str | None, reference=None) -> list[str]:
    args = [*map(str, src.paths), "--type", src.file_type]
    ref = reference if reference is not None else src.reference
    if ref is not None:
        args += ["--reference", str(ref)]
    if family is not None:
        args += ["--family", family]
    return args


def run_json(*args) -> dict:
    res = seqstore_etag(*args)
    assert res.returncode == 0, f"seqstore etag {' '.join(args)} exited {res.returncode}: {res.stderr}"
    try:
        return json.loads(res.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"seqstore etag printed no JSON: {res.stdout!r}")


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("case", GOOD_CASES)
def test_etag_cli_matches_the_tools(read_set_files, case, family):
    src = read_set_files[case]
    got = run_json(*etag_args(src, family))
    want = {"etag": src.etag(family), "sequenceInformation": src.sequence_information()}
    assert got == want, f"{case} {family}:\n  seqstore etag: {got}\n  the tools:     {want}"


def test_family_defaults_to_md5up(read_set_files):
    src = read_set_files["bam"]
    assert run_json(*etag_args(src, None))["etag"] == src.etag("MD5up")


def test_bam_reference_does_not_change_the_etag(read_set_files):
    src = read_set_files["bam"]
    with_ref = run_json(*etag_args(src, "SHA256up", reference=read_set_files.reference))
    assert with_ref["etag"] == src.etag("SHA256up")


@pytest.mark.parametrize("key", [(f, c) for f in FAMILIES for c in STANDARD_CASES] +
                         [("MD5up", c) for c in MD5_ONLY_CASES], ids=lambda k: f"{k[0]}-{k[1]}")
def test_etag_cli_agrees_with_the_store(uploaded, key):
    family, case = key
    u = uploaded[key]
    got = run_json(*etag_args(u.source, family))
    info = {k: u.meta["sequenceInformation"].get(k) for k in ("totalReadCount", "totalBaseCount", "alignment")}
    assert got == {"etag": u.meta["etag"], "sequenceInformation": info}


BAD_CASES = ["fastq_as_bam", "bam_as_fastq", "truncated_gzip", "truncated_bam", "corrupt_block_bam", "crc_bam",
             "short_quality", "pair_count_mismatch", "unsorted_bam", "cram_other_reference"]


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_input_exits_non_zero_with_a_message(read_set_files, case):
    b = read_set_files.bad[case]
    args = [*map(str, b.paths), "--type", b.declared]
    if b.declared == "CRAM":
        args += ["--reference", str(read_set_files.reference)]
    res = seqstore_etag(*args)
    assert res.returncode != 0, f"{case} ({b.why}): seqstore etag exited 0 and printed {res.stdout!r}"
    assert res.stderr.strip(), f"{case}: non-zero exit without a message"
    assert not res.stdout.strip().startswith("{"), f"{case}: JSON printed for a bad file: {res.stdout!r}"


def test_cram_needs_a_reference(read_set_files):
    res = seqstore_etag(str(read_set_files["cram30"].paths[0]), "--type", "CRAM")
    assert res.returncode != 0 and res.stderr.strip()


def test_second_file_only_for_fastq(read_set_files):
    bam = str(read_set_files["bam"].paths[0])
    res = seqstore_etag(bam, bam, "--type", "BAM")
    assert res.returncode != 0 and res.stderr.strip()


def test_missing_file(tmp_path):
    missing = tmp_path / "nope.fastq.gz"
    res = seqstore_etag(str(missing), "--type", "FASTQ")
    assert res.returncode != 0 and "nope.fastq.gz" in res.stderr


def test_unknown_family(read_set_files):
    res = seqstore_etag(str(read_set_files["fastq_single"].paths[0]), "--type", "FASTQ", "--family", "CRC32up")
    assert res.returncode != 0 and res.stderr.strip()
