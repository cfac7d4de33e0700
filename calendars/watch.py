"""What a worker knows of feed revisions, kept true by PostgreSQL NOTIFY.

A poll needs the feed's version: its token's ``revision`` (and whether it is still
live). Reading it costs a round trip per poll. On PostgreSQL every change to a
token's revision or revocation announces the token's id on the ``feed_token``
channel as it commits (a trigger, migration 0017), so each worker process listens
on one connection of its own and remembers the revisions it has read until one is
announced as changed. A warm poll of a feed this worker has served then asks the
database nothing: it reads the announcements waiting on the socket (a non-blocking
check, microseconds) and finds the revision still standing.

Why it cannot serve a stale version: the worker listens before it remembers
anything, drains the announcements before each lookup, and remembers a revision
only as read after that drain. A change that commits before the read is in the
read; one that commits after it is announced, and the next drain forgets the
token. If the listening connection fails, everything remembered is forgotten and
polls read the revision again until it is back. Entries also age out after
``max_age`` seconds, a bound on staleness should announcements ever stop silently
(a restore that recreates the table, a half-open connection).

Announcements travel from the committing database session to the listening one in
a moment, not at once, so a change made by this very process (a coordinator's
request handled by this worker, a test) is also noticed in-process: a commit on a
connection that wrote to ``feed_token`` forgets everything this process knows.

SQLite has no NOTIFY: there ``known`` always answers None and every poll reads.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

import sqlalchemy as sa

CHANNEL = "feed_token"
RETRY_SECONDS = 5.0
WRITES = ("UPDATE", "DELETE", "TRUNCATE", "INSERT")
_local_commits = [0]  # commits in this process that wrote to feed_token


@sa.event.listens_for(sa.engine.Engine, "before_cursor_execute")
def _note_token_writes(connection, _cursor, statement, _parameters, _context, _many):
    if "feed_token" in statement and statement.lstrip().upper().startswith(WRITES):
        connection.info["feed_token_written"] = True


@sa.event.listens_for(sa.engine.Engine, "commit")
def _count_token_commits(connection):
    if connection.info.pop("feed_token_written", False):
        _local_commits[0] += 1


@sa.event.listens_for(sa.engine.Engine, "rollback")
def _forget_rolled_back_writes(connection):
    connection.info.pop("feed_token_written", None)


class RevisionWatch:
    def __init__(self, connect: Callable[[], object] | None, *, size: int = 8192,
                 max_age: float = 60.0, clock: Callable[[], float] = time.monotonic):
        """``connect`` opens an autocommit psycopg connection, or answers None where
        the database has no NOTIFY (then, as with ``connect=None``, no watching)."""
        self._connect = connect
        self.size = size
        self.max_age = max_age
        self._clock = clock
        self._conn = None
        self._pid: int | None = None
        self._retry_at = 0.0
        self._known: OrderedDict[int, tuple[float, int]] = OrderedDict()
        self._seen_commits = _local_commits[0]
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        return self._conn is not None and self._pid == os.getpid()

    def known(self, token_id: int) -> int | None:
        """The token's revision when this worker has read it and nothing has changed
        it since; None when it must be read."""
        with self._lock:
            if not self._listening():
                return None
            self._drain()
            if self._seen_commits != _local_commits[0]:
                self._seen_commits = _local_commits[0]
                self._known.clear()
            entry = self._known.get(token_id)
            if entry is None:
                return None
            read_at, revision = entry
            if self._clock() - read_at > self.max_age:
                del self._known[token_id]
                return None
            return revision

    def remember(self, token_id: int, revision: int | None) -> None:
        """What a read just after ``known`` found (None: the token is not live)."""
        with self._lock:
            if revision is None:
                self._known.pop(token_id, None)
            elif self.active:
                self._known[token_id] = (self._clock(), revision)
                self._known.move_to_end(token_id)
                while len(self._known) > self.size:
                    self._known.popitem(last=False)

    def close(self) -> None:
        with self._lock:
            self._drop()

    # --- the listening connection ---------------------------------------------------

    def _listening(self) -> bool:
        if self._connect is None:
            return False
        if self.active:
            return True
        if self._conn is not None:  # inherited over a fork: never share its socket
            self._conn = None
            self._known.clear()
        if self._clock() < self._retry_at:
            return False
        try:
            conn = self._connect()
            if conn is None:  # a database without NOTIFY: never watch
                self._connect = None
                return False
            conn.execute(f"LISTEN {CHANNEL}")
        except Exception:  # the database is away: read every poll, try again later
            self._retry_at = self._clock() + RETRY_SECONDS
            return False
        self._conn, self._pid = conn, os.getpid()
        return True

    def _drain(self) -> None:
        try:
            for note in self._conn.notifies(timeout=0):
                if note.payload == "*":
                    self._known.clear()
                else:
                    self._known.pop(int(note.payload), None)
        except Exception:
            self._drop()

    def _drop(self) -> None:
        self._known.clear()
        conn, self._conn, self._pid = self._conn, None, None
        self._retry_at = self._clock() + RETRY_SECONDS
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()
