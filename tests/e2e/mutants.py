"""Mutators for test_mutants: seeded broken or hostile variants of the read set fixtures and of
FASTA references, made with small hand-written CRAM / BGZF / gzip writers so that the
structural mutants get past checksums (CRAM block and container CRC32s, BGZF CRC32s) and reach
the parsers behind them.

Every mutant is a file on disk; nothing here talks to seqstore. Oracles (samtools, gzip) are in
test_mutants.
"""

from __future__ import annotations

import gzip
import random
import struct
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path

SEED = 20261204
GIB = 1 << 30
MIB = 1 << 20


# ---------------------------------------------------------------------------------------
# ITF8 / LTF8 (CRAM 3 integer encodings)
# ---------------------------------------------------------------------------------------


def read_itf8(b: bytes, i: int) -> tuple[int, int]:
    b0 = b[i]
    if b0 < 0x80:
        v, n = b0, 1
    elif b0 < 0xC0:
        v, n = ((b0 & 0x3F) << 8) | b[i + 1], 2
    elif b0 < 0xE0:
        v, n = ((b0 & 0x1F) << 16) | (b[i + 1] << 8) | b[i + 2], 3
    elif b0 < 0xF0:
        v, n = ((b0 & 0x0F) << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3], 4
    else:
        v = ((b0 & 0x0F) << 28) | (b[i + 1] << 20) | (b[i + 2] << 12) | (b[i + 3] << 4) | (b[i + 4] & 0x0F)
        n = 5
    if v >= 1 << 31:
        v -= 1 << 32
    return v, i + n


def write_itf8(v: int) -> bytes:
    v &= 0xFFFFFFFF
    if v < 1 << 7:
        return bytes([v])
    if v < 1 << 14:
        return bytes([0x80 | (v >> 8), v & 0xFF])
    if v < 1 << 21:
        return bytes([0xC0 | (v >> 16), (v >> 8) & 0xFF, v & 0xFF])
    if v < 1 << 28:
        return bytes([0xE0 | (v >> 24), (v >> 16) & 0xFF, (v >> 8) & 0xFF, v & 0xFF])
    return bytes([0xF0 | ((v >> 28) & 0x0F), (v >> 20) & 0xFF, (v >> 12) & 0xFF, (v >> 4) & 0xFF, v & 0x0F])


def read_ltf8(b: bytes, i: int) -> tuple[int, int]:
    b0 = b[i]
    n = 0
    while n < 8 and b0 & (0x80 >> n):
        n += 1
    if n == 8:
        return int.from_bytes(b[i + 1:i + 9], "big"), i + 9
    v = b0 & (0xFF >> (n + 1)) if n < 7 else 0
    for k in range(n):
        v = (v << 8) | b[i + 1 + k]
    return v, i + 1 + n


def write_ltf8(v: int) -> bytes:
    v &= (1 << 64) - 1
    for n in range(8):  # n extra bytes, 7 - n value bits in the first byte
        if v < 1 << (7 * n + 7):
            first = ((0xFF << (8 - n)) & 0xFF) | (v >> (8 * n))
            return bytes([first]) + (v & ((1 << (8 * n)) - 1)).to_bytes(n, "big")
    return b"\xff" + v.to_bytes(8, "big")


# ---------------------------------------------------------------------------------------
# CRAM 3 containers and blocks
# ---------------------------------------------------------------------------------------

FILE_HEADER, COMPRESSION_HEADER, SLICE_HEADER, EXTERNAL_DATA, CORE_DATA = 0, 1, 2, 4, 5


def flipped(data: bytes, rng: random.Random, count: int, lo: int = 0, hi: int | None = None) -> bytes:
    """`data` with `count` random bits flipped at offsets in [lo, hi) (default: to the end)."""
    b = bytearray(data)
    for _ in range(count):
        b[rng.randrange(lo, len(b) if hi is None else hi)] ^= 1 << rng.randrange(8)
    return bytes(b)


@dataclass
class Block:
    method: int
    content_type: int
    content_id: int
    raw_size: int
    data: bytes  # as stored (compressed)
    comp_size: int | None = None  # None: len(data)

    @classmethod
    def parse(cls, b: bytes, i: int) -> tuple["Block", int]:
        start = i
        method, content_type = b[i], b[i + 1]
        content_id, i = read_itf8(b, i + 2)
        comp, i = read_itf8(b, i)
        raw, i = read_itf8(b, i)
        data = b[i:i + comp]
        i += comp
        crc = struct.unpack_from("<I", b, i)[0]
        assert crc == zlib.crc32(b[start:i]), f"block CRC mismatch at {start}"
        return cls(method, content_type, content_id, raw, data), i + 4

    def encode(self) -> bytes:
        comp = len(self.data) if self.comp_size is None else self.comp_size
        body = (bytes([self.method, self.content_type]) + write_itf8(self.content_id) + write_itf8(comp)
                + write_itf8(self.raw_size) + self.data)
        return body + struct.pack("<I", zlib.crc32(body))


@dataclass
class Container:
    length: int
    ref_id: int
    start: int
    span: int
    n_records: int
    record_counter: int
    bases: int
    n_blocks: int
    landmarks: list[int]
    data: bytes  # the container's `length` bytes
    blocks: list[Block] | None = None  # parsed when the data is exactly whole blocks
    length_override: int | None = None
    landmark_blocks: list[int] | None = None  # index of the block each landmark points at

    @classmethod
    def parse(cls, b: bytes, i: int) -> tuple["Container", int]:
        start = i
        length = struct.unpack_from("<i", b, i)[0]
        i += 4
        ref_id, i = read_itf8(b, i)
        pos, i = read_itf8(b, i)
        span, i = read_itf8(b, i)
        n_records, i = read_itf8(b, i)
        counter, i = read_ltf8(b, i)
        bases, i = read_ltf8(b, i)
        n_blocks, i = read_itf8(b, i)
        n_land, i = read_itf8(b, i)
        landmarks = []
        for _ in range(n_land):
            v, i = read_itf8(b, i)
            landmarks.append(v)
        crc = struct.unpack_from("<I", b, i)[0]
        assert crc == zlib.crc32(b[start:i]), f"container header CRC mismatch at {start}"
        i += 4
        data = b[i:i + length]
        c = cls(length, ref_id, pos, span, n_records, counter, bases, n_blocks, landmarks, data)
        blocks, offsets, j = [], [], 0
        try:
            while j < len(data):
                offsets.append(j)
                blk, j = Block.parse(data, j)
                blocks.append(blk)
            if j == len(data) and len(blocks) == n_blocks and all(x in offsets for x in landmarks):
                c.blocks = blocks
                c.landmark_blocks = [offsets.index(x) for x in landmarks]
        except (AssertionError, IndexError, struct.error):
            pass
        return c, i + length

    @property
    def is_data(self) -> bool:
        return bool(self.blocks) and self.blocks[0].content_type == COMPRESSION_HEADER and self.n_records > 0

    def encode(self) -> bytes:
        if self.blocks is not None:
            encoded = [blk.encode() for blk in self.blocks]
            data = b"".join(encoded)
            offsets, off = [], 0
            for e in encoded:
                offsets.append(off)
                off += len(e)
            landmarks = [offsets[k] for k in self.landmark_blocks]
            n_blocks = len(self.blocks)
        else:
            data, landmarks, n_blocks = self.data, self.landmarks, self.n_blocks
        length = len(data) if self.length_override is None else self.length_override
        head = (struct.pack("<i", length) + write_itf8(self.ref_id) + write_itf8(self.start)
                + write_itf8(self.span) + write_itf8(self.n_records) + write_ltf8(self.record_counter)
                + write_ltf8(self.bases) + write_itf8(n_blocks) + write_itf8(len(landmarks))
                + b"".join(write_itf8(x) for x in landmarks))
        return head + struct.pack("<I", zlib.crc32(head)) + data


@dataclass
class Cram:
    file_def: bytes  # 26 bytes
    containers: list[Container]

    @classmethod
    def parse(cls, b: bytes) -> "Cram":
        assert b[:4] == b"CRAM" and b[4] == 3, "only CRAM 3.x"
        i, out = 26, []
        while i < len(b):
            c, i = Container.parse(b, i)
            out.append(c)
        return cls(b[:26], out)

    def encode(self) -> bytes:
        return self.file_def + b"".join(c.encode() for c in self.containers)

    def data_indexes(self) -> list[int]:
        return [k for k, c in enumerate(self.containers) if c.is_data]


def set_slice_record_count(blk: Block, count: int) -> None:
    """Rewrite n_records (4th ITF8) of a raw slice header block."""
    assert blk.content_type == SLICE_HEADER and blk.method == 0, "slice header must be raw"
    d = blk.data
    i = 0
    for _ in range(3):
        _, i = read_itf8(d, i)
    _, j = read_itf8(d, i)
    blk.data = d[:i] + write_itf8(count) + d[j:]
    blk.raw_size = len(blk.data)


def cram_mutants(cram: bytes, seed: int = SEED) -> dict[str, bytes]:
    """name -> bytes of each CRAM mutant."""
    assert Cram.parse(cram).encode() == cram, "CRAM writer does not round-trip the original"
    out: dict[str, bytes] = {}

    def variant(name, fn):
        c = Cram.parse(cram)
        fn(c)
        out[name] = c.encode()

    def first(c):
        return c.containers[c.data_indexes()[0]]

    variant("cram_container_records_7fffffff", lambda c: setattr(first(c), "n_records", 0x7FFFFFFF))

    def big_raw(kind):
        def fn(c):
            blocks = first(c).blocks
            if kind == "compression":
                blk = blocks[0]
            else:  # the first compressed data block, else the largest one
                data = [b for b in blocks if b.content_type in (EXTERNAL_DATA, CORE_DATA)]
                comp = [b for b in data if b.method != 0]
                blk = (comp or sorted(data, key=lambda b: -len(b.data)))[0]
            blk.raw_size = 0x7FFFFFFF
        return fn

    variant("cram_compression_header_raw_2gib", big_raw("compression"))
    variant("cram_data_block_raw_2gib", big_raw("data"))

    def slice_count(c):
        blk = next(b for b in first(c).blocks if b.content_type == SLICE_HEADER)
        set_slice_record_count(blk, 0x7FFFFFFF)

    variant("cram_slice_records_7fffffff", slice_count)
    variant("cram_container_length_7fffffff", lambda c: setattr(first(c), "length_override", 0x7FFFFFFF))

    def duplicate(c):
        k = c.data_indexes()[0]
        c.containers.insert(k + 1, Container.parse(c.containers[k].encode(), 0)[0])
        assert c.containers[k + 1].blocks is not None

    variant("cram_duplicated_container", duplicate)

    def swap(c):
        a, b = c.data_indexes()[:2]
        c.containers[a], c.containers[b] = c.containers[b], c.containers[a]

    variant("cram_swapped_containers", swap)
    # Flips inside raw (uncompressed) blocks, CRC32s recomputed: the parsers behind the checksums.
    rng = random.Random(seed + 3)
    for k in range(10):
        c = Cram.parse(cram)
        cont = c.containers[rng.choice(c.data_indexes())]
        raw_blocks = [b for b in cont.blocks if b.method == 0 and b.data]
        blk = rng.choice(raw_blocks)
        blk.data = flipped(blk.data, rng, 1 + k % 3)
        out[f"cram_rawflip_{k}"] = c.encode()
    for frac in (0.05, 0.33, 0.5, 0.9):
        out[f"cram_truncated_{int(frac * 100)}pct"] = cram[: int(len(cram) * frac)]
    out["cram_truncated_no_eof"] = cram[: len(cram) - 38]
    rng = random.Random(seed)
    for k in range(6):
        out[f"cram_flip_{k}"] = flipped(cram, rng, 1 + k % 3, lo=26)
    return out


# ---------------------------------------------------------------------------------------
# BGZF
# ---------------------------------------------------------------------------------------

BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
BGZF_MAX_INPUT = 0xFF00


def bgzf_blocks(data: bytes) -> list[bytes]:
    """The raw BGZF blocks of a file."""
    out, i = [], 0
    while i < len(data):
        assert data[i:i + 4] == b"\x1f\x8b\x08\x04", f"not a BGZF block at {i}"
        bsize = struct.unpack_from("<H", data, i + 16)[0] + 1
        out.append(data[i:i + bsize])
        i += bsize
    return out


def bgzf_decompress(data: bytes) -> bytes:
    return b"".join(zlib.decompress(blk[18:-8], -15) for blk in bgzf_blocks(data))


def bgzf_block(chunk: bytes, level: int = 6) -> bytes:
    co = zlib.compressobj(level, zlib.DEFLATED, -15)
    cdata = co.compress(chunk) + co.flush()
    bsize = 18 + len(cdata) + 8
    head = b"\x1f\x8b\x08\x04\x00\x00\x00\x00\x00\xff\x06\x00BC\x02\x00" + struct.pack("<H", bsize - 1)
    return head + cdata + struct.pack("<II", zlib.crc32(chunk), len(chunk))


class BgzfWriter:
    """Writes valid BGZF blocks (ends with the EOF block); identical chunks compress once."""

    def __init__(self, path: Path):
        self.f = open(path, "wb")
        self.buf = bytearray()
        self.cache: dict[bytes, bytes] = {}

    def write(self, data: bytes) -> None:
        self.buf += data
        while len(self.buf) >= BGZF_MAX_INPUT:
            self._emit(bytes(self.buf[:BGZF_MAX_INPUT]))
            del self.buf[:BGZF_MAX_INPUT]

    def write_zeros(self, n: int) -> None:
        zero = bytes(BGZF_MAX_INPUT)
        while n:
            take = min(n, BGZF_MAX_INPUT)
            self.write(zero[:take])
            n -= take

    def _emit(self, chunk: bytes) -> None:
        if len(chunk) == BGZF_MAX_INPUT and chunk.count(0) == len(chunk):
            blk = self.cache.get(b"z") or self.cache.setdefault(b"z", bgzf_block(chunk))
        else:
            blk = bgzf_block(chunk)
        self.f.write(blk)

    def close(self) -> None:
        if self.buf:
            self._emit(bytes(self.buf))
        self.f.write(BGZF_EOF)
        self.f.close()


def write_bgzf(path: Path, data: bytes) -> Path:
    w = BgzfWriter(path)
    w.write(data)
    w.close()
    return path


def bam_layout(raw: bytes) -> tuple[int, int, list[int]]:
    """(offset of l_text, offset of n_ref, offsets of the records) in an uncompressed BAM."""
    assert raw[:4] == b"BAM\x01"
    l_text = struct.unpack_from("<i", raw, 4)[0]
    n_ref_at = 8 + l_text
    n_ref = struct.unpack_from("<i", raw, n_ref_at)[0]
    i = n_ref_at + 4
    for _ in range(n_ref):
        l_name = struct.unpack_from("<i", raw, i)[0]
        i += 4 + l_name + 4
    recs = []
    while i < len(raw):
        recs.append(i)
        i += 4 + struct.unpack_from("<i", raw, i)[0]
    return 4, n_ref_at, recs


def bam_mutants(bam: bytes, workdir: Path, seed: int = SEED) -> dict[str, Path]:
    """name -> path of each BAM mutant (written under `workdir`)."""
    raw = bgzf_decompress(bam)
    l_text_at, n_ref_at, recs = bam_layout(raw)
    out: dict[str, Path] = {}

    def put(name: str, data: bytes) -> None:
        out[name] = write_bgzf(workdir / f"{name}.bam", data)

    def patched(at: int, fmt: str, value: int) -> bytes:
        b = bytearray(raw)
        struct.pack_into(fmt, b, at, value)
        return bytes(b)

    # l_text = 512 MiB: the real text, then NULs up to 512 MiB, then the rest as it was.
    l_text = struct.unpack_from("<i", raw, l_text_at)[0]
    path = workdir / "bam_l_text_512mib.bam"
    w = BgzfWriter(path)
    w.write(raw[:4] + struct.pack("<i", 512 * MIB) + raw[8:8 + l_text])
    w.write_zeros(512 * MIB - l_text)
    w.write(raw[8 + l_text:])
    w.close()
    out["bam_l_text_512mib"] = path
    put("bam_n_ref_7fffffff", patched(n_ref_at, "<i", 0x7FFFFFFF))
    put("bam_block_size_7fffffff", patched(recs[0], "<I", 0x7FFFFFFF))
    put("bam_block_size_2gib_plus", patched(recs[0], "<I", 0x80000040))
    rec = recs[10]
    put("bam_l_read_name_255", patched(rec + 12, "<B", 255))
    put("bam_n_cigar_op_ffff", patched(rec + 16, "<H", 0xFFFF))
    put("bam_l_seq_7fffffff", patched(rec + 20, "<i", 0x7FFFFFFF))
    put("bam_l_seq_plus_1000", patched(rec + 20, "<i", struct.unpack_from("<i", raw, rec + 20)[0] + 1000))
    for frac in (0.1, 0.5, 0.9):
        (workdir / f"trunc{frac}.bam").write_bytes(bam[: int(len(bam) * frac)])
        out[f"bam_truncated_{int(frac * 100)}pct"] = workdir / f"trunc{frac}.bam"
    out["bam_cut_inside_record"] = write_bgzf(workdir / "cut-record.bam", raw[: recs[len(recs) // 2] + 7])
    blocks = bgzf_blocks(bam)
    mid = len(blocks) // 2
    (workdir / "dup-block.bam").write_bytes(b"".join(blocks[:mid + 1] + [blocks[mid]] + blocks[mid + 1:]))
    out["bam_duplicated_bgzf_block"] = workdir / "dup-block.bam"
    # Flips in the uncompressed stream (header text, records), recompressed into valid BGZF.
    rng = random.Random(seed + 4)
    for k in range(10):
        put(f"bam_rawflip_{k}", flipped(raw, rng, 1 + k % 3, lo=8 if k < 2 else recs[0]))
    rng = random.Random(seed + 1)
    for k in range(6):
        (workdir / f"flip{k}.bam").write_bytes(flipped(bam, rng, 1 + k % 3, hi=len(bam) - 28))
        out[f"bam_flip_{k}"] = workdir / f"flip{k}.bam"
    return out


# ---------------------------------------------------------------------------------------
# gzip (FASTQ, FASTA)
# ---------------------------------------------------------------------------------------


def repeated_gzip(path: Path, head: bytes, chunk: bytes, total: int) -> Path:
    """`head` then `chunk` repeated until about `total` bytes, as one gzip member per piece
    (compressed once, written many times): a few MB on disk."""
    member = gzip.compress(chunk, compresslevel=9, mtime=0)
    with open(path, "wb") as f:
        if head:
            f.write(gzip.compress(head, mtime=0))
        for _ in range(max(1, total // len(chunk))):
            f.write(member)
    return path


def fastq_mutants(fastq_gz: bytes, workdir: Path, seed: int = SEED) -> dict[str, Path]:
    out: dict[str, Path] = {}
    rec = b"@bomb/1\n" + b"ACGTTGCA" * 18 + b"\n+\n" + b"I" * 144 + b"\n"
    chunk = rec * (MIB // len(rec))
    out["fastq_gzip_1gb_valid"] = repeated_gzip(workdir / "bomb.fastq.gz", b"", chunk, GIB)
    for frac in (0.3, 0.97):
        p = workdir / f"trunc{frac}.fastq.gz"
        p.write_bytes(fastq_gz[: int(len(fastq_gz) * frac)])
        out[f"fastq_truncated_{int(frac * 100)}pct"] = p
    p = workdir / "no-trailer.fastq.gz"
    p.write_bytes(fastq_gz[:-8])
    out["fastq_gzip_no_trailer"] = p
    text = gzip.decompress(fastq_gz)
    rng = random.Random(seed + 5)
    for k in range(6):
        p = workdir / f"rawflip{k}.fastq.gz"
        p.write_bytes(gzip.compress(flipped(text, rng, 1 + k % 2), mtime=0))
        out[f"fastq_rawflip_{k}"] = p
    rng = random.Random(seed + 2)
    for k in range(5):
        p = workdir / f"flip{k}.fastq.gz"
        p.write_bytes(flipped(fastq_gz, rng, 1 + k % 2))
        out[f"fastq_flip_{k}"] = p
    return out


def fasta_mutants(workdir: Path) -> dict[str, Path]:
    out: dict[str, Path] = {}
    p = workdir / "five-million.fa"
    with open(p, "wb") as f:
        step = 100_000
        for base in range(0, 5_000_000, step):
            f.write(b"".join(b">s%d\nA\n" % n for n in range(base, base + step)))
    out["fasta_5m_one_base_sequences"] = p
    line = b"A" * 60 + b"\n"
    out["fasta_gzip_1gb_run"] = repeated_gzip(workdir / "run.fa.gz", b">run one base\n",
                                              line * (MIB // len(line)), GIB)
    return out


def gzip_ok(path: Path) -> bool:
    return subprocess.run(["gzip", "-t", str(path)], capture_output=True).returncode == 0
