"""Secrets at rest: the data dir (credentials, blobs, the SQLite catalog with every key's secret)
is readable by its owner only, wider modes left by older versions are narrowed at start, and
`--print-config` does not print a catalog password."""

from __future__ import annotations

import os
import stat
import subprocess

from e2e_support import clean_env, seqstore_bin


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_data_dir_and_catalog_are_owner_only(server_factory, backend):
    srv = server_factory.new(start=False)
    os.chmod(srv.data_dir, 0o755)  # as an older version (or a umask of 022) left it
    srv.start()
    assert mode(srv.data_dir) == 0o700
    assert mode(srv.credentials_path) == 0o600
    catalog_files = [srv.data_dir / f"catalog.db{s}" for s in ("", "-wal", "-shm")]
    if backend == "sqlite":
        assert catalog_files[0].exists()
        assert {f.name: mode(f) for f in catalog_files if f.exists()} == {
            f.name: 0o600 for f in catalog_files if f.exists()
        }
    assert "narrowed permissions from 755 to 700" in srv.stdout() + srv.stderr(), srv.describe_logs()
    assert "from 644" not in srv.stdout() + srv.stderr(), "files the server just created are no news"
    srv.stop()

    # Files an older version wrote with 0644 are narrowed when the server starts again.
    os.chmod(srv.data_dir, 0o751)
    if backend == "sqlite":
        os.chmod(catalog_files[0], 0o644)
    srv.start()
    assert mode(srv.data_dir) == 0o700
    if backend == "sqlite":
        assert mode(catalog_files[0]) == 0o600
        assert "narrowed permissions from 644 to 600" in srv.stdout() + srv.stderr(), srv.describe_logs()


def test_print_config_redacts_the_catalog_password(tmp_path):
    out = subprocess.run(
        [str(seqstore_bin()), "serve", "--print-config", "--data-dir", str(tmp_path / "d"),
         "--catalog", "postgres://seq:hunter2@127.0.0.1:5432/seqstore?password=hunter3"],
        capture_output=True, text=True, env=clean_env(), check=True,
    ).stdout
    assert "hunter2" not in out and "hunter3" not in out, out
    assert "postgres://seq:<redacted>@127.0.0.1:5432/seqstore?password=<redacted>" in out, out
