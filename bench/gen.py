"""Generates the benchmark inputs: a reference, a paired-free FASTQ.gz and a
coordinate-sorted BAM, CRAM 3.0 and CRAM 3.1, each with at least `--sam-gb` GB of text.

Deterministic (seeded), and fast enough for a few GB: records are built from a pool of
random pieces instead of drawing every base separately.
"""

import argparse
import gzip
import os
import random
import subprocess

BASES = "ACGT"


def reference(path, length, seed):
    rng = random.Random(seed)
    with open(path, "w") as f:
        for name, n in (("chr1", length), ("chr2", length // 4)):
            f.write(f">{name}\n")
            chunk = "".join(rng.choice(BASES) for _ in range(1 << 16))
            written = 0
            while written < n:
                take = min(60, n - written)
                start = rng.randrange(0, len(chunk) - 60)
                f.write(chunk[start:start + take] + "\n")
                written += take
    subprocess.run(["samtools", "faidx", path], check=True)


def read_ref(path):
    seqs, name, parts = {}, None, []
    for line in open(path):
        if line.startswith(">"):
            if name:
                seqs[name] = "".join(parts)
            name, parts = line[1:].split()[0], []
        else:
            parts.append(line.strip())
    seqs[name] = "".join(parts)
    return seqs


def sam(path, ref, target_bytes, seed):
    rng = random.Random(seed)
    chr1 = ref["chr1"]
    quals = ["".join(chr(rng.randint(35, 72)) for _ in range(150)) for _ in range(512)]
    header = "@HD\tVN:1.6\tSO:coordinate\n" + "".join(f"@SQ\tSN:{n}\tLN:{len(s)}\n" for n, s in ref.items())
    header += "@RG\tID:rg1\tSM:bench\n"
    written, i, pos = 0, 0, 1
    step = max(1, (len(chr1) - 200) * 330 // target_bytes)
    with open(path, "w") as f:
        f.write(header)
        while written < target_bytes:
            pos = min(pos + rng.randint(0, 2 * step), len(chr1) - 160)
            s = list(chr1[pos - 1:pos + 149])
            for _ in range(rng.randint(0, 3)):
                s[rng.randrange(150)] = rng.choice(BASES)
            line = (f"r{i}\t{rng.choice((0, 16, 99, 147))}\tchr1\t{pos}\t60\t150M\t=\t{pos + 200}\t350\t"
                    f"{''.join(s)}\t{quals[i % 512]}\tRG:Z:rg1\tAS:i:{rng.randint(0, 150)}\tXS:f:{rng.random() * 10:.4f}\n")
            f.write(line)
            written += len(line)
            i += 1
    return i


def fastq(path, target_bytes, seed):
    rng = random.Random(seed)
    pieces = ["".join(rng.choice(BASES) for _ in range(150)) for _ in range(4096)]
    quals = ["".join(chr(rng.randint(35, 72)) for _ in range(150)) for _ in range(512)]
    written, i = 0, 0
    with gzip.open(path, "wt", compresslevel=1) as f:
        while written < target_bytes:
            rec = f"@read{i} 1:N:0:ACGT\n{pieces[rng.randrange(4096)]}\n+\n{quals[i % 512]}\n"
            f.write(rec)
            written += len(rec)
            i += 1


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--sam-gb", type=float, default=1.0)
    a = p.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    target = int(a.sam_gb * 1e9)
    ref = os.path.join(a.dir, "ref.fa")
    if not os.path.exists(ref + ".fai"):
        reference(ref, 50_000_000, 1)
    if not os.path.exists(os.path.join(a.dir, "reads.fastq.gz")):
        fastq(os.path.join(a.dir, "reads.fastq.gz"), target, 2)
    bam = os.path.join(a.dir, "aln.bam")
    if not os.path.exists(bam):
        sam_path = os.path.join(a.dir, "aln.sam")
        sam(sam_path, read_ref(ref), target, 3)
        subprocess.run(["samtools", "sort", "-@2", "-m", "1G", "-o", bam, sam_path], check=True)
        subprocess.run(["samtools", "view", "-@2", "-C", "--reference", ref, "-o",
                        os.path.join(a.dir, "aln.cram"), bam], check=True)
        os.remove(sam_path)
    cram31 = os.path.join(a.dir, "aln31.cram")
    if not os.path.exists(cram31):
        # CRAM 3.1 codecs (name tokenizer, fqzcomp, rANS Nx16): samtools writes 3.0 by default
        subprocess.run(["samtools", "view", "-@2", "-O", "cram,version=3.1", "--reference", ref, "-o", cram31, bam],
                       check=True)


if __name__ == "__main__":
    main()
