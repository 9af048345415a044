"""List operations at scale, run on demand (never a timed test): `python3 bench/lists.py`.

For each catalog (SQLite, PostgreSQL), on a fresh data dir (PostgreSQL: a new database):
- starts `seqstore serve` once so that it applies its migrations, creates one sequence store
  and the account's reference store through the API, and stops it;
- seeds the catalog tables directly (SQLite: one `executemany` transaction; PostgreSQL:
  `\\copy ... FROM pstdin` through psql, then `VACUUM ANALYZE`): `--read-sets` (1,000,000) read
  sets in that one store, `--references` (10,000) references, and the jobs that made them
  (one READ_SET_IMPORT job per batch of imported read sets, one READ_SET_INGEST job per
  uploaded one, REFERENCE_IMPORT jobs, plus export, activation and archive jobs). Rows are
  what the server itself writes: realistic statuses, ~1000 sample and subject ids, three
  reference ARNs on the aligned read sets, every file type, creation times over a year,
  names with shared prefixes. Jobs are all finished, so that the server's workers leave
  them alone; no file is stored, and `lifecycle.archive_after = 0` so nothing is archived;
- starts the server on that catalog and times each list query with boto3, sequentially:
  first page, a deep page (the page after `--deep-pages` pages followed with nextToken) and
  every filter of ListReadSets, ListReferences and the job lists, `--calls` times each after
  3 warm-up calls (at most `--max-seconds` per query). The latency is the HTTP round trip,
  from botocore's `before-send` to its `before-parse` event (signing and parsing excluded);
- prints the plan of the SQL the server runs for each query, rebuilt as
  `seqstore-catalog/src/sql/rows.rs` builds it (same conditions, same `$n` parameters; the keyset
  condition in the form rows.rs in this checkout writes, or as `--keyset` says):
  PostgreSQL `EXPLAIN (ANALYZE, BUFFERS)` of the prepared statement with a custom plan and
  with a generic plan (sqlx prepares its statements; PostgreSQL may switch to the generic
  plan after five executions), SQLite `EXPLAIN QUERY PLAN` (through Python's sqlite3, whose
  SQLite may be older than the one built into the server) and the query's time there; and
  flags full scans, filters checked row by row and sorts;
- prints a markdown table (query, catalog, rows, p50, p99, index used) and, with the release
  build or `--readme`, rewrites the `lists` section of bench/README.md.

It does not build: it runs `$SEQSTORE_BIN`, else `target/release/seqstore` (`cargo build
--release --bin seqstore` first), or the binary `--bin` names; the binary is copied into the
work dir first, so a rebuild during the run does not change it. PostgreSQL needs an admin URL
(`--postgres-url`, default `$SEQSTORE_TEST_POSTGRES_URL`); `scripts/test-all run python3
bench/lists.py` starts a throwaway cluster and sets it. Needs boto3 and psql.
"""

import argparse
import base64
import csv
import datetime as dt
import io
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid

from common import (ACCOUNT_ID, KEY_ID, REGION, SECRET, Server,
                    catalogs_to_run, cpu_model, psql, rewrite_readme_section)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RELEASE_BIN = os.path.join(ROOT, "target", "release", "seqstore")
PAGE = 100
DAY_MS = 86_400_000
NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}

# Columns as `seqstore-catalog/src/sql/rows.rs` lists them (the server selects these).
READ_SET_COLUMNS = (
    "id, account_id, sequence_store_id, name, description, subject_id, sample_id, generated_from, "
    "reference_arn, file_type, status, status_message, creation_type, creation_job_id, etag_algorithm, "
    "etag_source1, etag_source2, total_read_count, total_base_count, source1_name, source1_size, "
    "source2_name, source2_size, index_name, index_size, created_at, updated_at, source1_s3_etag, "
    "source2_s3_etag, index_s3_etag, accessed_at, archive_size, lifecycle_job_id")
REFERENCE_COLUMNS = (
    "id, account_id, reference_store_id, name, description, md5, status, source_file_name, source_size, "
    "index_size, creation_job_id, created_at, updated_at, source_s3_etag, index_s3_etag")
JOB_COLUMNS = ("id, account_id, kind, store_id, role_arn, status, status_message, created_at, completed_at, "
               "attempts, destination")
# What the seeder writes (jobs also get their lease columns, NULL).
JOB_SEED_COLUMNS = JOB_COLUMNS + ", lease_owner, lease_expires_at"


# Indexes that the `--proposed` phase creates in the seeded catalog (the same statement on both
# catalogs), as (name, table, columns): candidates measured before they become a migration. The
# first eight proposed here, one per selective filter ending in the list order (created_at, id),
# are migration 0007; none is pending.
PROPOSED_INDEXES: list[tuple[str, str, str]] = []


# ---------------------------------------------------------------------------------------
# Server and client
# ---------------------------------------------------------------------------------------


SERVER_CONFIG = """\
# Nothing is stored and nothing must move: no archiving of the seeded read sets.
[lifecycle]
archive_after = "0"
workers = 0
"""


def make_client(endpoint):
    import boto3
    import botocore.config
    cfg = botocore.config.Config(inject_host_prefix=False, retries={"total_max_attempts": 1},
                                 connect_timeout=10, read_timeout=600)
    session = boto3.session.Session(aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET, region_name=REGION)
    return session.client("omics", endpoint_url=endpoint, config=cfg)


class RoundTrip:
    """The HTTP round trip of a client's last request: botocore's `before-send` (the request
    is signed) to `before-parse` (the response is in)."""

    def __init__(self, client):
        self.t0 = None
        self.last = None
        client.meta.events.register("before-send.omics", self._send)
        client.meta.events.register("before-parse.omics", self._parsed)

    def _send(self, **_):
        self.t0 = time.perf_counter()  # returns None: botocore sends the request itself

    def _parsed(self, **_):
        self.last = time.perf_counter() - self.t0


# ---------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------


def psql_script(url, script, timeout=600):
    done = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qAt", "-f", "-"], input=script,
                          capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"psql failed: {done.stderr.strip()}\n{script[:800]}")
    return done.stdout


def create_postgres_database(admin_url):
    name = f"seqstore_lists_{uuid.uuid4().hex[:12]}"
    psql(admin_url, f'CREATE DATABASE "{name}"')
    parts = urllib.parse.urlsplit(admin_url)
    return name, urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def drop_postgres_database(admin_url, name):
    try:
        psql(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except Exception as e:  # noqa: BLE001 - best effort
        print(f"could not drop {name}: {e}", file=sys.stderr)


# ---------------------------------------------------------------------------------------
# Seed data
# ---------------------------------------------------------------------------------------

PROJECTS = ["WGS-cohortA", "WGS-cohortB", "WES-panel1", "RNAseq-2025", "ONT-pilot"]
INSTRUMENTS = [("NovaSeq 6000", 45), ("NovaSeq X Plus", 30), ("HiSeq X Ten", 10), ("MiSeq", 5), (None, 10)]
# (file type, share, ETag family prefix, index extension)
FILE_TYPES = [("FASTQ", 45, "FASTQ", None), ("BAM", 25, "BAM", "bai"), ("CRAM", 25, "CRAM", "crai"),
              ("UBAM", 5, "BAM", None)]
REFERENCE_PREFIXES = ["hg38-decoy", "GRCh38-alt", "mm10", "mm39", "danRer11", "custom-panel", "pathogen",
                      "plasmid"]
FAIL_MESSAGES = ["FASTQ: record 4000001: the quality line is shorter than the sequence",
                 "BAM: truncated BGZF block at offset 1073741824",
                 "CRAM: reference md5 mismatch for sequence chr7"]


def weighted(rng, choices):
    """One of `choices` ((value, weight) pairs)."""
    total = sum(w for _, w in choices)
    x = rng.random() * total
    for value, w in choices:
        x -= w
        if x < 0:
            return value
    return choices[-1][0]


def stored_name(name, kind, source):
    """`ingest.rs` `stored_name`: the file name a read set's source is stored under."""
    clean = "".join(c if (c.isascii() and c.isalnum()) or c in "._-" else "_" for c in name[:100])
    if not clean.strip("."):
        clean = "readset"
    return f"{clean}_source{source}.fastq.gz" if kind == "FASTQ" else f"{clean}.{'cram' if kind == 'CRAM' else 'bam'}"


class Ids:
    """Unique random 10-digit ids (as `ids::new_id`), drawn in blocks."""

    def __init__(self, rng, n):
        self.pool = rng.sample(range(1_000_000_000, 10_000_000_000), n)
        self.i = 0

    def next(self):
        self.i += 1
        return str(self.pool[self.i - 1])


class Seed:
    """The seeded catalog of one account: what the queries need to know about it."""

    def __init__(self, a, store_id, ref_store_id, now_ms):
        self.a = a
        self.store_id = store_id
        self.ref_store_id = ref_store_id
        self.now_ms = now_ms
        self.start_ms = now_ms - 365 * DAY_MS
        self.probe = {}
        self.counts = {}

    def reference_arn(self, ref_id):
        return f"arn:aws:omics:{REGION}:{ACCOUNT_ID}:referenceStore/{self.ref_store_id}/reference/{ref_id}"

    def generate(self, sink):
        """Writes every row through `sink.reference/read_set/job`; the same seed gives the
        same rows (ids included) on each catalog."""
        a = self.a
        rng = random.Random(a.seed)
        n_rs, n_refs = a.read_sets, a.references
        ids = Ids(rng, 2 * n_rs + 4 * n_refs + 10_000)
        counts = {"read_sets": 0, "references": 0, "jobs": 0}
        job_kinds = {}
        statuses = {}

        def job(kind, store, created, completed, status, message=None, role=True, destination=None):
            jid = ids.next()
            sink.job((jid, ACCOUNT_ID, kind, store,
                      f"arn:aws:iam::{ACCOUNT_ID}:role/OmicsImportRole" if role else None,
                      status, message, created, completed, 1, destination, None, None))
            counts["jobs"] += 1
            job_kinds[kind] = job_kinds.get(kind, 0) + 1
            return jid

        def job_status(rng):
            return weighted(rng, [("COMPLETED", 90), ("COMPLETED_WITH_FAILURES", 5), ("FAILED", 3),
                                  ("CANCELLED", 2)])

        # References: created over the year in batches of 1-10 per REFERENCE_IMPORT job.
        times = sorted(rng.randrange(self.start_ms, self.now_ms - DAY_MS) for _ in range(n_refs))
        used = []  # the references the aligned read sets name
        i = 0
        while i < n_refs:
            batch = min(rng.randint(1, 10), n_refs - i)
            status = job_status(rng)
            jid = job("REFERENCE_IMPORT", self.ref_store_id, times[i] - 60_000,
                      times[i + batch - 1] + 30_000, status,
                      "1 of the sources failed" if status == "COMPLETED_WITH_FAILURES" else
                      "the role could not read the source" if status == "FAILED" else None)
            for k in range(i, i + batch):
                ref_id = ids.next()
                if k < 3:
                    name = ["GRCh38", "GRCh37", "CHM13v2"][k]
                else:
                    name = f"{rng.choice(REFERENCE_PREFIXES)}_{rng.randrange(max(1, n_refs // 3)):05d}"
                size = rng.randrange(10**6, 3_300_000_000)
                sink.reference((ref_id, ACCOUNT_ID, self.ref_store_id, name,
                                f"imported from s3://lab-refs/{name}.fa" if rng.random() < 0.5 else None,
                                f"{rng.getrandbits(128):032x}", "ACTIVE", f"{name}.fasta", size,
                                rng.randrange(100, 100_000), jid, times[k], times[k],
                                f"{rng.getrandbits(128):032x}", f"{rng.getrandbits(128):032x}"))
                counts["references"] += 1
                if k < 3:
                    used.append(self.reference_arn(ref_id))
                if k == n_refs // 2:
                    self.probe["reference_name"] = name
                    self.probe["reference_md5"] = None  # filled below from the same row
                if k == n_refs // 3:
                    self.probe["reference_md5_row"] = k
            i += batch
        self.reference_arns = used

        # Read sets: creation times over the year, in creation order (as a catalog grows).
        t0 = time.monotonic()
        times = sorted(rng.randrange(self.start_ms, self.now_ms - 3_600_000) for _ in range(n_rs))
        # The newest few are still being ingested.
        processing_from = n_rs - max(1, n_rs // 10_000)
        import_job = None  # [job id, read sets left, first created_at, status]
        probe_at = n_rs // 2
        for k in range(n_rs):
            created = times[k]
            rid = ids.next()
            sample = rng.randrange(1000)
            sample_id = f"SAMPLE-{sample:04d}"
            subject_id = f"SUBJ-{(sample * 389) % 1000:04d}"
            kind, _, family, index_ext = weighted(rng, [((t, s, f, x), s) for t, s, f, x in FILE_TYPES])
            project = PROJECTS[sample % len(PROJECTS)]
            lane = rng.randint(1, 8)
            name = f"{project}_{sample_id}_L{lane:03d}" if kind == "FASTQ" else f"{project}_{sample_id}_{kind.lower()}"
            reference = weighted(rng, [(used[0], 70), (used[1], 20), (used[2], 10)]) \
                if kind in ("BAM", "CRAM") else None
            generated_from = weighted(rng, INSTRUMENTS)
            description = f"run {rng.randrange(9999)} flowcell H{rng.randrange(16**5):05X}DSXY" \
                if rng.random() < 0.3 else None
            age_days = (self.now_ms - created) / DAY_MS
            if k >= processing_from:
                status = "PROCESSING_UPLOAD"
            else:
                x = rng.random()
                if x < 0.04:
                    status = "DELETED"
                elif x < 0.0405:
                    status = "DELETING"
                elif x < 0.0485:
                    status = "UPLOAD_FAILED"
                elif x < 0.20 and age_days > 45:
                    status = "ARCHIVED" if rng.random() < 0.97 else "ACTIVATING"
                else:
                    status = "ACTIVE"
            statuses[status] = statuses.get(status, 0) + 1
            creation_type = "UPLOAD" if status == "PROCESSING_UPLOAD" or rng.random() < 0.5 else "IMPORT"
            if creation_type == "IMPORT":
                if import_job is None or import_job[1] == 0:
                    import_job = [None, rng.randint(1, 100), created, job_status(rng)]
                    st = import_job[3]
                    # The job row is written when it is opened: its completion is an estimate.
                    import_job[0] = job("READ_SET_IMPORT", self.store_id, created - 120_000,
                                        created + 3_600_000, st,
                                        "1 of the sources failed" if st == "COMPLETED_WITH_FAILURES" else
                                        "the role could not read the source" if st == "FAILED" else None)
                import_job[1] -= 1
                creation_job_id = import_job[0]
            else:
                creation_job_id = ids.next()  # the upload's id
                if status != "PROCESSING_UPLOAD":  # its finished READ_SET_INGEST job
                    job("READ_SET_INGEST", self.store_id, created, created + rng.randrange(5_000, 900_000),
                        "COMPLETED", role=False)
            stored = status not in ("PROCESSING_UPLOAD", "UPLOAD_FAILED")
            paired = kind == "FASTQ" and rng.random() < 0.6
            if stored:
                reads = rng.randrange(1_000_000, 600_000_000)
                bases = reads * 150
                per_base = {"FASTQ": 0.35, "BAM": 0.45, "UBAM": 0.45, "CRAM": 0.15}[kind]
                s1_name = stored_name(name, kind, 1)
                s1_size = int(bases * per_base / (2 if paired else 1))
                s2_name = stored_name(name, kind, 2) if paired else None
                s2_size = s1_size + rng.randrange(-1000, 1000) if paired else None
                idx_name = f"{s1_name}.{index_ext}" if index_ext else None
                idx_size = max(1000, bases // 100_000) if index_ext else None
                etag_alg = f"{family}_SHA256up"
                e1 = f"{rng.getrandbits(256):064x}"
                e2 = f"{rng.getrandbits(256):064x}" if paired else None
                m1 = f"{rng.getrandbits(128):032x}"
                m2 = f"{rng.getrandbits(128):032x}" if paired else None
                mi = f"{rng.getrandbits(128):032x}" if index_ext else None
                total_bases = bases * (2 if paired else 1)
                accessed = created + rng.randrange(0, max(1, int(min(age_days, 30) * DAY_MS)))
                archive_size = int((s1_size + (s2_size or 0)) * 0.8) if status in ("ARCHIVED", "ACTIVATING") else None
                message = None
            else:
                reads = total_bases = s1_size = s2_size = idx_size = archive_size = None
                s1_name = s2_name = idx_name = etag_alg = e1 = e2 = m1 = m2 = mi = accessed = None
                message = rng.choice(FAIL_MESSAGES) if status == "UPLOAD_FAILED" else None
            updated = created + rng.randrange(1_000, 600_000)
            if status in ("DELETED", "DELETING", "ARCHIVED", "ACTIVATING"):
                updated = min(self.now_ms, created + rng.randrange(DAY_MS, max(DAY_MS + 1, int(age_days * DAY_MS))))
            sink.read_set((rid, ACCOUNT_ID, self.store_id, name, description, subject_id, sample_id, generated_from,
                           reference, kind, status, message, creation_type, creation_job_id, etag_alg, e1, e2,
                           reads * (2 if paired else 1) if reads else None, total_bases, s1_name, s1_size, s2_name,
                           s2_size, idx_name, idx_size, created, updated, m1, m2, mi, accessed, archive_size, None))
            counts["read_sets"] += 1
            if k == probe_at:
                self.probe.update(name=name, sample_id=sample_id, subject_id=f"SUBJ-{(((sample + 500) % 1000) * 389) % 1000:04d}",
                                  generated_from="MiSeq")
            if a.progress and k and k % 200_000 == 0:
                print(f"    {k} read sets generated ({time.monotonic() - t0:.0f} s)", flush=True)

        # Export, activation and archive jobs of the store over the year.
        for kind, n, dest in (("READ_SET_EXPORT", max(1, n_rs // 500), "s3://lab-exports/seqstore/"),
                              ("READ_SET_ACTIVATION", max(1, n_rs // 500), None),
                              ("READ_SET_ARCHIVE", max(1, n_rs // 1500), None)):
            for created in sorted(rng.randrange(self.start_ms, self.now_ms - DAY_MS) for _ in range(n)):
                st = job_status(rng)
                job(kind, self.store_id, created, created + rng.randrange(60_000, 6 * 3_600_000), st,
                    "1 of the read sets failed" if st == "COMPLETED_WITH_FAILURES" else
                    "the destination bucket refused the write" if st == "FAILED" else None,
                    role=kind == "READ_SET_EXPORT", destination=dest)
        self.counts = counts
        self.job_kinds = job_kinds
        self.statuses = statuses


class SqliteSink:
    def __init__(self, path):
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA synchronous = OFF")
        self.db.execute("PRAGMA cache_size = -1000000")  # 1 GB: the indexes stay in memory
        self.db.execute("BEGIN IMMEDIATE")
        self.buffers = {"read_sets": [], "genome_references": [], "jobs": []}
        self.sql = {t: f"INSERT INTO {t} ({cols}) VALUES ({', '.join('?' * len(cols.split(', ')))})"
                    for t, cols in (("read_sets", READ_SET_COLUMNS), ("genome_references", REFERENCE_COLUMNS),
                                    ("jobs", JOB_SEED_COLUMNS))}

    def _add(self, table, row):
        buf = self.buffers[table]
        buf.append(row)
        if len(buf) >= 20_000:
            self.db.executemany(self.sql[table], buf)
            buf.clear()

    def read_set(self, row):
        self._add("read_sets", row)

    def reference(self, row):
        self._add("genome_references", row)

    def job(self, row):
        self._add("jobs", row)

    def close(self):
        for table, buf in self.buffers.items():
            if buf:
                self.db.executemany(self.sql[table], buf)
        self.db.execute("COMMIT")
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.db.close()


class PostgresSink:
    """One `psql \\copy ... FROM pstdin` per table, fed CSV as rows come."""

    def __init__(self, url):
        self.procs = {}
        self.writers = {}
        for table, cols in (("read_sets", READ_SET_COLUMNS), ("genome_references", REFERENCE_COLUMNS),
                            ("jobs", JOB_SEED_COLUMNS)):
            proc = subprocess.Popen(["psql", url, "-v", "ON_ERROR_STOP=1", "-qAt", "-c",
                                     f"\\copy {table} ({cols}) FROM pstdin WITH (FORMAT csv)"],
                                    stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            stream = io.TextIOWrapper(proc.stdin, encoding="utf-8", newline="", write_through=False)
            self.procs[table] = (proc, stream)
            self.writers[table] = csv.writer(stream, lineterminator="\n")

    def read_set(self, row):
        self.writers["read_sets"].writerow(row)

    def reference(self, row):
        self.writers["genome_references"].writerow(row)

    def job(self, row):
        self.writers["jobs"].writerow(row)

    def close(self):
        errors = []
        for table, (proc, stream) in self.procs.items():
            stream.close()
            err = proc.stderr.read().decode(errors="replace")
            if proc.wait() != 0:
                errors.append(f"{table}: {err.strip()}")
        if errors:
            raise RuntimeError("COPY failed: " + "; ".join(errors))


# ---------------------------------------------------------------------------------------
# The SQL the server runs (`rows.rs` `Select`)
# ---------------------------------------------------------------------------------------


ROWS_RS = os.path.join(ROOT, "crates", "seqstore-catalog", "src", "sql", "rows.rs")
KEYSET = "or"  # how `Select::after` writes the keyset condition; set in main() (`--keyset`)


def keyset_of_source():
    """The keyset form that rows.rs in this checkout writes: a row value or the OR form."""
    try:
        text = open(ROWS_RS).read()
    except OSError:
        return "or"
    return "row" if re.search(r"\(created_at, id\) > \(", text) else "or"


class Select:
    """`SELECT <columns> FROM <table> WHERE a AND b ... ORDER BY created_at, id LIMIT n`, `$n` binds."""

    def __init__(self, table, columns):
        self.table, self.columns = table, columns
        self.conditions, self.args = [], []

    def _bind(self, value):
        self.args.append(value)
        return f"${len(self.args)}"

    def cmp(self, column, op, value):
        if value is not None:
            self.conditions.append(f"{column} {op} {self._bind(value)}")

    def raw(self, condition):
        self.conditions.append(condition)

    def after(self, cursor):
        if cursor:
            at, rid = cursor
            if KEYSET == "row":
                t, i = self._bind(at), self._bind(rid)
                self.conditions.append(f"(created_at, id) > ({t}, {i})")
            else:
                t1, t2, i = self._bind(at), self._bind(at), self._bind(rid)
                self.conditions.append(f"(created_at > {t1} OR (created_at = {t2} AND id > {i}))")

    def sql(self, limit=PAGE + 1):
        return (f"SELECT {self.columns} FROM {self.table} WHERE {' AND '.join(self.conditions)} "
                f"ORDER BY created_at, id LIMIT {limit}")


def ms(value):
    return None if value is None else int(value.timestamp() * 1000)


def read_sets_select(store_id, f, cursor):
    q = Select("read_sets", READ_SET_COLUMNS)
    q.cmp("account_id", "=", ACCOUNT_ID)
    q.cmp("sequence_store_id", "=", store_id)
    if f.get("status"):
        q.cmp("status", "=", f["status"])
    else:
        q.raw("status NOT IN ('DELETING', 'DELETED')")
    if f.get("referenceArn") == "":
        q.raw("reference_arn IS NULL")
    else:
        q.cmp("reference_arn", "=", f.get("referenceArn"))
    q.cmp("name", "=", f.get("name"))
    q.cmp("sample_id", "=", f.get("sampleId"))
    q.cmp("subject_id", "=", f.get("subjectId"))
    q.cmp("generated_from", "=", f.get("generatedFrom"))
    q.cmp("creation_type", "=", f.get("creationType"))
    q.cmp("created_at", ">=", ms(f.get("createdAfter")))
    q.cmp("created_at", "<=", ms(f.get("createdBefore")))
    q.after(cursor)
    return q


def references_select(store_id, f, cursor):
    q = Select("genome_references", REFERENCE_COLUMNS)
    q.cmp("account_id", "=", ACCOUNT_ID)
    q.cmp("reference_store_id", "=", store_id)
    q.cmp("name", "=", f.get("name"))
    q.cmp("md5", "=", f.get("md5"))
    q.cmp("created_at", ">=", ms(f.get("createdAfter")))
    q.cmp("created_at", "<=", ms(f.get("createdBefore")))
    q.after(cursor)
    return q


def jobs_select(kind, store_id, f, cursor):
    q = Select("jobs", JOB_COLUMNS)
    q.cmp("account_id", "=", ACCOUNT_ID)
    q.cmp("kind", "=", kind)
    q.cmp("store_id", "=", store_id)
    q.cmp("status", "=", f.get("status"))
    q.cmp("created_at", ">=", ms(f.get("createdAfter")))
    q.cmp("created_at", "<=", ms(f.get("createdBefore")))
    q.after(cursor)
    return q


def decode_token(token):
    """The keyset position of a nextToken (`paging.rs`: `v1:<operation>:<millis>:<id>`)."""
    text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    _, _, at, rid = text.split(":", 3)
    return int(at), rid


def sql_literal(v):
    return str(v) if isinstance(v, int) else "'" + str(v).replace("'", "''") + "'"


# ---------------------------------------------------------------------------------------
# Plans
# ---------------------------------------------------------------------------------------

FILTER_COLUMNS = {"status": "status", "referenceArn": "reference_arn", "name": "name", "sampleId": "sample_id",
                  "subjectId": "subject_id", "generatedFrom": "generated_from", "creationType": "creation_type",
                  "md5": "md5", "createdAfter": "created_at", "createdBefore": "created_at"}


def explain_postgres(url, q):
    """(custom plan text, generic plan text) of the prepared statement, with ANALYZE."""
    types = ", ".join("int8" if isinstance(v, int) else "text" for v in q.args)
    values = ", ".join(sql_literal(v) for v in q.args)
    script = (f"PREPARE q({types}) AS {q.sql()};\n"
              "SET plan_cache_mode = force_custom_plan;\n"
              "SELECT '--custom--';\n"
              f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE q({values});\n"
              "SET plan_cache_mode = force_generic_plan;\n"
              "SELECT '--generic--';\n"
              f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE q({values});\n")
    out = psql_script(url, script)
    custom, generic = out.split("--generic--")
    return custom.replace("--custom--", "").strip("\n"), generic.strip("\n")


def judge_postgres(plan, filter_columns, returned):
    """(index used, notes) of one PostgreSQL plan."""
    notes = []
    indexes = re.findall(r"(?:Index Scan|Index Only Scan)(?: Backward)? using (\w+)|Bitmap Index Scan on (\w+)", plan)
    indexes = sorted({a or b for a, b in indexes})
    seq = "Seq Scan" in plan
    examined, loops = 0, 1
    for line in plan.splitlines():
        # Row counts are per loop (a parallel worker is a loop): times the node's loops.
        m = re.search(r"actual time=\S+ rows=(\d+) loops=(\d+)", line)
        if m:
            loops = int(m.group(2))
            if re.search(r"Seq Scan|Index Scan|Index Only Scan|Bitmap Heap Scan", line):
                examined += int(m.group(1)) * loops
        m = re.search(r"Rows Removed by (?:Filter|Index Recheck): (\d+)", line)
        if m:
            examined += int(m.group(1)) * loops
    conds = " ".join(re.findall(r"(?:Index Cond|Recheck Cond): (.*)", plan))
    unindexed = [c for c in filter_columns if c not in conds]
    sort = re.search(r"Sort Method: (.*?)  ", plan + "  ")
    if seq:
        notes.append("Seq Scan")
    if unindexed:
        notes.append(f"{', '.join(sorted(set(unindexed)))} checked row by row")
    if sort:
        notes.append(f"sort ({sort.group(1).strip()})")
    notes.append(f"{examined} rows read for {returned}")
    heavy = examined > max(2000, 20 * (returned + 1))
    used = "no" if seq or not indexes else ("partly" if heavy else "yes")
    return used, indexes, notes, examined


def explain_sqlite(path, q):
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    args = {str(i + 1): v for i, v in enumerate(q.args)}
    plan = db.execute("EXPLAIN QUERY PLAN " + q.sql(), args).fetchall()
    lines = [f"{'  ' * depth(plan, row)}{row[3]}" for row in plan]
    db.execute(q.sql(), args).fetchall()  # warm
    times = []
    for _ in range(5):
        t = time.perf_counter()
        rows = db.execute(q.sql(), args).fetchall()
        times.append(time.perf_counter() - t)
    text = "\n".join(lines)
    read = sqlite_rows_read(db, q, text, args)
    db.close()
    return text, sorted(times)[len(times) // 2], len(rows), read


def sqlite_rows_read(db, q, plan, args):
    """How many rows the plan visits: the rows of the index range it searches up to the last
    row of the page (the whole range when it sorts, or when the page is not full), or the
    whole table for a SCAN. None when the plan is of another shape."""
    if re.search(rf"^\s*SCAN {q.table}\b", plan, re.M):
        return db.execute(f"SELECT count(*) FROM {q.table}").fetchone()[0]
    searches = re.findall(rf"SEARCH {q.table} USING (?:COVERING )?INDEX \w+ \((.*)\)\s*$", plan, re.M)
    if len(searches) != 1:
        return None
    bound = set(re.findall(r"(\w+)\s*(?:=|>|<|IS)", searches[0]))
    for group in re.findall(r"\(([\w,]+)\)\s*[<>=]", searches[0]):  # a row value: (created_at,id)>(?,?)
        bound |= set(group.split(","))
    conds = [c for c in q.conditions if c.lstrip("(").split()[0].rstrip(",") in bound]
    where = " AND ".join(conds) or "1"
    last = db.execute(q.sql().replace(f"SELECT {q.columns} FROM", "SELECT created_at, id FROM"), args).fetchall()
    if "TEMP B-TREE" in plan or len(last) < PAGE + 1:
        return db.execute(f"SELECT count(*) FROM {q.table} WHERE {where}", args).fetchone()[0]
    at, rid = last[-1]
    return db.execute(f"SELECT count(*) FROM {q.table} WHERE {where} AND "
                      f"(created_at < {int(at)} OR (created_at = {int(at)} AND id <= '{rid}'))", args).fetchone()[0]


def depth(plan, row):
    parents = {r[0]: r[1] for r in plan}
    d, p = 0, row[1]
    while p in parents:
        d, p = d + 1, parents[p]
    return d


def judge_sqlite(plan, filter_columns, table, read, returned):
    notes = []
    full = re.search(rf"^\s*SCAN {table}\b(?! USING (?:COVERING )?INDEX)", plan, re.M)
    full_index = re.search(rf"^\s*SCAN {table} USING (?:COVERING )?INDEX (\w+)", plan, re.M)
    searches = re.findall(rf"SEARCH {table} USING (?:COVERING )?INDEX (\w+) \((.*)\)\s*$", plan, re.M)
    pk = re.search(rf"SEARCH {table} USING (?:INTEGER )?PRIMARY KEY", plan)
    indexes = sorted({s[0] for s in searches} | ({full_index.group(1)} if full_index else set()))
    conds = " ".join(s[1] for s in searches)
    unindexed = [c for c in filter_columns if c not in conds]
    if full:
        notes.append("full table SCAN")
    if full_index:
        notes.append(f"full index SCAN of {full_index.group(1)}")
    if unindexed:
        notes.append(f"{', '.join(sorted(set(unindexed)))} checked row by row")
    if "TEMP B-TREE" in plan:
        notes.append("sorts every match (TEMP B-TREE)")
    if read is not None:
        notes.append(f"{read} rows read for {returned}")
    heavy = read is None or read > max(2000, 20 * (returned + 1))
    used = "no" if full or full_index or not (indexes or pk) else \
        ("partly" if (unindexed or "TEMP B-TREE" in plan) and heavy else "yes")
    return used, indexes, notes


# ---------------------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------------------


class Query:
    def __init__(self, label, op, key, table, select, kwargs, pages=0, max_results=PAGE):
        self.label, self.op, self.key, self.table = label, op, key, table
        self.select = select  # cursor -> Select
        self.kwargs = kwargs
        self.pages = pages  # pages followed before the timed one
        self.max_results = max_results
        self.filter_columns = sorted({FILTER_COLUMNS[k] for k in kwargs.get("filter", {})})
        if pages:
            self.filter_columns = sorted(set(self.filter_columns) | {"created_at"})
        self.token = None
        self.result = {}


def queries(seed, deep_pages):
    s, r = seed.store_id, seed.ref_store_id
    now = dt.datetime.fromtimestamp(seed.now_ms // 1000, dt.timezone.utc)
    mid = dt.datetime.fromtimestamp((seed.start_ms + seed.now_ms) // 2000, dt.timezone.utc)
    week = (mid, mid + dt.timedelta(days=7))
    p = seed.probe
    out = []

    def rs(label, f=None, pages=0):
        f = f or {}
        kwargs = {"sequenceStoreId": s, **({"filter": f} if f else {})}
        out.append(Query(label, "list_read_sets", "readSets", "read_sets",
                         lambda c, f=f: read_sets_select(s, f, c), kwargs, pages))

    rs("ListReadSets, first page")
    rs(f"ListReadSets, page {deep_pages + 1} (after {deep_pages} pages)", pages=deep_pages)
    rs("ListReadSets, status ACTIVE", {"status": "ACTIVE"})
    rs("ListReadSets, status ARCHIVED", {"status": "ARCHIVED"})
    rs("ListReadSets, status UPLOAD_FAILED", {"status": "UPLOAD_FAILED"})
    rs("ListReadSets, status DELETED", {"status": "DELETED"})
    rs("ListReadSets, status PROCESSING_UPLOAD (newest)", {"status": "PROCESSING_UPLOAD"})
    rs("ListReadSets, sampleId", {"sampleId": p["sample_id"]})
    rs("ListReadSets, sampleId, page 6", {"sampleId": p["sample_id"]}, pages=5)
    rs("ListReadSets, subjectId", {"subjectId": p["subject_id"]})
    rs("ListReadSets, referenceArn GRCh38 (35 %)", {"referenceArn": seed.reference_arns[0]})
    rs("ListReadSets, referenceArn CHM13v2 (5 %)", {"referenceArn": seed.reference_arns[2]})
    rs("ListReadSets, referenceArn \"\" (none)", {"referenceArn": ""})
    rs("ListReadSets, generatedFrom", {"generatedFrom": p["generated_from"]})
    rs("ListReadSets, creationType IMPORT", {"creationType": "IMPORT"})
    rs("ListReadSets, createdAfter (last 30 days)", {"createdAfter": now - dt.timedelta(days=30)})
    rs("ListReadSets, createdBefore (first 30 days)",
       {"createdBefore": dt.datetime.fromtimestamp(seed.start_ms // 1000, dt.timezone.utc) + dt.timedelta(days=30)})
    rs("ListReadSets, createdAfter + createdBefore (one week)", {"createdAfter": week[0], "createdBefore": week[1]})
    rs("ListReadSets, name", {"name": p["name"]})
    rs("ListReadSets, sampleId + status ACTIVE", {"sampleId": p["sample_id"], "status": "ACTIVE"})

    ref_pages = max(1, min(50, seed.counts["references"] // PAGE // 2))

    def refs(label, f=None, pages=0):
        f = f or {}
        kwargs = {"referenceStoreId": r, **({"filter": f} if f else {})}
        out.append(Query(label, "list_references", "references", "genome_references",
                         lambda c, f=f: references_select(r, f, c), kwargs, pages))

    refs("ListReferences, first page")
    refs(f"ListReferences, page {ref_pages + 1}", pages=ref_pages)
    refs("ListReferences, name", {"name": p["reference_name"]})
    refs("ListReferences, md5", {"md5": p["reference_md5"]})
    refs("ListReferences, createdAfter + createdBefore (one week)", {"createdAfter": week[0], "createdBefore": week[1]})

    def jobs(label, op, key, kind, store, store_param, f=None, pages=0):
        f = f or {}
        kwargs = {store_param: store, **({"filter": f} if f else {})}
        out.append(Query(label, op, key, "jobs", lambda c, f=f: jobs_select(kind, store, f, c), kwargs, pages))

    n_imports = seed.job_kinds.get("READ_SET_IMPORT", 0)
    imp_pages = max(1, min(50, n_imports // PAGE // 2))
    for label, op, key, kind, store, param in (
            ("ListReadSetImportJobs", "list_read_set_import_jobs", "importJobs", "READ_SET_IMPORT", s, "sequenceStoreId"),
            ("ListReferenceImportJobs", "list_reference_import_jobs", "importJobs", "REFERENCE_IMPORT", r, "referenceStoreId"),
            ("ListReadSetExportJobs", "list_read_set_export_jobs", "exportJobs", "READ_SET_EXPORT", s, "sequenceStoreId"),
            ("ListReadSetActivationJobs", "list_read_set_activation_jobs", "activationJobs", "READ_SET_ACTIVATION", s,
             "sequenceStoreId")):
        jobs(f"{label}, first page", op, key, kind, store, param)
        if kind == "READ_SET_IMPORT":
            jobs(f"{label}, page {imp_pages + 1}", op, key, kind, store, param, pages=imp_pages)
        jobs(f"{label}, status FAILED", op, key, kind, store, param, {"status": "FAILED"})
        if kind == "READ_SET_IMPORT":
            jobs(f"{label}, createdAfter + createdBefore (one week)", op, key, kind, store, param,
                 {"createdAfter": week[0], "createdBefore": week[1]})
    return out


def pct(values, q):
    """Nearest-rank percentile."""
    v = sorted(values)
    return v[max(0, min(len(v) - 1, -(-len(v) * q // 100) - 1))]


def follow(client, q, walk_seconds, seed, catalog_path=None, pg_url=None):
    """The nextToken after `q.pages` pages, followed with the API; returns (token, pages
    walked, seconds, shortcut) — past `walk_seconds` the rest of the way is read from the
    catalog and the token built as the server builds it."""
    fn = getattr(client, q.op)
    token, walked, t0 = None, 0, time.monotonic()
    while walked < q.pages:
        kw = dict(q.kwargs, maxResults=q.max_results)
        if token:
            kw["nextToken"] = token
        resp = fn(**kw)
        token = resp.get("nextToken")
        walked += 1
        if not token:
            return None, walked, time.monotonic() - t0, False
        if time.monotonic() - t0 > walk_seconds:
            break
    seconds = time.monotonic() - t0
    if walked == q.pages:
        return token, walked, seconds, False
    # Shortcut: the last row of page `q.pages`, as the server would encode it.
    sel = q.select(decode_token(token))
    skip = (q.pages - walked) * q.max_results
    sql = sel.sql(limit=skip).replace(f"SELECT {sel.columns} FROM", "SELECT created_at, id FROM")
    if pg_url:
        values = [sql_literal(v) for v in sel.args]
        text = sql
        for i in range(len(values), 0, -1):
            text = text.replace(f"${i}", values[i - 1])
        rows = [line.split("|") for line in psql(pg_url, text).split()]
    else:
        db = sqlite3.connect(f"file:{catalog_path}?mode=ro", uri=True)
        rows = db.execute(sql, {str(i + 1): v for i, v in enumerate(sel.args)}).fetchall()
        db.close()
    at, rid = rows[-1]
    operation = {"list_read_sets": "ListReadSets", "list_references": "ListReferences"}.get(q.op)
    token = base64.urlsafe_b64encode(f"v1:{operation}:{at}:{rid}".encode()).decode().rstrip("=")
    return token, walked, seconds, True


def check_page(q, resp):
    """The page answers the filter (a listing that is fast but wrong is no result)."""
    items = resp.get(q.key, [])
    f = q.kwargs.get("filter", {})
    for it in items:
        for k in ("status", "sampleId", "subjectId", "name", "md5", "creationType"):
            if k in f and it.get(k) != f[k]:
                raise RuntimeError(f"{q.label}: an item has {k} {it.get(k)!r}, not {f[k]!r}")
        if f.get("referenceArn") == "" and it.get("referenceArn"):
            raise RuntimeError(f"{q.label}: an item has a referenceArn")
        if f.get("referenceArn") and it.get("referenceArn") != f["referenceArn"]:
            raise RuntimeError(f"{q.label}: an item has another referenceArn")
        if "status" not in f and q.op == "list_read_sets" and it["status"] in ("DELETED", "DELETING"):
            raise RuntimeError(f"{q.label}: a deleted read set is listed")
    times = [it["creationTime"] for it in items]
    if times != sorted(times):
        raise RuntimeError(f"{q.label}: the page is not in creation order")
    return len(items)


def measure(client, q, calls, max_seconds):
    fn = getattr(client, q.op)
    rt = RoundTrip(client)
    kw = dict(q.kwargs, maxResults=q.max_results)
    if q.token:
        kw["nextToken"] = q.token
    rows = check_page(q, fn(**kw))
    for _ in range(2):
        fn(**kw)
    rtts, totals, t_end = [], [], time.monotonic() + max_seconds
    while len(rtts) < calls and (time.monotonic() < t_end or len(rtts) < 10):
        t = time.perf_counter()
        fn(**kw)
        totals.append(time.perf_counter() - t)
        rtts.append(rt.last)
    client.meta.events.unregister("before-send.omics", rt._send)
    client.meta.events.unregister("before-parse.omics", rt._parsed)
    return {"rows": rows, "calls": len(rtts), "p50": pct(rtts, 50), "p99": pct(rtts, 99),
            "call_p50": pct(totals, 50)}


# ---------------------------------------------------------------------------------------
# One catalog
# ---------------------------------------------------------------------------------------


def run_catalog(a, catalog, binary, work):
    cwork = os.path.join(work, catalog)
    os.makedirs(cwork, exist_ok=True)
    data = os.path.join(cwork, "data")
    db_name = pg_url = None
    if catalog == "postgres":
        db_name, pg_url = create_postgres_database(a.postgres_url)
    try:
        return _run_catalog(a, catalog, binary, cwork, data, pg_url)
    finally:
        if db_name and not a.keep:
            drop_postgres_database(a.postgres_url, db_name)
        elif db_name:
            print(f"kept database {db_name}: {pg_url}")


def _run_catalog(a, catalog, binary, cwork, data, pg_url):
    name = NAMES[catalog]
    print(f"\n=== {name} ===", flush=True)
    # 1. Schema (the server's own migrations) and the two stores, through the API.
    server = Server(binary, cwork, pg_url, SERVER_CONFIG, data=data, tag="schema")
    try:
        client = make_client(server.endpoint)
        store_id = client.create_sequence_store(name="bench-lists", eTagAlgorithmFamily="SHA256up")["id"]
        ref_store_id = client.create_reference_store(name="bench-refs")["id"]
    finally:
        rc = server.stop()
    if rc != 0:
        raise RuntimeError(f"the schema server exited with {rc}:\n{server.log()[-3000:]}")
    catalog_path = os.path.join(data, "catalog.db") if catalog == "sqlite" else None

    # 2. Seed.
    seed = Seed(a, store_id, ref_store_id, a.now_ms)
    t = time.monotonic()
    sink = SqliteSink(catalog_path) if catalog == "sqlite" else PostgresSink(pg_url)
    seed.generate(sink)
    sink.close()
    seeded = time.monotonic() - t
    if catalog == "postgres":
        t2 = time.monotonic()
        psql(pg_url, "VACUUM (ANALYZE) read_sets")
        psql(pg_url, "VACUUM (ANALYZE) jobs")
        psql(pg_url, "VACUUM (ANALYZE) genome_references")
        vacuum = time.monotonic() - t2
        sizes = psql(pg_url, "SELECT pg_size_pretty(pg_total_relation_size('read_sets')), "
                             "pg_size_pretty(pg_database_size(current_database()))").strip()
        size_note = f"read_sets {sizes.split('|')[0]}, database {sizes.split('|')[1]}; VACUUM ANALYZE {vacuum:.0f} s"
    else:
        size_note = f"catalog.db {os.path.getsize(catalog_path) / 2**20:.0f} MiB; no ANALYZE (the server runs none)"
    c = seed.counts
    print(f"seeded {c['read_sets']} read sets, {c['references']} references, {c['jobs']} jobs in {seeded:.0f} s "
          f"({size_note})", flush=True)
    print(f"  read set statuses: {dict(sorted(seed.statuses.items(), key=lambda kv: -kv[1]))}")
    print(f"  jobs: {seed.job_kinds}")
    # The md5 probe: read it back from the row chosen while generating.
    k = seed.probe.pop("reference_md5_row")
    sql = (f"SELECT md5 FROM genome_references WHERE reference_store_id = '{ref_store_id}' "
           f"ORDER BY created_at, id LIMIT 1 OFFSET {k}")
    if catalog == "sqlite":
        db = sqlite3.connect(f"file:{catalog_path}?mode=ro", uri=True)
        seed.probe["reference_md5"] = db.execute(sql).fetchone()[0]
        db.close()
    else:
        seed.probe["reference_md5"] = psql(pg_url, sql).strip()

    # 3. Serve and measure.
    server = Server(binary, cwork, pg_url, SERVER_CONFIG, data=data, tag="bench")
    results, proposed, created = [], [], []
    try:
        client = make_client(server.endpoint)
        time.sleep(a.settle)  # start-up work (cleanup, ETag backfill scan) settles
        load = os.getloadavg()
        print(f"server up; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)
        qs = queries(seed, a.deep_pages)
        if a.only:
            qs = [q for q in qs if re.search(a.only, q.label)]
        for q in qs:
            walk = ""
            if q.pages:
                q.token, walked, secs, shortcut = follow(client, q, a.walk_seconds, seed, catalog_path, pg_url)
                walk = f"followed {walked} pages in {secs:.1f} s ({1000 * secs / max(1, walked):.1f} ms/page)"
                if shortcut:
                    walk += f"; the remaining {q.pages - walked} read from the catalog (--walk-seconds)"
                if q.token is None:
                    walk += "; no further page"
            results.append(evaluate(a, catalog, client, q, catalog_path, pg_url, walk))
        load_end = os.getloadavg()
        if a.proposed:
            # 4. The same queries with the proposed indexes, created in this throwaway catalog
            # while the server runs (both catalogs re-plan their prepared statements).
            print(f"\n  creating the proposed indexes (load average {os.getloadavg()[0]:.2f})", flush=True)
            for name, table, columns in PROPOSED_INDEXES:
                ddl = f"CREATE INDEX {name} ON {table} ({columns})"
                t = time.monotonic()
                if catalog == "postgres":
                    psql(pg_url, ddl)
                else:
                    db = sqlite3.connect(catalog_path, timeout=60)
                    db.execute(ddl)
                    db.commit()
                    db.close()
                created.append((ddl, time.monotonic() - t))
                print(f"    {ddl}: {created[-1][1]:.1f} s", flush=True)
            for q in qs:
                if a.proposed_only and not any(r["label"] == q.label and flagged_result(r, a.target_ms)
                                               for r in results):
                    continue
                r = evaluate(a, catalog, client, q, catalog_path, pg_url, "")
                r["phase"] = "proposed"
                proposed.append(r)
                if q.pages and q.token:
                    r["keyset"] = keyset_variants(catalog, q, catalog_path, pg_url)
    finally:
        rc = server.stop()
    log = server.log()
    bad = [line for line in log.splitlines() if " ERROR " in line or " WARN " in line]
    if bad:
        print("server log WARN/ERROR lines:\n  " + "\n  ".join(bad[:10]))
    return {"catalog": catalog, "results": results, "proposed": proposed, "created": created, "seed": seed,
            "seeded_s": seeded, "size_note": size_note, "load": load, "load_end": load_end, "stop_rc": rc}


def evaluate(a, catalog, client, q, catalog_path, pg_url, walk):
    """Times one query through the server, then explains the SQL it runs."""
    r = measure(client, q, a.calls, a.max_seconds) if (q.token or not q.pages) else None
    cursor = decode_token(q.token) if q.token else None
    sel = q.select(cursor)
    if catalog == "postgres":
        custom, generic = explain_postgres(pg_url, sel)
        jc = judge_postgres(custom, q.filter_columns, r["rows"] if r else 0)
        jg = judge_postgres(generic, q.filter_columns, r["rows"] if r else 0)
        plan = {"custom": custom, "generic": generic}
        worst = max((jc, jg), key=lambda j: ({"yes": 0, "partly": 1, "no": 2}[j[0]], j[3]))
        used, indexes, notes = worst[0], worst[1], list(worst[2])
        if jc[1] != jg[1] or jc[0] != jg[0]:
            notes.append(f"custom plan: {jc[0]} {','.join(jc[1])}; generic: {jg[0]} {','.join(jg[1])}")
        exec_ms = [float(m) for m in re.findall(r"Execution Time: ([\d.]+) ms", custom + generic)]
        if len(exec_ms) == 2:
            notes.append(f"SQL {exec_ms[0]:.1f}/{exec_ms[1]:.1f} ms (custom/generic plan, EXPLAIN ANALYZE)")
    else:
        text, sql_s, n, read = explain_sqlite(catalog_path, sel)
        used, indexes, notes = judge_sqlite(text, q.filter_columns, q.table, read, r["rows"] if r else n)
        notes = list(notes) + [f"SQL {sql_s * 1000:.1f} ms in Python's sqlite3 {sqlite3.sqlite_version}"]
        plan = {"eqp": text}
    result = {"catalog": catalog, "label": q.label, "measure": r, "used": used, "indexes": indexes,
              "notes": [x for x in notes if x], "plan": plan, "sql": sel, "walk": walk}
    if r:
        print(f"  {q.label:<58} {r['rows']:>3} rows  p50 {r['p50'] * 1000:7.2f} ms  p99 "
              f"{r['p99'] * 1000:7.2f} ms  ({r['calls']} calls; boto3 call p50 {r['call_p50'] * 1000:.1f} ms)"
              f"  index: {used} {','.join(indexes)}", flush=True)
    else:
        print(f"  {q.label:<58} no such page", flush=True)
    if walk:
        print(f"    {walk}")
    return result


def keyset_variants(catalog, q, catalog_path, pg_url):
    """The deep page's SQL with the keyset condition written so that an index can start at the
    cursor (a change to `rows.rs` `Select::after`, not an index): explained and timed."""
    out = []
    at, rid = decode_token(q.token)
    for label, form in (("created_at >= t AND (created_at > t OR (created_at = t AND id > i))",
                         "(created_at >= {t1} AND (created_at > {t2} OR (created_at = {t3} AND id > {i})))"),
                        ("(created_at, id) > (t, i)", "(created_at, id) > ({t1}, {i})")):
        sel = q.select(None)
        n = len(sel.args)
        if "{t3}" in form:
            sel.args += [at, at, at, rid]
            cond = form.format(t1=f"${n + 1}", t2=f"${n + 2}", t3=f"${n + 3}", i=f"${n + 4}")
        else:
            sel.args += [at, rid]
            cond = form.format(t1=f"${n + 1}", i=f"${n + 2}")
        sel.conditions.append(cond)
        if catalog == "postgres":
            custom, generic = explain_postgres(pg_url, sel)
            exec_ms = re.findall(r"Execution Time: ([\d.]+) ms", custom + generic)
            out.append((label, sel, f"custom plan:\n{custom}\ngeneric plan:\n{generic}",
                        f"SQL {'/'.join(exec_ms)} ms (custom/generic plan)"))
        else:
            text, sql_s, n_rows, read = explain_sqlite(catalog_path, sel)
            out.append((label, sel, text, f"SQL {sql_s * 1000:.1f} ms; {read} rows read"))
        print(f"    keyset {label}: {out[-1][3]}", flush=True)
    return out


# ---------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------


def fmt_ms(seconds):
    return f"{seconds * 1000:.1f}" if seconds >= 0.01 else f"{seconds * 1000:.2f}"


def table(runs, target_ms, key="results"):
    lines = ["| query | catalog | rows | p50 ms | p99 ms | index used | plan |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    by_label = {}
    for run in runs:
        for r in run[key]:
            by_label.setdefault(r["label"], []).append(r)
    for label, rs in by_label.items():
        for r in rs:
            m = r["measure"]
            if not m:
                lines.append(f"| {label} | {NAMES[r['catalog']]} | – | – | – | – | no such page |")
                continue
            miss = " ✗" if m["p99"] * 1000 >= target_ms else ""
            idx = ", ".join(f"`{i}`" for i in r["indexes"]) or "–"
            notes = "; ".join(n for n in r["notes"] if not n.startswith("SQL ") and not n.startswith("custom plan"))
            lines.append(f"| {label} | {NAMES[r['catalog']]} | {m['rows']} | {fmt_ms(m['p50'])} | "
                         f"{fmt_ms(m['p99'])}{miss} | {r['used']} | {idx}{': ' + notes if notes else ''} |")
    return lines


def print_plans(runs, title="Plans", key="results"):
    print(f"\n## {title}\n")
    for run in runs:
        for r in run[key]:
            sel = r["sql"]
            print(f"### {r['label']} — {NAMES[r['catalog']]}: index used {r['used']}"
                  f"{' — ' + '; '.join(r['notes']) if r['notes'] else ''}")
            print(f"SQL: {sel.sql()}".replace(READ_SET_COLUMNS, "<read set columns>")
                  .replace(REFERENCE_COLUMNS, "<reference columns>").replace(JOB_COLUMNS, "<job columns>"))
            print(f"params: {sel.args}")
            if r["catalog"] == "postgres":
                print("custom plan:\n" + r["plan"]["custom"])
                print("generic plan:\n" + r["plan"]["generic"])
            else:
                print("EXPLAIN QUERY PLAN:\n" + r["plan"]["eqp"])
            for label, sel2, plan, timing in r.get("keyset", []):
                print(f"\nkeyset written as {label}: {timing}")
                print(f"SQL: {sel2.sql()}".replace(READ_SET_COLUMNS, "<read set columns>")
                      .replace(REFERENCE_COLUMNS, "<reference columns>").replace(JOB_COLUMNS, "<job columns>"))
                print(plan)
            print()


def flagged_result(r, target_ms):
    m = r["measure"]
    return bool(m and (r["used"] != "yes" or m["p99"] * 1000 >= target_ms))


def flagged(runs, target_ms):
    return [r for run in runs for r in run["results"] if flagged_result(r, target_ms)]


def write_readme(runs, a, binary_kind, header):
    lines = [header, ""] + table(runs, a.target_ms)
    if a.proposed:
        lines += ["", "With the proposed indexes (`PROPOSED_INDEXES` in bench/lists.py, created in the seeded "
                  "catalog while the server ran):", ""] + table(runs, a.target_ms, "proposed")
    rewrite_readme_section("lists", lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bin", default=os.environ.get("SEQSTORE_BIN") or RELEASE_BIN,
                   help="seqstore binary (default: $SEQSTORE_BIN, else the release build)")
    p.add_argument("--catalogs", default="sqlite,postgres")
    p.add_argument("--postgres-url", default=os.environ.get("SEQSTORE_TEST_POSTGRES_URL"),
                   help="admin URL of a PostgreSQL server (default: $SEQSTORE_TEST_POSTGRES_URL)")
    p.add_argument("--read-sets", type=int, default=1_000_000)
    p.add_argument("--references", type=int, default=10_000)
    p.add_argument("--calls", type=int, default=200, help="timed calls per query")
    p.add_argument("--max-seconds", type=float, default=60, help="at most this long per query (at least 10 calls)")
    p.add_argument("--deep-pages", type=int, default=5000, help="pages followed before the deep ListReadSets page")
    p.add_argument("--walk-seconds", type=float, default=900,
                   help="past this, the rest of a deep walk is read from the catalog instead")
    p.add_argument("--settle", type=float, default=5, help="seconds to wait after the server starts")
    p.add_argument("--target-ms", type=float, default=20, help="p99 target per page")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--only", default=None, help="regex: time only the queries whose label matches")
    p.add_argument("--work", default=None, help="work dir (default: a new temp dir, removed afterwards)")
    p.add_argument("--keep", action="store_true", help="keep the data dirs and the PostgreSQL database")
    p.add_argument("--progress", action="store_true", help="print seeding progress")
    p.add_argument("--plans", action="store_true", help="print every plan (default: only those flagged)")
    p.add_argument("--proposed", action="store_true",
                   help="then create PROPOSED_INDEXES in the seeded catalog and time the queries again")
    p.add_argument("--proposed-only", action="store_true",
                   help="with --proposed: time again only the queries the first pass flagged")
    p.add_argument("--readme", action="store_true", help="rewrite bench/README.md even with another build")
    p.add_argument("--no-readme", action="store_true", help="do not rewrite bench/README.md")
    p.add_argument("--build-label", default=None, help="how the README names the binary's build")
    p.add_argument("--keyset", choices=("auto", "or", "row"), default="auto",
                   help="the keyset condition the binary's SQL uses: `(created_at > t OR (created_at = t AND "
                        "id > i))` or `(created_at, id) > (t, i)`; auto: what rows.rs in this checkout writes")
    a = p.parse_args()
    a.bin = os.path.abspath(a.bin)
    if not os.path.isfile(a.bin):
        sys.exit(f"{a.bin} is missing: build it first (cargo build --release --bin seqstore) or pass --bin")
    catalogs = catalogs_to_run(a.catalogs, a.postgres_url, "lists.py")
    a.now_ms = int(time.time()) * 1000
    global KEYSET
    KEYSET = keyset_of_source() if a.keyset == "auto" else a.keyset

    work = a.work or tempfile.mkdtemp(prefix="seqstore-lists-")
    os.makedirs(work, exist_ok=True)
    release = a.bin == os.path.abspath(RELEASE_BIN)
    binary = os.path.join(work, "seqstore")
    shutil.copy2(a.bin, binary)  # a rebuild during the run must not change what runs
    load0 = os.getloadavg()[0]
    print(f"binary {a.bin} (copied to {binary}); load average {load0:.2f}; keyset form {KEYSET!r}", flush=True)
    try:
        runs = [run_catalog(a, c, binary, work) for c in catalogs]
    finally:
        if not a.work and not a.keep:
            shutil.rmtree(work, ignore_errors=True)

    cpu = cpu_model()
    build = a.build_label or ("release build" if release else
                              f"build {os.path.relpath(a.bin, ROOT) if a.bin.startswith(ROOT) else a.bin}")
    loads = ", ".join(f"{NAMES[r['catalog']]} {r['load'][0]:.1f} (1 min) / {r['load'][1]:.1f} (5 min) at the start "
                      f"of its timing, {r['load_end'][0]:.1f} at its end" for r in runs)
    seed = runs[0]["seed"]
    header = (f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {os.cpu_count()} cores ({cpu}), {build}; "
              f"load average {loads}. One store of {seed.counts['read_sets']:,} read sets, "
              f"{seed.counts['references']:,} references, {seed.counts['jobs']:,} jobs; {a.calls} sequential calls "
              f"per query (at most {a.max_seconds:g} s), maxResults {PAGE}; p50/p99 of the HTTP round trip; "
              f"✗ = p99 at or over the {a.target_ms:g} ms target.")
    print("\n" + header + "\n")
    print("\n".join(table(runs, a.target_ms)))
    for run in runs:
        print(f"\n{NAMES[run['catalog']]}: seeded in {run['seeded_s']:.0f} s; {run['size_note']}")
    flags = flagged(runs, a.target_ms)
    if a.plans:
        print_plans(runs)
    elif flags:
        print_plans([{"results": flags}])
    if flags:
        print(f"{len(flags)} queries flagged (scan, row-by-row filter, sort or p99 ≥ {a.target_ms:g} ms): "
              "see the plans above")
    if a.proposed:
        print("\n## With the proposed indexes\n")
        for run in runs:
            for ddl, secs in run["created"]:
                print(f"{NAMES[run['catalog']]}: {ddl}; -- {secs:.1f} s on the seeded catalog")
        print()
        print("\n".join(table(runs, a.target_ms, "proposed")))
        print_plans(runs, "Plans with the proposed indexes", "proposed")
    if a.no_readme:
        print("bench/README.md left alone (--no-readme)")
    elif not release and not a.readme:
        print(f"bench/README.md left alone: {a.bin} is not the release build (--readme writes it anyway)")
    else:
        write_readme(runs, a, build, header)
        print("bench/README.md: lists section rewritten")


if __name__ == "__main__":
    main()
