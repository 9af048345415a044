"""What the benchmark scripts share: free loopback ports, a process's peak RSS, generated
FASTQ.gz inputs."""

import os
import random
import socket
import zlib


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_mib(pid):
    """`VmHWM` of a running process, in MiB."""
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def fastq_gz(path, size, level, seed):
    """A seeded single-end FASTQ.gz of at least `size` bytes (kept when already there): records
    from a pool of random pieces, deflated at `level` (0: stored blocks, as large as the text)."""
    if os.path.exists(path) and os.path.getsize(path) >= size:
        return
    rng = random.Random(seed)
    seqs = ["".join(rng.choice("ACGT") for _ in range(150)) for _ in range(4096)]
    quals = ["".join(chr(rng.randint(35, 72)) for _ in range(150)) for _ in range(512)]
    gz = zlib.compressobj(level, zlib.DEFLATED, 31)  # wbits 31: gzip header and trailer
    written, i, batch = 0, 0, 2000
    with open(path + ".part", "wb") as f:
        while written < size:
            text = "".join(f"@read{j} 1:N:0:ACGT\n{seqs[rng.randrange(4096)]}\n+\n{quals[j % 512]}\n"
                           for j in range(i, i + batch))
            out = gz.compress(text.encode())
            f.write(out)
            written += len(out)
            i += batch
        f.write(gz.flush())
    os.replace(path + ".part", path)
