"""Planning rules for reminders and quiet hours: plain values in, plain values out.

No database and no Flask here; ``scheduler.services.outbox`` applies these rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduler.timeutil import as_utc, local_instant, to_local

DAY_MINUTES = 1440


@dataclass(frozen=True)
class PlannedReminder:
    lead_minutes: int
    due_at: datetime


def lead_instant(starts_at: datetime, lead_minutes: int, tz: ZoneInfo) -> datetime:
    """When a reminder ``lead_minutes`` before ``starts_at`` is due (aware UTC).

    Whole-day leads keep the wall clock: "a day before" a 6:00 PM session is 6:00 PM
    the local day before, even across a daylight-saving change (then 23 or 25 real
    hours). Other leads are real durations: "2 h before" is always 120 minutes.
    """
    start = as_utc(starts_at)
    if lead_minutes > 0 and lead_minutes % DAY_MINUTES == 0:
        local = to_local(start, tz)
        day = local.date() - timedelta(days=lead_minutes // DAY_MINUTES)
        return local_instant(day, local.time().replace(tzinfo=None), tz)
    return start - timedelta(minutes=lead_minutes)


def plan_reminders(starts_at: datetime, leads: Iterable[int], now: datetime,
                   tz: ZoneInfo) -> list[PlannedReminder]:
    """The reminders to plan for one meeting, earliest first.

    Nothing once the meeting has begun. Leads still ahead are planned at their
    instant. Leads already passed are dropped, except that when none is ahead the
    latest passed one is planned for ``now``: a client enrolled an hour before
    gets one reminder, not a burst of them.
    """
    start, now = as_utc(starts_at), as_utc(now)
    if now >= start:
        return []
    ahead, passed = [], []
    for lead in sorted({int(m) for m in leads if int(m) > 0}, reverse=True):
        due = lead_instant(start, lead, tz)
        (ahead if due > now else passed).append(PlannedReminder(lead, due))
    if passed and not ahead:
        return [PlannedReminder(passed[-1].lead_minutes, now)]
    return ahead


def in_quiet_hours(at: datetime, tz: ZoneInfo, start_hour: int = 21,
                   end_hour: int = 8) -> bool:
    """Whether ``at`` falls in the local quiet window [start_hour, end_hour)."""
    hour = to_local(at, tz).hour
    if start_hour > end_hour:  # the window crosses midnight
        return hour >= start_hour or hour < end_hour
    return start_hour <= hour < end_hour


def after_quiet_hours(at: datetime, tz: ZoneInfo, start_hour: int = 21,
                      end_hour: int = 8) -> datetime:
    """``at`` itself outside quiet hours, else the next local ``end_hour`` (aware UTC).

    Deferred, never dropped: 23:30 becomes 08:00 the next local day, 02:00 becomes
    08:00 the same day; the instant is computed in the zone, so it is right on the
    days the clocks change.
    """
    at = as_utc(at)
    if not in_quiet_hours(at, tz, start_hour, end_hour):
        return at
    local = to_local(at, tz)
    day = local.date()
    if local.hour >= end_hour:  # evening part of the window: the morning after
        day += timedelta(days=1)
    return local_instant(day, time(end_hour, 0), tz).astimezone(UTC)


def consecutive_unexcused_absences(marks_latest_first: Iterable[str]) -> int:
    """How many of the latest recorded marks in a row are ``absent``.

    An excused absence, or attending (present, late), ends the run.
    """
    run = 0
    for status in marks_latest_first:
        if status != "absent":
            break
        run += 1
    return run


def change_notice(old_start: datetime, new_start: datetime, old_status: str,
                  new_status: str, now: datetime, notice_days: int) -> str | None:
    """The message one change to a group session sends its people, or None.

    Cancelled: "cancellation"; moved: "session_moved"; put back on after a
    cancellation: "session_restored". Only for meetings within ``notice_days``
    (further out, reminders and calendar feeds carry the change) that have not
    started.
    """
    old_start, new_start, now = as_utc(old_start), as_utc(new_start), as_utc(now)
    until = now + timedelta(days=notice_days)
    if new_status == "cancelled" and old_status == "scheduled":
        return "cancellation" if now < old_start <= until else None
    if new_status == "scheduled" and old_status == "cancelled":
        return "session_restored" if now < new_start <= until else None
    if new_status == "scheduled" and new_start != old_start:
        first = min(old_start, new_start)
        return "session_moved" if now < first <= until else None
    return None
