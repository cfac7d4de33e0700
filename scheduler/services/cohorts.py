"""Use cases for locations, tracks, cohorts, their group sessions and closures."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from scheduler.config import Policy
from scheduler.errors import (
    AlreadyExists,
    CapacityBelowSeatsTaken,
    InvalidTransition,
    InvalidValue,
)
from scheduler.models import (
    WEEKDAYS,
    Closure,
    Cohort,
    GroupSession,
    Location,
    StaffUser,
    Track,
    db,
)
from scheduler.schedule import ExistingSession, Pattern, plan_sessions
from scheduler.services import outbox
from scheduler.services.common import get
from scheduler.services.seats import lock_cohort, seats_taken
from scheduler.services.waitlist import seat_freed
from scheduler.timeutil import local_today

PATTERN_FIELDS = ("weekdays", "start_time", "minutes", "starts_on", "ends_on")


def create_location(name: str, address: str = "", timezone: str = "America/New_York",
                    phone: str = "", reply_to: str = "") -> Location:
    _require_unique(Location, name)
    location = Location(name=name, address=address, timezone=timezone, phone=phone,
                        reply_to=reply_to)
    db.session.add(location)
    db.session.commit()
    return location


def update_location(location_id: int, changes: dict[str, Any]) -> Location:
    """Change a site's address, how clients reach it (phone, reply-to address) or the
    local hour its coordinators get the day's new requests (``digest_hour``, None for
    no digest)."""
    location = get(Location, location_id, "Location")
    for name in ("address", "phone", "reply_to", "digest_hour"):
        if name in changes:
            setattr(location, name, changes[name])
    db.session.commit()
    return location


def create_track(name: str, sessions_to_complete: int = 36) -> Track:
    _require_unique(Track, name)
    track = Track(name=name, sessions_to_complete=sessions_to_complete)
    db.session.add(track)
    db.session.commit()
    return track


def _require_unique(model: type, name: str) -> None:
    if db.session.scalar(sa.select(model.id).where(model.name == name)) is not None:
        raise AlreadyExists(f"A {model.__name__.lower()} named {name!r} already exists",
                           field="name")


def pattern_of(cohort: Cohort) -> Pattern:
    return Pattern(tuple(cohort.weekday_list), cohort.start_time, cohort.minutes,
                   ZoneInfo(cohort.location.timezone))


def normalise_weekdays(weekdays: list[str]) -> str:
    unknown = [d for d in weekdays if d not in WEEKDAYS]
    if unknown or not weekdays:
        raise InvalidValue("Use one or more of mon, tue, wed, thu, fri, sat, sun",
                           field="weekdays")
    return ",".join(d for d in WEEKDAYS if d in set(weekdays))


def create_cohort(data: dict[str, Any], now: datetime, policy: Policy) -> Cohort:
    """Create a cohort; a running one gets its group sessions at once.

    ``data`` holds API field names (``weekdays`` as a list, ``start_time`` a time).
    """
    get(Location, data["location_id"], "Location", "location_id")
    get(Track, data["track_id"], "Track", "track_id")
    if data.get("facilitator_id") is not None:
        get(StaffUser, data["facilitator_id"], "Facilitator", "facilitator_id")
    cohort = Cohort(
        location_id=data["location_id"], track_id=data["track_id"], name=data["name"],
        mode=data.get("mode", "rolling"), status=data.get("status", "running"),
        weekdays=normalise_weekdays(data["weekdays"]), start_time=data["start_time"],
        minutes=data.get("minutes", 180), capacity=data.get("capacity", 12),
        starts_on=data.get("starts_on"), ends_on=data.get("ends_on"),
        facilitator_id=data.get("facilitator_id"), room=data.get("room", ""),
        for_returners=data.get("for_returners", False),
    )
    _check_dates(cohort)
    if cohort.status == "running" and cohort.starts_on is None:
        raise InvalidValue("A running cohort needs a start date", field="starts_on")
    db.session.add(cohort)
    db.session.flush()
    if cohort.status == "running":
        cohort.opened_at = now
        materialise(cohort, now, policy, opening=True)
    db.session.commit()
    return cohort


def _check_dates(cohort: Cohort) -> None:
    if cohort.starts_on and cohort.ends_on and cohort.ends_on < cohort.starts_on:
        raise InvalidValue("The end date must be on or after the start date",
                           field="ends_on")


def update_cohort(cohort_id: int, changes: dict[str, Any], now: datetime,
                  policy: Policy) -> Cohort:
    """Apply a PATCH. Pattern changes reshape only group sessions not yet started,
    from the later of today and ``effective_from`` (when given); lowering capacity
    below the seats already taken is refused (409)."""
    cohort = lock_cohort(cohort_id)
    old_capacity, old_status = cohort.capacity, cohort.status
    changes = dict(changes)
    effective_from = changes.pop("effective_from", None)
    new_status = changes.get("status", old_status)
    if new_status not in STATUS_STEPS[old_status]:
        raise InvalidTransition(f"A {old_status} cohort cannot become {new_status}",
                                field="status")
    if "weekdays" in changes:
        changes = {**changes, "weekdays": normalise_weekdays(changes["weekdays"])}
    if changes.get("facilitator_id") is not None:
        get(StaffUser, changes["facilitator_id"], "Facilitator", "facilitator_id")
    for name, value in changes.items():
        setattr(cohort, name, value)
    _check_dates(cohort)
    if cohort.capacity < old_capacity:
        taken = seats_taken(cohort.id, now)
        if cohort.capacity < taken:
            raise CapacityBelowSeatsTaken(
                f"{taken} seats are taken; capacity cannot go below that", field="capacity")
    if new_status == "running":
        if cohort.starts_on is None:
            raise InvalidValue("A running cohort needs a start date", field="starts_on")
        if old_status == "forming":
            cohort.opened_at = now
        if old_status == "forming":
            materialise(cohort, now, policy, opening=True)
        elif set(changes) & set(PATTERN_FIELDS):
            today = local_today(now, ZoneInfo(cohort.location.timezone))
            cohort.pattern_from = effective_from if effective_from and (
                effective_from > today) else None
            materialise(cohort, now, policy)
    elif new_status == "ended" and old_status != "ended":
        end_cohort_sessions(cohort, now)
    if cohort.status == "running" and (cohort.capacity > old_capacity or old_status == "forming"):
        seat_freed(cohort.id, now)
    db.session.commit()
    return cohort


# which status a cohort may move to from each status (staying put is always allowed)
STATUS_STEPS = {
    "forming": {"forming", "running", "ended"},
    "running": {"running", "ended"},
    "ended": {"ended"},
}


def end_cohort_sessions(cohort: Cohort, now: datetime) -> None:
    """An ended group meets no more: its future sessions are cancelled, kept, and
    its end date is today unless an earlier one was set."""
    today = local_today(now, ZoneInfo(cohort.location.timezone))
    if cohort.ends_on is None or cohort.ends_on > today:
        cohort.ends_on = max(today, cohort.starts_on) if cohort.starts_on else None
    for row in db.session.scalars(sa.select(GroupSession).where(
            GroupSession.cohort_id == cohort.id, GroupSession.starts_at > now,
            GroupSession.status == "scheduled")):
        row.status, row.cancel_reason = "cancelled", "The group has ended"
        row.revision += 1
        row.updated_at = now
        outbox.session_changed(row, row.starts_at, "scheduled", now)


def materialise(cohort: Cohort, now: datetime, policy: Policy, *,
                opening: bool = False) -> int:
    """Bring a cohort's group sessions in line with its pattern, closures and horizon.

    Moves or cancels future sessions that no longer fit and creates missing ones up
    to ``horizon_weeks`` ahead, from today on: never before (a changed pattern does
    not invent sessions that never happened), and sessions before the group's
    ``pattern_from`` keep their times. Only ``opening`` a group fills in the days
    since its start date, so its history can be recorded. Each changed row's
    revision rises. Does not commit. Returns how many rows changed.
    """
    if cohort.starts_on is None or cohort.status == "forming":
        return 0
    today = local_today(now, ZoneInfo(cohort.location.timezone))
    from_day = None if opening else today
    keep_until = cohort.pattern_from if cohort.pattern_from and cohort.pattern_from > today \
        else None
    last = today + timedelta(weeks=policy.horizon_weeks)
    if cohort.ends_on is not None:
        last = min(last, cohort.ends_on)
    existing_rows = {
        s.occurs_on: s for s in db.session.scalars(
            sa.select(GroupSession).where(GroupSession.cohort_id == cohort.id))
    }
    existing = [ExistingSession(s.id, s.occurs_on, s.starts_at, s.ends_at, s.status,
                                s.cancel_reason, s.pinned) for s in existing_rows.values()]
    closures = closures_for(cohort.location_id, cohort.starts_on, max(last, cohort.starts_on))
    changes = plan_sessions(pattern_of(cohort), cohort.starts_on, last, existing,
                            frozenset(closures), closures, now, from_day, keep_until)
    changed_rows = []
    for change in changes:
        row = existing_rows.get(change.occurs_on)
        if row is None:
            db.session.add(GroupSession(
                cohort_id=cohort.id, occurs_on=change.occurs_on, starts_at=change.starts_at,
                ends_at=change.ends_at, status=change.status,
                cancel_reason=change.cancel_reason, revision=0, created_at=now,
                updated_at=now))
        else:
            changed_rows.append((row, row.starts_at, row.status))
            row.starts_at, row.ends_at = change.starts_at, change.ends_at
            row.status, row.cancel_reason = change.status, change.cancel_reason
            row.revision += 1
            row.updated_at = now
    for row, old_starts_at, old_status in changed_rows:
        outbox.session_changed(row, old_starts_at, old_status, now, policy)
    return len(changes)


def closures_for(location_id: int, first: date, last: date) -> dict[date, str]:
    rows = db.session.execute(
        sa.select(Closure.date, Closure.reason).where(
            sa.or_(Closure.location_id == location_id, Closure.location_id.is_(None)),
            Closure.date >= first, Closure.date <= last,
        ).order_by(Closure.id)
    )
    return {day: reason for day, reason in rows}


def create_closure(location_id: int | None, day: date, reason: str, now: datetime,
                   policy: Policy) -> tuple[Closure, list[GroupSession]]:
    """Record a closed day and cancel (never delete) the group sessions on it. A day
    that has passed is refused: its sessions happened (or not) and nobody can be told."""
    if day < local_today(now):
        raise InvalidValue("That day has passed; a closure is for today or a later day",
                           field="date")
    if location_id is not None:
        get(Location, location_id, "Location", "location_id")
    closure = Closure(location_id=location_id, date=day, reason=reason)
    db.session.add(closure)
    db.session.flush()
    affected = sessions_on_closure(location_id, day)
    cohorts = {s.cohort_id for s in affected}
    for cohort_id in sorted(cohorts):
        materialise(lock_cohort(cohort_id), now, policy)
    db.session.commit()
    return closure, affected


def sessions_on_closure(location_id: int | None, day: date) -> list[GroupSession]:
    """The scheduled group sessions a closure on ``day`` would cancel (for previews)."""
    query = (sa.select(GroupSession).join(Cohort)
             .where(GroupSession.occurs_on == day, GroupSession.status == "scheduled"))
    if location_id is not None:
        query = query.where(Cohort.location_id == location_id)
    return list(db.session.scalars(query.order_by(GroupSession.starts_at)))


def extend_horizon(now: datetime, policy: Policy) -> int:
    """Job: keep every running cohort's sessions materialised to the horizon."""
    changed = 0
    for cohort_id in db.session.scalars(sa.select(Cohort.id).where(Cohort.status == "running")):
        changed += materialise(db.session.get(Cohort, cohort_id), now, policy)
    db.session.commit()
    return changed


def sessions_between(cohort_id: int, first: date | None, last: date | None,
                     ) -> list[GroupSession]:
    get(Cohort, cohort_id, "Cohort")
    query = sa.select(GroupSession).where(GroupSession.cohort_id == cohort_id)
    if first is not None:
        query = query.where(GroupSession.occurs_on >= first)
    if last is not None:
        query = query.where(GroupSession.occurs_on <= last)
    return list(db.session.scalars(query.order_by(GroupSession.starts_at)))


def change_session(session_id: int, now: datetime, *, starts_at: datetime | None = None,
                   minutes: int | None = None, status: str | None = None,
                   cancel_reason: str | None = None) -> GroupSession:
    """Move or cancel (or restore) one meeting by hand.

    The row is pinned so later pattern runs leave it alone, its revision rises,
    and a meeting that has already started cannot be changed.
    """
    row = get(GroupSession, session_id, "Group session")
    if row.starts_at <= now:
        raise InvalidTransition("This group session has already started; it stays as it was")
    old_starts_at, old_status = row.starts_at, row.status
    if starts_at is not None or minutes is not None:
        length = timedelta(minutes=minutes) if minutes else row.ends_at - row.starts_at
        start = starts_at or row.starts_at
        if start <= now:
            raise InvalidValue("The new time must be in the future", field="starts_at")
        row.starts_at, row.ends_at = start, start + length
    if status == "cancelled":
        row.status, row.cancel_reason = "cancelled", cancel_reason or "Cancelled"
    elif status == "scheduled":
        row.status, row.cancel_reason = "scheduled", None
    row.pinned = True
    row.revision += 1
    row.updated_at = now
    outbox.session_changed(row, old_starts_at, old_status, now)
    db.session.commit()
    return row
