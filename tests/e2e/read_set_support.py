"""Read sets: generated FASTQ/BAM/uBAM/CRAM fixtures and their oracles.

Every expected value comes from the standard tools run here on the generated files:
ETags from `gzip -dc F | md5sum` (FASTQ) and `samtools view F | md5sum` (BAM, uBAM, CRAM with
`--reference`), counts from `samtools view -c -F 0x900` and awk over the text, indexes from
`samtools index`. Nothing is taken from seqstore's own output.

The files are made once per session (`build_read_set_files`); read_set_api has what each
backend does with them (an account with the references imported, one sequence store per ETag
family, the uploads).
"""

from __future__ import annotations

import base64
import hashlib
import os
import random
import re
import struct
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from reference_support import (
    PART_SIZE,
    SOURCE_BUCKET,
    ensure_bucket,
    fasta,
    random_bases,
    require_tool,
)

FAMILIES = ["MD5up", "SHA256up", "SHA512up"]
HASH_TOOL = {"MD5up": "md5sum", "SHA256up": "sha256sum", "SHA512up": "sha512sum"}
HEX_LEN = {"MD5up": 32, "SHA256up": 64, "SHA512up": 128}
ETAG_FORMAT = {"FASTQ": "FASTQ", "BAM": "BAM", "UBAM": "BAM", "CRAM": "CRAM"}
ALIGNMENT = {"FASTQ": "UNALIGNED", "UBAM": "UNALIGNED", "BAM": "ALIGNED", "CRAM": "ALIGNED"}
READ_SET_ID_RE = re.compile(r"^[0-9]{10,36}$")
PROVENANCE_RE = re.compile(
    r"^@CO\tHealthOmics sequence store (?P<store>[0-9]+) ingested "
    r"(?P<time>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]00:00))$"
)
RS_ROLE_ARN = "arn:aws:iam::111122223333:role/OmicsReadSetImport"
BIG_FASTQ_BYTES = PART_SIZE + 2_500_000  # the .gz upload spans two parts (and two GetReadSet parts)

# Regions asked of the original (indexed by `samtools index`) and of the download (with the
# index the store made): the answers must be the same.
REGIONS = ["chr1:1000-5000", "chr1", "chr2:15000-16000", "chr3", "chr1:29990-30000", "chr2:1-1"]

# htslib must never go to the internet for CRAM references.
HTS_ENV = {"REF_PATH": ":", "REF_CACHE": "/nonexistent/%s"}

CHROMS = [("chr1", 30000), ("chr2", 20000), ("chr3", 9000)]


# ---------------------------------------------------------------------------------------
# Running the standard tools
# ---------------------------------------------------------------------------------------


def tool_env() -> dict:
    env = dict(os.environ)
    env.update(HTS_ENV)
    return env


def run(cmd: list[str], *, cwd: Path | None = None, check: bool = True, stdin: bytes | None = None,
        timeout: float = 600) -> subprocess.CompletedProcess:
    res = subprocess.run(cmd, capture_output=True, cwd=cwd, env=tool_env(), input=stdin, timeout=timeout)
    if check and res.returncode != 0:
        raise AssertionError(f"`{' '.join(map(str, cmd))}` exited {res.returncode}: "
                             f"{res.stderr.decode(errors='replace')}")
    return res


def shell(script: str, *args: str, check: bool = True) -> str:
    """`sh -c SCRIPT sh ARGS...` with `set -o pipefail` semantics checked by hand; stdout text."""
    res = subprocess.run(["bash", "-o", "pipefail", "-c", script, "bash", *map(str, args)],
                         capture_output=True, env=tool_env(), timeout=600)
    if check and res.returncode != 0:
        raise AssertionError(f"`{script}` {args} exited {res.returncode}: {res.stderr.decode(errors='replace')}")
    return res.stdout.decode()


def samtools(*args, check: bool = True, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return run([require_tool("samtools"), *map(str, args)], check=check, cwd=cwd)


def decompressed_hash(path: Path, family: str) -> str:
    """`gzip -dc F | md5sum` (or `cat F | …` for plain text): lowercase hex."""
    reader = "gzip -dc" if is_gzip(path) else "cat"
    return shell(f'{reader} -- "$1" | {HASH_TOOL[family]}', path).split()[0]


def fastq_counts(paths: list[Path]) -> tuple[int, int]:
    """(records, bases) of FASTQ files, from awk over `gzip -dc`."""
    reads = bases = 0
    for path in paths:
        reader = "gzip -dc" if is_gzip(path) else "cat"
        awk = "awk 'NR % 4 == 2 { n += 1; b += length($0) } END { printf \"%d %d\\n\", n, b }'"
        out = shell(f'{reader} -- "$1" | {awk}', path)
        r, b = map(int, out.split())
        reads += r
        bases += b
    return reads, bases


def sam_records(path: Path, reference: Path | None = None, *regions: str) -> bytes:
    """`samtools view [--reference REF] F [REGIONS]`: the records as SAM text."""
    args = ["view"]
    if reference is not None:
        args += ["--reference", str(reference)]
    return samtools(*args, path, *regions).stdout


def sam_hash(path: Path, family: str, reference: Path | None = None) -> str:
    ref = f'--reference "{reference}"' if reference is not None else ""
    return shell(f'samtools view {ref} -- "$1" | {HASH_TOOL[family]}', path).split()[0]


def sam_counts(path: Path, reference: Path | None = None) -> tuple[int, int]:
    """Primary records (`samtools view -c -F 0x900`) and the sum of their SEQ lengths."""
    ref = f'--reference "{reference}"' if reference is not None else ""
    count = int(shell(f'samtools view -c -F 0x900 {ref} -- "$1"', path).strip())
    bases = int(shell(
        f'samtools view -F 0x900 {ref} -- "$1" | '
        'awk -F \'\\t\' \'$10 != "*" { b += length($10) } END { printf "%d\\n", b }\'', path).strip())
    return count, bases


def samtools_index(path: Path) -> None:
    samtools("index", path)


def is_gzip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


# ---------------------------------------------------------------------------------------
# The fixture files
# ---------------------------------------------------------------------------------------


@dataclass
class Source:
    """A read set source as the user has it, with what the tools say about it."""

    case: str
    file_type: str  # FASTQ | BAM | UBAM | CRAM
    paths: list[Path]  # one, or two for paired FASTQ
    reference: Path | None = None  # the FASTA a CRAM decodes against
    _etags: dict = field(default_factory=dict)
    _counts: tuple | None = None

    def etag(self, family: str) -> dict:
        """{algorithm, source1[, source2]} as the tools compute it."""
        if family not in self._etags:
            out = {"algorithm": f"{ETAG_FORMAT[self.file_type]}_{family}"}
            for i, path in enumerate(self.paths, start=1):
                if self.file_type == "FASTQ":
                    out[f"source{i}"] = decompressed_hash(path, family)
                else:
                    out[f"source{i}"] = sam_hash(path, family, self.reference)
            self._etags[family] = out
        return self._etags[family]

    def counts(self) -> tuple[int, int]:
        """(totalReadCount, totalBaseCount)."""
        if self._counts is None:
            if self.file_type == "FASTQ":
                self._counts = fastq_counts(self.paths)
            else:
                self._counts = sam_counts(self.paths[0], self.reference)
        return self._counts

    def sequence_information(self) -> dict:
        reads, bases = self.counts()
        return {"totalReadCount": reads, "totalBaseCount": bases, "alignment": ALIGNMENT[self.file_type]}

    @property
    def paired(self) -> bool:
        return len(self.paths) == 2

    @property
    def needs_reference(self) -> bool:
        return self.file_type in ("BAM", "CRAM")

    def s3_key(self, i: int = 0) -> str:
        return f"read-sets/{self.case}/{self.paths[i].name}"

    def s3_uri(self, i: int = 0) -> str:
        return f"s3://{SOURCE_BUCKET}/{self.s3_key(i)}"


@dataclass
class BadSource:
    """A source the store must refuse: the UPLOAD_FAILED message names `where` (if set)."""

    case: str
    declared: str  # the sourceFileType sent
    paths: list[Path]
    why: str
    source: str = "source1"  # the source the message must name
    where: str | None = None  # regex the message must match (a line or record number)
    reference: str = "main"  # which reference ARN goes with it (BAM/CRAM)


@dataclass
class ReadSetFiles:
    workdir: Path
    reference: Path  # ref.fa (imported as the main reference)
    other_reference: Path  # same names and lengths, other bases
    good: dict[str, Source]
    bad: dict[str, BadSource]
    big: Source | None = None

    def __getitem__(self, case: str) -> Source:
        return self.good[case]


def _fastq_records(rng: random.Random, n: int, mate: int, lengths: list[int]) -> list[bytes]:
    recs = []
    for i in range(n):
        length = lengths[i]
        seq = bytearray(random_bases(rng, length))
        if i % 17 == 0 and length > 10:
            seq[3:6] = b"NNN"
        qual = bytes(rng.randrange(33, 75) for _ in range(length))
        recs.append(b"@pair%06d/%d run=7 lane:%d\n" % (i, mate, i % 4) + bytes(seq) + b"\n+\n" + qual + b"\n")
    return recs


def write_fastq_pair(d: Path, stem: str, n: int, seed: int) -> tuple[Path, Path]:
    rng = random.Random(seed)
    lengths = [rng.choice([35, 50, 76, 100, 101, 150, 151]) for _ in range(n)]
    r1 = d / f"{stem}_R1.fastq"
    r2 = d / f"{stem}_R2.fastq"
    r1.write_bytes(b"".join(_fastq_records(rng, n, 1, lengths)))
    r2.write_bytes(b"".join(_fastq_records(rng, n, 2, lengths)))
    return r1, r2


def gzip_file(src: Path, dst: Path) -> Path:
    with open(dst, "wb") as out:
        subprocess.run([require_tool("gzip"), "-n", "-c", str(src)], stdout=out, check=True)
    return dst


def bgzip_file(src: Path, dst: Path, level: int | None = None) -> Path:
    cmd = [require_tool("bgzip"), "-c"]
    if level is not None:
        cmd += ["-l", str(level)]
    with open(dst, "wb") as out:
        subprocess.run(cmd + [str(src)], stdout=out, check=True)
    return dst


def multi_member_gzip(src: Path, dst: Path, cut: int) -> Path:
    """`gzip` of the first `cut` bytes and of the rest, concatenated (a member ends mid-record)."""
    data = src.read_bytes()
    tmp_a, tmp_b = dst.with_suffix(".a"), dst.with_suffix(".b")
    tmp_a.write_bytes(data[:cut])
    tmp_b.write_bytes(data[cut:])
    with open(dst, "wb") as out:
        for part in (tmp_a, tmp_b):
            out.write(subprocess.run([require_tool("gzip"), "-n", "-c", str(part)], capture_output=True,
                                     check=True).stdout)
    tmp_a.unlink()
    tmp_b.unlink()
    return dst


# --- SAM ------------------------------------------------------------------------------------

_COMP = bytes.maketrans(b"ACGTN", b"TGCAN")

# One record carries every aux type; htslib stores `i` values in the smallest type that
# fits, so these six values give c, C, s, S, i and I in the BAM.
EVERY_AUX_TYPE = "\t".join([
    "XA:A:q",
    "Xc:i:-100", "XC:i:200", "Xs:i:-1000", "XS:i:60000", "Xi:i:-100000", "XI:i:3000000000",
    "Xf:f:3.14159265", "Xn:f:-0", "Xd:f:1e-45", "Xb:f:123456789",
    "XZ:Z:free text, with spaces & symbols",
    "XH:H:1AE301FF",
    "Ba:B:c,-128,0,127", "Bb:B:C,0,1,255", "Bs:B:s,-32768,300,32767", "BS:B:S,0,65535",
    "Bi:B:i,-2147483648,5,2147483647", "BI:B:I,0,4294967295",
    "Bf:B:f,3.14159265,-0,1e-45,123456789",
])
EMPTY_ARRAYS = "\t".join(f"E{t}:B:{t}" for t in "cCsSiIf")


def _qual(rng: random.Random, n: int) -> str:
    return "".join(chr(rng.randrange(35, 74)) for _ in range(n))


def _mutate(rng: random.Random, seq: str) -> str:
    s = list(seq)
    for _ in range(2):
        i = rng.randrange(len(s))
        s[i] = rng.choice("ACGT")
    return "".join(s)


def sam_header_lines(with_sq: bool = True, sort_order: str = "coordinate") -> list[str]:
    lines = [f"@HD\tVN:1.6\tSO:{sort_order}"]
    if with_sq:
        lines += [f"@SQ\tSN:{name}\tLN:{length}" for name, length in CHROMS]
    lines += [
        "@RG\tID:rg1\tSM:sample-1\tPL:ILLUMINA\tLB:lib1",
        "@RG\tID:rg2\tSM:sample-1\tPL:ILLUMINA\tLB:lib2",
        "@PG\tID:gen\tPN:seqstore-e2e\tVN:1.0\tCL:generated by the e2e tests",
        "@CO\tuser comment kept as is",
    ]
    return lines


def aligned_records(genome: dict[str, str], n_pairs: int, seed: int) -> list[str]:
    """SAM records of mapped pairs (some with mates elsewhere), secondary, supplementary,
    placed-unmapped and unplaced-unmapped reads, with every aux tag type somewhere."""
    rng = random.Random(seed)
    names = [c for c, _ in CHROMS]
    weights = [length for _, length in CHROMS]
    cigars = [("100M", 100), ("10S90M", 100), ("50M2I48M", 100), ("40M5D60M", 100), ("30M100N70M", 100),
              ("95M5H", 95), ("5H95M", 95), ("76M", 76), ("3S70M3S", 76)]
    out = []

    def ref_span(cigar: str) -> int:
        return sum(int(n) for n, op in re.findall(r"(\d+)([MIDNSHP=X])", cigar) if op in "MDN=X")

    def read_seq(chrom: str, pos: int, cigar: str) -> str:
        seq, p = [], pos - 1
        ref = genome[chrom]
        for n, op in re.findall(r"(\d+)([MIDNSHP=X])", cigar):
            n = int(n)
            if op in "M=X":
                seq.append(ref[p:p + n])
                p += n
            elif op in "DN":
                p += n
            elif op in "IS":
                seq.append("".join(rng.choice("ACGT") for _ in range(n)))
        return _mutate(rng, "".join(seq))

    for i in range(n_pairs):
        qname = f"read{i:05d}"
        c1 = rng.choices(names, weights)[0]
        len1 = dict(CHROMS)[c1]
        cig1, l1 = rng.choice(cigars)
        cig2, l2 = rng.choice(cigars)
        p1 = rng.randrange(1, len1 - 700)
        kind = rng.random()
        rg = "rg1" if i % 3 else "rg2"
        if kind < 0.08:  # mate on another chromosome
            c2 = rng.choice([c for c in names if c != c1])
            p2 = rng.randrange(1, dict(CHROMS)[c2] - 300)
            f1, f2 = 65 | (32 if i % 2 else 16), 129 | (16 if i % 2 else 32)
            s1, s2 = read_seq(c1, p1, cig1), read_seq(c2, p2, cig2)
            out.append(f"{qname}\t{f1}\t{c1}\t{p1}\t37\t{cig1}\t{c2}\t{p2}\t0\t{s1}\t{_qual(rng, len(s1))}"
                       f"\tRG:Z:{rg}\tNM:i:2")
            out.append(f"{qname}\t{f2}\t{c2}\t{p2}\t23\t{cig2}\t{c1}\t{p1}\t0\t{s2}\t{_qual(rng, len(s2))}\tRG:Z:{rg}")
        elif kind < 0.13:  # mate unmapped, placed at the mapped read's position
            s1 = read_seq(c1, p1, cig1)
            s2 = "".join(rng.choice("ACGTN") for _ in range(l2 if "H" not in cig2 else 100))
            out.append(f"{qname}\t73\t{c1}\t{p1}\t60\t{cig1}\t=\t{p1}\t0\t{s1}\t{_qual(rng, len(s1))}\tRG:Z:{rg}")
            out.append(f"{qname}\t133\t{c1}\t{p1}\t0\t*\t=\t{p1}\t0\t{s2}\t{_qual(rng, len(s2))}\tRG:Z:{rg}")
        else:  # a proper pair
            insert = rng.randrange(200, 500)
            p2 = p1 + insert - ref_span(cig2)
            if p2 < 1:
                p2 = p1
            tlen = p2 + ref_span(cig2) - p1
            s1, s2 = read_seq(c1, p1, cig1), read_seq(c1, p2, cig2)
            rev = i % 2 == 0
            f1, f2 = (99, 147) if rev else (83, 163)
            t1, t2 = (tlen, -tlen) if rev else (tlen, -tlen)
            out.append(f"{qname}\t{f1}\t{c1}\t{p1}\t60\t{cig1}\t=\t{p2}\t{t1}\t{s1}\t{_qual(rng, len(s1))}"
                       f"\tRG:Z:{rg}\tAS:i:{rng.randrange(0, 100)}\tMQ:i:60")
            out.append(f"{qname}\t{f2}\t{c1}\t{p2}\t60\t{cig2}\t=\t{p1}\t{t2}\t{s2}\t{_qual(rng, len(s2))}"
                       f"\tRG:Z:{rg}\tAS:i:{rng.randrange(0, 100)}")
            if i % 25 == 0:  # a secondary alignment without SEQ/QUAL
                p3 = rng.randrange(1, len1 - 200)
                out.append(f"{qname}\t{256 | 64 | 1 | 2}\t{c1}\t{p3}\t0\t100M\t=\t{p2}\t0\t*\t*\tRG:Z:{rg}")
            if i % 40 == 7:  # a supplementary alignment (hard-clipped)
                c3 = rng.choice(names)
                p3 = rng.randrange(1, dict(CHROMS)[c3] - 200)
                s3 = read_seq(c3, p3, "60M")
                out.append(f"{qname}\t{2048 | 64 | 1}\t{c3}\t{p3}\t17\t40H60M\t{c1}\t{p2}\t0\t{s3}\t{_qual(rng, 60)}"
                           f"\tRG:Z:{rg}\tSA:Z:{c1},{p1},+,{cig1},60,0;")
    # Every aux type, empty arrays, and no QUAL, on mapped reads of chr1.
    s = read_seq("chr1", 2000, "100M")
    out.append(f"alltypes\t0\tchr1\t2000\t60\t100M\t*\t0\t0\t{s}\t{_qual(rng, 100)}\tRG:Z:rg1\t{EVERY_AUX_TYPE}")
    s = read_seq("chr1", 2100, "100M")
    out.append(f"emptyarrays\t16\tchr1\t2100\t60\t100M\t*\t0\t0\t{s}\t{_qual(rng, 100)}\t{EMPTY_ARRAYS}")
    s = read_seq("chr2", 500, "100M")
    out.append(f"noqual\t0\tchr2\t500\t42\t100M\t*\t0\t0\t{s}\t*\tRG:Z:rg2")
    # Unplaced unmapped pairs: they sort last.
    for i in range(25):
        a = "".join(rng.choice("ACGTN") for _ in range(100))
        b = "".join(rng.choice("ACGTN") for _ in range(100))
        out.append(f"unplaced{i:03d}\t77\t*\t0\t0\t*\t*\t0\t0\t{a}\t{_qual(rng, 100)}\tRG:Z:rg1")
        out.append(f"unplaced{i:03d}\t141\t*\t0\t0\t*\t*\t0\t0\t{b}\t{_qual(rng, 100)}\tRG:Z:rg1")
    return out


def unaligned_records(n_pairs: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for i in range(n_pairs):
        for flag in (77, 141):
            n = rng.choice([100, 101, 150])
            seq = "".join(rng.choice("ACGTN") for _ in range(n))
            tags = f"RG:Z:rg{1 + i % 2}\tBC:Z:ACGTACGT\tQT:Z:{_qual(rng, 8)}"
            if i == 3 and flag == 77:
                tags += "\t" + EVERY_AUX_TYPE
            if i == 4 and flag == 141:
                tags += "\t" + EMPTY_ARRAYS
            out.append(f"uread{i:05d}\t{flag}\t*\t0\t0\t*\t*\t0\t0\t{seq}\t{_qual(rng, n)}\t{tags}")
    return out


def write_sam(path: Path, header: list[str], records: list[str]) -> Path:
    path.write_text("\n".join(header + records) + "\n")
    return path


def flip_byte_in_block(data: bytes, which: int) -> bytes:
    """Flip one byte in the middle of the compressed data of BGZF block number `which`."""
    offset, blocks = 0, []
    while offset < len(data):
        assert data[offset:offset + 4] == b"\x1f\x8b\x08\x04", f"not a BGZF block at {offset}"
        bsize = struct.unpack_from("<H", data, offset + 16)[0] + 1
        blocks.append((offset, bsize))
        offset += bsize
    start, size = blocks[which]
    cdata_start, cdata_end = start + 18, start + size - 8
    pos = (cdata_start + cdata_end) // 2
    out = bytearray(data)
    out[pos] ^= 0x5A
    return bytes(out)


def bgzf_block_count(data: bytes) -> int:
    offset, n = 0, 0
    while offset < len(data):
        offset += struct.unpack_from("<H", data, offset + 16)[0] + 1
        n += 1
    return n


def write_big_fastq(d: Path, total_text: int, seed: int) -> Path:
    """Single-end FASTQ of about `total_text` bytes, stored by `bgzip -l 0` (no compression), so the
    .gz is just over PART_SIZE without costing anyone CPU."""
    rng = random.Random(seed)
    text = d / "big.fastq"
    qual_table = bytes.maketrans(bytes(range(256)), bytes(33 + (b % 41) for b in range(256)))
    with open(text, "wb") as out:
        written, i = 0, 0
        while written < total_text:
            chunk = []
            for _ in range(2000):
                seq = random_bases(rng, 150)
                qual = rng.randbytes(150).translate(qual_table)
                rec = b"@big%08d\n" % i + seq + b"\n+\n" + qual + b"\n"
                chunk.append(rec)
                i += 1
            blob = b"".join(chunk)
            out.write(blob)
            written += len(blob)
    return bgzip_file(text, d / "big.fastq.gz", level=0)


def build_read_set_files(workdir: Path, s3, with_big: bool = True) -> ReadSetFiles:
    """Generate every fixture once per session and put the import sources in the user's bucket."""
    started = time.monotonic()
    rng = random.Random(20240611)
    workdir.mkdir(parents=True, exist_ok=True)

    # References: the main one, one with the same names and lengths but other bases.
    genome = {name: random_bases(rng, length).decode() for name, length in CHROMS}
    other = {name: random_bases(rng, length).decode() for name, length in CHROMS}
    ref = workdir / "ref.fa"
    ref.write_bytes(fasta([(f"{n} test chromosome", genome[n].encode(), 60) for n, _ in CHROMS]))
    other_ref = workdir / "other-ref.fa"
    other_ref.write_bytes(fasta([(n, other[n].encode(), 70) for n, _ in CHROMS]))
    for r in (ref, other_ref):
        samtools("faidx", r)

    good: dict[str, Source] = {}
    bad: dict[str, BadSource] = {}

    # FASTQ: paired, in every compression users have.
    fq = workdir / "fastq"
    fq.mkdir()
    r1, r2 = write_fastq_pair(fq, "sample", 1500, seed=1)
    good["fastq_plain"] = Source("fastq_plain", "FASTQ", [r1, r2])
    good["fastq_gzip"] = Source("fastq_gzip", "FASTQ", [gzip_file(r1, fq / "sample_R1.fastq.gz"),
                                                          gzip_file(r2, fq / "sample_R2.fastq.gz")])
    good["fastq_bgzf"] = Source("fastq_bgzf", "FASTQ", [bgzip_file(r1, fq / "bgzf_R1.fq.gz"),
                                                          bgzip_file(r2, fq / "bgzf_R2.fq.gz")])
    good["fastq_multi"] = Source("fastq_multi", "FASTQ", [
        multi_member_gzip(r1, fq / "multi_R1.fastq.gz", cut=r1.stat().st_size // 3 + 5),
        multi_member_gzip(r2, fq / "multi_R2.fastq.gz", cut=r2.stat().st_size // 2 + 11),
    ])
    s1, _ = write_fastq_pair(fq, "single", 700, seed=2)
    good["fastq_single"] = Source("fastq_single", "FASTQ", [gzip_file(s1, fq / "single.fastq.gz")])

    # BAM: coordinate-sorted by samtools sort.
    sam_dir = workdir / "sam"
    sam_dir.mkdir()
    records = aligned_records(genome, 1200, seed=3)
    shuffled = list(records)
    random.Random(4).shuffle(shuffled)
    sam = write_sam(sam_dir / "aligned.sam", sam_header_lines(), shuffled)
    bam = sam_dir / "aligned.bam"
    samtools("sort", "-o", bam, sam)
    good["bam"] = Source("bam", "BAM", [bam])

    # uBAM: unaligned pairs in name order, no @SQ.
    usam = write_sam(sam_dir / "unaligned.sam", sam_header_lines(with_sq=False, sort_order="queryname"),
                     unaligned_records(800, seed=5))
    ubam = sam_dir / "unaligned.bam"
    samtools("view", "-b", "-o", ubam, usam)
    good["ubam"] = Source("ubam", "UBAM", [ubam])

    # CRAM 3.0 and 3.1 of the same records.
    for version, case in (("3.0", "cram30"), ("3.1", "cram31")):
        cram = sam_dir / f"aligned-v{version.replace('.', '')}.cram"
        samtools("view", "-C", "--reference", ref, "--output-fmt-option", f"version={version}", "-o", cram, bam)
        good[case] = Source(case, "CRAM", [cram], reference=ref)

    # Bad sources.
    bd = workdir / "bad"
    bd.mkdir()
    bad["fastq_as_bam"] = BadSource("fastq_as_bam", "BAM", [good["fastq_gzip"].paths[0]],
                                    why="FASTQ bytes declared BAM")
    bad["bam_as_fastq"] = BadSource("bam_as_fastq", "FASTQ", [bam], why="BAM bytes declared FASTQ")
    gz = good["fastq_gzip"].paths[0].read_bytes()
    (bd / "truncated.fastq.gz").write_bytes(gz[: len(gz) // 2])
    bad["truncated_gzip"] = BadSource("truncated_gzip", "FASTQ", [bd / "truncated.fastq.gz"], why="truncated gzip")
    bam_bytes = bam.read_bytes()
    (bd / "cut.bam").write_bytes(bam_bytes[:-1000])
    bad["truncated_bam"] = BadSource("truncated_bam", "BAM", [bd / "cut.bam"], why="BAM without its last 1000 bytes")
    (bd / "flipped.bam").write_bytes(flip_byte_in_block(bam_bytes, bgzf_block_count(bam_bytes) // 2))
    bad["corrupt_block_bam"] = BadSource("corrupt_block_bam", "BAM", [bd / "flipped.bam"],
                                         why="one flipped byte inside a compressed block")
    # The same records in stored (level 0) deflate blocks, one data byte flipped: the block still
    # inflates to the right size, only its CRC32 tells.
    stored = bd / "stored.bam"
    samtools("view", "-b", "--output-fmt-option", "level=0", "-o", stored, bam)
    stored_bytes = stored.read_bytes()
    (bd / "crc.bam").write_bytes(flip_byte_in_block(stored_bytes, bgzf_block_count(stored_bytes) // 2))
    bad["crc_bam"] = BadSource("crc_bam", "BAM", [bd / "crc.bam"],
                               why="one flipped byte inside a stored block: only the CRC32 catches it")
    # Quality line of record 5 one character short: line 20.
    lines = r1.read_bytes().split(b"\n")
    lines[19] = lines[19][:-1]
    (bd / "short-qual.fastq").write_bytes(b"\n".join(lines))
    bad["short_quality"] = BadSource("short_quality", "FASTQ", [bd / "short-qual.fastq"],
                                     why="quality shorter than the sequence", where=r"\b(line 20|record 5)\b")
    # Paired, R2 with one record less.
    r2_lines = r2.read_bytes().split(b"\n")
    (bd / "short_R2.fastq").write_bytes(b"\n".join(r2_lines[:-5]) + b"\n")
    bad["pair_count_mismatch"] = BadSource("pair_count_mismatch", "FASTQ", [r1, bd / "short_R2.fastq"],
                                           why="paired FASTQ with different read counts", source="source2")
    # Unsorted BAM declared BAM.
    usorted = write_sam(bd / "unsorted.sam", sam_header_lines(sort_order="unsorted"), shuffled)
    samtools("view", "-b", "-o", bd / "unsorted.bam", usorted)
    bad["unsorted_bam"] = BadSource("unsorted_bam", "BAM", [bd / "unsorted.bam"], why="unsorted BAM")
    # CRAM made against another reference.
    other_sam = write_sam(bd / "other.sam", sam_header_lines(), [
        line for line in (samtools("view", bam).stdout.decode().splitlines())
    ])
    other_bam = bd / "other.bam"
    samtools("view", "-b", "-o", other_bam, other_sam)
    samtools("view", "-C", "--reference", other_ref, "-o", bd / "other-ref.cram", other_bam)
    bad["cram_other_reference"] = BadSource("cram_other_reference", "CRAM", [bd / "other-ref.cram"],
                                            why="CRAM made against another reference (MD5 mismatch)")

    big = None
    if with_big:
        bigdir = workdir / "big"
        bigdir.mkdir()
        big = Source("big", "FASTQ", [write_big_fastq(bigdir, BIG_FASTQ_BYTES - 200_000, seed=9)])
        assert big.paths[0].stat().st_size > PART_SIZE, big.paths[0].stat().st_size

    files = ReadSetFiles(workdir, ref, other_ref, good, bad, big)

    # Import sources in the user's bucket.
    ensure_bucket(s3)
    s3.upload_file(str(ref), SOURCE_BUCKET, "read-sets/ref/ref.fa")
    s3.upload_file(str(other_ref), SOURCE_BUCKET, "read-sets/ref/other-ref.fa")
    for src in good.values():
        for i in range(len(src.paths)):
            s3.upload_file(str(src.paths[i]), SOURCE_BUCKET, src.s3_key(i))
    for b in bad.values():
        for i, p in enumerate(b.paths):
            s3.upload_file(str(p), SOURCE_BUCKET, f"read-sets/bad/{b.case}/{p.name}")
    elapsed = time.monotonic() - started
    print(f"read set fixtures generated in {elapsed:.1f}s")
    return files


def bad_s3_uri(b: BadSource, i: int = 0) -> str:
    return f"s3://{SOURCE_BUCKET}/read-sets/bad/{b.case}/{b.paths[i].name}"
