"""S3 direct access: clients of the read-only S3 endpoint `seqstore serve --s3-listen` opens.

The endpoint serves every stored read set and reference file under the key its `s3Uri` names
(`s3://<access point alias>/<key>`). Helpers here build the clients a user would point at it
(boto3 `s3`, raw SigV4 requests signed by botocore, samtools/htslib, rclone), parse `s3Uri`s,
make keys (`seqstore keys create [--user NAME]`), write access point policies and reach into
the server's catalog for the one state no API can produce yet (ARCHIVED read sets).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import sqlite3
import subprocess
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.config
import botocore.credentials
import botocore.exceptions
import pytest

from e2e_support import REGION, AwsError, Keys, clean_env, http, parse_credentials_ini
from read_set_support import HTS_ENV
from reference_support import require_tool

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
ACCESS_POINT_ARN_RE = re.compile(r"^arn:aws:s3:us-east-1:[0-9]{12}:accesspoint/(?P<name>[0-9]{12}-[0-9]+)$")
POLICY_VERSION = "2012-10-17"


# ---------------------------------------------------------------------------------------
# Addresses
# ---------------------------------------------------------------------------------------


def s3_endpoint(server) -> str:
    return f"http://127.0.0.1:{server.s3_port}"


@dataclass(frozen=True)
class S3Uri:
    bucket: str
    key: str

    @property
    def name(self) -> str:
        return self.key.rsplit("/", 1)[-1]

    @property
    def hts_url(self) -> str:
        """What samtools opens: `s3+http://BUCKET/KEY` (plain http, HTS_S3_HOST says where)."""
        return f"s3+http://{self.bucket}/{self.key}"


def parse_s3_uri(uri: str) -> S3Uri:
    m = re.fullmatch(r"s3://([^/]+)/(.*)", uri)
    assert m, f"not an s3:// URI: {uri!r}"
    return S3Uri(m.group(1), m.group(2))


def file_uri(meta: dict, file: str) -> S3Uri:
    """The object of `files.<file>` (source1 | source2 | index | source) of a metadata answer."""
    return parse_s3_uri(meta["files"][file]["s3Access"]["s3Uri"])


def store_access(client, store_id: str) -> tuple[S3Uri, str]:
    """(s3Uri of the store, its access point ARN) from GetSequenceStore."""
    access = client.get_sequence_store(id=store_id)["s3Access"]
    assert ACCESS_POINT_ARN_RE.match(access["s3AccessPointArn"]), access
    return parse_s3_uri(access["s3Uri"]), access["s3AccessPointArn"]


def sibling_access_point_arn(ap_arn: str, account: str, store_id: str) -> str:
    """The access point ARN of another store: same service account, name `<account>-<storeId>`."""
    return ap_arn.rsplit("/", 1)[0] + f"/{account}-{store_id}"


# ---------------------------------------------------------------------------------------
# Keys
# ---------------------------------------------------------------------------------------


def user_keys(server, account: str, user: str) -> Keys:
    """`seqstore keys create --account-id ACCOUNT --user USER`: a key acting as
    arn:aws:iam::ACCOUNT:user/USER; the printed profile is [seqstore-ACCOUNT-USER]."""
    res = server.run_cli("keys", "create", "--account-id", account, "--user", user,
                         "--data-dir", str(server.data_dir), *server.catalog_args())
    assert res.returncode == 0, f"seqstore keys create --user {user} failed: {res.returncode}\n{res.stderr}"
    profiles = parse_credentials_ini(res.stdout)
    section = f"seqstore-{account}-{user}"
    assert section in profiles, f"expected a [{section}] block, got:\n{res.stdout}"
    return profiles[section]


def credentials_file(path: Path, profile: str, keys: Keys) -> Path:
    path.write_text(f"[{profile}]\naws_access_key_id = {keys.access_key_id}\n"
                    f"aws_secret_access_key = {keys.secret_access_key}\n")
    return path


# ---------------------------------------------------------------------------------------
# boto3 `s3` and raw requests
# ---------------------------------------------------------------------------------------


def s3_client(server, keys: Keys, *, addressing_style: str = "path", endpoint: str | None = None,
              proxy: bool = False, **config):
    """A boto3 s3 client of the endpoint. `proxy`: send every request to the endpoint as an HTTP
    proxy, so that a virtual-hosted `Host: BUCKET.localhost:PORT` needs no DNS."""
    # signature_version: access points take SigV4 only, and boto3 presigns S3 URLs with SigV2
    # unless told otherwise.
    cfg = dict(s3={"addressing_style": addressing_style}, retries={"total_max_attempts": 1},
               connect_timeout=5, read_timeout=60, signature_version="s3v4")
    if proxy:
        cfg["proxies"] = {"http": s3_endpoint(server)}
    cfg.update(config)
    session = boto3.session.Session(aws_access_key_id=keys.access_key_id,
                                    aws_secret_access_key=keys.secret_access_key, region_name=REGION)
    client = session.client("s3", endpoint_url=endpoint or s3_endpoint(server),
                            config=botocore.config.Config(**cfg))
    return client if endpoint or proxy else server.spread(client, "s3")


@contextlib.contextmanager
def raises_s3(code: str, status: int, what: str = ""):
    """Expect a botocore ClientError from the s3 client with this S3 error code and HTTP status.
    (HEAD answers have no body: botocore then reports the status as the code.)"""
    err = AwsError()
    label = f"{what}: " if what else ""
    try:
        yield err
    except botocore.exceptions.ClientError as exc:
        err.exc = exc
    else:
        pytest.fail(f"{label}expected S3 error {code} (HTTP {status}), but the call succeeded")
    assert (err.code, err.status) == (code, status), (
        f"{label}expected {code} (HTTP {status}), got {err.code} (HTTP {err.status}): {err.message!r}"
    )


def raw_s3(server, method: str, path: str, *, keys: Keys, headers: dict | None = None,
           host: str | None = None):
    """One request signed by botocore's SigV4 signer (service s3), sent with urllib3 to the
    endpoint. `path` is sent as given (already percent-encoded); `host` overrides the Host."""
    url = s3_endpoint(server) + path
    hdrs = {"X-Amz-Content-SHA256": EMPTY_SHA256, **(headers or {})}
    if host is not None:
        hdrs["Host"] = host
    req = botocore.awsrequest.AWSRequest(method=method, url=url, headers=hdrs)
    creds = botocore.credentials.Credentials(keys.access_key_id, keys.secret_access_key)
    botocore.auth.SigV4Auth(creds, "s3", REGION).add_auth(req)
    return http().request(method, url, headers=dict(req.headers.items()), preload_content=True,
                          redirect=False)


def xml_code(body: bytes) -> str | None:
    m = re.search(rb"<Code>([^<]*)</Code>", body or b"")
    return m.group(1).decode() if m else None


def quote_key(key: str) -> str:
    return urllib.parse.quote(key, safe="/")


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def list_all(s3, bucket: str, prefix: str, **kwargs) -> list[dict]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, **kwargs)
    return [o for page in pages for o in page.get("Contents", [])]


# ---------------------------------------------------------------------------------------
# Access point policies
# ---------------------------------------------------------------------------------------


def statement(effect: str, principal, actions, resources, condition: dict | None = None,
              sid: str | None = None) -> dict:
    out = {}
    if sid:
        out["Sid"] = sid
    out.update({"Effect": effect, "Principal": principal, "Action": actions, "Resource": resources})
    if condition:
        out["Condition"] = condition
    return out


def policy(*statements: dict) -> str:
    return json.dumps({"Version": POLICY_VERSION, "Statement": list(statements)})


def objects_arn(ap_arn: str, key_prefix: str) -> str:
    """The policy resource of every object under `key_prefix`."""
    return f"{ap_arn}/object/{key_prefix}*"


# ---------------------------------------------------------------------------------------
# External tools
# ---------------------------------------------------------------------------------------


def hts_env(server, keys: Keys) -> dict:
    """Environment of samtools reading `s3+http://ALIAS/KEY` from the endpoint (path style),
    never asking the internet for CRAM references."""
    return clean_env(
        AWS_ACCESS_KEY_ID=keys.access_key_id,
        AWS_SECRET_ACCESS_KEY=keys.secret_access_key,
        AWS_DEFAULT_REGION=REGION,
        HTS_S3_HOST=f"127.0.0.1:{server.s3_port}",
        HTS_S3_ADDRESS_STYLE="path",
        **HTS_ENV,
    )


def run_tool(cmd: list, *, env: dict, cwd: Path | None = None, check: bool = True,
             timeout: float = 120) -> subprocess.CompletedProcess:
    res = subprocess.run([str(c) for c in cmd], capture_output=True, env=env, cwd=cwd, timeout=timeout,
                         stdin=subprocess.DEVNULL)
    if check and res.returncode != 0:
        raise AssertionError(f"`{' '.join(map(str, cmd))}` exited {res.returncode}\n"
                             f"stderr: {res.stderr.decode(errors='replace')[-3000:]}")
    return res


def rclone_env(server, keys: Keys, workdir: Path) -> dict:
    """rclone configured only by environment: remote `seq:` is the endpoint (provider Other,
    path style). AWS_* variables (a CA bundle, say) are left out: rclone would apply them."""
    config = workdir / "rclone.conf"
    config.write_text("")
    return clean_env(
        RCLONE_CONFIG=str(config),
        RCLONE_CONFIG_SEQ_TYPE="s3",
        RCLONE_CONFIG_SEQ_PROVIDER="Other",
        RCLONE_CONFIG_SEQ_ENDPOINT=s3_endpoint(server),
        RCLONE_CONFIG_SEQ_ACCESS_KEY_ID=keys.access_key_id,
        RCLONE_CONFIG_SEQ_SECRET_ACCESS_KEY=keys.secret_access_key,
        RCLONE_CONFIG_SEQ_REGION=REGION,
        RCLONE_CONFIG_SEQ_FORCE_PATH_STYLE="true",
    )


def rclone(*args, env: dict, check: bool = True, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return run_tool([require_tool("rclone"), *args], env=env, check=check, cwd=cwd)


# ---------------------------------------------------------------------------------------
# The server's catalog
# ---------------------------------------------------------------------------------------


def catalog_sql(server, sql: str) -> list[tuple[str, ...]]:
    """Run one statement on the catalog `server` runs on (SQLite file or PostgreSQL): the rows
    of a SELECT or of `... RETURNING`, as text. For states and history no API can produce
    (ARCHIVED read sets, files stored before a column existed): say so where it is used."""
    if server.catalog_url is None:
        db = server.data_dir / "catalog.db"
        assert db.is_file(), f"no SQLite catalog at {db}"
        conn = sqlite3.connect(db, timeout=30)
        try:
            with conn:
                return [tuple("" if v is None else str(v) for v in row) for row in conn.execute(sql)]
        finally:
            conn.close()
    res = subprocess.run([require_tool("psql"), server.catalog_url, "-v", "ON_ERROR_STOP=1", "-qAt",
                          "-c", sql], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, f"psql failed: {res.stderr}"
    return [tuple(line.split("|")) for line in res.stdout.splitlines() if line]


def set_read_set_status(server, store_id: str, read_set_id: str, status: str) -> None:
    """UPDATE read_sets SET status (only for states no API can produce yet: ARCHIVED)."""
    assert re.fullmatch(r"[0-9]+", store_id) and re.fullmatch(r"[0-9]+", read_set_id)
    assert re.fullmatch(r"[A-Z_]+", status)
    changed = catalog_sql(server, f"UPDATE read_sets SET status = '{status}' "
                                  f"WHERE sequence_store_id = '{store_id}' AND id = '{read_set_id}' "
                                  f"RETURNING id")
    assert len(changed) == 1, f"UPDATE read_sets changed {len(changed)} rows for read set {read_set_id}"
