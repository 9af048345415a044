"""The htslib corpus: files samtools/bgzip/gzip write and htslib 1.16 reads, each with one feature
a reader of the formats must cope with (repeated CRAM EOF containers, BGZF EOF blocks mid-file,
every CRAM 3.1 codec, multi-reference slices, no records, > 65 535 CIGAR operations, every `B`
array subtype, placed unmapped reads, CRLF FASTQ in every compression).

The files are made here, in the test session, by the standard tools (samtools 1.16, bgzip, gzip)
from records generated with read_set_support's helpers; every expected value comes from those
tools too (read_set_support.Source: `samtools view [--reference REF] F | md5sum`,
`samtools view -c -F 0x900`, `gzip -dc F | md5sum`), never from seqstore.

Two references: the read set fixtures' `ref.fa` (three chromosomes, imported by `rs_env` as
`main`) and `corpus.fa`, imported here: 30 short contigs for slices that span many references,
and one long contig for reads with more CIGAR operations than BAM's 16-bit field holds.
"""

from __future__ import annotations

import gzip
import random
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from read_set_support import (
    EMPTY_ARRAYS,
    Source,
    aligned_records,
    bgzip_file,
    fastq_counts,
    multi_member_gzip,
    sam_header_lines,
    samtools,
    write_fastq_pair,
    write_sam,
)
from mutants import BGZF_EOF, Cram, bgzf_blocks
from reference_support import SOURCE_BUCKET, ensure_bucket, fasta, random_bases

CORPUS_CONTIGS = [(f"ctg{i:02d}", 1500 + 41 * i) for i in range(1, 31)] + [("long1", 80_000)]
CORPUS_REFERENCE_KEY = "htslib-corpus/ref/corpus.fa"

# CRAM 3.1 codec options of samtools 1.16 (`--output-fmt-option`), and the block compression
# method (CRAM 3.1 spec, section 8) each one must bring into the file.
CRAM31_CODECS = {
    "use_tok": 8,  # tok3 name tokeniser
    "use_fqz": 7,  # fqzcomp qualities
    "use_arith": 6,  # adaptive arithmetic coder
    "use_bzip2": 2,
    "use_lzma": 3,
    "archive": None,  # profiles: whatever they pick
    "small": None,
}
# Every case build_corpus makes, in the order it makes them.
CORPUS_CASES = [
    "cram_reheader", "bam_cat", "bam_eof_mid_file",
    *[f"cram31_{opt}" for opt in CRAM31_CODECS],
    "cram_embed_ref", "cram_no_ref",
    "cram_multi_ref", "cram31_multi_ref_auto", "bam_many_refs", "cram_multi_slice",
    "bam_header_only", "cram_header_only",
    "bam_long_cigar", "cram_long_cigar", "cram31_long_cigar",
    "bam_b_arrays", "cram_b_arrays", "cram31_b_arrays",
    "bam_placed_unmapped", "cram_placed_unmapped", "cram31_placed_unmapped",
    "cram31_archive_full_slices",
    "fastq_crlf", "fastq_crlf_multi_member", "fastq_crlf_bgzf", "fastq_crlf_bgzf_cat",
]
CRAM_EOF_START = 4542278  # alignment start of CRAM's EOF container ("EOF" in ASCII)


@dataclass
class CorpusCase:
    """One corpus file, where it is uploaded, and what must happen to it."""

    source: Source  # the file(s) and the oracles
    why: str  # what the file has that others do not
    reference: str = "main"  # main (ref.fa) | corpus (corpus.fa): the referenceArn sent
    expect: str = "ACTIVE"  # or UPLOAD_FAILED where htslib refuses the file too
    feature: Callable[[Source], None] | None = None  # asserts the file really has its feature

    @property
    def case(self) -> str:
        return self.source.case


@dataclass
class Corpus:
    workdir: Path
    reference: Path  # ref.fa of the read set fixtures
    corpus_reference: Path  # corpus.fa
    cases: dict[str, CorpusCase] = field(default_factory=dict)

    def __getitem__(self, case: str) -> CorpusCase:
        return self.cases[case]


# ---------------------------------------------------------------------------------------
# Reading what the tools wrote (to check each file has the feature it stands for)
# ---------------------------------------------------------------------------------------


def read_fasta(path: Path) -> dict[str, str]:
    """name (first word of the header) -> bases."""
    out, name, chunks = {}, None, []
    for line in path.read_text().splitlines():
        if line.startswith(">"):
            if name is not None:
                out[name] = "".join(chunks)
            name, chunks = line[1:].split()[0], []
        elif line:
            chunks.append(line.strip())
    if name is not None:
        out[name] = "".join(chunks)
    return out


def bgzf_sizes(data: bytes) -> list[tuple[int, int]]:
    """(offset, uncompressed size) of every BGZF block."""
    out, offset = [], 0
    for block in bgzf_blocks(data):
        out.append((offset, struct.unpack_from("<I", block, len(block) - 4)[0]))
        offset += len(block)
    return out


@dataclass
class CramContainer:
    ref_seq_id: int
    start: int
    records: int
    slices: int  # landmarks
    methods: list[int]  # compression method of each block

    @property
    def is_eof(self) -> bool:
        return self.records == 0 and self.ref_seq_id == -1 and self.start == CRAM_EOF_START


def cram_version(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:4] == b"CRAM", f"{path.name} is not CRAM"
    return data[4], data[5]


def cram_containers(path: Path) -> list[CramContainer]:
    """Every container of a CRAM 3.x file (the header container first), by the mutators' parser."""
    return [CramContainer(c.ref_id, c.start, c.n_records, len(c.landmarks), [b.method for b in c.blocks or []])
            for c in Cram.parse(path.read_bytes()).containers]


# Features: each asserts the file (a Source) has what its case is about.


def _sam_text(src: Source) -> str:
    args = ["view"] + (["--reference", src.reference] if src.reference is not None else [])
    return samtools(*args, src.paths[0]).stdout.decode()


def _text(path: Path) -> bytes:
    """The file's bytes, decompressed if gzip (every member)."""
    data = path.read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def trailing_cram_eofs(n: int) -> Callable[[Source], None]:
    def check(src: Source) -> None:
        trailing = 0
        for c in reversed(cram_containers(src.paths[0])):
            if not c.is_eof:
                break
            trailing += 1
        assert trailing >= n, f"{src.case}: {trailing} EOF container(s) at the end, expected >= {n}"
    return check


def bgzf_eof_mid_file(src: Source) -> None:
    blocks = bgzf_sizes(src.paths[0].read_bytes())
    assert [size for _, size in blocks[:-1]].count(0) >= 1, f"{src.case}: no empty BGZF block before the last"
    assert blocks[-1][1] == 0, f"{src.case}: does not end with the BGZF EOF block"


def cram31_with(method: int | None) -> Callable[[Source], None]:
    def check(src: Source) -> None:
        version = cram_version(src.paths[0])
        assert version == (3, 1), f"{src.case}: CRAM {version}, not 3.1"
        if method is not None:
            used = {m for c in cram_containers(src.paths[0]) for m in c.methods}
            assert method in used, f"{src.case}: block compression methods {sorted(used)}, never {method}"
    return check


def multi_ref_container(src: Source) -> None:
    refs = [c.ref_seq_id for c in cram_containers(src.paths[0])[1:] if not c.is_eof]
    assert -2 in refs, f"{src.case}: no multi-reference container (container reference ids {refs})"


def multi_slice_container(src: Source) -> None:
    slices = [c.slices for c in cram_containers(src.paths[0])[1:] if not c.is_eof]
    assert max(slices) > 1, f"{src.case}: every container has one slice ({slices})"


def name_tokenized_slices_of(min_records: int) -> Callable[[Source], None]:
    def check(src: Source) -> None:
        cs = [c for c in cram_containers(src.paths[0])[1:] if not c.is_eof]
        assert any(8 in c.methods for c in cs), f"{src.case}: no name-tokenized block"
        most = max(c.records // c.slices for c in cs)
        assert most >= min_records, f"{src.case}: at most {most} records per slice"
    return check


def no_records(src: Source) -> None:
    assert _sam_text(src) == "", f"{src.case}: has records"
    assert samtools("view", "-H", src.paths[0]).stdout.startswith(b"@HD"), f"{src.case}: no header"


def decodes_without_reference(src: Source) -> None:
    """embed_ref / no_ref: htslib needs no external reference (REF_PATH=: offers none)."""
    res = samtools("view", "-c", src.paths[0], check=False)
    assert res.returncode == 0, f"{src.case}: samtools view without --reference: {res.stderr.decode()}"


def cg_tag(src: Source) -> None:
    """BAM: the long CIGARs sit in a `CG:B:I` tag (the CIGAR field holds a placeholder)."""
    assert b"CGBI" in _text(src.paths[0]), f"{src.case}: no CG:B:I tag in the BAM records"


def long_cigar(min_ops: int) -> Callable[[Source], None]:
    def check(src: Source) -> None:
        most = max(sum(ch.isalpha() for ch in line.split("\t")[5]) for line in _sam_text(src).splitlines())
        assert most >= min_ops, f"{src.case}: the longest CIGAR has {most} operations"
    return check


def every_b_array(src: Source) -> None:
    text = _sam_text(src)
    missing = [sub for sub in "cCsSiIf" if f":B:{sub}," not in text]
    assert not missing, f"{src.case}: no B arrays of subtype {missing}"


def placed_unmapped(src: Source) -> None:
    fields = [line.split("\t") for line in _sam_text(src).splitlines()]
    placed = [f for f in fields if int(f[1]) & 4 and f[2] != "*" and f[3] != "0"]
    assert len(placed) >= 100, f"{src.case}: {len(placed)} placed unmapped reads"


def crlf(src: Source) -> None:
    text = _text(src.paths[0])
    assert text.count(b"\r\n") == text.count(b"\n") > 0, f"{src.case}: not every line ends in CRLF"


def gzip_members(n: int) -> Callable[[Source], None]:
    def check(src: Source) -> None:
        data, got = src.paths[0].read_bytes(), 0
        while data:
            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            d.decompress(data)
            assert d.eof, f"{src.case}: truncated gzip member"
            data, got = d.unused_data, got + 1
        assert got >= n, f"{src.case}: {got} gzip member(s), expected >= {n}"
        crlf(src)
    return check


def bgzf_crlf(src: Source) -> None:
    assert len(bgzf_sizes(src.paths[0].read_bytes())) >= 3, f"{src.case}: fewer than two BGZF data blocks"
    crlf(src)


def bgzf_crlf_eof_mid_file(src: Source) -> None:
    bgzf_eof_mid_file(src)
    crlf(src)


# ---------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------


def _qual(rng: random.Random, n: int) -> str:
    return "".join(chr(rng.randrange(35, 74)) for _ in range(n))


def codec_records(genome: dict[str, str], seed: int) -> list[str]:
    """The read set fixtures' aligned records (300 pairs), reshaped so that samtools 1.16 picks
    each CRAM 3.1 codec it is offered for some block (it keeps the smallest of its trials):
    every record has qualities and they follow the position in the read, as instrument
    qualities do (with a QUAL-less record in the slice, or fewer records, fqzcomp never won
    here); names are Illumina-style, numbered in coordinate order (the name tokeniser's
    deltas); one long Z tag repeats (lzma, bzip2). The feature checks confirm each codec."""
    rng = random.Random(seed)
    by_position = [rng.randrange(2, 38) for _ in range(200)]
    repeated = "".join(rng.choice("ACGT ;,=abcdefgh0123456789") for _ in range(400))
    records = [r for r in aligned_records(genome, 300, seed) if r.split("\t")[10] != "*"]
    records.sort(key=lambda r: (["chr1", "chr2", "chr3", "*"].index(r.split("\t")[2]), int(r.split("\t")[3])))
    names: dict[str, str] = {}
    out = []
    for r in records:
        f = r.split("\t")
        k = names.setdefault(f[0], len(names))
        f[0] = f"A00123:8:H5KJ7DSXX:1:{1101 + k // 500}:{10000 + 17 * k}:{1000 + 3 * k}"
        f[10] = "".join(chr(33 + by_position[i] + rng.choice((0, 0, 0, 1))) for i in range(len(f[9])))
        out.append("\t".join(f + [f"XL:Z:{repeated}"]))
    return out


def b_array_records(genome: dict[str, str], n: int, seed: int) -> list[str]:
    """Mapped reads each with arrays of every subtype: extremes, long arrays, odd floats."""
    rng = random.Random(seed)
    lim = {"c": (-128, 127), "C": (0, 255), "s": (-32768, 32767), "S": (0, 65535),
           "i": (-2147483648, 2147483647), "I": (0, 4294967295)}
    floats = ["0", "-0", "1", "-1", "0.1", "3.14159265", "1e-45", "1e-38", "3.4028235e+38", "-2.5e-07",
              "123456789", "65536.5", "1.17549435e-38"]
    out = []
    for i in range(n):
        chrom = rng.choice(["chr1", "chr2", "chr3"])
        pos = rng.randrange(1, len(genome[chrom]) - 200)
        seq = genome[chrom][pos - 1:pos + 99]
        tags = []
        for sub, (lo, hi) in lim.items():
            k = rng.choice([1, 2, 7, 300]) if i % 10 else 2000
            vals = [lo, hi] + [rng.randint(lo, hi) for _ in range(k)]
            tags.append(f"X{sub}:B:{sub}," + ",".join(map(str, vals)))
        k = rng.choice([1, 4, 50])
        tags.append("Xf:B:f," + ",".join(floats + [f"{rng.uniform(-1e6, 1e6):.6g}" for _ in range(k)]))
        if i % 25 == 0:
            tags.append(EMPTY_ARRAYS)
        out.append(f"barr{i:04d}\t{0 if i % 2 else 16}\t{chrom}\t{pos}\t60\t100M\t*\t0\t0\t{seq}\t{_qual(rng, 100)}"
                   f"\t" + "\t".join(tags))
    return out


def placed_unmapped_records(genome: dict[str, str], n: int, seed: int) -> list[str]:
    """Pairs with one mate unmapped at the other's RNAME/POS (both orders), single unmapped reads
    placed on a chromosome, and pairs whose two unmapped mates are placed together."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        chrom = rng.choice(["chr1", "chr2", "chr3"])
        pos = rng.randrange(1, len(genome[chrom]) - 200)
        mapped = genome[chrom][pos - 1:pos + 99]
        loose = "".join(rng.choice("ACGTN") for _ in range(rng.choice([50, 100, 151])))
        q = f"pu{i:04d}"
        kind = i % 4
        if kind == 0:  # read 1 mapped, read 2 unmapped and placed
            out.append(f"{q}\t{1 | 8 | 32 | 64}\t{chrom}\t{pos}\t60\t100M\t=\t{pos}\t0\t{mapped}\t{_qual(rng, 100)}")
            out.append(f"{q}\t{1 | 4 | 16 | 128}\t{chrom}\t{pos}\t0\t*\t=\t{pos}\t0\t{loose}\t{_qual(rng, len(loose))}")
        elif kind == 1:  # read 1 unmapped and placed, read 2 mapped (reverse)
            out.append(f"{q}\t{1 | 4 | 32 | 64}\t{chrom}\t{pos}\t0\t*\t=\t{pos}\t0\t{loose}\t{_qual(rng, len(loose))}")
            out.append(f"{q}\t{1 | 8 | 16 | 128}\t{chrom}\t{pos}\t37\t100M\t=\t{pos}\t0\t{mapped}\t{_qual(rng, 100)}"
                       "\tMC:Z:*")
        elif kind == 2:  # single-end, unmapped but placed (an aligner's "near here")
            out.append(f"{q}\t4\t{chrom}\t{pos}\t0\t*\t*\t0\t0\t{loose}\t{_qual(rng, len(loose))}\tXP:i:{i}")
        else:  # both mates unmapped, placed together
            other = "".join(rng.choice("ACGT") for _ in range(100))
            out.append(f"{q}\t{1 | 4 | 8 | 64}\t{chrom}\t{pos}\t0\t*\t=\t{pos}\t0\t{loose}\t{_qual(rng, len(loose))}")
            out.append(f"{q}\t{1 | 4 | 8 | 128}\t{chrom}\t{pos}\t0\t*\t=\t{pos}\t0\t{other}\t*")
    return out


def corpus_records(genome: dict[str, str], per_contig: int, seed: int, contigs: list[str] | None = None) -> list[str]:
    """A few mapped reads on each contig of corpus.fa, and unplaced unmapped reads."""
    rng = random.Random(seed)
    out = []
    for name in contigs or [c for c, _ in CORPUS_CONTIGS]:
        ref = genome[name]
        for j in range(per_contig):
            pos = rng.randrange(1, len(ref) - 120)
            seq = list(ref[pos - 1:pos + 75])
            seq[rng.randrange(76)] = rng.choice("ACGT")
            out.append(f"{name}_r{j:02d}\t{0 if j % 2 else 16}\t{name}\t{pos}\t{rng.randrange(61)}\t76M\t*\t0\t0"
                       f"\t{''.join(seq)}\t{_qual(rng, 76)}\tRG:Z:rg{1 + j % 2}")
    for j in range(12):
        seq = "".join(rng.choice("ACGTN") for _ in range(90))
        out.append(f"unplaced{j:02d}\t4\t*\t0\t0\t*\t*\t0\t0\t{seq}\t{_qual(rng, 90)}")
    return out


def many_short_records(genome: dict[str, str], n: int, seed: int) -> list[str]:
    """`n` 36-base reads over the corpus contigs with Illumina names (tile, x, y varying; one in
    nine repeats the name before it, as a second record of a read does)."""
    rng = random.Random(seed)
    contigs = [c for c, _ in CORPUS_CONTIGS]
    out, name = [], ""
    for i in range(n):
        chrom = contigs[i * len(contigs) // n]
        pos = rng.randrange(1, len(genome[chrom]) - 40)
        if i % 9 != 1:
            name = f"A00123:8:H5KJ7DSXX:{1 + i % 2}:{1101 + rng.randrange(40)}:{rng.randrange(32000)}:{rng.randrange(1000, 40000)}"
        out.append(f"{name}\t{16 if rng.random() < 0.5 else 0}\t{chrom}\t{pos}\t60\t36M\t*\t0\t0"
                   f"\t{genome[chrom][pos - 1:pos + 35]}\t{_qual(rng, 36)}")
    return out


def long_cigar_records(genome: dict[str, str], seed: int) -> list[str]:
    """Two reads on long1 with 66 002 CIGAR operations each (1M1I... and 1M1D...), among short ones."""
    rng = random.Random(seed)
    ref = genome["long1"]
    out = []
    # 33 000 x (1M 1I) + 1M + 10S: 66 002 operations, 33 001 reference bases.
    pos = 1001
    seq, cigar = [], []
    for k in range(33_000):
        seq.append(ref[pos - 1 + k])
        seq.append(rng.choice("ACGT"))
        cigar.append("1M1I")
    seq.append(ref[pos - 1 + 33_000])
    seq.append("".join(rng.choice("ACGT") for _ in range(10)))
    cigar.append("1M10S")
    s = "".join(seq)
    out.append(f"long_ins\t0\tlong1\t{pos}\t60\t{''.join(cigar)}\t*\t0\t0\t{s}\t{_qual(rng, len(s))}\tRG:Z:rg1")
    # 5H + 33 000 x (1M 1D) + 1M: 66 002 operations, 66 001 reference bases.
    pos = 7001
    seq, cigar = [], ["5H"]
    for k in range(33_000):
        seq.append(ref[pos - 1 + 2 * k])
        cigar.append("1M1D")
    seq.append(ref[pos - 1 + 66_000])
    cigar.append("1M")
    s = "".join(seq)
    out.append(f"long_del\t16\tlong1\t{pos}\t60\t{''.join(cigar)}\t*\t0\t0\t{s}\t*\tRG:Z:rg2")
    out += corpus_records(genome, 6, seed + 1, contigs=["ctg01", "ctg02", "long1"])
    return out


def corpus_header(sort_order: str = "coordinate") -> list[str]:
    lines = [f"@HD\tVN:1.6\tSO:{sort_order}"]
    lines += [f"@SQ\tSN:{name}\tLN:{length}" for name, length in CORPUS_CONTIGS]
    lines += ["@RG\tID:rg1\tSM:corpus", "@RG\tID:rg2\tSM:corpus",
              "@PG\tID:gen\tPN:seqstore-e2e\tVN:1.0\tCL:htslib corpus"]
    return lines


def sorted_bam(sam: Path, bam: Path) -> Path:
    samtools("sort", "-o", bam, sam)
    return bam


def to_cram(src: Path, dst: Path, reference: Path, *options: str) -> Path:
    args = ["view", "-C", "--reference", reference]
    for opt in options:
        args += ["--output-fmt-option", opt]
    samtools(*args, "-o", dst, src)
    return dst


# ---------------------------------------------------------------------------------------
# Building the corpus
# ---------------------------------------------------------------------------------------


def build_corpus(workdir: Path, reference: Path, s3) -> Corpus:
    """Every corpus file, made by the tools from generated records. `reference` is the read set
    fixtures' ref.fa; corpus.fa is written here and put in the user's bucket for import."""
    workdir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(20250109)
    ref = workdir / "ref.fa"
    ref.write_bytes(reference.read_bytes())
    samtools("faidx", ref)
    genome = read_fasta(ref)
    cref = workdir / "corpus.fa"
    cref.write_bytes(fasta([(n, random_bases(rng, length), 60) for n, length in CORPUS_CONTIGS]))
    samtools("faidx", cref)
    cgenome = read_fasta(cref)
    corpus = Corpus(workdir, ref, cref)

    def add(case: str, file_type: str, path: Path, why: str, *, ref_name: str = "main",
            feature=None, counts: tuple | None = None, expect: str = "ACTIVE") -> None:
        fasta_path = None if file_type == "FASTQ" else (ref if ref_name == "main" else cref)
        src = Source(case, file_type, [path], reference=fasta_path, _counts=counts)
        corpus.cases[case] = CorpusCase(src, why, ref_name, expect, feature)

    w = workdir

    # The ordinary aligned records of the read set fixtures (every record kind and aux type),
    # a few hundred of them, sorted: the base of the re-encoded files.
    base_sam = write_sam(w / "base.sam", sam_header_lines(), aligned_records(genome, 140, seed=41))
    base = sorted_bam(base_sam, w / "base.bam")

    # CRAM after `samtools reheader`: it rewrites the header container and leaves the old EOF
    # container in place, so the file ends with two EOF containers.
    cram = to_cram(base, w / "pre-reheader.cram", ref)
    header = samtools("view", "-H", "--no-PG", cram).stdout + b"@CO\treheadered by the htslib corpus\n"
    (w / "new-header.sam").write_bytes(header)
    reheadered = w / "reheadered.cram"
    reheadered.write_bytes(samtools("reheader", w / "new-header.sam", cram).stdout)
    add("cram_reheader", "CRAM", reheadered, "`samtools reheader`: two EOF containers at the end",
        feature=trailing_cram_eofs(2))

    # BAM: `samtools cat` of two sorted BAMs with one header (chr1 | chr2, chr3), and the same
    # two BAMs joined block by block as `cat` joins BGZF files: EOF blocks mid-file.
    text = samtools("view", base).stdout.decode().splitlines()
    first = [r for r in text if r.split("\t")[2] == "chr1"]
    second = [r for r in text if r.split("\t")[2] != "chr1"]
    part_a = sorted_bam(write_sam(w / "part-a.sam", sam_header_lines(), first), w / "part-a.bam")
    part_b = sorted_bam(write_sam(w / "part-b.sam", sam_header_lines(), second), w / "part-b.bam")
    cat = w / "cat.bam"
    samtools("cat", "-o", cat, part_a, part_b)
    add("bam_cat", "BAM", cat, "`samtools cat` of two BAMs (chr1 | chr2, chr3)")
    a, b = part_a.read_bytes(), part_b.read_bytes()
    ba, bb = bgzf_sizes(a), bgzf_sizes(b)
    assert ba[0][1] > 0 and ba[1][0] > 0, "htslib no longer writes the BAM header in a block of its own"
    joined = w / "eof-mid-file.bam"
    # header block, EOF, part a's records and EOF, part b's records (after its header block) and EOF
    joined.write_bytes(a[:ba[1][0]] + BGZF_EOF + a[ba[1][0]:] + b[bb[1][0]:])
    add("bam_eof_mid_file", "BAM", joined, "BGZF EOF blocks after the header and between the two parts",
        feature=bgzf_eof_mid_file)

    # CRAM 3.1 with each codec option of samtools 1.16, on records each codec wins a block of.
    codec_base = sorted_bam(write_sam(w / "codecs.sam", sam_header_lines(), codec_records(genome, seed=42)),
                            w / "codecs.bam")
    for opt, method in CRAM31_CODECS.items():
        path = to_cram(codec_base, w / f"v31-{opt}.cram", ref, "version=3.1", f"{opt}=1")
        add(f"cram31_{opt}", "CRAM", path, f"CRAM 3.1, {opt}=1", feature=cram31_with(method))
    # Reference embedded in the file; no reference at all (bases stored verbatim).
    add("cram_embed_ref", "CRAM", to_cram(base, w / "embed-ref.cram", ref, "embed_ref=1"),
        "embed_ref=1: the reference travels in the file", feature=decodes_without_reference)
    add("cram_no_ref", "CRAM", to_cram(base, w / "no-ref.cram", ref, "no_ref=1"),
        "no_ref=1: bases stored verbatim, no reference MD5s", feature=decodes_without_reference)

    # Multi-reference slices: a few reads on each of 30 contigs, then unplaced reads.
    mr = sorted_bam(write_sam(w / "multi-ref.sam", corpus_header(), corpus_records(cgenome, 4, seed=43)),
                    w / "multi-ref.bam")
    add("cram_multi_ref", "CRAM",
        to_cram(mr, w / "multi-ref.cram", cref, "multi_seq_per_slice=1", "seqs_per_slice=100000"),
        "multi_seq_per_slice=1: slices spanning many references", ref_name="corpus",
        feature=multi_ref_container)
    add("cram31_multi_ref_auto", "CRAM", to_cram(mr, w / "multi-ref-auto.cram", cref, "version=3.1"),
        "CRAM 3.1, defaults: htslib switches to multi-reference slices by itself", ref_name="corpus",
        feature=multi_ref_container)
    add("bam_many_refs", "BAM", mr, "the same records in BAM", ref_name="corpus")
    # Several slices per container.
    add("cram_multi_slice", "CRAM",
        to_cram(base, w / "multi-slice.cram", ref, "seqs_per_slice=40", "slices_per_container=3"),
        "containers of three slices of 40 records", feature=multi_slice_container)

    # No records at all.
    header_only = w / "header-only.bam"
    samtools("view", "-b", "-H", "-o", header_only, base)
    add("bam_header_only", "BAM", header_only, "header, no records", feature=no_records)
    add("cram_header_only", "CRAM", to_cram(header_only, w / "header-only.cram", ref),
        "header, no records", feature=no_records)

    # More than 65 535 CIGAR operations: BAM keeps them in a CG tag, CRAM in its features.
    lc = write_sam(w / "long-cigar.sam", corpus_header(), long_cigar_records(cgenome, seed=47))
    lc_bam = sorted_bam(lc, w / "long-cigar.bam")
    add("bam_long_cigar", "BAM", lc_bam, "66 002 CIGAR operations (CG tag)", ref_name="corpus",
        feature=cg_tag)
    add("cram_long_cigar", "CRAM", to_cram(lc_bam, w / "long-cigar.cram", cref),
        "66 002 CIGAR operations", ref_name="corpus", feature=long_cigar(66_002))
    add("cram31_long_cigar", "CRAM", to_cram(lc_bam, w / "long-cigar-v31.cram", cref, "version=3.1"),
        "66 002 CIGAR operations, CRAM 3.1", ref_name="corpus", feature=long_cigar(66_002))

    # Every B array subtype, long arrays and extreme values.
    ba_bam = sorted_bam(write_sam(w / "b-arrays.sam", sam_header_lines(), b_array_records(genome, 200, seed=53)),
                        w / "b-arrays.bam")
    add("bam_b_arrays", "BAM", ba_bam, "B arrays of every subtype (cCsSiIf)", feature=every_b_array)
    add("cram_b_arrays", "CRAM", to_cram(ba_bam, w / "b-arrays.cram", ref), "B arrays of every subtype",
        feature=every_b_array)
    add("cram31_b_arrays", "CRAM", to_cram(ba_bam, w / "b-arrays-v31.cram", ref, "version=3.1"),
        "B arrays of every subtype, CRAM 3.1", feature=every_b_array)

    # Placed unmapped reads.
    pu_bam = sorted_bam(write_sam(w / "placed-unmapped.sam", sam_header_lines(),
                                  placed_unmapped_records(genome, 160, seed=59)), w / "placed-unmapped.bam")
    add("bam_placed_unmapped", "BAM", pu_bam, "unmapped reads at their mate's RNAME/POS",
        feature=placed_unmapped)
    add("cram_placed_unmapped", "CRAM", to_cram(pu_bam, w / "placed-unmapped.cram", ref),
        "unmapped reads at their mate's RNAME/POS", feature=placed_unmapped)
    add("cram31_placed_unmapped", "CRAM", to_cram(pu_bam, w / "placed-unmapped-v31.cram", ref, "version=3.1"),
        "unmapped reads at their mate's RNAME/POS, CRAM 3.1", feature=placed_unmapped)

    # samtools' archive profile: slices of up to 100 000 reads, names by the name tokeniser.
    many = sorted_bam(write_sam(w / "many.sam", corpus_header(), many_short_records(cgenome, 150_000, seed=67)),
                      w / "many.bam")
    add("cram31_archive_full_slices", "CRAM", to_cram(many, w / "archive.cram", cref, "version=3.1", "archive=1"),
        "CRAM 3.1 archive profile: 150 000 reads, name-tokenized slices of up to 100 000",
        ref_name="corpus", feature=name_tokenized_slices_of(60_000))

    # FASTQ with CRLF line ends: plain, gzip in two members cut between a CR and its LF,
    # BGZF, and two BGZF files joined by `cat` (an EOF block mid-file).
    fq = w / "fastq"
    fq.mkdir()
    lf, _ = write_fastq_pair(fq, "corpus", 400, seed=61)
    counts = fastq_counts([lf])  # the same text without the CRs
    crlf_fq = fq / "crlf.fastq"
    crlf_fq.write_bytes(lf.read_bytes().replace(b"\n", b"\r\n"))
    add("fastq_crlf", "FASTQ", crlf_fq, "CRLF line ends", feature=crlf, counts=counts)
    data = crlf_fq.read_bytes()
    cut = data.index(b"\r\n", len(data) // 2) + 1
    add("fastq_crlf_multi_member", "FASTQ", multi_member_gzip(crlf_fq, fq / "crlf-multi.fastq.gz", cut=cut),
        "CRLF, gzip of two members, the first ending between a CR and its LF", counts=counts,
        feature=gzip_members(2))
    add("fastq_crlf_bgzf", "FASTQ", bgzip_file(crlf_fq, fq / "crlf.fastq.bgz.gz"), "CRLF, BGZF", counts=counts,
        feature=bgzf_crlf)
    half = data.index(b"\r\n@", len(data) // 3) + 2
    (fq / "crlf-a.fastq").write_bytes(data[:half])
    (fq / "crlf-b.fastq").write_bytes(data[half:])
    joined = fq / "crlf-cat.fastq.gz"
    joined.write_bytes(bgzip_file(fq / "crlf-a.fastq", fq / "crlf-a.fastq.gz").read_bytes()
                       + bgzip_file(fq / "crlf-b.fastq", fq / "crlf-b.fastq.gz").read_bytes())
    add("fastq_crlf_bgzf_cat", "FASTQ", joined, "CRLF, two BGZF files joined by `cat`", counts=counts,
        feature=bgzf_crlf_eof_mid_file)

    ensure_bucket(s3)
    s3.upload_file(str(cref), SOURCE_BUCKET, CORPUS_REFERENCE_KEY)
    return corpus


def htslib_verdict(c: CorpusCase) -> str | None:
    """None if htslib reads the whole file, else what it says. BAM/CRAM: `samtools quickcheck`
    and `samtools view`; FASTQ: `samtools view` (htslib's FASTQ reader)."""
    path = c.source.paths[0]
    if c.source.file_type != "FASTQ":
        res = samtools("quickcheck", "-v", path, check=False)
        if res.returncode != 0:
            return f"samtools quickcheck: {(res.stdout + res.stderr).decode(errors='replace').strip()}"
    args = ["view", "-c"]
    if c.source.reference is not None:
        args += ["--reference", c.source.reference]
    res = samtools(*args, path, check=False)
    if res.returncode != 0:
        return f"samtools view: {res.stderr.decode(errors='replace').strip()}"
    return None
