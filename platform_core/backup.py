"""Backup and restore of the whole database: ``mes backup FILE`` and ``mes restore FILE``.

* SQLite: ``VACUUM INTO`` writes a consistent copy even while the product runs (WAL included); restoring
  copies it back over the database file, with the product stopped.
* PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore --clean``, run against the configured URL; use
  the client tools of the server's major version (or newer).
"""

from __future__ import annotations

import glob
import shutil
import sqlite3
import subprocess
from pathlib import Path

import sqlalchemy as sa


class BackupError(RuntimeError):
    pass


def _pg_tool(name: str) -> str:
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    found = candidates[-1] if candidates else shutil.which(name)
    if not found:
        raise BackupError(f"{name} not found: install the PostgreSQL client tools")
    return found


def _libpq_url(url: sa.URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(result.stderr.strip() or f"{command[0]} failed with exit code {result.returncode}")


def backup(database_url: str, target: Path) -> Path:
    """Write a consistent backup of the database to ``target`` (which must not exist yet)."""
    url = sa.engine.make_url(database_url)
    target = Path(target)
    if target.exists():
        raise BackupError(f"{target} exists already; choose a new file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(url.database) as connection:
            connection.execute("VACUUM INTO ?", (str(target),))
    elif url.get_backend_name() == "postgresql":
        _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={target}", _libpq_url(url)])
    else:
        raise BackupError(f"no backup method for {url.get_backend_name()}")
    return target


def restore(database_url: str, source: Path) -> None:
    """Replace the database's content by a backup made with :func:`backup` (stop web and workers first)."""
    url = sa.engine.make_url(database_url)
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"{source} is not a file")
    if url.get_backend_name() == "sqlite":
        database = Path(url.database)
        for leftover in (Path(f"{database}-wal"), Path(f"{database}-shm")):
            leftover.unlink(missing_ok=True)
        shutil.copyfile(source, database)
    elif url.get_backend_name() == "postgresql":
        _run(
            [
                _pg_tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                f"--dbname={_libpq_url(url)}",
                str(source),
            ]
        )
    else:
        raise BackupError(f"no restore method for {url.get_backend_name()}")
