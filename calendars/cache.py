"""Feed bytes cached per feed version, so a calendar app's poll costs one query.

Design: every feed has a *version*, a tuple of cheap aggregates over exactly
the rows the feed reads (count and max(updated_at) of its enrollments, group
sessions in its window, check-ins, cohorts, the client's own row for
preferences, ...; sum(revision) where rows have one), plus the local date
(the window and the 14 days a cancelled session stays both move with it).
Every write in this codebase stamps ``updated_at`` with the current time, so
any change a feed would show moves that feed's version and nobody else's:
moving a session changes only the feeds whose cohorts hold it, a client's
preference change only their own feed. The same query also checks that the
token is still live, so a warm poll is one SQL round trip plus a dict lookup.

Bytes are kept per worker process in a bounded LRU keyed by (kind, subject);
an entry is used only while its version still matches. No invalidation calls
are needed anywhere else, and none can be forgotten.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from calendars.build import Window, build_feed
from calendars.tokens import TokenInfo
from scheduler.config import Policy
from scheduler.models import (
    CheckIn,
    Client,
    Cohort,
    Enrollment,
    FeedToken,
    GroupSession,
    Location,
    StaffUser,
    db,
)


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


def _scalar(column, where):
    return sa.select(column).where(where).scalar_subquery()


def _agg(model, where, revision: bool = False) -> list:
    cols = [_scalar(sa.func.count(model.id), where), _scalar(sa.func.max(model.updated_at), where)]
    if revision:
        cols.append(_scalar(sa.func.sum(model.revision), where))
    return cols


def version_columns(kind: str, subject_id: int, window: Window) -> list:
    """The aggregates whose values change exactly when this feed's bytes may."""
    in_window = sa.and_(GroupSession.starts_at >= window.first,
                        GroupSession.starts_at < window.last)
    check_in_window = sa.and_(CheckIn.at >= window.first, CheckIn.at < window.last)
    everywhere = sa.true()
    if kind == "client":
        cohort_ids = sa.select(Enrollment.cohort_id).where(Enrollment.client_id == subject_id)
        return [
            _scalar(Client.updated_at, Client.id == subject_id),
            *_agg(Enrollment, Enrollment.client_id == subject_id),
            *_agg(GroupSession, sa.and_(GroupSession.cohort_id.in_(cohort_ids), in_window),
                  revision=True),
            *_agg(CheckIn, sa.and_(CheckIn.client_id == subject_id, check_in_window),
                  revision=True),
            *_agg(Cohort, Cohort.id.in_(cohort_ids)),
            *_agg(Location, everywhere),
        ]
    if kind == "cohort":
        chosen, subject, check_ins = Cohort.id == subject_id, Cohort, None
    elif kind == "location":
        chosen, subject = Cohort.location_id == subject_id, Location
        check_ins = CheckIn.location_id == subject_id
    else:
        chosen, subject = Cohort.facilitator_id == subject_id, StaffUser
        check_ins = CheckIn.staff_id == subject_id
    cohort_ids = sa.select(Cohort.id).where(chosen)
    client_ids = sa.select(Enrollment.client_id).where(Enrollment.cohort_id.in_(cohort_ids))
    cols = [
        _scalar(subject.updated_at, subject.id == subject_id),
        *_agg(Cohort, chosen),
        *_agg(GroupSession, sa.and_(GroupSession.cohort_id.in_(cohort_ids), in_window),
              revision=True),
        *_agg(Enrollment, Enrollment.cohort_id.in_(cohort_ids)),
        *_agg(Location, everywhere),
        *_agg(StaffUser, everywhere),
    ]
    if check_ins is not None:
        where = sa.and_(check_ins, check_in_window)
        client_ids = client_ids.union(sa.select(CheckIn.client_id).where(where))
        cols += _agg(CheckIn, where, revision=True)
    cols += _agg(Client, Client.id.in_(client_ids))
    return cols


def feed_version(info: TokenInfo, now: datetime, policy: Policy) -> tuple | None:
    """The feed's current version, or None when its token is no longer live."""
    window = Window.around(now, policy)
    live = _scalar(sa.func.count(FeedToken.id),
                   sa.and_(FeedToken.id == info.id, FeedToken.revoked_at.is_(None)))
    row = db.session.execute(sa.select(live, *version_columns(
        info.kind, info.subject_id, window))).one()
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
