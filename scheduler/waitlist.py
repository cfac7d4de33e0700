"""Pure waitlist rules: who is next in line, how long an offer lasts, who gets one.

Plain values in, plain values out: no database, no Flask. The use cases in
``scheduler/services/waitlist.py`` load rows, call these, and store the result.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class InLine:
    """One live place in line (a waitlist entry reduced to what ordering needs)."""

    id: int
    client_id: int
    priority: int
    requested_at: datetime


def line_order(entries: Iterable[InLine]) -> list[InLine]:
    """Fair order: higher priority tier first, then earlier request, then lower id
    (so two requests in the same instant still have one stable order)."""
    return sorted(entries, key=lambda e: (-e.priority, e.requested_at, e.id))


def positions(entries: Iterable[InLine]) -> dict[int, int]:
    """{entry id: 1-based place in line}."""
    return {entry.id: n for n, entry in enumerate(line_order(entries), start=1)}


def seats_free(capacity: int, taken: int) -> int:
    """Seats nobody holds: never negative, even if capacity was lowered by hand."""
    return max(capacity - taken, 0)


def offer_expires_at(now: datetime, offer_hours: int,
                     session_starts_at: datetime | None) -> datetime:
    """An offer lasts ``offer_hours``, but never past the start of the group session
    the seat is for: a seat for tonight's group cannot wait until tomorrow."""
    default = now + timedelta(hours=offer_hours)
    if session_starts_at is None:
        return default
    return min(default, session_starts_at)


def offer_has_lapsed(expires_at: datetime, now: datetime) -> bool:
    """An offer is answerable strictly before its expiry instant, not at it."""
    return now >= expires_at


def choose_offers(waiting: Iterable[InLine], free: int,
                  skip_client_ids: frozenset[int] = frozenset()) -> list[InLine]:
    """The entries that get an offer now: the first ``free`` in line, skipping
    clients who may not take one (already in the group, or already holding an
    offer here). One offer per client even if they appear twice."""
    chosen: list[InLine] = []
    seen: set[int] = set(skip_client_ids)
    for entry in line_order(waiting):
        if len(chosen) >= free:
            break
        if entry.client_id in seen:
            continue
        seen.add(entry.client_id)
        chosen.append(entry)
    return chosen


def front_priority(entries: Sequence[InLine], entry_id: int) -> int:
    """The smallest priority tier that puts ``entry_id`` ahead of every other entry.

    Staff "move to the front" raises the tier rather than rewriting the request
    time, so the record of when someone asked stays true.
    """
    me = next(e for e in entries if e.id == entry_id)
    others = [e for e in entries if e.id != entry_id]
    if not others:
        return me.priority
    if line_order(entries)[0].id == entry_id:
        return me.priority
    return max(e.priority for e in others) + 1
