"""Fixtures: one real `seqstore serve` per catalog backend per session, clients for it.

Every server reads import sources from one moto[server] S3 per session (`moto_s3`), the
user's own bucket as far as seqstore knows.

Environment:
  SEQSTORE_BIN                 the binary (default: <repo>/target/debug/seqstore)
  SEQSTORE_TEST_POSTGRES_URL   an admin URL of a PostgreSQL server; each server gets a fresh
                               database. Unset: the `postgres` variants are skipped locally
                               and fail when CI=true.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from e2e_support import (
    ACCOUNT_ID,
    Cluster,
    OTHER_ACCOUNT_ID,
    MotoS3,
    Server,
    clean_env,
    create_postgres_database,
    drop_postgres_database,
    in_ci,
    new_account_id,
    postgres_admin_url,
)
from reference_support import (
    PART_SIZE,
    SourceFile,
    SourceSet,
    build_sized_source,
    build_small_sources,
)

BACKENDS = ["sqlite", "postgres"]


def _require_backend(backend: str) -> str | None:
    """The admin URL for `postgres` (skipping/failing when absent), None for sqlite."""
    if backend != "postgres":
        return None
    url = postgres_admin_url()
    if url is None:
        msg = "SEQSTORE_TEST_POSTGRES_URL is not set (scripts/test-all starts a PostgreSQL)"
        if in_ci():
            pytest.fail(msg + "; the PostgreSQL catalog must be tested in CI")
        pytest.skip(msg)
    return url


# Tests use fresh accounts to keep apart what is counted per account (one reference store
# each, quotas, listings), and those accounts import from the test buckets: the suite's servers
# grant every account every bucket. test_grants.py starts servers with other grants.
OPEN_GRANTS = '[[sources.grants]]\naccount = "*"\nbuckets = ["*"]\n'


class ServerFactory:
    """Starts servers with their own data dir (and database) and stops them afterwards."""

    def __init__(self, tmp_path_factory, backend: str, base_env: dict | None = None, blob_s3=None):
        self.tmp_path_factory = tmp_path_factory
        self.backend = backend
        self.base_env = dict(base_env or {})
        # () -> the blob bucket's MotoS3, started on first use (only clusters need it).
        self.blob_s3 = blob_s3
        self.admin_url = _require_backend(backend)
        self.servers: list[Server] = []
        self.databases: list[str] = []

    def new(self, env: dict | None = None, start: bool = True, config: str = OPEN_GRANTS) -> Server:
        catalog = None
        if self.admin_url is not None:
            name, catalog = create_postgres_database(self.admin_url)
            self.databases.append(name)
        workdir = self.tmp_path_factory.mktemp(f"seqstore-{self.backend}")
        server = Server(workdir, self.backend, catalog, env={**self.base_env, **(env or {})}, config=config)
        self.servers.append(server)
        if start:
            server.start()
        return server

    def installation(self, env: dict | None = None, start: bool = True,
                     config: str = OPEN_GRANTS) -> Server | Cluster:
        """What the shared `server` is on this backend, but private: one node on SQLite, two
        nodes on one bucket on PostgreSQL. For tests that restart or reconfigure the service but
        look at it only through its clients, its catalog and `seqstore` commands."""
        if self.backend == "postgres":
            return self.cluster(self.blob_s3(), env=env, start=start, config=config)
        return self.new(env=env, start=start, config=config)

    def cluster(self, blob_s3: MotoS3, env: dict | None = None, start: bool = True,
                config: str = OPEN_GRANTS, nodes: int = 2) -> Cluster:
        """Nodes on one fresh PostgreSQL database and one fresh bucket of `blob_s3`."""
        assert self.admin_url is not None, "a cluster runs on PostgreSQL"
        name, catalog = create_postgres_database(self.admin_url)
        self.databases.append(name)
        workdir = self.tmp_path_factory.mktemp("seqstore-cluster")
        cluster = Cluster(workdir, catalog, blob_s3, env={**self.base_env, **(env or {})}, config=config,
                          nodes=nodes)
        self.servers.extend(cluster.nodes)
        if start:
            cluster.start()
        return cluster

    def close(self) -> None:
        """Stop everything; a server that died on its own (or would not stop) fails the test."""
        problems = []
        for server in self.servers:
            if server.proc is not None:
                if server.proc.poll() is not None:
                    problems.append(
                        f"seqstore serve ({server.backend}) died during the tests with exit code "
                        f"{server.proc.returncode}\n{server.describe_logs()}"
                    )
                    server.proc = None
                else:
                    try:
                        server.stop()
                    except RuntimeError as exc:
                        problems.append(str(exc))
        for name in self.databases:
            drop_postgres_database(self.admin_url, name)
        if problems:
            pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def moto_s3(tmp_path_factory) -> MotoS3:
    """The user's S3 (moto[server] on 127.0.0.1), shared by every server of the session."""
    s3 = MotoS3(tmp_path_factory.mktemp("moto")).start()
    yield s3
    problem = s3.stop()
    if problem:
        pytest.fail(problem, pytrace=False)


# Generated FASTA files in the user's bucket, made once per session (see reference_support).
BIG_FASTA_BYTES = PART_SIZE + 3_000_000  # two GetReference parts
MEDIUM_FASTA_BYTES = 16_000_000  # one object imported many times by the crash/queue tests


@pytest.fixture(scope="session")
def small_sources(moto_s3, tmp_path_factory) -> SourceSet:
    return build_small_sources(tmp_path_factory.mktemp("fasta-small"), moto_s3.client())


@pytest.fixture(scope="session")
def big_source(moto_s3, tmp_path_factory) -> SourceFile:
    d = tmp_path_factory.mktemp("fasta-big")
    return build_sized_source(d, moto_s3.client(), "big", "big.fa", BIG_FASTA_BYTES, seed=7)["big"]


@pytest.fixture(scope="session")
def medium_source(moto_s3, tmp_path_factory) -> SourceFile:
    d = tmp_path_factory.mktemp("fasta-medium")
    return build_sized_source(d, moto_s3.client(), "medium", "medium.fa", MEDIUM_FASTA_BYTES, seed=11)["medium"]


@pytest.fixture(scope="session")
def blob_s3(tmp_path_factory) -> MotoS3:
    """The object store of clustered servers (a moto[server] of its own, not the user's S3)."""
    s3 = MotoS3(tmp_path_factory.mktemp("moto-blobs")).start()
    yield s3
    problem = s3.stop()
    if problem:
        pytest.fail(problem, pytrace=False)


@pytest.fixture(scope="session")
def server(backend, tmp_path_factory, moto_s3, request) -> Server | Cluster:
    """The shared server of this backend (tests use unique names, so they can share it): on
    SQLite one node on local disk (the embedded default), on PostgreSQL two nodes on one blob
    bucket, requests alternating between them (the scale-out shape)."""
    factory = ServerFactory(tmp_path_factory, backend, moto_s3.server_env())
    if backend == "postgres":
        srv = factory.cluster(request.getfixturevalue("blob_s3"))
    else:
        srv = factory.new()
    yield srv
    factory.close()


@pytest.fixture
def server_factory(backend, tmp_path_factory, moto_s3, request):
    """Private servers for tests that stop, restart or reconfigure them."""
    factory = ServerFactory(tmp_path_factory, backend, moto_s3.server_env(),
                            blob_s3=lambda: request.getfixturevalue("blob_s3"))
    yield factory
    factory.close()


@pytest.fixture(scope="session")
def omics(server):
    """boto3 `omics` client of the server's account (root keys from its credentials file)."""
    return server.client()


@pytest.fixture(scope="session")
def raw_omics(server):
    """Same account, but botocore's own parameter checks are off: the server must catch it all."""
    return server.client(validate=False)


@pytest.fixture(scope="session")
def other_account(server):
    """(account id, client) of a second account made with `seqstore keys create`."""
    keys, _ = server.create_keys(OTHER_ACCOUNT_ID)
    return OTHER_ACCOUNT_ID, server.client(keys)


@pytest.fixture
def new_account(server):
    """Factory: a brand-new account (id, client[, raw client]) — for per-account quotas."""

    def make(with_raw: bool = False):
        account_id = new_account_id()
        keys, _ = server.create_keys(account_id)
        if with_raw:
            return account_id, server.client(keys), server.client(keys, validate=False)
        return account_id, server.client(keys)

    return make


class AwsCli:
    """Runs `aws omics ...` with exactly the environment `seqstore serve` told the user to export."""

    def __init__(self, server: Server, config_file: Path):
        self.server = server
        self.config_file = config_file

    def env(self, **extra) -> dict:
        exports = self.server.exports()
        needed = ["AWS_ENDPOINT_URL_OMICS", "AWS_DISABLE_HOST_PREFIX_INJECTION",
                  "AWS_SHARED_CREDENTIALS_FILE", "AWS_PROFILE", "AWS_DEFAULT_REGION"]
        missing = [n for n in needed if n not in exports]
        assert not missing, f"seqstore serve did not print export lines for {missing}:\n{self.server.stdout()}"
        # An empty config file keeps the developer's ~/.aws/config out of the picture.
        return clean_env(**{"AWS_CONFIG_FILE": str(self.config_file), **exports, **extra})

    def run(self, *args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
        res = subprocess.run(
            [sys.executable, "-m", "awscli", *args],
            capture_output=True,
            text=True,
            timeout=120,
            env=env or self.env(),
            stdin=subprocess.DEVNULL,
        )
        if check:
            assert res.returncode == 0, (
                f"`aws {' '.join(args)}` exited {res.returncode}\nstdout: {res.stdout}\nstderr: {res.stderr}"
            )
        return res


@pytest.fixture(scope="session")
def aws_cli(server, tmp_path_factory) -> AwsCli:
    config = tmp_path_factory.mktemp("awscli") / "config"
    config.write_text("")
    return AwsCli(server, config)


# Tests must not depend on the developer's AWS setup (profiles, endpoints, host-prefix switch).
for _name in ("AWS_DISABLE_HOST_PREFIX_INJECTION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_OMICS",
              "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
              "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
              "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"):
    os.environ.pop(_name, None)
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull


def pytest_report_header(config):
    return [
        f"seqstore account under test: {ACCOUNT_ID}",
        "postgres catalog: "
        + ("SEQSTORE_TEST_POSTGRES_URL set" if postgres_admin_url() else "not configured (skipped unless CI)"),
    ]


# ---------------------------------------------------------------------------------------
# Read sets (read_set_support, read_set_api): fixture files once per session, per backend an
# account with the references imported and one sequence store per ETag family, and the
# standard uploads.
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def read_set_files(moto_s3, tmp_path_factory):
    from read_set_support import build_read_set_files

    return build_read_set_files(tmp_path_factory.mktemp("read-set-files"), moto_s3.client())


@pytest.fixture(scope="session")
def rs_env(server, read_set_files):
    from read_set_api import build_env

    return build_env(server, read_set_files)


@pytest.fixture(scope="session")
def uploaded(rs_env):
    """(family, case) -> Uploaded: every good source uploaded into every family's store."""
    from read_set_api import upload_standard_set

    return upload_standard_set(rs_env)


@pytest.fixture
def cluster_factory(tmp_path_factory, moto_s3, blob_s3):
    """Private clusters (two nodes on a fresh PostgreSQL database and bucket) for the tests of
    scale-out itself: `cluster_factory(env=..., start=False, nodes=2)`."""
    factory = ServerFactory(tmp_path_factory, "postgres", moto_s3.server_env())
    yield lambda **kwargs: factory.cluster(blob_s3, **kwargs)
    factory.close()
