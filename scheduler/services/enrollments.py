"""Use cases for enrollments and attendance: seats are taken race-free here."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from scheduler import attendance
from scheduler.config import Policy
from scheduler.errors import InvalidTransition, InvalidValue
from scheduler.models import (
    Attendance,
    AuditEvent,
    Cohort,
    Enrollment,
    GroupSession,
    ReturnRequest,
    db,
)
from scheduler.seats import seats_free
from scheduler.services import audit, feed_tokens, notices
from scheduler.services.common import get
from scheduler.services.seats import (
    ATTENDED,
    attended_count,
    holds_seat,
    holds_seat_clause,
    lock_cohort,
    move_status,
    seat_client,
    seats_taken,
    sessions_done,
)
from scheduler.services.waitlist import seat_freed
from scheduler.timeutil import local_today

__all__ = ["ATTENDED", "attended_count", "change_status", "enroll", "move", "set_credit",
           "set_status"]


def enroll(client_id: int, cohort_id: int, now: datetime, policy: Policy, *,
           joined_on: date | None = None, credited_sessions: int = 0,
           staff_id: int | None = None) -> Enrollment:
    """Staff seat a client in a cohort (the API's POST /enrollments); one commit.

    Goes through the one seat path: their own paused enrollment there is reused
    with its progress. Raises NoSeatLeft, AlreadyEnrolled, CohortNotOpen. A
    ``joined_on`` in the past records an existing roster.
    """
    seated = seat_client(client_id, cohort_id, now, policy, joined_on=joined_on,
                         credited_sessions=credited_sessions)
    if staff_id is not None:
        _audit(staff_id, "enrollment.create", seated.enrollment, now,
               {"for_client": client_id, "cohort_id": cohort_id,
                "reused": seated.reused})
    db.session.commit()
    return seated.enrollment


def change_status(enrollment_id: int, status: str, now: datetime, policy: Policy, *,
                  release_hold: bool = False, staff_id: int | None = None,
                  reason: str | None = None) -> Enrollment:
    """Move an enrollment through its life (``Enrollment.TRANSITIONS``); one commit.

    Leaving frees the seat at once; a pause holds it for ``pause_hold_days``
    unless ``release_hold`` (which also releases the hold of a paused one).
    Resuming goes through the one seat path. Whenever the enrollment stops
    holding a seat, the seat goes to the next in line (``waitlist.seat_freed``).
    """
    enrollment = get(Enrollment, enrollment_id, "Enrollment")
    old = enrollment.status
    set_status(enrollment, status, now, policy, release_hold=release_hold)
    if staff_id is not None and (status != old or release_hold):
        _audit(staff_id, "enrollment.status", enrollment, now,
               {"from": old, "to": status, "release_hold": release_hold,
                **({"reason": reason} if reason else {})})
    db.session.commit()
    return enrollment


def set_status(enrollment: Enrollment, status: str, now: datetime, policy: Policy, *,
               release_hold: bool = False) -> None:
    """``change_status`` inside the caller's transaction (never commits): for the
    jobs and rules that end or pause enrollments as part of a larger change."""
    cohort = lock_cohort(enrollment.cohort_id)
    old = enrollment.status
    if status == "active" and old == "paused":
        seat_client(enrollment.client_id, cohort.id, now, policy)
    elif status == old == "paused" and release_hold:
        _release(enrollment, now, policy)
    elif status != old:
        held_before = holds_seat(old, enrollment.hold_until, now)
        move_status(enrollment, status, now)
        if status == "paused":
            enrollment.paused_at = now
            enrollment.hold_until = None if release_hold else now + timedelta(
                days=policy.pause_hold_days)
        else:
            enrollment.left_on = local_today(now, ZoneInfo(cohort.location.timezone))
            enrollment.hold_until = None
        db.session.flush()
        if status == "withdrawn":
            feed_tokens.revoke_if_client_left(enrollment.client_id, now)
        if held_before and not holds_seat(status, enrollment.hold_until, now):
            seat_freed(cohort.id, now, policy=policy)


def _release(enrollment: Enrollment, now: datetime, policy: Policy | None) -> None:
    """A paused enrollment stops holding its seat, which goes to the next in line."""
    if enrollment.hold_until is not None:
        enrollment.hold_until = None
        enrollment.updated_at = now
        db.session.flush()
        seat_freed(enrollment.cohort_id, now, policy=policy)


def release_expired_holds(now: datetime, policy: Policy | None = None) -> int:
    """Job: paused seats whose hold ran out go to the next in line."""
    rows = list(db.session.scalars(sa.select(Enrollment).where(
        Enrollment.status == "paused", Enrollment.hold_until <= now)))
    for enrollment in rows:
        _release(enrollment, now, policy)
    db.session.commit()
    return len(rows)


def move(enrollment_id: int, to_cohort_id: int, now: datetime, policy: Policy, *,
         staff_id: int | None = None, reason: str | None = None) -> Enrollment:
    """Move a person to another group, keeping every session done: the old
    enrollment ends as ``moved`` (its seat goes to the next in line) and the new
    seat carries attended plus credited. They are told when and where. One commit.
    """
    old = get(Enrollment, enrollment_id, "Enrollment")
    if old.status not in ("active", "paused"):
        move_status(old, "moved", now)  # 409 with the life cycle's words
    if to_cohort_id == old.cohort_id:
        raise InvalidValue("Choose another group than the one they are in",
                           field="cohort_id")
    for cohort_id in sorted({old.cohort_id, to_cohort_id}):
        lock_cohort(cohort_id)
    done = sessions_done(old)
    held_before = holds_seat(old.status, old.hold_until, now)
    seated = seat_client(old.client_id, to_cohort_id, now, policy, credited_sessions=done)
    move_status(old, "moved", now)
    old.hold_until = None
    old.left_on = local_today(now, ZoneInfo(old.cohort.location.timezone))
    db.session.flush()
    if held_before:
        seat_freed(old.cohort_id, now, policy=policy)
    notices.tell_seated(seated.enrollment, now, occurrence=f"moved-{old.id}")
    if staff_id is not None:
        _audit(staff_id, "enrollment.move", seated.enrollment, now,
               {"from_enrollment": old.id, "from_cohort": old.cohort_id,
                "to_cohort": to_cohort_id, "sessions_carried": done,
                **({"reason": reason} if reason else {})})
    db.session.commit()
    return seated.enrollment


def set_credit(enrollment_id: int, credited_sessions: int, reason: str, now: datetime, *,
               staff_id: int | None) -> Enrollment:
    """Staff set the sessions credited to an enrollment, with a reason (audited):
    the only way credit ever goes down."""
    if not (reason or "").strip():
        raise InvalidValue("Say why the credit changes", field="reason")
    enrollment = get(Enrollment, enrollment_id, "Enrollment")
    total = enrollment.cohort.track.sessions_to_complete
    if not 0 <= credited_sessions <= total:
        raise InvalidValue(f"Credit between 0 and {total} sessions",
                           field="credited_sessions")
    old = enrollment.credited_sessions
    enrollment.credited_sessions = credited_sessions
    enrollment.updated_at = now
    _audit(staff_id, "enrollment.credit", enrollment, now,
           {"from": old, "to": credited_sessions, "reason": reason.strip()})
    db.session.commit()
    return enrollment


def _audit(staff_id: int | None, action: str, enrollment: Enrollment, now: datetime,
           detail: dict) -> None:
    db.session.flush()
    db.session.add(AuditEvent(at=now, staff_id=staff_id, action=action, entity="enrollment",
                              entity_id=enrollment.id, detail=detail))


def record_attendance(session_id: int, marks: list[dict], staff_id: int | None,
                      now: datetime, policy: Policy, *, role: str | None = None,
                      reason: str | None = None) -> list[Attendance]:
    """Set attendance for one group session (upsert per client).

    Only once the session has started; staff (``role``) up to
    ``attendance_days_back`` days after, an admin later with a ``reason``
    (``scheduler.attendance``; late corrections are audited with it). Each client
    must be on the cohort's roster (any enrollment status). An enrollment whose
    attended plus credited sessions reach the track's total completes, freeing its
    seat. A returner's first attended session is stamped.
    """
    group_session = get(GroupSession, session_id, "Group session")
    cohort = group_session.cohort
    refused = attendance.refusal(
        group_session.starts_at, group_session.occurs_on, now,
        local_today(now, ZoneInfo(cohort.location.timezone)), policy, role=role,
        reason=reason)
    if refused is not None:
        field, why = refused
        raise (InvalidValue if field == "reason" else InvalidTransition)(why, field=field)
    if role is not None and reason and (
            local_today(now) - group_session.occurs_on).days > policy.attendance_days_back:
        audit.stage("attendance.late_correction", "group_session", session_id,
                    staff_id=staff_id, ip=None, now=now,
                    detail={"reason": reason.strip(), "marks": marks})
    enrolled = {e.client_id: e for e in db.session.scalars(
        sa.select(Enrollment).where(Enrollment.cohort_id == cohort.id)
        .order_by(Enrollment.id))}
    seen: set[int] = set()
    for index, mark in enumerate(marks):
        if mark["client_id"] not in enrolled:
            raise InvalidValue(f"Client {mark['client_id']} is not on this group's roster",
                               field=f"{index}.client_id")
        if mark["client_id"] in seen:
            raise InvalidValue(f"Client {mark['client_id']} appears twice",
                               field=f"{index}.client_id")
        seen.add(mark["client_id"])
    existing = {a.client_id: a for a in db.session.scalars(
        sa.select(Attendance).where(Attendance.group_session_id == session_id))}
    for mark in marks:
        row = existing.get(mark["client_id"])
        if row is None:
            row = Attendance(group_session_id=session_id, client_id=mark["client_id"])
            db.session.add(row)
            existing[mark["client_id"]] = row
        row.status, row.recorded_by, row.recorded_at = mark["status"], staff_id, now
    db.session.flush()
    for mark in marks:
        if mark["status"] in ATTENDED:
            _stamp_first_attendance(mark["client_id"], group_session)
            _complete_if_done(enrolled[mark["client_id"]], cohort, now, policy)
    db.session.commit()
    return sorted(existing.values(), key=lambda a: a.client_id)


def _complete_if_done(enrollment: Enrollment, cohort: Cohort, now: datetime,
                      policy: Policy) -> None:
    if enrollment.status != "active":
        return
    if sessions_done(enrollment) >= cohort.track.sessions_to_complete:
        set_status(enrollment, "completed", now, policy)


def _stamp_first_attendance(client_id: int, group_session: GroupSession) -> None:
    request = db.session.scalars(sa.select(ReturnRequest).where(
        ReturnRequest.client_id == client_id, ReturnRequest.status == "placed",
        ReturnRequest.first_attended_at.is_(None),
        ReturnRequest.placed_at <= group_session.ends_at,
    ).order_by(ReturnRequest.id.desc())).first()
    if request is not None:
        request.first_attended_at = group_session.starts_at


def attendance_for(session_id: int) -> list[Attendance]:
    get(GroupSession, session_id, "Group session")
    return list(db.session.scalars(sa.select(Attendance).where(
        Attendance.group_session_id == session_id).order_by(Attendance.client_id)))


def roster(cohort_id: int, now: datetime) -> tuple[Cohort, list[Enrollment], int]:
    """The cohort, its active and seat-holding paused enrollments, and seats left."""
    cohort = get(Cohort, cohort_id, "Cohort")
    rows = list(db.session.scalars(sa.select(Enrollment).where(
        Enrollment.cohort_id == cohort_id, holds_seat_clause(now),
    ).order_by(Enrollment.joined_on, Enrollment.id)))
    return cohort, rows, seats_free(cohort.capacity, seats_taken(cohort_id, now))
