"""Pure rules for weekly patterns: values in, values out. No database, no Flask.

A pattern is (weekdays, local start time, minutes) in a location's time zone. Its
occurrences are UTC instants that keep the same local wall-clock time across DST.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduler.models import WEEKDAYS
from scheduler.timeutil import local_instant


@dataclass(frozen=True)
class Pattern:
    weekdays: tuple[str, ...]
    start_time: time
    minutes: int
    tz: ZoneInfo

    @property
    def weekday_numbers(self) -> frozenset[int]:
        return frozenset(WEEKDAYS.index(d) for d in self.weekdays)


@dataclass(frozen=True)
class Occurrence:
    occurs_on: date
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class ExistingSession:
    id: int
    occurs_on: date
    starts_at: datetime
    ends_at: datetime
    status: str
    cancel_reason: str | None
    pinned: bool = False


@dataclass(frozen=True)
class SessionChange:
    """What to do to one group session. ``session_id`` None means create it."""

    occurs_on: date
    session_id: int | None
    starts_at: datetime
    ends_at: datetime
    status: str
    cancel_reason: str | None


def occurrence(pattern: Pattern, day: date) -> Occurrence:
    starts = local_instant(day, pattern.start_time, pattern.tz)
    return Occurrence(day, starts, starts + timedelta(minutes=pattern.minutes))


def occurrences(pattern: Pattern, first: date, last: date) -> Iterator[Occurrence]:
    """Every occurrence with ``first <= occurs_on <= last``, in date order."""
    numbers = pattern.weekday_numbers
    day = first
    while day <= last:
        if day.weekday() in numbers:
            yield occurrence(pattern, day)
        day += timedelta(days=1)


def first_meeting(pattern: Pattern, not_before: datetime) -> Occurrence:
    """The pattern's first occurrence starting at or after the instant ``not_before``
    (notice counted in real hours, whatever the clocks do meanwhile)."""
    if not pattern.weekday_numbers:
        raise ValueError("a pattern needs at least one weekday")
    day = not_before.astimezone(pattern.tz).date()
    # a week on from that day, the same weekday's session is surely late enough
    return next(found for found in occurrences(pattern, day, day + timedelta(days=7))
                if found.starts_at >= not_before)


DAY_NAMES = {"mon": "Mondays", "tue": "Tuesdays", "wed": "Wednesdays", "thu": "Thursdays",
             "fri": "Fridays", "sat": "Saturdays", "sun": "Sundays"}


def pattern_in_words(weekdays: Iterable[str], start: time) -> str:
    """'Mondays, Wednesdays and Thursdays at 6:00 PM': a group as a person knows it."""
    names = [DAY_NAMES[d] for d in weekdays]
    days = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    hour = start.strftime("%I").lstrip("0") or "12"
    return f"{days} at {hour}:{start:%M %p}"


def daypart_of(start: time, dayparts: dict[str, tuple[int, int]]) -> str:
    for name, (first_hour, end_hour) in dayparts.items():
        if first_hour <= start.hour < end_hour:
            return name
    return "evening" if start.hour >= 12 else "morning"


def plan_sessions(
    pattern: Pattern,
    first: date,
    last: date,
    existing: Iterable[ExistingSession],
    closed_days: frozenset[date],
    closure_reasons: dict[date, str],
    now: datetime,
    from_day: date | None = None,
    keep_until: date | None = None,
) -> list[SessionChange]:
    """Changes that make a cohort's sessions match its pattern from ``first`` to ``last``.

    Only sessions that have not started by ``now`` change: the past (and its
    attendance) is kept as it happened. Nothing before ``from_day`` is created,
    moved or cancelled either (a change of pattern reshapes from the later of
    today and its effective date; only opening a group, ``from_day=None``, fills
    in the days since its start date so its history can be recorded). A future
    session the pattern no longer holds is cancelled, never deleted. Sessions on
    closed days are cancelled with the closure's reason. A session staff moved by
    hand (``pinned``) keeps its time, and so does every session before
    ``keep_until`` (a pattern change that takes effect on a later date); closures
    still cancel them. Returns only real changes, so an unchanged cohort yields [].
    """
    by_day = {s.occurs_on: s for s in existing}
    wanted = {o.occurs_on: o for o in occurrences(pattern, first, last)}
    changes: list[SessionChange] = []
    for day in sorted(set(by_day) | set(wanted)):
        current = by_day.get(day)
        target = wanted.get(day)
        if from_day is not None and day < from_day:
            continue
        if current is not None and current.starts_at <= now:
            continue
        if keep_until is not None and day < keep_until:
            # before a later effective date the sessions stay as they are; only a
            # closure still cancels one
            if current is not None and day in closed_days and current.status != "cancelled":
                changes.append(SessionChange(day, current.id, current.starts_at,
                                             current.ends_at, "cancelled",
                                             closure_reasons.get(day, "Closed")))
            continue
        if target is None:
            # a future session the pattern or the date range no longer holds
            if current is not None and current.status != "cancelled":
                changes.append(SessionChange(day, current.id, current.starts_at,
                                             current.ends_at, "cancelled",
                                             "The group's schedule changed"))
            continue
        if current is not None and current.pinned and day not in closed_days:
            continue
        if day in closed_days:
            status, reason = "cancelled", closure_reasons.get(day, "Closed")
        else:
            status, reason = "scheduled", None
        if current is None:
            changes.append(SessionChange(day, None, target.starts_at, target.ends_at,
                                         status, reason))
        elif (current.starts_at, current.ends_at, current.status, current.cancel_reason) != (
            target.starts_at, target.ends_at, status, reason
        ):
            changes.append(SessionChange(day, current.id, target.starts_at, target.ends_at,
                                         status, reason))
    return changes
