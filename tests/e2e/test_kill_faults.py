"""Seeded SIGKILLs during concurrent work: after every restart the store is consistent.

Per catalog backend, one server (its own data dir and catalog) is SIGKILLed `ROUNDS` times at a
seeded random moment while client threads run a seeded random mix of

- direct multipart uploads with boto3 (Create, parts in shuffled order, Complete), some left
  unfinished on purpose (a client that died);
- StartReadSetImportJob from the moto bucket;
- StartReferenceImportJob of FASTA files (a few hundred KB to 4 MB);
- BatchDeleteReadSet of read sets of earlier rounds and of this round (likely still being
  ingested), DeleteReference of references imported in earlier rounds.

Client errors in the kill window are expected (no answer: connection refused/reset); an error
*answer* from the server is not. After the restart, the uploads the killed clients left
IN_PROGRESS are resumed (ListReadSetUploadParts, the missing parts, Complete) or aborted, as a
real client would, and every job is waited for. Then, over every read set and reference:

- an ACTIVE read set has the HealthOmics ETag and counts the tools give for its input, and the
  bytes of each of its files (every GetReadSet part) have the MD5 the S3 endpoint gives as the
  object's ETag; the stored FASTQ/BAM decode to that ETag again (`gzip -dc | md5sum`,
  `samtools view | md5sum`);
- an UPLOAD_FAILED read set has a statusMessage, and not the one the job engine gives when the
  server's side failed ("internal error while processing this source": every input is valid);
  the server logs no panic;
- what the server acknowledged is durable: acknowledged parts are listed with their checksums,
  an acknowledged upload ends as exactly one read set (or aborted), Complete and FINISHED job
  items name read sets and references that exist; names are never duplicated;
- what the test deleted (and the server acknowledged) is gone for good: not listed,
  GetReadSetMetadata / GetReferenceMetadata answer ResourceNotFound;
- an ACTIVE reference has the md5 of its FASTA (`md5sum`), its bytes and `.fai` (`samtools
  faidx`) come back, and its S3 ETags are the MD5s of those bytes.

Every CHECK_EVERY rounds and at the end the server is stopped (SIGTERM, exit 0), `seqstore fsck
--json` must find it clean, no file may remain under `<data-dir>/blobs/staging/`, and no files
may remain for a read set or reference that is not live.

Environment: SEQSTORE_KILL_ROUNDS (kills per backend, default 10: 20 per CI run),
SEQSTORE_KILL_SEED (default below). The seed and the round are printed, and are part of every
failure message: `SEQSTORE_KILL_SEED=S SEQSTORE_KILL_ROUNDS=N pytest ... -k sqlite` replays the
same choices (the kill moments relative to the work in flight are up to the scheduler).
"""

from __future__ import annotations

import collections
import os
import random
import re
import shutil
import threading
import time
from pathlib import Path

import botocore.exceptions
import pytest

from e2e_support import ACCOUNT_ID, unique
from fault_support import (
    FAMILY,
    FASTA_INPUTS,
    FILE_PARAM,
    READ_SET_INPUTS,
    Known,
    ServerGone,
    UploadState,
    build_kill_inputs,
    content_etag,
    error_code,
    http_status,
    input_of,
    is_transport_error,
    md5_file,
    paginate,
    resource_dirs_with_files,
    run_fsck,
    s3_head_etag,
    staging_left,
)
from read_set_api import create_upload, download, part_chunks
from read_set_support import RS_ROLE_ARN, sha256_b64
from reference_support import (
    JOB_TERMINAL,
    check_terminal_job,
    file_hash,
    get_part,
    new_reference_store,
    reference_arn,
    run_import,
    samtools_faidx,
    source_item,
    start_import,
)
from s3_support import catalog_sql, file_uri, md5_hex, s3_client

ROUNDS = int(os.environ.get("SEQSTORE_KILL_ROUNDS", "10"))
SEED = os.environ.get("SEQSTORE_KILL_SEED") or "20250117"
CHECK_EVERY = 4  # stop + fsck + staging check every this many rounds, and after the last
KILL_DELAY = (0.1, 2.5)  # seconds between the start of the work and the SIGKILL
SETTLE_TIMEOUT = 240.0
MAX_LIVE_READ_SETS = 20  # above this, the deleter deletes the excess too (verification cost)
MAX_LIVE_REFERENCES = 12
MAIN_REFERENCE = "kf-main-genome"
READ_SET_JOB_TERMINAL = {"COMPLETED", "COMPLETED_WITH_FAILURES", "FAILED", "CANCELLED"}
# What a job item says when the server's side failed (crates/seqstore-core/src/jobs.rs): every
# input here is valid, so that is a bug, never an acceptable "failed with a message".
INTERNAL_FAILURE = "internal error while processing this source"


@pytest.fixture(scope="session")
def kill_inputs(moto_s3, tmp_path_factory):
    return build_kill_inputs(tmp_path_factory.mktemp("kill-inputs"), moto_s3.client())


class UnexpectedAnswer(Exception):
    """The server answered a workload request with an error."""


class KillRun:
    """One backend's server, the work done on it and what it acknowledged."""

    def __init__(self, srv, inputs, backend: str, seed: str, tmp: Path):
        self.srv, self.inputs, self.backend, self.seed, self.tmp = srv, inputs, backend, seed, tmp
        self.rng = random.Random(f"{seed}/{backend}")
        self.known = Known()
        self.lock = threading.Lock()
        self.round = 0
        self.thread_failures: list[str] = []
        self.live_read_sets: dict[str, str] = {}  # id -> name, as of the last check
        self.live_references: dict[str, str] = {}
        self.notes: list[str] = []  # what the report says besides failures
        self.cleanups = 0  # restarts whose cleanup removed something
        self.kills = 0
        self.seen_errors: set[str] = set()
        self.debris = collections.Counter()  # (kind, what) -> count, over every kill
        self.main_fasta_md5 = file_hash(inputs.reference)
        self.main_fai = samtools_faidx(inputs.reference, tmp / "main-faidx")

    # -- setup --------------------------------------------------------------------------

    def setup(self) -> None:
        client = self.srv.client()
        self.ref_store = new_reference_store(client)
        job = run_import(client, self.ref_store, [source_item(self.inputs.reference_uri, MAIN_REFERENCE)])
        assert job["status"] == "COMPLETED", job
        self.main_ref_id = job["sources"][0]["referenceId"]
        self.main_ref_arn = reference_arn(ACCOUNT_ID, self.ref_store, self.main_ref_id)
        self.known.references[self.main_ref_id] = MAIN_REFERENCE
        self.live_references[self.main_ref_id] = MAIN_REFERENCE
        self.store = client.create_sequence_store(name=unique("kill-faults"), eTagAlgorithmFamily=FAMILY)["id"]

    # -- calls --------------------------------------------------------------------------

    def call(self, what: str, fn, *args, **kwargs):
        """One request of the workload: no answer -> ServerGone; an error answer is recorded."""
        started = time.monotonic()
        with self.lock:
            self.in_flight[threading.current_thread().name] = what
        try:
            out = fn(*args, **kwargs)
            with self.lock:
                self.acked[what] += 1
                self.in_flight.pop(threading.current_thread().name, None)
            return out
        except botocore.exceptions.ClientError as exc:
            text = (f"round {self.round}: {what} answered {error_code(exc)} (HTTP {http_status(exc)}): "
                    f"{exc.response['Error'].get('Message', '')}")
            with self.lock:
                self.known.answers.append(text)
            raise UnexpectedAnswer(text) from exc
        except Exception as exc:  # noqa: BLE001 - sorted below
            if is_transport_error(exc):
                with self.lock:
                    self.lost.append(f"{what} ({time.monotonic() - started:.2f}s)")
                raise ServerGone(f"{what}: {type(exc).__name__}: {exc}") from exc
            raise

    def guarded(self, name: str, fn, *args) -> threading.Thread:
        def body():
            try:
                fn(*args)
            except (ServerGone, UnexpectedAnswer):
                pass
            except Exception as exc:  # noqa: BLE001 - a bug of the test or a broken answer
                import traceback

                with self.lock:
                    self.thread_failures.append(f"{name}: {type(exc).__name__}: {exc}\n{traceback.format_exc()}")

        return threading.Thread(target=body, name=name, daemon=True)

    # -- the workload -------------------------------------------------------------------

    def at(self, offset: float) -> None:
        """Wait until `offset` seconds after the start of the round's work."""
        time.sleep(max(0.0, self.t0 + offset - time.monotonic()))

    @staticmethod
    def moment(rng: random.Random, delay: float) -> float:
        """When to send a request that starts work: anywhere before the kill, or (60% of the
        time) in the last 0.3 s before it, so that the work is likely under way when it lands."""
        if rng.random() < 0.4:
            return rng.uniform(0, delay)
        return max(0.0, delay - rng.uniform(0, 0.3))

    def uploader(self, client, tag: str, rng: random.Random, delay: float, fresh: list) -> None:
        """1-3 uploads started at random moments; Complete right after the parts or held
        until shortly before the kill."""
        starts = sorted(rng.uniform(0, delay * 0.8) for _ in range(rng.randint(1, 3)))
        for k, offset in enumerate(starts):
            inp = rng.choice(["pair", "single", "bam", "bam", "pair", "big"])
            part_size = rng.choice([1 << 20, 4 << 20] if inp == "big" else [64 << 10, 192 << 10, 1 << 20])
            abandon = rng.random() < 0.2
            order = rng.getrandbits(32)
            cut = rng.random()
            complete_at = self.moment(rng, delay) if rng.random() < 0.6 else None
            self.at(offset)
            name = f"kf-r{self.round:03d}-u{tag}{k}-{inp}"
            st = UploadState(name, inp, self.round, part_size)
            with self.lock:
                self.known.uploads[name] = st
            src = self.inputs.read_sets[inp]
            ref = self.main_ref_arn if src.needs_reference else None
            created = self.call("CreateMultipartReadSetUpload", create_upload, client, self.store,
                                src.file_type, name, ref)
            st.upload_id = created["uploadId"]
            todo = [(f"SOURCE{i + 1}", n, chunk) for i, path in enumerate(src.paths)
                    for n, chunk in part_chunks(path, part_size)]
            random.Random(order).shuffle(todo)  # out of order, as the TransferManager sends them
            if abandon:
                todo = todo[:int(cut * len(todo))]
            for source, n, chunk in todo:
                resp = self.call("UploadReadSetPart", client.upload_read_set_part, sequenceStoreId=self.store,
                                 uploadId=st.upload_id, partSource=source, partNumber=n, payload=chunk)
                assert resp["checksum"] == sha256_b64(chunk), f"{name} {source} #{n}: checksum {resp['checksum']}"
                st.parts[(source, n)] = resp["checksum"]
            if abandon:
                continue  # the client died: after the restart it resumes or aborts
            parts = [{"partSource": s, "partNumber": n, "checksum": c} for (s, n), c in sorted(st.parts.items())]
            if complete_at is not None:
                self.at(complete_at)
            st.complete_sent = True
            done = self.call("CompleteMultipartReadSetUpload", client.complete_multipart_read_set_upload,
                             sequenceStoreId=self.store, uploadId=st.upload_id, parts=parts)
            st.read_set_id = done["readSetId"]
            with self.lock:
                self.known.read_sets[st.read_set_id] = name
                fresh.append(st.read_set_id)

    def streamer(self, client, rng: random.Random, delay: float, fresh: list) -> None:
        """Uploads the big FASTQ in small parts from the start of the round until the kill
        (a new upload when one is complete), so that a part is most likely being written
        when the kill lands."""
        part_size = rng.choice([128 << 10, 256 << 10])
        src = self.inputs.read_sets["big"]
        for k in range(100):
            name = f"kf-r{self.round:03d}-s{k}-big"
            st = UploadState(name, "big", self.round, part_size)
            with self.lock:
                self.known.uploads[name] = st
            st.upload_id = self.call("CreateMultipartReadSetUpload", create_upload, client, self.store, "FASTQ",
                                     name)["uploadId"]
            for n, chunk in part_chunks(src.paths[0], part_size):
                resp = self.call("UploadReadSetPart", client.upload_read_set_part, sequenceStoreId=self.store,
                                 uploadId=st.upload_id, partSource="SOURCE1", partNumber=n, payload=chunk)
                st.parts[("SOURCE1", n)] = resp["checksum"]
            parts = [{"partSource": s, "partNumber": n, "checksum": c} for (s, n), c in sorted(st.parts.items())]
            st.complete_sent = True
            st.read_set_id = self.call("CompleteMultipartReadSetUpload", client.complete_multipart_read_set_upload,
                                       sequenceStoreId=self.store, uploadId=st.upload_id, parts=parts)["readSetId"]
            with self.lock:
                self.known.read_sets[st.read_set_id] = name
                fresh.append(st.read_set_id)

    def importer(self, client, rng: random.Random, delay: float) -> None:
        """A read set import job and a reference import job, at random moments before the kill."""
        work = []
        if rng.random() < 0.7:
            sources = []
            for k in range(rng.randint(1, 2)):
                inp = rng.choice(READ_SET_INPUTS)
                src = self.inputs.read_sets[inp]
                files = {"source1": src.s3_uri(0)}
                if src.paired:
                    files["source2"] = src.s3_uri(1)
                item = {"sourceFiles": files, "sourceFileType": src.file_type, "subjectId": "kf-subject",
                        "sampleId": "kf-sample", "name": f"kf-r{self.round:03d}-i{k}-{inp}"}
                if src.needs_reference:
                    item["referenceArn"] = self.main_ref_arn
                sources.append(item)
            work.append((self.moment(rng, delay), "read sets", sources))
        if rng.random() < 0.7:
            items = []
            for k in range(rng.randint(1, 3)):
                case = rng.choice(FASTA_INPUTS)
                items.append(source_item(self.inputs.fastas[case], f"kf-r{self.round:03d}-f{k}-{case}"))
            work.append((self.moment(rng, delay), "references", items))
        for offset, what, sources in sorted(work, key=lambda w: w[0]):
            self.at(offset)
            if what == "read sets":
                job = self.call("StartReadSetImportJob", client.start_read_set_import_job,
                                sequenceStoreId=self.store, roleArn=RS_ROLE_ARN, sources=sources)
                with self.lock:
                    self.known.read_set_jobs.add(job["id"])
            else:
                job = self.call("StartReferenceImportJob", start_import, client, self.ref_store, sources)
                with self.lock:
                    self.known.reference_jobs.add(job["id"])

    def deleter(self, client, rng: random.Random, delay: float, fresh: list) -> None:
        """Read sets of earlier rounds, one of this round (most likely still being ingested),
        a reference of an earlier round; each at a random moment before the kill."""
        pool = sorted(self.live_read_sets)
        over = len(pool) - MAX_LIVE_READ_SETS
        many = over + rng.randint(1, 3) if over > 0 else rng.randint(0, 3)
        picks = rng.sample(pool, min(len(pool), many))
        refs = sorted(i for i in self.live_references if i != self.main_ref_id)
        n_refs = len(refs) - MAX_LIVE_REFERENCES + 1 if len(refs) > MAX_LIVE_REFERENCES else int(rng.random() < 0.4)
        ref_ids = rng.sample(refs, min(len(refs), n_refs))
        fresh_at = self.moment(rng, delay) if rng.random() < 0.5 else None
        work = [(rng.uniform(0, delay), "old")] if picks else []
        for ref_id in ref_ids:
            work.append((rng.uniform(0, delay), ref_id))
        if fresh_at is not None:
            work.append((fresh_at, "fresh"))
        for offset, what in sorted(work):
            self.at(offset)
            if what == "old":
                self.batch_delete(client, picks)
            elif what in ref_ids:
                ref_id = what
                with self.lock:
                    self.known.unanswered_deletes["reference"].add(ref_id)
                self.call("DeleteReference", client.delete_reference, referenceStoreId=self.ref_store, id=ref_id)
                with self.lock:
                    self.known.unanswered_deletes["reference"].discard(ref_id)
                    self.known.deleted_references[ref_id] = self.live_references[ref_id]
            else:
                deadline = time.monotonic() + 1.0
                while not fresh and time.monotonic() < deadline:
                    time.sleep(0.01)
                if fresh:
                    # the newest read set of this round: most likely still PROCESSING_UPLOAD
                    self.batch_delete(client, [fresh[-1]])

    def batch_delete(self, client, ids: list[str]) -> None:
        with self.lock:
            self.known.unanswered_deletes["read set"].update(ids)  # until answered: deleted or not, both fine
        resp = self.call("BatchDeleteReadSet", client.batch_delete_read_set, sequenceStoreId=self.store, ids=ids)
        with self.lock:
            self.known.unanswered_deletes["read set"].difference_update(ids)
        errors = {e["id"]: e for e in resp.get("errors") or []}
        with self.lock:
            for i in ids:
                if i in errors:
                    self.known.answers.append(f"round {self.round}: BatchDeleteReadSet refused {i}: {errors[i]}")
                else:
                    self.known.deleted_read_sets[i] = self.live_read_sets.get(i) or self.known.read_sets.get(i, "?")

    # -- one round ----------------------------------------------------------------------

    def run_round(self, r: int, rounds: int) -> None:
        self.round = r
        rng = self.rng
        delay = rng.uniform(*KILL_DELAY)
        seeds = [rng.getrandbits(64) for _ in range(6)]
        stream = rng.random() < 0.6
        # sometimes a second kill while the restarted server recovers (cleanup, resumed jobs)
        again = rng.uniform(0.0, 0.6) if rng.random() < 0.3 else None
        fresh: list[str] = []
        self.first_log = len(self.srv.logs) - 1  # the logs of this round's servers start here
        self.acked = collections.Counter()
        self.in_flight: dict[str, str] = {}
        self.lost: list[str] = []
        clients = [self.srv.client() for _ in range(5)]  # made beforehand: creating one takes a while
        threads = [
            self.guarded("uploader-a", self.uploader, clients[0], "a", random.Random(seeds[0]), delay, fresh),
            self.guarded("uploader-b", self.uploader, clients[1], "b", random.Random(seeds[1]), delay, fresh),
            self.guarded("importer", self.importer, clients[2], random.Random(seeds[2]), delay),
            self.guarded("deleter", self.deleter, clients[3], random.Random(seeds[3]), delay, fresh),
        ]
        if stream:
            threads.append(self.guarded("streamer", self.streamer, clients[4], random.Random(seeds[5]), delay,
                                        fresh))
        self.t0 = time.monotonic()
        for t in threads:
            t.start()
        self.at(delay)
        assert self.srv.alive(), f"the server died on its own before the kill\n{self.srv.describe_logs()}"
        with self.lock:
            in_flight = sorted(self.in_flight.values())
        self.srv.kill()
        for t in threads:
            t.join(timeout=90)
            assert not t.is_alive(), f"workload thread {t.name} still running 90s after the kill"
        jobs_running = self.jobs_in_flight()
        debris = self.debris_after_kill()
        print(f"[kill-faults {self.backend}] seed={self.seed} round={r}/{rounds}: SIGKILL after {delay:.2f}s; "
              f"answered {dict(sorted(self.acked.items()))}; in flight {in_flight}; unanswered {self.lost}; "
              f"unfinished jobs {jobs_running}; left behind {debris}")
        assert not self.thread_failures, "\n".join(self.thread_failures)
        self.kills += 1
        self.srv.start()
        if again is not None:
            time.sleep(again)
            assert self.srv.alive(), f"the server died on its own while recovering\n{self.srv.describe_logs()}"
            self.srv.kill()
            self.kills += 1
            print(f"[kill-faults {self.backend}]   SIGKILL again {again:.2f}s after the restart; unfinished jobs "
                  f"{self.jobs_in_flight()}; left behind {self.debris_after_kill()}")
            self.srv.start()
        self.settle(random.Random(seeds[4]))
        for line in self.server_errors():
            assert "panicked" not in line, f"the server panicked: {line}"
            # the cleanup at start once removed the staged parts of an upload whose read set
            # was deleted while its ingest item was still pending
            assert "opening a staged part" not in line, f"staged parts vanished under a job: {line}"
            if line not in self.seen_errors:
                self.seen_errors.add(line)
                self.notes.append(f"round {r}: server logged: {line}")
        cleaned = [line for _, err in self.srv.logs[self.first_log + 1:] if err.exists()
                   for line in err.read_text(errors="replace").splitlines() if "interrupted work left behind" in line]
        if cleaned:
            self.cleanups += 1
            print(f"[kill-faults {self.backend}]   restart cleanup: {cleaned[0][-160:]}")
        self.check()
        assert not self.known.answers, "the server answered workload requests with errors:\n" + "\n".join(
            self.known.answers)

    def debris_after_kill(self) -> dict:
        """`seqstore fsck` on the data dir of the killed server, before the restart: a kill may
        leave orphans and staging files (the restart cleans them up), never a recorded file
        that is missing or damaged. Returns {kind: {what, with ids as N: count}}."""
        code, report, text = run_fsck(self.srv)
        assert code in (0, 1) and report is not None, f"fsck after the kill failed:\n{text}"
        out: dict = {}
        bad = []
        statuses = {}
        for p in report["problems"]:
            what = re.sub(r"\b[0-9]{6,}\b", "N", p["detail"])
            m = re.match(r"upload ([0-9]+) is completed and its read set settled", p["detail"])
            if m:
                # the known window: ingestion recorded the read set, the kill came before
                # discard_staging (or during it); or the test deleted the read set meanwhile
                if m.group(1) not in statuses:
                    rows = catalog_sql(self.srv, "SELECT r.status FROM uploads u JOIN read_sets r "
                                                 f"ON r.id = u.read_set_id WHERE u.id = '{m.group(1)}'")
                    statuses[m.group(1)] = rows[0][0] if rows else "?"
                what += f" (read set {statuses[m.group(1)]})"
            out.setdefault(p["kind"], collections.Counter())[what] += 1
            if p["kind"] not in ("orphan", "orphan_staging"):
                bad.append(p)
        assert not bad, (f"after the kill, recorded files are missing or damaged (a row was committed before "
                         f"its files were whole):\n{bad}\n{text}")
        for kind, whats in out.items():
            for what, n in whats.items():
                self.debris[(kind, what)] += n
        return {kind: dict(whats) for kind, whats in out.items()}

    def server_errors(self) -> list[str]:
        """ERROR lines and panics the servers of this round logged (before and after the kills)."""
        out = []
        for _, err in self.srv.logs[max(0, self.first_log):]:
            text = err.read_text(errors="replace") if err.exists() else ""
            out += [line[:600] for line in text.splitlines() if " ERROR " in line or "panicked" in line]
        return out

    def jobs_in_flight(self) -> dict:
        """{kind: unfinished jobs} in the catalog of the killed server: what the kill interrupted
        (or what had not started yet)."""
        rows = catalog_sql(self.srv, "SELECT kind, status, count(*) FROM jobs "
                                     "WHERE status IN ('SUBMITTED', 'IN_PROGRESS') GROUP BY kind, status")
        return {f"{kind}:{status}": int(n) for kind, status, n in rows}

    # -- after the restart --------------------------------------------------------------

    def settle(self, rng: random.Random) -> None:
        client = self.srv.client()
        for u in sorted(paginate(client, "list_multipart_read_set_uploads", "uploads", sequenceStoreId=self.store),
                        key=lambda u: u["name"]):
            self.resolve_upload(client, u, rng)

        def settled():
            rs_jobs = paginate(client, "list_read_set_import_jobs", "importJobs", sequenceStoreId=self.store)
            ref_jobs = paginate(client, "list_reference_import_jobs", "importJobs", referenceStoreId=self.ref_store)
            busy = paginate(client, "list_read_sets", "readSets", sequenceStoreId=self.store,
                            filter={"status": "PROCESSING_UPLOAD"})
            pending = [j["id"] for j in rs_jobs if j["status"] not in READ_SET_JOB_TERMINAL]
            pending += [j["id"] for j in ref_jobs if j["status"] not in JOB_TERMINAL]
            self.settle_state = f"jobs not finished: {pending}; read sets PROCESSING_UPLOAD: {[b['id'] for b in busy]}"
            return not pending and not busy and (rs_jobs, ref_jobs)

        deadline = time.monotonic() + SETTLE_TIMEOUT
        while True:
            done = settled()
            if done:
                break
            assert self.srv.alive(), f"the server died while settling\n{self.srv.describe_logs()}"
            assert time.monotonic() < deadline, f"not settled {SETTLE_TIMEOUT}s after the restart: {self.settle_state}"
            time.sleep(0.25)
        rs_jobs, ref_jobs = done
        listed = {j["id"] for j in rs_jobs}
        lost = sorted(self.known.read_set_jobs - listed)
        assert not lost, f"acknowledged read set import jobs missing from ListReadSetImportJobs: {lost}"
        listed = {j["id"] for j in ref_jobs}
        lost = sorted(self.known.reference_jobs - listed)
        assert not lost, f"acknowledged reference import jobs missing from ListReferenceImportJobs: {lost}"
        self.read_set_jobs = [j["id"] for j in rs_jobs]
        self.reference_jobs = [j["id"] for j in ref_jobs]

    def resolve_upload(self, client, u: dict, rng: random.Random) -> None:
        """An upload left IN_PROGRESS: its acknowledged parts must all be there; then the
        client resumes it (the missing parts, Complete) or aborts it."""
        name, upload_id = u["name"], u["uploadId"]
        st = self.known.uploads.get(name)
        assert st is not None, f"an upload the test never started is in progress: {u}"
        assert st.read_set_id is None, (
            f"upload {upload_id} ({name}) is IN_PROGRESS after its Complete was answered with read set "
            f"{st.read_set_id}")
        assert st.upload_id in (None, upload_id), f"{name}: created as {st.upload_id}, listed as {upload_id}"
        st.upload_id = upload_id
        src = self.inputs.read_sets[st.input]
        listed = {}
        for i in range(len(src.paths)):
            for p in paginate(client, "list_read_set_upload_parts", "parts", sequenceStoreId=self.store,
                              uploadId=upload_id, partSource=f"SOURCE{i + 1}"):
                listed[(p["partSource"], p["partNumber"])] = p["checksum"]
        lost = {k: v for k, v in st.parts.items() if listed.get(k) != v}
        assert not lost, (f"upload {upload_id} ({name}): acknowledged parts missing or changed after the restart: "
                          f"{sorted(lost)}; listed: {sorted(listed)}")
        if rng.random() < 0.5:
            st.resumed = True
            parts = []
            for i, path in enumerate(src.paths):
                source = f"SOURCE{i + 1}"
                for n, chunk in part_chunks(path, st.part_size):
                    checksum = listed.get((source, n))
                    # a part the kill left unanswered may be listed: then whole, with its checksum
                    assert checksum in (None, sha256_b64(chunk)), (
                        f"upload {upload_id} ({name}): {source} part {n} is listed with checksum {checksum}, "
                        f"the bytes sent have {sha256_b64(chunk)}")
                    if checksum is None:
                        checksum = client.upload_read_set_part(sequenceStoreId=self.store, uploadId=upload_id,
                                                               partSource=source, partNumber=n,
                                                               payload=chunk)["checksum"]
                    parts.append({"partSource": source, "partNumber": n, "checksum": checksum})
            extra = sorted(set(listed) - {(p["partSource"], p["partNumber"]) for p in parts})
            assert not extra, f"upload {upload_id}: parts the client never sent are listed: {extra}"
            done = client.complete_multipart_read_set_upload(sequenceStoreId=self.store, uploadId=upload_id,
                                                             parts=parts)
            st.read_set_id = done["readSetId"]
            self.known.read_sets[st.read_set_id] = name
        else:
            client.abort_multipart_read_set_upload(sequenceStoreId=self.store, uploadId=upload_id)
            st.aborted = True

    # -- invariants ---------------------------------------------------------------------

    def check(self) -> None:
        client = self.srv.client()
        s3 = s3_client(self.srv, self.srv.root_keys())
        k = self.known
        read_sets = paginate(client, "list_read_sets", "readSets", sequenceStoreId=self.store)
        by_id = {x["id"]: x for x in read_sets}
        dup = [n for n, c in collections.Counter(x["name"] for x in read_sets).items() if c > 1]
        assert not dup, f"several read sets with one name (one upload/import item made two): " \
                        f"{[(x['id'], x['name'], x['status']) for x in read_sets if x['name'] in dup]}"
        in_progress = paginate(client, "list_multipart_read_set_uploads", "uploads", sequenceStoreId=self.store)
        assert not in_progress, f"uploads still IN_PROGRESS after settling: {[u['uploadId'] for u in in_progress]}"

        self.resolve_unanswered_deletes(client, by_id, "read set")
        for x in read_sets:
            assert x["status"] in ("ACTIVE", "UPLOAD_FAILED"), f"read set {x['id']} ({x['name']}) is {x['status']}"
            assert x["id"] not in k.deleted_read_sets, (
                f"read set {x['id']} ({x['name']}) was deleted (acknowledged) and is back as {x['status']}")
            if x["status"] == "ACTIVE":
                self.verify_read_set(client, s3, x)
            else:
                meta = client.get_read_set_metadata(sequenceStoreId=self.store, id=x["id"])
                assert meta.get("statusMessage"), f"UPLOAD_FAILED read set {x['id']} ({x['name']}) without a message"
                assert INTERNAL_FAILURE not in meta["statusMessage"], (
                    f"read set {x['id']} ({x['name']}, a valid input) failed on the server's side: "
                    f"{meta['statusMessage']!r}; server errors: {self.server_errors()}")
                if x["id"] not in k.failed:
                    k.failed[x["id"]] = meta["statusMessage"]
                    self.notes.append(f"round {self.round}: {x['name']} ({x['id']}) UPLOAD_FAILED: "
                                      f"{meta['statusMessage']}")

        for rid, name in sorted(k.read_sets.items()):
            if rid not in k.deleted_read_sets:
                assert rid in by_id, f"read set {rid} ({name}) was acknowledged and is gone (not deleted by the test)"
                assert by_id[rid]["name"] == name, f"read set {rid}: name {by_id[rid]['name']!r}, made as {name!r}"
        for rid, name in sorted(k.deleted_read_sets.items()):
            try:
                meta = client.get_read_set_metadata(sequenceStoreId=self.store, id=rid)
            except botocore.exceptions.ClientError as exc:
                assert error_code(exc) == "ResourceNotFoundException", f"deleted read set {rid}: {exc}"
            else:
                pytest.fail(f"read set {rid} ({name}) was deleted (acknowledged) and GetReadSetMetadata answers "
                            f"{meta['status']}")
        names = {x["name"] for x in read_sets} | set(k.deleted_read_sets.values())
        for name, st in sorted(k.uploads.items()):
            if st.aborted:
                assert name not in names, f"upload {st.upload_id} ({name}) was aborted and made a read set"
            elif st.upload_id is not None:
                assert name in names, (
                    f"upload {st.upload_id} ({name}, round {st.round}) was created (acknowledged) and is neither in "
                    f"progress, nor aborted, nor a read set (Complete sent: {st.complete_sent})")

        for job_id in self.read_set_jobs:
            job = client.get_read_set_import_job(sequenceStoreId=self.store, id=job_id)
            assert job["status"] in READ_SET_JOB_TERMINAL, job
            for i, item in enumerate(job["sources"]):
                if item["status"] == "FINISHED":
                    rid = item.get("readSetId")
                    assert rid, f"read set import job {job_id} item {i} FINISHED without readSetId"
                    if rid not in k.read_sets:
                        k.read_sets[rid] = item["name"]
                    assert rid in by_id or rid in k.deleted_read_sets, (
                        f"read set import job {job_id} item {i} FINISHED as {rid}, which does not exist")
                else:
                    assert item["status"] == "FAILED", f"job {job_id} is {job['status']} with item {i} {item['status']}"
                    assert item.get("statusMessage"), f"job {job_id}: FAILED item {i} without statusMessage"
                    assert INTERNAL_FAILURE not in item["statusMessage"], (
                        f"read set import job {job_id} item {i} ({item['name']}, a valid input) failed on the server's "
                        f"side: {item['statusMessage']!r}; server errors: {self.server_errors()}")
                    note = f"read set import {job_id} item {i} ({item['name']}) FAILED: {item['statusMessage']}"
                    if note not in k.failed_items:
                        k.failed_items.append(note)
                        self.notes.append(f"round {self.round}: {note}")

        refs = paginate(client, "list_references", "references", referenceStoreId=self.ref_store)
        refs_by_id = {x["id"]: x for x in refs}
        self.resolve_unanswered_deletes(client, refs_by_id, "reference")
        dup = [n for n, c in collections.Counter(x["name"] for x in refs).items() if c > 1]
        assert not dup, f"several references with one name (one import item made two): {dup}"
        for job_id in self.reference_jobs:
            job = client.get_reference_import_job(referenceStoreId=self.ref_store, id=job_id)
            check_terminal_job(job)
            for i, item in enumerate(job["sources"]):
                if item["status"] == "FINISHED":
                    ref_id = item["referenceId"]
                    k.references.setdefault(ref_id, item["name"])
                    assert ref_id in refs_by_id or ref_id in k.deleted_references, (
                        f"reference import job {job_id} item {i} FINISHED as {ref_id}, which does not exist")
                else:
                    assert INTERNAL_FAILURE not in item["statusMessage"], (
                        f"reference import job {job_id} item {i} ({item['name']}, a valid input) failed on the "
                        f"server's side: {item['statusMessage']!r}; server errors: {self.server_errors()}")
                    note = f"reference import {job_id} item {i} ({item['name']}) FAILED: {item['statusMessage']}"
                    if note not in k.failed_items:
                        k.failed_items.append(note)
                        self.notes.append(f"round {self.round}: {note}")
        for ref in refs:
            assert ref["id"] not in k.deleted_references, f"reference {ref['id']} was deleted and is back"
            assert ref["status"] == "ACTIVE", ref
            self.verify_reference(client, s3, ref)
        for ref_id, name in sorted(k.references.items()):
            if ref_id not in k.deleted_references:
                assert ref_id in refs_by_id, f"reference {ref_id} ({name}) was acknowledged and is gone"
        for ref_id, name in sorted(k.deleted_references.items()):
            try:
                meta = client.get_reference_metadata(referenceStoreId=self.ref_store, id=ref_id)
            except botocore.exceptions.ClientError as exc:
                assert error_code(exc) == "ResourceNotFoundException", f"deleted reference {ref_id}: {exc}"
            else:
                pytest.fail(f"reference {ref_id} ({name}) was deleted and GetReferenceMetadata answers {meta['status']}")

        self.live_read_sets = {x["id"]: x["name"] for x in read_sets}
        self.live_references = {x["id"]: x["name"] for x in refs}
        counts = collections.Counter(x["status"] for x in read_sets)
        print(f"[kill-faults {self.backend}]   settled: read sets {dict(counts)}, deleted {len(k.deleted_read_sets)}, "
              f"references {len(refs)} (deleted {len(k.deleted_references)}), uploads "
              f"{sum(1 for s in k.uploads.values() if s.resumed)} resumed / "
              f"{sum(1 for s in k.uploads.values() if s.aborted)} aborted")

    def resolve_unanswered_deletes(self, client, listed: dict, kind: str) -> None:
        """A delete the kill left without an answer deleted its resource or did not: still
        listed means not; otherwise it is held to what an acknowledged delete is."""
        k = self.known
        pending = k.unanswered_deletes[kind]
        deleted = k.deleted_read_sets if kind == "read set" else k.deleted_references
        names = {**self.live_read_sets, **k.read_sets} if kind == "read set" else {**self.live_references,
                                                                                     **k.references}
        for rid in sorted(pending):
            if rid not in listed:
                deleted[rid] = names.get(rid, "?")
                self.notes.append(f"round {self.round}: the unanswered delete of {kind} {rid} ({deleted[rid]}) "
                                  "took effect")
        pending.clear()

    def verify_read_set(self, client, s3, x: dict) -> None:
        rid, name = x["id"], x["name"]
        src = self.inputs.read_sets[input_of(name)]
        meta = client.get_read_set_metadata(sequenceStoreId=self.store, id=rid)
        want = src.etag(FAMILY)
        assert meta["etag"] == want, f"read set {rid} ({name}): ETag {meta['etag']}, the tools say {want}"
        reads, bases = src.counts()
        info = meta["sequenceInformation"]
        assert (info["totalReadCount"], info["totalBaseCount"]) == (reads, bases), (
            f"read set {rid} ({name}): counts {info}, the tools say {reads} reads, {bases} bases")
        expected = {"source1"} | ({"source2"} if src.paired else set()) | ({"index"} if src.file_type == "BAM" else set())
        assert set(meta["files"]) == expected, f"read set {rid} ({name}): files {sorted(meta['files'])}"
        d = self.tmp / "dl"
        d.mkdir(exist_ok=True)
        try:
            for f in sorted(expected):
                finfo = meta["files"][f]
                path = download(client, self.store, rid, FILE_PARAM[f], finfo, d / f"{rid}-{f}")
                md5 = md5_file(path)
                etag, length = s3_head_etag(s3, file_uri(meta, f))
                assert (md5, path.stat().st_size) == (etag, length), (
                    f"read set {rid} ({name}) {f}: GetReadSet bytes have MD5 {md5} ({path.stat().st_size} bytes), "
                    f"the S3 endpoint says ETag {etag} ({length} bytes)")
                if f != "index" and self.known.verified_read_sets.get((rid, f)) != md5:
                    got = content_etag(src, path)
                    n = f.removeprefix("source")
                    assert got == want[f"source{n}"], (
                        f"read set {rid} ({name}) {f}: the stored file decodes to ETag {got}, expected "
                        f"{want[f'source{n}']}")
                    self.known.verified_read_sets[(rid, f)] = md5
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def verify_reference(self, client, s3, ref: dict) -> None:
        ref_id, name = ref["id"], ref["name"]
        if name == MAIN_REFERENCE:
            md5, fai = self.main_fasta_md5, self.main_fai
        else:
            fa = self.inputs.fastas[input_of(name)]
            md5, fai = fa.md5, fa.fai
        meta = client.get_reference_metadata(referenceStoreId=self.ref_store, id=ref_id)
        assert meta["md5"] == md5, f"reference {ref_id} ({name}): md5 {meta['md5']}, md5sum says {md5}"
        if self.known.verified_references.get(ref_id) == "ok":
            # its bytes were compared already; the S3 ETags must still be there
            for f in ("source", "index"):
                s3_head_etag(s3, file_uri(meta, f))
            return
        for f, param in (("source", "SOURCE"), ("index", "INDEX")):
            info = meta["files"][f]
            body = b"".join(get_part(client, self.ref_store, ref_id, n, param)[0]
                            for n in range(1, info["totalParts"] + 1))
            etag, length = s3_head_etag(s3, file_uri(meta, f))
            assert (md5_hex(body), len(body)) == (etag, length), (
                f"reference {ref_id} ({name}) {f}: bytes MD5 {md5_hex(body)} ({len(body)} bytes), S3 ETag {etag} "
                f"({length} bytes)")
            if f == "source":
                assert md5_hex(body) == md5, f"reference {ref_id} ({name}): source bytes differ from the FASTA"
            else:
                assert body == fai, f"reference {ref_id} ({name}): index differs from samtools faidx"
        self.known.verified_references[ref_id] = "ok"

    # -- with the server stopped --------------------------------------------------------

    def checkpoint(self, final: bool = False) -> None:
        code = self.srv.stop()
        problems = []
        if code != 0:
            problems.append(f"SIGTERM: seqstore serve exited {code}\n{self.srv.describe_logs()}")
        left = staging_left(self.srv.data_dir)
        if left:
            problems.append(f"files left under blobs/staging/ ({len(left)}): {left[:40]}")
        for kind, store, live in (("sequenceStore", self.store, self.live_read_sets),
                                  ("referenceStore", self.ref_store, self.live_references)):
            dirs = resource_dirs_with_files(self.srv.data_dir, ACCOUNT_ID, kind, store)
            orphans = {i: files for i, files in dirs.items() if i not in live}
            if orphans:
                why = {i: ("deleted by the test" if i in self.known.deleted_read_sets
                           or i in self.known.deleted_references else "never listed") for i in orphans}
                problems.append(f"files of {kind} {store} resources that are not live: "
                                f"{ {i: (why[i], f) for i, f in orphans.items()} }")
            temp = {i: [f for f in files if "#" in f] for i, files in dirs.items()}
            temp = {i: f for i, f in temp.items() if f}
            if temp:
                self.notes.append(f"round {self.round}: temporary files of interrupted writes in live {kind} "
                                  f"folders: {temp}")
        code, report, text = run_fsck(self.srv, *(["--verify"] if final else []))
        if code != 0 or not report or report.get("clean") is not True:
            problems.append(f"seqstore fsck is not clean:\n{text}")
        else:
            print(f"[kill-faults {self.backend}]   fsck clean: {report.get('checked')}")
        self.srv.start()
        assert not problems, "\n\n".join(problems)

    def describe(self, r: int, rounds: int) -> str:
        last = self.srv.logs[-2:] if self.srv.logs else []
        logs = []
        for out, err in last:
            for p in (out, err):
                if p.exists():
                    logs.append(f"--- {p.name} ---\n{p.read_text(errors='replace')[-5000:]}")
        return (f"seed={self.seed} backend={self.backend} round={r}/{rounds} (replay: SEQSTORE_KILL_SEED={self.seed} "
                f"SEQSTORE_KILL_ROUNDS={rounds} pytest tests/e2e/test_kill_faults.py -k {self.backend})\n"
                f"data dir: {self.srv.data_dir}\n" + "\n".join(logs))


def test_seeded_kills_leave_a_consistent_store(server_factory, backend, kill_inputs, tmp_path):
    assert ROUNDS >= 1
    srv = server_factory.new()
    run = KillRun(srv, kill_inputs, backend, SEED, tmp_path)
    print(f"[kill-faults {backend}] seed={SEED} rounds={ROUNDS}")
    started = time.monotonic()
    r = 0
    try:
        run.setup()
        for r in range(1, ROUNDS + 1):
            run.run_round(r, ROUNDS)
            if r % CHECK_EVERY == 0 or r == ROUNDS:
                run.checkpoint(final=r == ROUNDS)
    except BaseException as exc:  # noqa: BLE001 - add the seed, round and logs to anything
        if isinstance(exc, KeyboardInterrupt):
            raise
        pytest.fail(f"{type(exc).__name__}: {exc}\n\n{run.describe(r, ROUNDS)}", pytrace=True)
    finally:
        for note in run.notes:
            print(f"[kill-faults {backend}] note: {note}")
    print(f"[kill-faults {backend}] {ROUNDS} rounds, {run.kills} kills in {time.monotonic() - started:.0f}s, seed={SEED}; "
          f"{run.cleanups} restarts removed leftovers")
    for (kind, what), n in sorted(run.debris.items()):
        print(f"[kill-faults {backend}] left behind by the kills (fsck before the restart): {n} x {kind}: {what}")
