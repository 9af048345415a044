"""Helpers shared by the end-to-end tests: run the real `seqstore` binary, make clients."""

from __future__ import annotations

import configparser
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import itertools
import subprocess
import sys
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from pathlib import Path

import boto3
import botocore.config
import botocore.exceptions
import pytest

REGION = "us-east-1"
ACCOUNT_ID = "111122223333"
OTHER_ACCOUNT_ID = "222233334444"
ROOT_PROFILE = "seqstore"

STORE_ID_RE = re.compile(r"^[0-9]{10}$")
# ISO 8601 / RFC 3339 in UTC with milliseconds, as the server must emit on the wire (spec E31).
WIRE_TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")

REPO_ROOT = Path(__file__).resolve().parents[2]

# Variables of the developer's own setup that would change what boto3 / the CLI send or how
# the server is configured (SEQSTORE_* are configuration keys of `seqstore`).
_AWS_ENV_PREFIXES = ("AWS_", "SEQSTORE_")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def clean_env(**extra: str) -> dict[str, str]:
    """The test process environment without AWS_* / SEQSTORE_* settings, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_AWS_ENV_PREFIXES)}
    env.pop("HTTP_PROXY", None)
    env.pop("http_proxy", None)
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    env.update(extra)
    return env


def seqstore_bin() -> Path:
    configured = os.environ.get("SEQSTORE_BIN")
    # Absolute: servers run with their work dir as cwd.
    path = Path(configured).resolve() if configured else REPO_ROOT / "target" / "debug" / "seqstore"
    if not path.is_file():
        pytest.fail(
            f"seqstore binary not found at {path}: run `cargo build --bin seqstore` "
            "or set SEQSTORE_BIN"
        )
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def unique(prefix: str = "e2e") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def new_account_id() -> str:
    while True:
        candidate = str(100000000000 + uuid.uuid4().int % 900000000000)
        if candidate not in (ACCOUNT_ID, OTHER_ACCOUNT_ID):
            return candidate


@dataclass(frozen=True)
class Keys:
    access_key_id: str
    secret_access_key: str


def parse_credentials_ini(text: str) -> dict[str, Keys]:
    parser = configparser.ConfigParser()
    parser.read_string(text)
    out = {}
    for section in parser.sections():
        s = parser[section]
        if "aws_access_key_id" in s and "aws_secret_access_key" in s:
            out[section] = Keys(s["aws_access_key_id"], s["aws_secret_access_key"])
    return out


def parse_exports(stdout: str) -> dict[str, str]:
    """`export NAME=VALUE` lines printed by `seqstore serve`, as a dict."""
    exports = {}
    for line in stdout.splitlines():
        m = re.match(r"^\s*export\s+([A-Za-z_][A-Za-z0-9_]*)=(.*?)\s*$", line)
        if m:
            value = m.group(2)
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            exports[m.group(1)] = value
    return exports


# ---------------------------------------------------------------------------------------
# PostgreSQL: one fresh database per server
# ---------------------------------------------------------------------------------------


def postgres_admin_url() -> str | None:
    return os.environ.get("SEQSTORE_TEST_POSTGRES_URL") or None


def _psql(admin_url: str, sql: str) -> None:
    psql = shutil.which("psql")
    if psql is None:
        pytest.fail("psql is needed to create test databases (apt-get install postgresql-client)")
    subprocess.run(
        [psql, admin_url, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql],
        check=True,
        capture_output=True,
        timeout=60,
    )


def create_postgres_database(admin_url: str) -> tuple[str, str]:
    """Create an empty database; return (name, its URL)."""
    name = f"seqstore_e2e_{uuid.uuid4().hex[:16]}"
    _psql(admin_url, f'CREATE DATABASE "{name}"')
    parts = urllib.parse.urlsplit(admin_url)
    return name, urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def drop_postgres_database(admin_url: str, name: str) -> None:
    with contextlib.suppress(Exception):
        _psql(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---------------------------------------------------------------------------------------
# The server process
# ---------------------------------------------------------------------------------------


class Server:
    """One `seqstore serve` process with its data dir; logs go to files next to it."""

    def __init__(self, workdir: Path, backend: str, catalog_url: str | None, env: dict | None = None,
                 config: str | None = None):
        self.workdir = workdir
        # A TOML config file (`--config`), for what environment variables cannot say.
        self.config = config
        self.data_dir = workdir / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.backend = backend
        self.catalog_url = catalog_url
        self.extra_env = dict(env or {})
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.s3_port = 0
        self.ga4gh_port = 0
        self.admin_port = 0
        self.starts = 0
        self._stdout_path: Path | None = None
        self._stderr_path: Path | None = None
        self.logs: list[tuple[Path, Path]] = []

    # -- lifecycle ----------------------------------------------------------------------

    def catalog_args(self) -> list[str]:
        return ["--catalog", self.catalog_url] if self.catalog_url else []

    def start(self, timeout: float = 60.0) -> "Server":
        assert self.proc is None, "already running"
        self.port = free_port()
        self.s3_port = free_port()
        while self.s3_port == self.port:
            self.s3_port = free_port()
        self.ga4gh_port = free_port()
        while self.ga4gh_port in (self.port, self.s3_port):
            self.ga4gh_port = free_port()
        self.admin_port = free_port()
        while self.admin_port in (self.port, self.s3_port, self.ga4gh_port):
            self.admin_port = free_port()
        self.starts += 1
        self._stdout_path = self.workdir / f"serve-{self.starts}.stdout"
        self._stderr_path = self.workdir / f"serve-{self.starts}.stderr"
        self.logs.append((self._stdout_path, self._stderr_path))
        cmd = [
            str(seqstore_bin()),
            "serve",
            "--data-dir", str(self.data_dir),
            "--listen", f"127.0.0.1:{self.port}",
            "--s3-listen", f"127.0.0.1:{self.s3_port}",
            "--ga4gh-listen", f"127.0.0.1:{self.ga4gh_port}",
            "--admin-listen", f"127.0.0.1:{self.admin_port}",
            "--region", REGION,
            "--account-id", ACCOUNT_ID,
            *self.catalog_args(),
        ]
        if self.config is not None:
            config_file = self.workdir / "seqstore.toml"
            config_file.write_text(self.config)
            cmd += ["--config", str(config_file)]
        env = clean_env(RUST_BACKTRACE="1", **self.extra_env)
        with open(self._stdout_path, "wb") as out, open(self._stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env, cwd=self.workdir
            )
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"seqstore serve exited with {self.proc.returncode} before listening\n"
                    + self.describe_logs()
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(
                    f"seqstore serve did not listen on 127.0.0.1:{self.port} within {timeout}s\n"
                    + self.describe_logs()
                )
            time.sleep(0.05)
        # Users read the credentials file once the server is up; give it a moment at most.
        if "SEQSTORE_ROOT_ACCESS_KEY_ID" not in self.extra_env:
            while not self.credentials_path.exists() and time.monotonic() < deadline:
                time.sleep(0.05)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        """Signal the server and wait; returns its exit code (killed after `timeout`)."""
        assert self.proc is not None, "not running"
        proc = self.proc
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
                self.proc = None
                raise RuntimeError(f"seqstore serve ignored signal {sig} for {timeout}s; killed")
        self.proc = None
        return proc.returncode

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    # -- what a user sees ---------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def credentials_path(self) -> Path:
        return self.data_dir / "credentials"

    def stdout(self) -> str:
        return self._stdout_path.read_text(errors="replace") if self._stdout_path else ""

    def stderr(self) -> str:
        return self._stderr_path.read_text(errors="replace") if self._stderr_path else ""

    def all_output(self) -> str:
        return "".join(p.read_text(errors="replace") for pair in self.logs for p in pair if p.exists())

    def describe_logs(self, tail: int = 4000) -> str:
        return (
            f"--- stdout ---\n{self.stdout()[-tail:]}\n--- stderr ---\n{self.stderr()[-tail:]}"
        )

    def exports(self) -> dict[str, str]:
        return parse_exports(self.stdout())

    def root_keys(self) -> Keys:
        if "SEQSTORE_ROOT_ACCESS_KEY_ID" in self.extra_env:
            return Keys(
                self.extra_env["SEQSTORE_ROOT_ACCESS_KEY_ID"],
                self.extra_env["SEQSTORE_ROOT_SECRET_ACCESS_KEY"],
            )
        profiles = parse_credentials_ini(self.credentials_path.read_text())
        assert ROOT_PROFILE in profiles, f"no [{ROOT_PROFILE}] profile in {self.credentials_path}"
        return profiles[ROOT_PROFILE]

    def run_cli(self, *args: str, timeout: float = 60.0, env: dict | None = None) -> subprocess.CompletedProcess:
        """Run `seqstore ARGS...` (not `serve`), output captured as text."""
        return subprocess.run(
            [str(seqstore_bin()), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=clean_env(**(env or {})),
            cwd=self.workdir,
        )

    def fsck(self, *args: str, timeout: float = 300.0) -> tuple[int, dict]:
        """`seqstore fsck --json ARGS...` on this server's data dir, catalog and config:
        (exit code, report). Exit codes other than 0 (clean) and 1 (problems) fail."""
        config = ["--config", str(self.workdir / "seqstore.toml")] if self.config is not None else []
        res = self.run_cli("fsck", "--data-dir", str(self.data_dir), *self.catalog_args(), *config,
                           "--json", *args, timeout=timeout)
        assert res.returncode in (0, 1), f"seqstore fsck failed ({res.returncode}):\n{res.stderr}"
        return res.returncode, json.loads(res.stdout)

    def create_keys(self, account_id: str) -> tuple[Keys, str]:
        """`seqstore keys create` for `account_id`; returns the keys and the printed text."""
        res = self.run_cli(
            "keys", "create", "--account-id", account_id,
            "--data-dir", str(self.data_dir), *self.catalog_args(),
        )
        assert res.returncode == 0, f"seqstore keys create failed: {res.returncode}\n{res.stderr}"
        profiles = parse_credentials_ini(res.stdout)
        section = f"seqstore-{account_id}"
        assert section in profiles, f"expected a [{section}] block, got:\n{res.stdout}"
        return profiles[section], res.stdout

    def client(self, keys: Keys | None = None, *, validate: bool = True, **config):
        return make_client(self.endpoint, keys or self.root_keys(), validate=validate, **config)

    def spread(self, client, service: str):
        """Where there are several nodes, `client`'s requests go to them in turn; here, one."""
        return client

    def blob_keys(self, prefix: str) -> list[str]:
        """Keys of the stored objects under `prefix` (files of the local blob store)."""
        root = self.data_dir / "blobs"
        base = root / prefix
        if not base.exists():
            return []
        return sorted(str(p.relative_to(root)) for p in base.rglob("*") if p.is_file())


class Cluster:
    """Nodes of one installation: `seqstore serve` processes on one PostgreSQL catalog and one
    blob bucket (moto), with the same root key and each its own data dir: the scale-out shape.

    It stands in for a `Server`: clients from `client()` (and boto3 clients passed to
    `spread`) send their requests to the nodes in turn; a tool given one address gets node 0's
    omics endpoint (`endpoint`, `port`) and node 1's S3 endpoint (`s3_port`), so what is written
    through one node is read through the other; `seqstore` admin commands run with node 0's
    data dir and configuration."""

    def __init__(self, workdir: Path, catalog_url: str, blob_s3: "MotoS3", env: dict | None = None,
                 config: str | None = None, nodes: int = 2):
        self.workdir = workdir
        self.backend = "postgres"
        self.catalog_url = catalog_url
        self._config = config
        self.blob_s3 = blob_s3
        self.bucket = f"seqstore-blobs-{uuid.uuid4().hex[:12]}"
        blob_s3.client().create_bucket(Bucket=self.bucket)
        self.blob_env = {
            "SEQSTORE_BLOB__BACKEND": "s3",
            "SEQSTORE_BLOB__BUCKET": self.bucket,
            "SEQSTORE_BLOB__ENDPOINT": blob_s3.endpoint,
            "SEQSTORE_BLOB__REGION": REGION,
            "SEQSTORE_BLOB__PATH_STYLE": "true",
            "SEQSTORE_BLOB__ACCESS_KEY_ID": MOTO_KEYS.access_key_id,
            "SEQSTORE_BLOB__SECRET_ACCESS_KEY": MOTO_KEYS.secret_access_key,
        }
        root = Keys("AKIA" + uuid.uuid4().hex[:16].upper(), uuid.uuid4().hex + uuid.uuid4().hex[:8])
        self.extra_env = {
            **(env or {}),
            **self.blob_env,
            "SEQSTORE_ROOT_ACCESS_KEY_ID": root.access_key_id,
            "SEQSTORE_ROOT_SECRET_ACCESS_KEY": root.secret_access_key,
        }
        self.nodes = [Server(workdir / f"node{i}", "postgres", catalog_url, env=self.extra_env, config=config)
                      for i in range(nodes)]
        self.data_dir = self.nodes[0].data_dir
        self._turn = itertools.count()

    @property
    def config(self) -> str | None:
        return self._config

    @config.setter
    def config(self, text: str | None) -> None:
        """Every node's configuration file (read at their next start)."""
        self._config = text
        for node in self.nodes:
            node.config = text

    # -- lifecycle: every node ------------------------------------------------------------

    def start(self, timeout: float = 60.0) -> "Cluster":
        for node in self.nodes:
            node.extra_env.update(self.extra_env)
            if node.proc is None:
                node.start(timeout)
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        codes = [node.stop(sig, timeout) for node in self.nodes if node.proc is not None]
        return max(codes, default=0)

    def kill(self) -> None:
        for node in self.nodes:
            node.kill()

    def alive(self) -> bool:
        return all(node.alive() for node in self.nodes)

    @property
    def proc(self):
        """A process that died on its own, else node 0's (for the factory's checks)."""
        dead = [n.proc for n in self.nodes if n.proc is not None and n.proc.poll() is not None]
        return dead[0] if dead else self.nodes[0].proc

    # -- what a user sees -----------------------------------------------------------------

    @property
    def port(self) -> int:
        return self.nodes[0].port

    @property
    def s3_port(self) -> int:
        return self.nodes[-1].s3_port

    @property
    def ga4gh_port(self) -> int:
        return self.nodes[-1].ga4gh_port

    @property
    def endpoint(self) -> str:
        return self.nodes[0].endpoint

    def stdout(self) -> str:
        return self.nodes[0].stdout()

    def stderr(self) -> str:
        return "".join(n.stderr() for n in self.nodes)

    def all_output(self) -> str:
        return "".join(n.all_output() for n in self.nodes)

    def describe_logs(self, tail: int = 4000) -> str:
        return "\n".join(f"=== node {i} ===\n{n.describe_logs(tail)}" for i, n in enumerate(self.nodes))

    def exports(self) -> dict[str, str]:
        """Node 0's export lines, but the S3 endpoint of `s3_port`; the root key they name by
        variable is written to a credentials file, as a user of a configured root key would."""
        exports = self.nodes[0].exports()
        exports.pop("AWS_ACCESS_KEY_ID", None)
        exports.pop("AWS_SECRET_ACCESS_KEY", None)
        path = self.workdir / "credentials"
        keys = self.root_keys()
        path.write_text(f"[{ROOT_PROFILE}]\naws_access_key_id = {keys.access_key_id}\n"
                        f"aws_secret_access_key = {keys.secret_access_key}\n")
        exports["AWS_ENDPOINT_URL_S3"] = f"http://127.0.0.1:{self.s3_port}"
        exports["AWS_SHARED_CREDENTIALS_FILE"] = str(path)
        exports["AWS_PROFILE"] = ROOT_PROFILE
        return exports

    def root_keys(self) -> Keys:
        return self.nodes[0].root_keys()

    @property
    def credentials_path(self) -> Path:
        self.exports()
        return self.workdir / "credentials"

    def catalog_args(self) -> list[str]:
        return ["--catalog", self.catalog_url]

    def run_cli(self, *args: str, timeout: float = 60.0, env: dict | None = None) -> subprocess.CompletedProcess:
        return self.nodes[0].run_cli(*args, timeout=timeout, env={**self.blob_env, **(env or {})})

    def fsck(self, *args: str, timeout: float = 300.0) -> tuple[int, dict]:
        config = ["--config", str(self.nodes[0].workdir / "seqstore.toml")] if self.config is not None else []
        res = self.run_cli("fsck", "--data-dir", str(self.data_dir), *self.catalog_args(), *config,
                           "--json", *args, timeout=timeout)
        assert res.returncode in (0, 1), f"seqstore fsck failed ({res.returncode}):\n{res.stderr}"
        return res.returncode, json.loads(res.stdout)

    def create_keys(self, account_id: str) -> tuple[Keys, str]:
        return Server.create_keys(self, account_id)

    def client(self, keys: Keys | None = None, *, validate: bool = True, **config):
        return self.spread(make_client(self.endpoint, keys or self.root_keys(), validate=validate, **config),
                           "omics")

    def spread(self, client, service: str):
        """Sends `client`'s requests to the nodes in turn (`service`: `omics` or `s3`)."""
        ports = [n.port if service == "omics" else n.s3_port for n in self.nodes]
        return spread_over(client, service, ports, self._turn)

    def blob_keys(self, prefix: str) -> list[str]:
        """Keys of the stored objects under `prefix`, listed from the bucket."""
        s3 = self.blob_s3.client()
        keys = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            keys += [o["Key"] for o in page.get("Contents", [])]
        return sorted(keys)


def spread_over(client, service: str, ports: list[int], turn):
    """Sends `client`'s requests to the loopback `ports` in turn (`service`: `omics` or `s3`),
    counting turns with `turn`, an `itertools.count` that clients may share (its `next` is one
    atomic step). The URL changes before the request is signed, so each node sees a request
    signed for itself."""

    def next_node(request, **_):
        port = ports[next(turn) % len(ports)]
        parts = urllib.parse.urlsplit(request.url)
        if parts.hostname == "127.0.0.1":
            request.url = urllib.parse.urlunsplit(parts._replace(netloc=f"127.0.0.1:{port}"))

    client.meta.events.register(f"before-sign.{service}", next_node)
    return client


def refused_within(seconds: float, call) -> tuple[float, str]:
    """Calls `call` until it raises a ClientError: (how long that took, the error code). Fails
    if `call` still succeeds after `seconds`."""
    started = time.monotonic()
    while True:
        try:
            call()
        except botocore.exceptions.ClientError as exc:
            return time.monotonic() - started, exc.response["Error"]["Code"]
        assert time.monotonic() - started < seconds, f"still allowed after {seconds}s"
        time.sleep(0.05)


def make_client(endpoint: str, keys: Keys, *, validate: bool = True, **config):
    cfg = dict(
        inject_host_prefix=False,
        parameter_validation=validate,
        retries={"total_max_attempts": 1},
        connect_timeout=5,
        read_timeout=60,
    )
    cfg.update(config)
    session = boto3.session.Session(
        aws_access_key_id=keys.access_key_id,
        aws_secret_access_key=keys.secret_access_key,
        region_name=REGION,
    )
    return session.client("omics", endpoint_url=endpoint, config=botocore.config.Config(**cfg))


# ---------------------------------------------------------------------------------------
# Assertions
# ---------------------------------------------------------------------------------------


class AwsError:
    def __init__(self):
        self.exc: botocore.exceptions.ClientError | None = None

    @property
    def code(self) -> str:
        return self.exc.response["Error"]["Code"]

    @property
    def message(self) -> str:
        return self.exc.response["Error"].get("Message", "")

    @property
    def status(self) -> int:
        return self.exc.response["ResponseMetadata"]["HTTPStatusCode"]

    @property
    def headers(self) -> dict:
        return self.exc.response["ResponseMetadata"]["HTTPHeaders"]


@contextlib.contextmanager
def raises_aws(code: str, status: int | None = None, message_contains: str | list[str] | None = None):
    """Expect a botocore ClientError with this error code (and HTTP status, message parts)."""
    err = AwsError()
    try:
        yield err
    except botocore.exceptions.ClientError as exc:
        err.exc = exc
    else:
        pytest.fail(f"expected {code}, but the call succeeded")
    assert err.code == code, f"expected {code}, got {err.code}: {err.message!r} (HTTP {err.status})"
    if status is not None:
        assert err.status == status, f"{code}: expected HTTP {status}, got {err.status}"
    assert err.headers.get("x-amzn-errortype") == code, (
        f"x-amzn-ErrorType header: expected {code!r}, got {err.headers.get('x-amzn-errortype')!r}"
    )
    assert err.headers.get("x-amzn-requestid"), "error response without x-amzn-RequestId"
    assert err.message, f"{code} without a message"
    parts = [message_contains] if isinstance(message_contains, str) else (message_contains or [])
    for part in parts:
        assert part in err.message, f"{code} message {err.message!r} does not mention {part!r}"


class RawCapture:
    """Records the raw HTTP responses a boto3 client receives."""

    def __init__(self, client):
        self.client = client
        self.responses: list[dict] = []

    def _hook(self, http_response, parsed, model, **kwargs):
        self.responses.append(
            {
                "operation": model.name,
                "status": http_response.status_code,
                "headers": {k.lower(): v for k, v in http_response.headers.items()},
                "body": http_response.content,
            }
        )

    def __enter__(self):
        self.client.meta.events.register("after-call.omics", self._hook)
        return self

    def __exit__(self, *exc):
        self.client.meta.events.unregister("after-call.omics", self._hook)
        return False

    @property
    def last(self) -> dict:
        assert self.responses, "no response captured"
        return self.responses[-1]

    def last_json(self) -> dict:
        return json.loads(self.last["body"] or b"{}")


def assert_wire_timestamp(value, field: str) -> None:
    assert isinstance(value, str), f"{field} on the wire is {value!r}, expected an ISO 8601 string"
    assert WIRE_TIMESTAMP_RE.match(value), (
        f"{field} {value!r} is not ISO 8601 UTC with milliseconds and Z (e.g. 2024-05-01T10:11:12.345Z)"
    )


def python() -> str:
    return sys.executable


# ---------------------------------------------------------------------------------------
# Raw HTTP (for what boto3 would never send)
# ---------------------------------------------------------------------------------------

_HTTP = None


def http():
    """A urllib3 pool that neither retries nor follows redirects."""
    global _HTTP
    if _HTTP is None:
        import urllib3

        _HTTP = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=5, read=60))
    return _HTTP


def signed_request(
    server,
    method: str,
    path: str,
    *,
    body: bytes = b"",
    keys: Keys | None = None,
    headers: dict | None = None,
    sign: bool = True,
    send_body: bytes | None = None,
    region: str = REGION,
    service: str = "omics",
):
    """Send one SigV4-signed request (botocore's signer) with urllib3; returns the response.

    `send_body` lets the bytes on the wire differ from the signed ones.
    """
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials

    keys = keys or server.root_keys()
    hdrs = {"Content-Type": "application/json"} if body else {}
    hdrs.update(headers or {})
    req = botocore.awsrequest.AWSRequest(
        method=method, url=f"{server.endpoint}{path}", data=body, headers=hdrs
    )
    if sign:
        creds = botocore.credentials.Credentials(keys.access_key_id, keys.secret_access_key)
        botocore.auth.SigV4Auth(creds, service, region).add_auth(req)
    wire = body if send_body is None else send_body
    return http().request(
        method, req.url, body=wire or None, headers=dict(req.headers.items())
    )


def error_type(resp) -> str | None:
    return resp.headers.get("x-amzn-ErrorType")


def json_body(resp) -> dict:
    import json as _json

    return _json.loads(resp.data or b"{}")


# ---------------------------------------------------------------------------------------
# The user's own S3 (moto[server]): where import jobs read their sources
# ---------------------------------------------------------------------------------------

MOTO_KEYS = Keys("testing", "testing")


class MotoS3:
    """`python3 -m moto.server` on 127.0.0.1: a real S3 protocol endpoint, any credentials
    (`env` may turn moto's IAM checks on: `INITIAL_NO_AUTH_ACTION_COUNT`)."""

    def __init__(self, workdir: Path, env: dict[str, str] | None = None):
        self.workdir = workdir
        self.env = dict(env or {})
        self.port = 0
        self.proc: subprocess.Popen | None = None
        self._log: Path = workdir / "moto.log"

    def start(self, timeout: float = 60.0) -> "MotoS3":
        self.port = free_port()
        with open(self._log, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=clean_env(**self.env), cwd=self.workdir,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"moto.server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if http().request("GET", self.endpoint + "/").status == 200:
                    return self
            except Exception:  # noqa: BLE001 - not listening yet
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"moto.server did not answer within {timeout}s:\n{self.log()}")
            time.sleep(0.1)

    def stop(self) -> str | None:
        """Stop moto; returns a complaint if it had died on its own."""
        problem = None
        if self.proc is not None:
            if self.proc.poll() is not None:
                problem = f"moto.server died during the tests (exit {self.proc.returncode}):\n{self.log()}"
            else:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=10)
            self.proc = None
        return problem

    def log(self, tail: int = 4000) -> str:
        return self._log.read_text(errors="replace")[-tail:] if self._log.exists() else ""

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def server_env(self) -> dict[str, str]:
        """What `seqstore serve` needs to read sources from this S3, as the README says to
        configure it: no `path_style` (an IP endpoint is addressed path-style by default)."""
        return {
            "SEQSTORE_SOURCES__S3__ENDPOINT": self.endpoint,
            "SEQSTORE_SOURCES__S3__REGION": REGION,
            "SEQSTORE_SOURCES__S3__ACCESS_KEY_ID": MOTO_KEYS.access_key_id,
            "SEQSTORE_SOURCES__S3__SECRET_ACCESS_KEY": MOTO_KEYS.secret_access_key,
        }

    def client(self):
        session = boto3.session.Session(
            aws_access_key_id=MOTO_KEYS.access_key_id,
            aws_secret_access_key=MOTO_KEYS.secret_access_key,
            region_name=REGION,
        )
        return session.client(
            "s3",
            endpoint_url=self.endpoint,
            config=botocore.config.Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 2}),
        )
