"""Time values: store UTC instants, show America/New_York.

Every rule takes ``now`` as an argument; nothing here reads the wall clock except
``utcnow`` which is the production clock handed to use cases by the app.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

PROGRAM_TZ = ZoneInfo("America/New_York")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """An aware UTC datetime; naive values are taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def local_instant(day: date, at: time, tz: ZoneInfo = PROGRAM_TZ) -> datetime:
    """The UTC instant of a local wall-clock time on a local date.

    A wall-clock time skipped by the spring change (02:30 on 2026-03-08) is moved
    forward by the gap; an ambiguous one in the autumn takes the first (daylight)
    occurrence. Both follow zoneinfo's ``fold=0`` rule.
    """
    return datetime.combine(day, at).replace(tzinfo=tz).astimezone(UTC)


def to_local(value: datetime, tz: ZoneInfo = PROGRAM_TZ) -> datetime:
    return as_utc(value).astimezone(tz)


def local_today(now: datetime, tz: ZoneInfo = PROGRAM_TZ) -> date:
    return to_local(now, tz).date()


def human_when(value: datetime, tz: ZoneInfo = PROGRAM_TZ) -> str:
    """'Mon Dec 7, 6:00 PM' in the program's time zone."""
    local = to_local(value, tz)
    hour = local.strftime("%I").lstrip("0") or "12"
    return f"{local:%a %b} {local.day}, {hour}:{local:%M %p}"


def human_time(value: datetime, tz: ZoneInfo = PROGRAM_TZ) -> str:
    local = to_local(value, tz)
    hour = local.strftime("%I").lstrip("0") or "12"
    return f"{hour}:{local:%M %p}"


def days_between(earlier: datetime, later: datetime) -> int:
    return (as_utc(later) - as_utc(earlier)) // timedelta(days=1)


class UTCDateTime(TypeDecorator):
    """Stores naive UTC in the database, hands out aware UTC datetimes.

    The same column behaves alike on SQLite (which keeps no offset) and PostgreSQL.
    """

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; pass an aware value")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)
