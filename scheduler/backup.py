"""Backups: a consistent snapshot of the database in one file, and the way back.

SQLite: the online backup API (a consistent copy while the app keeps running).
PostgreSQL: ``pg_dump --format=custom`` (one consistent snapshot taken in a single
transaction) and ``pg_restore --clean --if-exists --single-transaction`` (all or
nothing). Restoring brings back the schema version the backup was taken at; run
``flask --app wsgi db upgrade`` afterwards when the code is newer.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url


class BackupError(RuntimeError):
    pass


@dataclass(frozen=True)
class Snapshot:
    path: Path
    kind: str  # sqlite | postgresql
    revision: str | None
    size: int


def _kind(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"Backups cover SQLite and PostgreSQL, not {backend}")
    return backend


def _sqlite_file(url: str) -> str:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("An in-memory SQLite database has nothing to back up")
    return database


def _pg_env(url: str) -> tuple[list[str], dict[str, str]]:
    u = make_url(url)
    args = ["--host", u.host or "127.0.0.1", "--port", str(u.port or 5432),
            "--username", u.username or "postgres", "--dbname", u.database or "postgres"]
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = u.password
    return args, env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} is not installed (Debian: apt-get install "
                          "postgresql-client)")
    return found


def _run(cmd: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{Path(cmd[0]).name} failed: {done.stderr.strip()[-500:]}")


def revision_of(url: str) -> str | None:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    except sa.exc.DBAPIError:
        return None
    finally:
        engine.dispose()


def backup(url: str, path: str | Path) -> Snapshot:
    """Write a consistent snapshot of the database at ``url`` to ``path`` (refused
    when ``path`` exists: a backup never overwrites another)."""
    kind, target = _kind(url), Path(path)
    if target.exists():
        raise BackupError(f"{target} exists; choose a new file")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    try:
        if kind == "sqlite":
            source = sqlite3.connect(_sqlite_file(url))
            copy = sqlite3.connect(partial)
            try:
                source.backup(copy)
            finally:
                copy.close()
                source.close()
        else:
            args, env = _pg_env(url)
            _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(partial),
                  *args], env)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return Snapshot(target, kind, revision_of(url), target.stat().st_size)


def restore(url: str, path: str | Path) -> Snapshot:
    """Replace the database at ``url`` with the snapshot at ``path``, all or nothing."""
    kind, source = _kind(url), Path(path)
    if not source.is_file():
        raise BackupError(f"No backup at {source}")
    if kind == "sqlite":
        snapshot = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            snapshot.execute("SELECT count(*) FROM alembic_version").fetchone()
        except sqlite3.DatabaseError as exc:
            snapshot.close()
            raise BackupError(f"{source} is not a Regroup SQLite backup: {exc}") from exc
        live = sqlite3.connect(_sqlite_file(url))
        try:
            snapshot.backup(live)
        finally:
            live.close()
            snapshot.close()
    else:
        args, env = _pg_env(url)
        _run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner",
              "--single-transaction", *args, str(source)], env)
    return Snapshot(source, kind, revision_of(url), source.stat().st_size)
