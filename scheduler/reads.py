"""Reads that must cost one round trip: a feed poll's version and the health check.

They run on a second engine over the same database (the ``reads`` bind) set up for
exactly that: autocommit (no BEGIN, no ROLLBACK on return to the pool; on SQLite a
plain WAL read that never waits for the write lock the session takes), and no ping
on checkout. A connection the server dropped is noticed by the query itself, thrown
away and the query tried once more on a fresh one.
"""

from __future__ import annotations

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
