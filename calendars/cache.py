"""Feed bytes cached per feed version, so a calendar app's poll costs one query.

Design: every feed has a *version*, a tuple of cheap aggregates over exactly
the rows the feed reads: count and max(updated_at) of its enrollments, of the
group sessions and check-ins in its window, of its cohorts and locations (and,
for staff feeds, of the clients it names by initials); sums of revisions and
statuses; the client's own calendar choices; plus the local date (the window
and the 14 days a cancelled session stays both move with it). Every write
stamps ``updated_at``, and every session change raises its revision, so any
change a feed would show moves that feed's version and no other's: moving a
session changes only the feeds whose cohorts hold it, a client's preference
change only their own feed, a closure only the feeds of the cohorts it cancels.
The same statement also checks that the token is still live, so a warm poll is
one SQL round trip plus a dict lookup.

Bytes are kept per worker process in a bounded LRU keyed by (kind, subject);
an entry is used only while its version still matches. No invalidation calls
are needed anywhere else, so none can be forgotten; a process restart or a
second worker simply builds once more.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from calendars.build import Window, build_feed
from calendars.tokens import TokenInfo
from scheduler.config import Policy
from scheduler.models import db
from scheduler.timeutil import UTCDateTime


@dataclass
class Rendered:
    body: bytes
    etag: str
    _gzipped: bytes | None = field(default=None, repr=False)

    @property
    def gzipped(self) -> bytes:
        if self._gzipped is None:
            self._gzipped = gzip.compress(self.body, compresslevel=6, mtime=0)
        return self._gzipped


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:40] + '"'


class FeedCache:
    """A small thread-safe LRU of rendered feeds. ``builds`` counts cold builds."""

    def __init__(self, size: int = 2048):
        self.size = size
        self.builds = 0
        self._entries: OrderedDict[tuple, tuple[tuple, Rendered]] = OrderedDict()
        self._tokens: OrderedDict[str, TokenInfo] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple, version: tuple) -> Rendered | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] != version:
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: tuple, version: tuple, rendered: Rendered) -> None:
        with self._lock:
            self.builds += 1
            self._entries[key] = (version, rendered)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def token(self, digest: str) -> TokenInfo | None:
        with self._lock:
            return self._tokens.get(digest)

    def remember_token(self, digest: str, info: TokenInfo) -> None:
        with self._lock:
            self._tokens[digest] = info
            while len(self._tokens) > self.size:
                self._tokens.popitem(last=False)

    def forget_token(self, digest: str) -> None:
        with self._lock:
            self._tokens.pop(digest, None)


_WINDOWED_SESSIONS = ("FROM group_session WHERE cohort_id IN ({cohorts}) "
                      "AND starts_at >= :first AND starts_at < :last")
_WINDOWED_CHECK_INS = "FROM check_in WHERE {where} AND at >= :first AND at < :last"
_COUNT_MAX = "count(*) AS n, max(updated_at) AS m"
# Status and revision sums catch changes made within one clock tick (tests hold the
# clock still), where max(updated_at) alone would not move.
_SESSIONS = (f"{_COUNT_MAX}, sum(revision) AS r, "
             "sum(CASE status WHEN 'scheduled' THEN id ELSE 0 END) AS x")
_CHECK_INS = (f"{_COUNT_MAX}, sum(revision) AS r, "
              "sum(CASE status WHEN 'booked' THEN 1 WHEN 'done' THEN 2 ELSE 3 END * id) AS x")
_ENROLLMENTS = (f"{_COUNT_MAX}, sum(CASE status WHEN 'active' THEN 1 WHEN 'paused' THEN 2 "
                "WHEN 'completed' THEN 3 WHEN 'withdrawn' THEN 4 ELSE 5 END * id) AS x")
# The client's own calendar choices are read as values, not only through updated_at.
_CLIENT_CHOICES = ("max(updated_at) AS m, max(calendar_title) AS t, "
                   "max(CASE WHEN show_location THEN 1 ELSE 0 END) AS s, "
                   "max(alarm_minutes) AS a FROM client WHERE id = :subject")
_STAFF_SUBJECTS = {"cohort": ("cohort", "id = :subject", None),
                   "location": ("location", "location_id = :subject", "location_id = :subject"),
                   "facilitator": ("staff_user", "facilitator_id = :subject",
                                   "staff_id = :subject")}


def version_sql(kind: str) -> str:
    """One statement: is the token live, and the aggregates whose values change
    exactly when this kind of feed's bytes may. Written as SQL text (the same on
    SQLite and PostgreSQL) because building it as an expression on every poll
    cost more than running it."""
    parts = [("t", "count(*) AS n FROM feed_token WHERE id = :token AND revoked_at IS NULL")]
    if kind == "client":
        cohorts = "SELECT cohort_id FROM enrollment WHERE client_id = :subject"
        parts += [
            ("p", _CLIENT_CHOICES),
            ("e", f"{_ENROLLMENTS} FROM enrollment WHERE client_id = :subject"),
            ("g", f"{_SESSIONS} " + _WINDOWED_SESSIONS.format(cohorts=cohorts)),
            ("k", f"{_CHECK_INS} " + _WINDOWED_CHECK_INS.format(where="client_id = :subject")),
            ("h", f"{_COUNT_MAX} FROM cohort WHERE id IN ({cohorts})"),
            ("l", f"{_COUNT_MAX} FROM location WHERE id IN (SELECT location_id FROM cohort "
                  f"WHERE id IN ({cohorts})) OR id IN (SELECT location_id FROM check_in "
                  "WHERE client_id = :subject)"),
        ]
    else:
        table, chosen, check_ins = _STAFF_SUBJECTS[kind]
        cohorts = f"SELECT id FROM cohort WHERE {chosen}"
        clients = f"SELECT client_id FROM enrollment WHERE cohort_id IN ({cohorts})"
        parts += [
            ("s", f"max(updated_at) AS m FROM {table} WHERE id = :subject"),
            ("h", f"{_COUNT_MAX} FROM cohort WHERE {chosen}"),
            ("g", f"{_SESSIONS} " + _WINDOWED_SESSIONS.format(cohorts=cohorts)),
            ("e", f"{_ENROLLMENTS} FROM enrollment WHERE cohort_id IN ({cohorts})"),
            ("f", f"{_COUNT_MAX} FROM staff_user WHERE id IN "
                  f"(SELECT facilitator_id FROM cohort WHERE {chosen})"),
        ]
        locations = f"SELECT location_id FROM cohort WHERE {chosen}"
        if check_ins:
            windowed = _WINDOWED_CHECK_INS.format(where=check_ins)
            parts.append(("k", f"{_CHECK_INS} {windowed}"))
            clients += f" UNION SELECT client_id {windowed}"
            locations += f" UNION SELECT location_id {windowed}"
        parts.append(("l", f"{_COUNT_MAX} FROM location WHERE id IN ({locations})"))
        parts.append(("c", f"{_COUNT_MAX} FROM client WHERE id IN ({clients})"))
    columns = ", ".join(f"{alias}.{name}" for alias, sql in parts
                        for name in re.findall(r" AS (\w+)", sql))
    tables = ", ".join(f"(SELECT {sql}) {alias}" for alias, sql in parts)
    return f"SELECT {columns} FROM {tables}"


@functools.cache
def _version_statement(kind: str, dialect) -> tuple[str, tuple[str, ...] | None, object]:
    """The statement compiled once per kind and dialect: (SQL, positional parameter
    names or None for named style, the datetime bind processor)."""
    statement = sa.text(version_sql(kind)).bindparams(
        sa.bindparam("first", type_=UTCDateTime()), sa.bindparam("last", type_=UTCDateTime()))
    compiled = statement.compile(dialect=dialect)
    order = tuple(compiled.positiontup) if compiled.positional else None
    processor = UTCDateTime().dialect_impl(dialect).bind_processor(dialect) or (lambda v: v)
    return str(compiled), order, processor


def feed_version(info: TokenInfo, now: datetime, policy: Policy) -> tuple | None:
    """The feed's current version, or None when its token is no longer live.

    This is the one query of every poll, so it runs on a pooled DBAPI connection
    of its own, outside the session: on SQLite that is a plain WAL read that takes
    no write lock (the session begins every transaction IMMEDIATE), and it skips
    SQLAlchemy's per-execution work, which cost more than the query. A build that
    follows reads through the session; if a write lands in between, the entry is
    stored under the older version and simply rebuilt on the next poll.
    """
    window = Window.around(now, policy)
    engine = db.engine
    sql, order, processor = _version_statement(info.kind, engine.dialect)
    params = {"token": info.id, "subject": info.subject_id,
              "first": processor(window.first), "last": processor(window.last)}
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(sql, tuple(params[name] for name in order) if order else params)
        row = cursor.fetchone()
        cursor.close()
    finally:
        connection.close()  # back to the pool, which rolls back any open read
    if not row[0]:
        return None
    return (window.today, *row[1:])


def rendered_feed(info: TokenInfo, now: datetime, policy: Policy, key: bytes,
                  cache: FeedCache) -> Rendered | None:
    """The feed's bytes: from the cache while its version holds, else built once."""
    version = feed_version(info, now, policy)
    if version is None:
        return None
    cache_key = (info.kind, info.subject_id)
    rendered = cache.get(cache_key, version)
    if rendered is None:
        body = build_feed(info.kind, info.subject_id, now, policy, key)
        rendered = Rendered(body, etag_of(body))
        cache.put(cache_key, version, rendered)
    return rendered
