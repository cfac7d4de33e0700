"""Pure waitlist rules: who is next in line, how long an offer lasts, who gets one.

Plain values in, plain values out: no database, no Flask. The use cases in
``scheduler/services/waitlist.py`` load rows, call these, and store the result.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from scheduler.reminders import after_quiet_hours, in_quiet_hours
from scheduler.timeutil import local_instant, to_local


@dataclass(frozen=True)
class InLine:
    """One live place in line (a waitlist entry reduced to what ordering needs)."""

    id: int
    client_id: int
    priority: int
    requested_at: datetime
    not_before: datetime | None = None


def line_order(entries: Iterable[InLine]) -> list[InLine]:
    """Fair order: higher priority tier first, then earlier request, then lower id
    (so two requests in the same instant still have one stable order)."""
    return sorted(entries, key=lambda e: (-e.priority, e.requested_at, e.id))


def positions(entries: Iterable[InLine]) -> dict[int, int]:
    """{entry id: 1-based place in line}."""
    return {entry.id: n for n, entry in enumerate(line_order(entries), start=1)}


class OfferTerms(NamedTuple):
    """Which upcoming group session an offered seat is for (its index in the list
    given, None when the cohort has none scheduled) and when the offer ends."""

    session_index: int | None
    expires_at: datetime


def _quiet_start_before(at: datetime, tz: ZoneInfo, start_hour: int) -> datetime:
    """The last local ``start_hour`` o'clock at or before ``at``."""
    local = to_local(at, tz)
    day = local.date() if local.hour >= start_hour else local.date() - timedelta(days=1)
    return local_instant(day, time(start_hour, 0), tz).astimezone(UTC)


def humane_deadline(now: datetime, latest: datetime | None, offer_hours: int, tz: ZoneInfo,
                    quiet_start: int, quiet_end: int) -> datetime:
    """``offer_hours`` from now, never in quiet hours (moved to the next morning)
    and never after ``latest`` (moved back to the evening before when the morning
    would be too late)."""
    deadline = after_quiet_hours(now + timedelta(hours=offer_hours), tz, quiet_start,
                                 quiet_end)
    if latest is not None and deadline > latest:
        deadline = latest
        if in_quiet_hours(deadline, tz, quiet_start, quiet_end):
            deadline = _quiet_start_before(deadline, tz, quiet_start)
    return deadline


def offer_terms(now: datetime, upcoming: Sequence[datetime], *, offer_hours: int,
                min_notice_hours: int, min_answer_hours: int, tz: ZoneInfo,
                quiet_start: int = 21, quiet_end: int = 8) -> OfferTerms:
    """Humane offers: the seat is for the first upcoming group session that starts
    at least ``min_notice_hours`` from now and leaves at least ``min_answer_hours``
    to answer; the deadline is ``offer_hours`` away, capped at that session's start,
    and never falls in quiet hours. When no listed session qualifies the seat is
    for the last one listed, with what time there is."""
    for index, starts_at in enumerate(upcoming):
        if starts_at - now < timedelta(hours=min_notice_hours):
            continue
        deadline = humane_deadline(now, starts_at, offer_hours, tz, quiet_start, quiet_end)
        if deadline - now >= timedelta(hours=min_answer_hours):
            return OfferTerms(index, deadline)
    if not upcoming:
        return OfferTerms(None, humane_deadline(now, None, offer_hours, tz, quiet_start,
                                                quiet_end))
    last = len(upcoming) - 1
    deadline = humane_deadline(now, upcoming[last], offer_hours, tz, quiet_start, quiet_end)
    if deadline <= now:
        deadline = upcoming[last]
    return OfferTerms(last, deadline)


def offer_has_lapsed(expires_at: datetime, now: datetime) -> bool:
    """An offer is answerable strictly before its expiry instant, not at it."""
    return now >= expires_at


def choose_offers(waiting: Iterable[InLine], free: int,
                  skip_client_ids: frozenset[int] = frozenset(),
                  now: datetime | None = None) -> list[InLine]:
    """The entries that get an offer now: the first ``free`` in line, skipping
    clients who may not take one (already in the group, or already holding an
    offer here) and those who keep their place but pass on seats until their
    ``not_before`` (they said "not this time", or let an offer lapse). One offer
    per client even if they appear twice."""
    chosen: list[InLine] = []
    seen: set[int] = set(skip_client_ids)
    for entry in line_order(waiting):
        if len(chosen) >= free:
            break
        if entry.client_id in seen:
            continue
        if entry.not_before is not None and now is not None and now < entry.not_before:
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
