"""Counting the SQL statements a piece of work sends (counts, never timings)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from scheduler.models import db


@contextmanager
def counted() -> Iterator[list[str]]:
    """The statements sent on the session's engine inside the block (SQLite's BEGIN
    IMMEDIATE, which PostgreSQL does not send as a statement of its own, left out)."""
    seen: list[str] = []

    def hook(_conn, _cursor, statement, *_args):
        if not statement.startswith("BEGIN"):
            seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", hook)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", hook)
