"""Archive tier benchmark, run on demand (never a timed test): `python3 bench/archive.py`.

Generates seeded, realistic inputs in a temp dir: a random ~5 Mb reference (FASTA and `.fai`),
`--reads` 150 bp reads sampled from it (half reverse-complemented, 0-2 substitutions each,
Illumina-binned qualities in runs, NovaSeq-style names), written as a FASTQ.gz (`gzip -n -6`),
a BGZF FASTQ (`bgzip`), a coordinate-sorted BAM of the same reads at their true positions, its
`.bai` and a CRAM 3.0. For each file and each zstd level of `--levels` it measures
`seqstore archive pack` (best of `--runs`; packed size, throughput, peak RSS) and
`seqstore archive unpack` (best of `--runs`; the restored file must be byte-identical to the
original, checked with `cmp`: the script stops with exit status 1 otherwise), and in the same run
the peer: `zstd -19 --long=27 -T1` of the decompressed content (what a user could do by hand,
not byte-exact). Prints a markdown table and rewrites the `archive` section of bench/README.md
(only when run with the release binary, and not with `--no-readme`).

It does not build: run `cargo build --release --bin seqstore` first, or point `--bin` at
another binary (e.g. target/debug/seqstore for a trial run; the README is then left alone).
Needs samtools, bgzip, gzip, zstd and cmp.
"""

import argparse
import os
import random
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

from common import cpu_model, rewrite_readme_section

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RELEASE_BIN = os.path.join(ROOT, "target", "release", "seqstore")
# Samtools must not look the reference up on the network (EBI's MD5 service) or in a cache.
ENV = dict(os.environ, REF_PATH=":", REF_CACHE="/nonexistent/%s")
CONTIGS = (("chr1", 3_000_000), ("chr2", 2_000_000))
READ_LEN = 150
READS_PER_TILE = 4000
COMPLEMENT = str.maketrans("ACGT", "TGCA")
PEER = "zstd -19 --long=27 -T1 -c"


# ---------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------


def sh(cmd, stdout=subprocess.DEVNULL):
    """Runs a bash pipeline (pipefail); raises with its stderr when it fails."""
    r = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], stdout=stdout, stderr=subprocess.PIPE,
                       env=ENV, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"`{cmd}` exited {r.returncode}: {r.stderr.strip()}")
    return r.stdout


def quality_strings(rng, n):
    """`n` Illumina-binned (NovaSeq: F, :, ",", #) quality strings: mostly 'F', with short runs
    of ':' and ',' that get denser towards the 3' end, and now and then a '#' tail. The runs are
    drawn up front (a pool of 65536) and each string picks its own few of them."""
    patches = []
    for _ in range(1 << 16):
        u = rng.random()
        run = (":" if u < 0.70 else "," if u < 0.97 else "#") * rng.choice((1, 1, 1, 2, 2, 3, 4))
        p = int(READ_LEN * (1 - rng.random() ** 1.6))
        patches.append((p, run, p + len(run)))
    bits, base, out = rng.getrandbits, "F" * READ_LEN, []
    for _ in range(n):
        q = base
        for _ in range(4 + bits(4)):
            p, run, end = patches[bits(16)]
            q = q[:p] + run + q[end:]
        if bits(5) == 0:  # one read in 32 ends in a '#' tail
            q = q[:READ_LEN - 5 - bits(5)].ljust(READ_LEN, "#")
        out.append(q[:READ_LEN])
    return out


def generate(work, n_reads, seed):
    """Writes ref.fa(.fai), reads.fastq.gz, reads.bgzf.fastq.gz, reads.bam(.bai), reads.cram;
    returns their paths by label."""
    rng = random.Random(seed)
    ref_path = os.path.join(work, "ref.fa")
    ref = {}
    with open(ref_path, "w") as f:
        for name, length in CONTIGS:
            seq = "".join(rng.choices("ACGT", k=length))
            ref[name] = seq
            f.write(f">{name}\n")
            f.write("\n".join(seq[i:i + 60] for i in range(0, length, 60)))
            f.write("\n")
    sh(f"samtools faidx {shlex.quote(ref_path)}")

    names = [name for name, _ in CONTIGS]
    total = sum(length for _, length in CONTIGS)
    quals = quality_strings(rng, n_reads)
    fastq_path = os.path.join(work, "reads.fastq")
    bam_path = os.path.join(work, "reads.bam")
    header = "@HD\tVN:1.6\tSO:unsorted\n" + "".join(f"@SQ\tSN:{n}\tLN:{l}\n" for n, l in CONTIGS)
    sort_log = open(os.path.join(work, "sort.log"), "w+")
    sort = subprocess.Popen(["samtools", "sort", "--no-PG", "-@2", "-m", "512M", "-o", bam_path, "-T",
                             os.path.join(work, "sort"), "-"], stdin=subprocess.PIPE, stderr=sort_log,
                            env=ENV, text=True)
    subs = rng.choices((0, 0, 0, 0, 0, 1, 1, 1, 2, 2), k=n_reads)
    tile, y = 1101, 0
    fq, sam = [], []
    with open(fastq_path, "w") as out:
        sort.stdin.write(header)
        for r in range(n_reads):
            # The position: a contig chosen by length, then uniform within it.
            g = rng.randrange(total - len(CONTIGS) * READ_LEN)
            c = 0
            while g >= CONTIGS[c][1] - READ_LEN:
                g -= CONTIGS[c][1] - READ_LEN
                c += 1
            frag = ref[names[c]][g:g + READ_LEN]
            for _ in range(subs[r]):
                p = rng.randrange(READ_LEN)
                frag = frag[:p] + "ACGT"[("ACGT".index(frag[p]) + rng.randint(1, 3)) % 4] + frag[p + 1:]
            if r % READS_PER_TILE == 0 and r:
                tile, y = (tile + 1 if tile % 100 < 78 else tile + 100 - 77), 0
            y += rng.randint(1, 18)
            name = f"A00123:8:H5KJ3DSXY:1:{tile}:{rng.randint(1000, 32000)}:{y}"
            q = quals[r]
            reverse = r & 1
            if reverse:  # sequenced off the reverse strand: the FASTQ holds the reverse complement
                fq.append(f"@{name} 1:N:0:ACGTACGT\n{frag.translate(COMPLEMENT)[::-1]}\n+\n{q}\n")
                sam.append(f"{name}\t16\t{names[c]}\t{g + 1}\t60\t150M\t*\t0\t0\t{frag}\t{q[::-1]}\n")
            else:
                fq.append(f"@{name} 1:N:0:ACGTACGT\n{frag}\n+\n{q}\n")
                sam.append(f"{name}\t0\t{names[c]}\t{g + 1}\t60\t150M\t*\t0\t0\t{frag}\t{q}\n")
            if len(fq) == 10000:
                out.write("".join(fq))
                sort.stdin.write("".join(sam))
                fq, sam = [], []
        out.write("".join(fq))
        sort.stdin.write("".join(sam))
    sort.stdin.close()
    if sort.wait() != 0:
        sort_log.seek(0)
        raise RuntimeError(f"samtools sort exited {sort.returncode}: {sort_log.read().strip()}")
    sort_log.close()

    files = {
        "FASTQ.gz": os.path.join(work, "reads.fastq.gz"),
        "BGZF FASTQ": os.path.join(work, "reads.bgzf.fastq.gz"),
        "BAM": bam_path,
        "BAM .bai": bam_path + ".bai",
        "CRAM 3.0": os.path.join(work, "reads.cram"),
    }
    q = {k: shlex.quote(v) for k, v in files.items()}
    fq_q, ref_q = shlex.quote(fastq_path), shlex.quote(ref_path)
    sh(f"gzip -n -6 -c {fq_q} > {q['FASTQ.gz']}")
    sh(f"bgzip -c {fq_q} > {q['BGZF FASTQ']}")
    os.remove(fastq_path)
    sh(f"samtools index {q['BAM']}")
    sh(f"samtools view --no-PG -C --output-fmt-option version=3.0 --reference {ref_q} -o {q['CRAM 3.0']} {q['BAM']}")
    return files


# ---------------------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------------------


def run_timed(argv, work):
    """Runs `argv`; returns (seconds, peak RSS in MiB, stdout, stderr). Raises when it fails."""
    out_path, err_path = os.path.join(work, "cmd.out"), os.path.join(work, "cmd.err")
    with open(out_path, "w") as out, open(err_path, "w") as err:
        t = time.perf_counter()
        p = subprocess.Popen(argv, stdout=out, stderr=err, env=ENV)
        _, status, usage = os.wait4(p.pid, 0)
        elapsed = time.perf_counter() - t
    p.returncode = os.waitstatus_to_exitcode(status)
    stdout, stderr = open(out_path).read(), open(err_path).read()
    if p.returncode != 0:
        raise RuntimeError(f"`{' '.join(argv)}` exited {p.returncode}: {stderr.strip()}")
    return elapsed, usage.ru_maxrss / 1024, stdout, stderr


def peer_command(label, path="F"):
    """The peer for a file: zstd of its decompressed content (F in the README stands for the file)."""
    f = path if path == "F" else shlex.quote(path)
    if label in ("FASTQ.gz", "BGZF FASTQ"):
        return f"gzip -dc {f} | {PEER}"
    if label == "BAM":  # the raw BAM records
        return f"bgzip -dc {f} | {PEER}"
    return f"{PEER} {f}"  # CRAM and .bai: no gzip layer to take off


def measure_peer(label, path, runs):
    cmd = peer_command(label, path) + " | wc -c"
    times, size = [], None
    for _ in range(runs):
        t = time.perf_counter()
        size = int(sh(cmd, stdout=subprocess.PIPE).strip())
        times.append(time.perf_counter() - t)
    return size, min(times)


def measure_file(a, label, path, work):
    original = os.path.getsize(path)
    with open(path, "rb") as f:
        gzip_magic = f.read(2) == b"\x1f\x8b"
    peer_size, peer_time = measure_peer(label, path, a.runs)
    print(f"{label}: {fmt_size(original)}; peer `{peer_command(label)}` {fmt_size(peer_size)} "
          f"({peer_size / original:.3f}) in {fmt_time(peer_time)}", flush=True)
    rows = []
    packed_path, restored_path = os.path.join(work, "packed.sqsarc"), os.path.join(work, "restored")
    for level in a.levels:
        packs = []
        for _ in range(a.runs):
            packs.append(run_timed([a.bin, "archive", "pack", path, packed_path, "--level", str(level)], work))
        pack_time = min(t for t, _, _, _ in packs)
        pack_rss = max(rss for _, rss, _, _ in packs)
        _, _, stdout, stderr = packs[-1]
        packed = os.path.getsize(packed_path)
        m = re.search(r"(\d+) bytes -> (\d+) bytes", stdout)
        if not m or int(m.group(1)) != original or int(m.group(2)) != packed:
            raise RuntimeError(f"{label}: unexpected pack output {stdout.strip()!r} "
                               f"(file {original} bytes, packed {packed} bytes)")
        fallback = re.search(r"not reproducible \((.*)\); packing the bytes as they are", stderr)
        if fallback:
            how = f"zstd of the bytes (gzip not reproducible: {fallback.group(1)})"
        elif gzip_magic:
            how = "preflate + zstd"
        else:
            how = "zstd of the bytes"
        unpack_times = []
        for _ in range(a.runs):
            if os.path.exists(restored_path):
                os.remove(restored_path)
            t, _, _, _ = run_timed([a.bin, "archive", "unpack", packed_path, restored_path], work)
            unpack_times.append(t)
            if subprocess.run(["cmp", "-s", path, restored_path]).returncode != 0:
                a.keep = True
                sys.exit(f"FAILED: {label} at level {level}: the restored file differs from the original "
                         f"(`cmp {path} {restored_path}`; work dir {work} kept)")
        unpack_time = min(unpack_times)
        row = dict(label=label, original=original, level=level, packed=packed, how=how,
                   pack_time=pack_time, pack_rss=pack_rss, unpack_time=unpack_time,
                   peer_size=peer_size, peer_time=peer_time, peer=peer_command(label))
        rows.append(row)
        print(f"  level {level}: {fmt_size(packed)} ({packed / original:.3f}, {how}); "
              f"pack {fmt_time(pack_time)} ({original / 1e6 / pack_time:.1f} MB/s, peak RSS {pack_rss:.0f} MiB); "
              f"unpack {fmt_time(unpack_time)} ({original / 1e6 / unpack_time:.1f} MB/s), identical; "
              f"packed / peer {packed / peer_size:.3f}", flush=True)
    for p in (packed_path, restored_path):
        if os.path.exists(p):
            os.remove(p)
    return rows


# ---------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------


def fmt_size(n):
    return f"{n / 1e6:.2f} MB" if n >= 1e6 else f"{n / 1e3:.1f} kB"


def fmt_time(s):
    return f"{s:.2f} s" if s >= 0.1 else f"{s * 1e3:.0f} ms"


def table(rows):
    lines = [
        "| file | original | level | packed | packed / original | pack | unpack | pack peak RSS "
        "| peer size | peer / original | peer time | packed / peer |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        o = r["original"]
        lines.append(
            f"| {r['label']} | {fmt_size(o)} | {r['level']} | {fmt_size(r['packed'])} | {r['packed'] / o:.3f} "
            f"| {o / 1e6 / r['pack_time']:.1f} MB/s ({fmt_time(r['pack_time'])}) "
            f"| {o / 1e6 / r['unpack_time']:.1f} MB/s ({fmt_time(r['unpack_time'])}) | {r['pack_rss']:.0f} MiB "
            f"| {fmt_size(r['peer_size'])} | {r['peer_size'] / o:.3f} | {fmt_time(r['peer_time'])} "
            f"| {r['packed'] / r['peer_size']:.3f} |")
    return lines


def notes(rows):
    """What each file was packed as, and the peer commands (F is the file)."""
    lines, seen = [], set()
    for r in rows:
        if r["label"] in seen:
            continue
        seen.add(r["label"])
        hows = sorted({x["how"] for x in rows if x["label"] == r["label"]})
        shown = r["peer"].replace("|", "\\|")  # a pipe inside a table cell must be escaped
        lines.append(f"| {r['label']} | {'; '.join(hows)} | `{shown}` |")
    return ["| file | packed as | peer command (F is the file) |", "| --- | --- | --- |"] + lines


def header_line(a, load_avg, gen_time):
    cpu = cpu_model()
    release = a.bin == os.path.abspath(RELEASE_BIN)
    binary = "release build" if release else f"binary `{os.path.relpath(a.bin, ROOT)}`"
    return (f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {os.cpu_count()} cores ({cpu}), "
            f"load average {load_avg:.1f} at the start, {binary}; {a.reads} reads of {READ_LEN} bp (seed "
            f"{a.seed}, generated in {gen_time:.0f} s), zstd levels {', '.join(map(str, a.levels))}, best of "
            f"{a.runs} run{'s' if a.runs > 1 else ''}; every restored file identical to its original (`cmp`). "
            f"Ratios are sizes (smaller is better); packed / peer below 1 means the byte-exact archive copy is "
            f"smaller than `zstd -19 --long=27` of the decompressed content, measured in the same run, which "
            f"does not give the original file back.")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bin", default=RELEASE_BIN, help="seqstore binary (default: the release build)")
    p.add_argument("--reads", type=int, default=400_000, help="150 bp reads generated")
    p.add_argument("--levels", default="12,19", help="zstd levels of `seqstore archive pack`, comma-separated")
    p.add_argument("--runs", type=int, default=1, help="runs of each pack, unpack and peer; the best is kept")
    p.add_argument("--seed", type=int, default=1, help="seed of the generated inputs")
    p.add_argument("--work", default=None, help="work dir (default: a new temp dir, removed afterwards)")
    p.add_argument("--keep", action="store_true", help="keep the work dir (inputs)")
    p.add_argument("--no-readme", action="store_true", help="do not rewrite bench/README.md")
    a = p.parse_args()
    a.bin = os.path.abspath(a.bin)
    if not os.path.isfile(a.bin):
        sys.exit(f"{a.bin} is missing: build it first (cargo build --release --bin seqstore) or pass --bin")
    try:
        a.levels = [int(x) for x in a.levels.split(",") if x.strip()]
    except ValueError:
        sys.exit(f"--levels: comma-separated integers, not {a.levels!r}")
    if not a.levels or any(not 1 <= l <= 22 for l in a.levels):
        sys.exit("--levels: zstd levels from 1 to 22")
    if a.reads < 1 or a.runs < 1:
        sys.exit("--reads and --runs must be at least 1")
    for tool in ("samtools", "bgzip", "gzip", "zstd", "cmp"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is missing")

    work = a.work or tempfile.mkdtemp(prefix="seqstore-archive-")
    os.makedirs(work, exist_ok=True)
    t0 = time.perf_counter()
    try:
        load_avg = os.getloadavg()[0]
        t = time.perf_counter()
        files = generate(work, a.reads, a.seed)
        gen_time = time.perf_counter() - t
        print(f"generated {a.reads} reads in {gen_time:.1f} s in {work}; binary {a.bin}; "
              f"load average {load_avg:.1f}", flush=True)
        rows = []
        for label, path in files.items():
            rows += measure_file(a, label, path, work)
    finally:
        if not a.work and not a.keep:
            shutil.rmtree(work, ignore_errors=True)

    lines = [header_line(a, load_avg, gen_time), ""] + table(rows) + [""] + notes(rows)
    print()
    print("\n".join(lines))
    print(f"\ntotal {time.perf_counter() - t0:.1f} s", flush=True)
    if a.no_readme:
        print("bench/README.md left alone (--no-readme)")
    elif a.bin != os.path.abspath(RELEASE_BIN):
        print(f"bench/README.md left alone: {a.bin} is not the release build")
    else:
        rewrite_readme_section("archive", lines)
        print("bench/README.md: archive section rewritten")


if __name__ == "__main__":
    main()
