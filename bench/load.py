"""Load benchmark, run on demand (never a timed test): `python3 bench/load.py`.

For each catalog (SQLite, PostgreSQL), on a fresh server and data dir:
- `--uploaders` threads each upload a generated FASTQ.gz of `--fastq-mb` MB again and again with
  aws-healthomics-tools' TransferManager into one sequence store, until `--seconds` have passed;
- at the same time `--readers` threads loop over ListReadSets (paged), GetReadSetMetadata,
  GetSequenceStore, ListSequenceStores and ListMultipartReadSetUploads (paged);
- every API request (the uploaders' CreateMultipartReadSetUpload, UploadReadSetPart and
  CompleteMultipartReadSetUpload included) is timed through botocore's `before-call` /
  `after-call` events; clients never retry, so every refusal or failure shows as an error;
- then it waits until no read set is PROCESSING_UPLOAD any more and reports how long that took.
Reports requests/s, p50 and p99 per request class and overall, uploads completed and their MB/s,
errors (must be 0: the exit status is 1 otherwise) and the server's peak RSS (`VmHWM`), and
rewrites the `load` section of bench/README.md (only when run with the release binary).

It does not build: run `cargo build --release --bin seqstore` first, or point `--bin` at
another binary (e.g. target/debug/seqstore for a trial run; the README is then left alone).
PostgreSQL needs an admin URL (`--postgres-url`, default `$SEQSTORE_TEST_POSTGRES_URL`);
`scripts/test-all run python3 bench/load.py` starts a throwaway cluster and sets it.
Needs boto3, aws-healthomics-tools and psql (what `scripts/test-all` installs).

The client threads run in `--procs` processes per role (uploaders and readers apart), so that
one Python interpreter's lock is not what limits or delays the requests; they share the
machine's cores with the server.
"""

import argparse
import multiprocessing as mp
import os
import queue
import random
import re
import resource
import shutil
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import uuid
from collections import defaultdict

from common import (KEY_ID, REGION, SECRET, Server, catalogs_to_run,
                    cpu_model, fastq_gz, psql, rewrite_readme_section)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RELEASE_BIN = os.path.join(ROOT, "target", "release", "seqstore")
UPLOAD = "upload (whole TransferManager call)"  # the per-upload class, not an API request
KEEP_MESSAGES = 3  # first error messages kept per operation and process


# ---------------------------------------------------------------------------------------
# Input and server
# ---------------------------------------------------------------------------------------


def make_client(endpoint, pool):
    import boto3
    import botocore.config
    cfg = botocore.config.Config(inject_host_prefix=False, max_pool_connections=pool,
                                 retries={"total_max_attempts": 1}, connect_timeout=10, read_timeout=300)
    session = boto3.session.Session(aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET, region_name=REGION)
    return session.client("omics", endpoint_url=endpoint, config=cfg)


def transfer_manager(client):
    from omics.transfer.config import TransferConfig
    from omics.transfer.manager import TransferManager
    # A file of a few MB is one part: one request at a time is all an upload ever runs.
    return TransferManager(client, TransferConfig(max_request_concurrency=2, max_submission_concurrency=1))


# ---------------------------------------------------------------------------------------
# Client processes
# ---------------------------------------------------------------------------------------


class Recorder:
    """Every API request a client makes: latency per operation, errors, first messages."""

    def __init__(self):
        self.lock = threading.Lock()
        self.latencies = defaultdict(list)  # operation -> seconds, failed requests included
        self.errors = defaultdict(int)      # operation -> count
        self.messages = defaultdict(list)  # operation -> first messages
        self.local = threading.local()      # requests that failed in this thread (readers)

    def attach(self, client):
        events = client.meta.events
        events.register("before-call.omics", self._before)
        events.register("after-call.omics", self._after)
        events.register("after-call-error.omics", self._after_error)

    def _before(self, context, **_):
        context["load_t0"] = time.perf_counter()

    def _record(self, op, t0, error):
        dt = time.perf_counter() - t0 if t0 is not None else float("nan")
        with self.lock:
            self.latencies[op].append(dt)
            if error is not None:
                self.errors[op] += 1
                if len(self.messages[op]) < KEEP_MESSAGES:
                    self.messages[op].append(error)
        if error is not None:
            self.local.failed = getattr(self.local, "failed", 0) + 1

    def _after(self, http_response, parsed, context, event_name, **_):
        error = None
        if http_response.status_code >= 300:
            err = parsed.get("Error", {})
            error = f"HTTP {http_response.status_code} {err.get('Code')}: {err.get('Message')}"
        self._record(event_name.rsplit(".", 1)[1], context.get("load_t0"), error)

    def _after_error(self, exception, context, event_name, **_):
        self._record(event_name.rsplit(".", 1)[1], context.get("load_t0"), f"{type(exception).__name__}: {exception}")

    def failed_here(self):
        return getattr(self.local, "failed", 0)

    def other(self, what, exc):
        """A failure that is not one request's: a failed upload, a client-side exception."""
        with self.lock:
            self.errors[what] += 1
            if len(self.messages[what]) < KEEP_MESSAGES:
                self.messages[what].append(f"{type(exc).__name__}: {exc}")


def reader_loop(client, rec, store_id, deadline, seed, list_pages):
    rng = random.Random(seed)
    ids = []

    def call(fn, what, **kw):
        before = rec.failed_here()
        try:
            return fn(**kw)
        except Exception as e:  # noqa: BLE001 - every exception is an error
            if rec.failed_here() == before:  # not a failed request: count it here
                rec.other(what, e)
            return None

    def paged(fn, what, key, limit, **kw):
        out, token, pages = [], None, 0
        while pages < limit and time.monotonic() < deadline:
            page = call(fn, what, maxResults=100, **({"nextToken": token} if token else {}), **kw)
            pages += 1
            if page is None:
                break
            out += page.get(key, [])
            token = page.get("nextToken")
            if not token:
                break
        return out

    while time.monotonic() < deadline:
        seen = paged(client.list_read_sets, "ListReadSets", "readSets", list_pages, sequenceStoreId=store_id)
        if seen:
            ids = [r["id"] for r in seen]
        for _ in range(4):
            if ids and time.monotonic() < deadline:
                call(client.get_read_set_metadata, "GetReadSetMetadata", sequenceStoreId=store_id, id=rng.choice(ids))
        if time.monotonic() < deadline:
            call(client.get_sequence_store, "GetSequenceStore", id=store_id)
        paged(client.list_sequence_stores, "ListSequenceStores", "sequenceStores", list_pages)
        paged(client.list_multipart_read_set_uploads, "ListMultipartReadSetUploads", "uploads", list_pages,
              sequenceStoreId=store_id)


def uploader_loop(client, rec, store_id, deadline, fastq, name, uploads):
    """Uploads until the deadline; an upload started before it is finished."""
    tm = transfer_manager(client)
    n = 0
    try:
        while time.monotonic() < deadline:
            t = time.perf_counter()
            try:
                tm.upload_read_set(fastq, store_id, "FASTQ", f"{name}-{n}", "load-subject", "load-sample")
                with rec.lock:
                    uploads.append(time.perf_counter() - t)
            except Exception as e:  # noqa: BLE001 - a failed upload is an error
                rec.other(UPLOAD, e)
            n += 1
    finally:
        tm.shutdown()


def worker(role, index, n_threads, endpoint, store_id, fastq, list_pages, ctl, out):
    """One client process: `n_threads` uploaders or readers sharing one instrumented client."""
    try:
        client = make_client(endpoint, pool=n_threads * 2 + 8)
        rec = Recorder()
        rec.attach(client)
        uploads = []
        out.put(("ready", role, index))
        t0, deadline = ctl.get()
        while time.monotonic() < t0:
            time.sleep(min(0.01, max(0.0, t0 - time.monotonic())))
        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
        threads = []
        for i in range(n_threads):
            if role == "uploader":
                args = (client, rec, store_id, deadline, fastq, f"load-{index}-{i}", uploads)
                threads.append(threading.Thread(target=uploader_loop, args=args, daemon=True))
            else:
                args = (client, rec, store_id, deadline, (index << 16) + i, list_pages)
                threads.append(threading.Thread(target=reader_loop, args=args, daemon=True))
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        end = time.monotonic()
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
        out.put(("result", role, index, {
            "latencies": dict(rec.latencies), "errors": dict(rec.errors), "messages": dict(rec.messages),
            "uploads": uploads, "window": end - t0, "cpu": cpu,
        }))
    except BaseException:  # noqa: BLE001 - report, then the parent counts it as an error
        out.put(("crash", role, index, traceback.format_exc()))


# ---------------------------------------------------------------------------------------
# One catalog
# ---------------------------------------------------------------------------------------


def split(total, parts):
    parts = max(1, min(parts, total)) if total else 0
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def count_read_sets(client, store_id, status):
    n, token = 0, None
    while True:
        kw = {"nextToken": token} if token else {}
        page = client.list_read_sets(sequenceStoreId=store_id, maxResults=100, filter={"status": status}, **kw)
        n += len(page["readSets"])
        token = page.get("nextToken")
        if not token:
            return n


def read_set_statuses(client, store_id):
    """How many read sets of the store are in each status."""
    counts, token = defaultdict(int), None
    while True:
        kw = {"nextToken": token} if token else {}
        page = client.list_read_sets(sequenceStoreId=store_id, maxResults=100, **kw)
        for r in page["readSets"]:
            counts[r["status"]] += 1
        token = page.get("nextToken")
        if not token:
            return dict(counts)


def wait_ingested(client, store_id, timeout):
    """Seconds until no read set of the store is PROCESSING_UPLOAD (None after `timeout`)."""
    t = time.monotonic()
    last_print = t
    while True:
        left = count_read_sets(client, store_id, "PROCESSING_UPLOAD")
        now = time.monotonic()
        if left == 0:
            return now - t
        if now - t > timeout:
            return None
        if now - last_print >= 10:
            print(f"  ... {left} read sets still PROCESSING_UPLOAD after {now - t:.0f}s", flush=True)
            last_print = now
        time.sleep(0.5)


def seed(client, store_id, fastq, n):
    """A few ACTIVE read sets before the load starts, so that readers have ids from the first loop."""
    tm = transfer_manager(client)
    try:
        for i in range(n):
            tm.upload_read_set(fastq, store_id, "FASTQ", f"seed-{i}", "load-subject", "load-sample")
    finally:
        tm.shutdown()
    if wait_ingested(client, store_id, 600) is None:
        raise RuntimeError("the seed read sets were not ingested within 600 s")


def server_config(a):
    return (
        "# bench/load.py: limits that let the load through, so that it measures the server.\n"
        "[http]\n"
        f"max_part_uploads_per_account = {a.uploaders}\n"
        f"max_connections = {a.max_connections}\n"
        "[jobs]\n"
        f"workers = {a.workers}\n"
    )


def run_catalog(a, catalog, fastq, work):
    cat_work = tempfile.mkdtemp(dir=work, prefix=f"{catalog}-")
    db_name = url = None
    if catalog == "postgres":
        db_name = f"seqstore_load_{uuid.uuid4().hex[:12]}"
        psql(a.postgres_url, f'CREATE DATABASE "{db_name}"')
        url = urllib.parse.urlunsplit(urllib.parse.urlsplit(a.postgres_url)._replace(path=f"/{db_name}"))
    server = None
    procs = []
    try:
        server = Server(a.bin, cat_work, url, server_config(a))
        admin = make_client(server.endpoint, pool=4)
        store_id = admin.create_sequence_store(name=f"load-{catalog}")["id"]
        seed(admin, store_id, fastq, a.seed)
        print(f"[{catalog}] server up on {server.endpoint}, store {store_id}, {a.seed} seed read sets ACTIVE; "
              f"RSS peak so far {server.peak_rss_mib():.0f} MiB", flush=True)

        ctx = mp.get_context("spawn")
        out = ctx.Queue()
        ctls = []
        for role, total in (("uploader", a.uploaders), ("reader", a.readers)):
            for index, n in enumerate(split(total, a.procs)):
                ctl = ctx.Queue()
                p = ctx.Process(target=worker, args=(role, index, n, server.endpoint, store_id, fastq,
                                                     a.list_pages, ctl, out), daemon=True)
                p.start()
                procs.append(p)
                ctls.append(ctl)
        ready, start_by = 0, time.monotonic() + 300
        while ready < len(procs):
            try:
                msg = out.get(timeout=1)
            except queue.Empty:
                dead = [p.exitcode for p in procs if p.exitcode is not None]
                if dead or time.monotonic() > start_by:
                    raise RuntimeError(f"client processes did not start (exit codes {dead})") from None
                continue
            if msg[0] == "crash":
                raise RuntimeError(f"client process {msg[1]} {msg[2]} failed to start:\n{msg[3]}")
            ready += 1
        load_avg = os.getloadavg()[0]
        t0 = time.monotonic() + 1.0
        deadline = t0 + a.seconds
        for ctl in ctls:
            ctl.put((t0, deadline))
        while time.monotonic() < t0:
            time.sleep(0.005)
        cpu0 = server.cpu_seconds()
        log_from = server.log_size()  # what the server logs under load, not at start-up
        print(f"[{catalog}] load: {a.uploaders} uploaders, {a.readers} readers in {len(procs)} processes "
              f"for {a.seconds:g}s", flush=True)

        results, crashes = [], []
        while len(results) + len(crashes) < len(procs):
            try:
                msg = out.get(timeout=1)
            except queue.Empty:
                # A process that died without a word (killed, interpreter crash) never reports.
                if time.monotonic() > deadline + 900 or all(p.exitcode is not None for p in procs):
                    crashes.append(f"{len(procs) - len(results) - len(crashes)} client processes did not "
                                   f"report (exit codes {[p.exitcode for p in procs]})")
                    break
                continue
            if msg[0] == "result":
                results.append((msg[1], msg[3]))
            elif msg[0] == "crash":
                crashes.append(f"{msg[1]} {msg[2]}: {msg[3]}")
        load_end = time.monotonic()
        cpu1 = server.cpu_seconds()
        rss_load = server.peak_rss_mib()
        for p in procs:
            p.join(30)
        print(f"[{catalog}] load over after {load_end - t0:.1f}s; server used {cpu1 - cpu0:.1f} CPU s; "
              f"peak RSS {rss_load:.0f} MiB; waiting for ingestion", flush=True)

        drain = wait_ingested(admin, store_id, a.drain_timeout)
        rss_all = server.peak_rss_mib()
        statuses = read_set_statuses(admin, store_id)
        active, failed = statuses.get("ACTIVE", 0), statuses.get("UPLOAD_FAILED", 0)
        left_uploads = len(admin.list_multipart_read_set_uploads(sequenceStoreId=store_id,
                                                                 maxResults=100).get("uploads", []))
        code = server.stop()
        log = server.log(log_from)
        return summarize(catalog, results, crashes, t0, load_end, cpu1 - cpu0, rss_load, rss_all, drain,
                         active, failed, left_uploads, code, log, load_avg, os.path.getsize(fastq), a)
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
                p.join(10)
        if server is not None:
            server.stop()
        if db_name:
            try:
                psql(a.postgres_url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
            except Exception as e:  # noqa: BLE001
                print(f"[{catalog}] could not drop database {db_name}: {e}", file=sys.stderr)
        if a.keep:
            print(f"[{catalog}] kept {cat_work}", flush=True)
        else:
            shutil.rmtree(cat_work, ignore_errors=True)


def pct(values, q):
    """Nearest-rank percentile of `values` (seconds), in ms."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, -(-len(s) * q // 100) - 1))
    return s[int(k)] * 1000


def summarize(catalog, results, crashes, t0, load_end, server_cpu, rss_load, rss_all, drain, active, failed,
              left_uploads, code, log, load_avg, file_size, a):
    lat, errs, messages, uploads = defaultdict(list), defaultdict(int), defaultdict(list), []
    windows = {"uploader": [], "reader": []}
    client_cpu = 0.0
    for role, r in results:
        for op, v in r["latencies"].items():
            lat[op] += v
        for op, n in r["errors"].items():
            errs[op] += n
        for op, m in r["messages"].items():
            messages[op] += m
        uploads += r["uploads"]
        windows[role].append(r["window"])
        client_cpu += r["cpu"]
    window = {role: max(w) if w else float("nan") for role, w in windows.items()}
    overall = load_end - t0
    # Which role issued an operation decides the window its rate is taken over.
    upload_ops = {"CreateMultipartReadSetUpload", "UploadReadSetPart", "CompleteMultipartReadSetUpload",
                  "AbortMultipartReadSetUpload"}
    classes = []
    for op in sorted(set(lat) | set(errs), key=lambda o: (o not in upload_ops, o)):
        if op == UPLOAD:
            continue
        w = window["uploader"] if op in upload_ops else window["reader"]
        v = lat.get(op, [])
        classes.append({"name": op, "count": len(v), "rate": len(v) / w, "p50": pct(v, 50), "p99": pct(v, 99),
                        "errors": errs.get(op, 0)})
    all_lat = [x for op, v in lat.items() for x in v]
    request_errors = sum(n for op, n in errs.items() if op != UPLOAD)
    failed_uploads = errs.get(UPLOAD, 0)
    problems = list(crashes)
    if drain is None:
        problems.append(f"ingestion did not finish within {a.drain_timeout}s")
    if failed:
        problems.append(f"{failed} read sets UPLOAD_FAILED in ingestion")
    if active != a.seed + len(uploads):
        problems.append(f"{active} read sets ACTIVE, expected {a.seed} seeds + {len(uploads)} uploads")
    if left_uploads:
        problems.append(f"{left_uploads} multipart uploads still in progress after the run")
    if code != 0:
        problems.append(f"server exit code {code} on SIGTERM")
    log_lines = [l for l in log.splitlines() if re.search(r"\b(WARN|ERROR)\b", l)]
    s = {
        "catalog": catalog, "classes": classes, "requests": len(all_lat), "rate": len(all_lat) / overall,
        "p50": pct(all_lat, 50), "p99": pct(all_lat, 99), "request_errors": request_errors,
        "failed_uploads": failed_uploads, "uploads": len(uploads), "upload_p50": pct(uploads, 50),
        "upload_p99": pct(uploads, 99), "upload_mbps": len(uploads) * file_size / 1e6 / window["uploader"],
        "uploads_per_s": len(uploads) / window["uploader"], "window": overall, "server_cpu": server_cpu,
        "client_cpu": client_cpu, "rss_load": rss_load, "rss_all": rss_all, "drain": drain, "active": active,
        "failed_ingestion": failed, "problems": problems,
        "messages": {op: m[:KEEP_MESSAGES] for op, m in messages.items()}, "log_lines": log_lines,
        "load_avg": load_avg,
    }
    s["errors"] = request_errors + failed_uploads + len(problems)
    print_summary(s)
    return s


def fmt_ms(v):
    return f"{v:.0f} ms" if v >= 100 else f"{v:.1f} ms"


def print_summary(s):
    c = s["catalog"]
    print(f"[{c}] window {s['window']:.1f}s, load average {s['load_avg']:.1f} at the start; "
          f"server CPU {s['server_cpu']:.1f} s ({s['server_cpu'] / s['window']:.2f} cores), "
          f"clients {s['client_cpu']:.1f} s", flush=True)
    print(f"[{c}] {'request':<32} {'count':>7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}")
    for k in s["classes"]:
        print(f"[{c}] {k['name']:<32} {k['count']:>7} {k['rate']:>8.1f} {k['p50']:>8.1f} {k['p99']:>8.1f} "
              f"{k['errors']:>6}")
    print(f"[{c}] {'all requests':<32} {s['requests']:>7} {s['rate']:>8.1f} {s['p50']:>8.1f} {s['p99']:>8.1f} "
          f"{s['request_errors']:>6}")
    print(f"[{c}] uploads completed {s['uploads']} ({s['uploads_per_s']:.1f}/s, {s['upload_mbps']:.1f} MB/s), "
          f"failed {s['failed_uploads']}; per upload p50 {s['upload_p50']:.0f} ms, p99 {s['upload_p99']:.0f} ms")
    drain = f"{s['drain']:.1f}s" if s["drain"] is not None else "not finished"
    print(f"[{c}] ingestion drained in {drain} after the load; {s['active']} read sets ACTIVE, "
          f"{s['failed_ingestion']} UPLOAD_FAILED; server peak RSS {s['rss_load']:.0f} MiB at the end of the load, "
          f"{s['rss_all']:.0f} MiB after ingestion")
    for p in s["problems"]:
        print(f"[{c}] PROBLEM: {p}")
    for op, m in s["messages"].items():
        for line in m:
            print(f"[{c}] error {op}: {line}")
    print(f"[{c}] server log from the start of the load: {len(s['log_lines'])} WARN/ERROR lines", flush=True)
    for line in s["log_lines"][:10]:
        print(f"[{c}]   {line[:400]}")


# ---------------------------------------------------------------------------------------
# README
# ---------------------------------------------------------------------------------------


def write_readme(summaries, a, file_size, load_avg):
    cpu = cpu_model()
    names = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
    lines = [
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {os.cpu_count()} cores ({cpu}), "
        f"load average {load_avg:.1f} at the start, release build; {a.seconds:g} s per catalog, "
        f"{a.uploaders} TransferManager uploaders of a {file_size / 1e6:.1f} MB FASTQ.gz and {a.readers} readers "
        f"in {2 * a.procs} client processes on the same machine; server config "
        f"`http.max_part_uploads_per_account = {a.uploaders}`, `http.max_connections = {a.max_connections}`, "
        f"`jobs.workers = {a.workers}`. No peer to compare against, so no ratio.",
        "",
        "| catalog | uploads (MB/s) | requests | requests/s | p50 | p99 | errors | server CPU | peak RSS "
        "| ingestion drain after the load |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for s in summaries:
        drain = f"{s['drain']:.1f} s" if s["drain"] is not None else f"> {a.drain_timeout} s"
        lines.append(
            f"| {names[s['catalog']]} | {s['uploads']} ({s['upload_mbps']:.1f} MB/s) | {s['requests']} | "
            f"{s['rate']:.1f} | {fmt_ms(s['p50'])} | {fmt_ms(s['p99'])} | {s['errors']} | "
            f"{s['server_cpu'] / s['window']:.2f} cores | {s['rss_all']:.0f} MiB | {drain} |")
    lines += ["", "| catalog | request | count | requests/s | p50 | p99 | errors |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for s in summaries:
        for k in s["classes"]:
            lines.append(f"| {names[s['catalog']]} | {k['name']} | {k['count']} | {k['rate']:.1f} | "
                         f"{fmt_ms(k['p50'])} | {fmt_ms(k['p99'])} | {k['errors']} |")
        lines.append(f"| {names[s['catalog']]} | whole upload (TransferManager call) | {s['uploads']} | "
                     f"{s['uploads_per_s']:.1f} | {fmt_ms(s['upload_p50'])} | {fmt_ms(s['upload_p99'])} | "
                     f"{s['failed_uploads']} |")
    rewrite_readme_section("load", lines)


# ---------------------------------------------------------------------------------------


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bin", default=RELEASE_BIN, help="seqstore binary (default: the release build)")
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--uploaders", type=int, default=64)
    p.add_argument("--readers", type=int, default=32)
    p.add_argument("--catalogs", default="sqlite,postgres")
    p.add_argument("--postgres-url", default=os.environ.get("SEQSTORE_TEST_POSTGRES_URL"),
                   help="admin URL of a PostgreSQL server (default: $SEQSTORE_TEST_POSTGRES_URL)")
    p.add_argument("--fastq-mb", type=float, default=4.0, help="size of the uploaded FASTQ.gz, MB")
    p.add_argument("--procs", type=int, default=2, help="client processes per role (uploaders, readers)")
    p.add_argument("--list-pages", type=int, default=10, help="pages of 100 a reader lists per loop at most")
    p.add_argument("--seed", type=int, default=4, help="read sets uploaded before the load starts")
    p.add_argument("--workers", type=int, default=2, help="server jobs.workers (ingestion)")
    p.add_argument("--max-connections", type=int, default=4096, help="server http.max_connections")
    p.add_argument("--drain-timeout", type=float, default=1800)
    p.add_argument("--work", default=None, help="work dir (default: a new temp dir, removed afterwards)")
    p.add_argument("--keep", action="store_true", help="keep the data dirs and server logs")
    p.add_argument("--no-readme", action="store_true", help="do not rewrite bench/README.md")
    a = p.parse_args()
    a.bin = os.path.abspath(a.bin)
    if not os.path.isfile(a.bin):
        sys.exit(f"{a.bin} is missing: build it first (cargo build --release --bin seqstore) or pass --bin")
    catalogs = catalogs_to_run(a.catalogs, a.postgres_url, "load.py")
    if a.uploaders < 1 or a.readers < 0 or a.procs < 1:
        sys.exit("--uploaders must be at least 1, --readers at least 0, --procs at least 1")

    work = a.work or tempfile.mkdtemp(prefix="seqstore-load-")
    os.makedirs(work, exist_ok=True)
    try:
        fastq = os.path.join(work, "reads.fastq.gz")
        fastq_gz(fastq, int(a.fastq_mb * 1e6), level=1, seed=7)
        size = os.path.getsize(fastq)
        load_avg = os.getloadavg()[0]
        print(f"input {size / 1e6:.1f} MB FASTQ.gz; binary {a.bin}; load average {load_avg:.1f}", flush=True)
        summaries = [run_catalog(a, c, fastq, work) for c in catalogs]
    finally:
        if not a.work and not a.keep:
            shutil.rmtree(work, ignore_errors=True)

    release = a.bin == os.path.abspath(RELEASE_BIN)
    if a.no_readme:
        print("bench/README.md left alone (--no-readme)")
    elif not release:
        print(f"bench/README.md left alone: {a.bin} is not the release build")
    else:
        write_readme(summaries, a, size, load_avg)
        print("bench/README.md: load section rewritten")
    errors = sum(s["errors"] for s in summaries)
    if errors:
        print(f"FAILED: {errors} errors (requests, uploads or problems above)", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
