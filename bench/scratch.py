"""A scratch PostgreSQL database for a benchmark: dropped and made anew."""

from __future__ import annotations

import os

import sqlalchemy as sa

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


def recreate_pg(name: str, server: str | None = None) -> str:
    """Drop and create ``name`` on BENCH_PG (or ``server``); its URL."""
    server = server or os.environ.get("BENCH_PG", SERVER)
    admin = sa.create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{server}/{name}"
