"""Feed bytes cached per feed version, so a calendar app's poll costs at most one
query (none on PostgreSQL once this worker knows the version: ``calendars.watch``).

Design: every feed token carries a *revision* that rises, in the same
transaction, with any change the feed would show (the rule of which change
reaches which feed lives in ``scheduler.services.feed_stamps``). A poll reads
that one row by primary key, which also tells whether the token is still live,
and serves the bytes built for that version: one SQL round trip plus a dict
lookup, and the 304 costs the same.

Bytes are kept per worker process in a bounded LRU keyed by (kind, subject);
an entry is used only while its version (local date, token, revision) still
matches. No invalidation calls are needed anywhere else, so none can be
forgotten; a process restart or a second worker simply builds once more.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime

from calendars.build import Window, build_feed
from calendars.tokens import TokenInfo
from calendars.watch import RevisionWatch
from scheduler import reads
from scheduler.config import Policy


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


def feed_version(info: TokenInfo, now: datetime, policy: Policy,
                 watch: RevisionWatch | None = None) -> tuple | None:
    """The feed's current version, or None when its token is no longer live.

    The token's ``revision`` rises with any change the feed would show, in the same
    transaction as the change (``scheduler.services.feed_stamps``). A worker that
    has read it and heard no announcement since knows it still (``watch``, on
    PostgreSQL): no query at all. Otherwise it is the one query of the poll: the
    token's row by primary key on the reads engine (one round trip, no
    transaction; see ``scheduler.reads``). The local date is part of the version:
    the window and the days a cancelled session stays both move with it.
    """
    revision = watch.known(info.id) if watch is not None else None
    if revision is None:
        mark = reads.placeholder()
        row = reads.fetch_one(
            f"SELECT revision FROM feed_token WHERE id = {mark} AND revoked_at IS NULL",
            (info.id,))
        revision = row[0] if row is not None else None
        if watch is not None:
            watch.remember(info.id, revision)
        if revision is None:
            return None
    return (Window.around(now, policy).today, info.id, revision)


def rendered_feed(info: TokenInfo, now: datetime, policy: Policy, key: bytes,
                  cache: FeedCache, watch: RevisionWatch | None = None) -> Rendered | None:
    """The feed's bytes: from the cache while its version holds, else built once."""
    version = feed_version(info, now, policy, watch)
    if version is None:
        return None
    cache_key = (info.kind, info.subject_id)
    rendered = cache.get(cache_key, version)
    if rendered is None:
        body = build_feed(info.kind, info.subject_id, now, policy, key)
        rendered = Rendered(body, etag_of(body))
        cache.put(cache_key, version, rendered)
    return rendered
