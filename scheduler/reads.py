"""Reads that must cost one round trip: a feed poll's version and the health check.

They run on a second engine over the same database (the ``reads`` bind) set up for
exactly that: autocommit (no BEGIN, no ROLLBACK on return to the pool; on SQLite a
plain WAL read that never waits for the write lock the session takes), and no ping
on checkout. A connection the server dropped is noticed by the query itself, thrown
away and the query tried once more on a fresh one.
"""

from __future__ import annotations

import select
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from scheduler.models import db

BIND = "reads"


def engine_options(base: dict[str, Any]) -> dict[str, Any]:
    """The reads bind's engine options, from the main engine's."""
    options = {key: value for key, value in base.items() if key != "pool_pre_ping"}
    return {**options, "isolation_level": "AUTOCOMMIT", "pool_pre_ping": False,
            "pool_reset_on_return": None}


def placeholder() -> str:
    """The driver's positional parameter marker (``?`` for sqlite3, ``%s`` for psycopg)."""
    return "?" if db.engines[BIND].dialect.paramstyle == "qmark" else "%s"


def engine():
    """The reads bind's engine (needs the app context; what it returns does not)."""
    return db.engines[BIND]


def fetch_one(sql: str, params: tuple = (), on=None) -> tuple | None:
    """One row of a plain SQL statement with positional parameters (see
    ``placeholder``), on the reads engine (or the engine ``on``, from ``engine()``,
    where there is no app context: the health check's probe thread)."""
    engine = on if on is not None else db.engines[BIND]
    for attempt in (1, 2):
        connection = engine.raw_connection()
        cursor = None
        try:
            cursor = connection.cursor()
            cursor.execute(sql, params)
            row = cursor.fetchone()
            cursor.close()
            return row
        except engine.dialect.loaded_dbapi.Error as error:
            if attempt == 2 or not engine.dialect.is_disconnect(
                    error, connection.dbapi_connection, cursor):
                raise
            connection.invalidate()
        finally:
            connection.close()
    return None


def listening_connection():
    """A PostgreSQL connection of the reads bind's own, outside its pool and in
    autocommit, for LISTEN (``calendars.watch``); None on other databases."""
    engine = db.engines[BIND]
    if engine.dialect.name != "postgresql":
        return None
    proxied = engine.raw_connection()
    proxied.detach()
    connection = proxied.dbapi_connection
    connection.autocommit = True
    return connection


# a round trip that must be given up on at a deadline, when it cannot be timed in the
# caller's thread (a connection still to be made may hang in connect): a probe thread
_probes = ThreadPoolExecutor(max_workers=2, thread_name_prefix="healthz")


def answers_within(budget: float, on=None) -> bool:
    """Whether the database answers one round trip (``SELECT 1``) within ``budget``
    seconds (the health check). On PostgreSQL with a pooled connection at hand, the
    query is sent and its answer awaited on the socket with that deadline, in this
    thread; otherwise (SQLite, or no idle connection, so one must be made, or the
    idle one turned out dead) it runs in a probe thread given up on at the deadline."""
    engine = on if on is not None else db.engines[BIND]
    deadline = time.monotonic() + budget
    if engine.dialect.name == "postgresql" and engine.pool.checkedin():
        connection, answered = engine.raw_connection(), None
        try:
            answered = _select_one(connection.dbapi_connection.pgconn, deadline)
        except engine.dialect.loaded_dbapi.Error:
            answered = None  # a connection the server dropped: a fresh one, below
        finally:
            if answered is not True:
                connection.invalidate()  # its state is unknown: never reused
            connection.close()
        if answered is not None:
            return answered
    try:
        _probes.submit(fetch_one, "SELECT 1", (), engine).result(
            timeout=max(deadline - time.monotonic(), 0))
    except Exception:  # any driver's "cannot connect", or no answer in time
        return False
    return True


def _select_one(pgconn, deadline: float) -> bool | None:
    """``SELECT 1`` over libpq's non-blocking calls: True when answered, False when
    the deadline passed first, None when the connection failed (the server closed it)."""
    pgconn.send_query(b"SELECT 1")
    while pgconn.flush():
        if not _ready(pgconn.socket, deadline, write=True):
            return False
    while True:
        pgconn.consume_input()
        if not pgconn.is_busy():
            break
        if not _ready(pgconn.socket, deadline):
            return False
    results = []
    while (result := pgconn.get_result()) is not None:
        results.append(result.ntuples)
    return True if results == [1] else None  # an error result has no rows


def _ready(fd: int, deadline: float, write: bool = False) -> bool:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return False
    poller = select.poll()
    poller.register(fd, select.POLLOUT if write else select.POLLIN)
    return bool(poller.poll(remaining * 1000))
