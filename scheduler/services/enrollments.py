"""Use cases for enrollments and attendance: seats are taken race-free here."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from scheduler.config import Policy
from scheduler.errors import (
    AlreadyEnrolled,
    CohortNotOpen,
    InvalidTransition,
    InvalidValue,
    NoSeatLeft,
)
from scheduler.models import (
    Attendance,
    Client,
    Cohort,
    Enrollment,
    GroupSession,
    ReturnRequest,
    db,
)
from scheduler.services.common import get, lock_cohort, seats_taken
from scheduler.services.seats import seat_freed
from scheduler.timeutil import local_today

# status -> statuses it may move to
TRANSITIONS = {
    "active": {"paused", "completed", "withdrawn", "moved"},
    "paused": {"active", "completed", "withdrawn", "moved"},
    "completed": set(),
    "withdrawn": set(),
    "moved": set(),
}
ATTENDED = ("present", "late")


def closed_cohort_still_joinable(cohort: Cohort, joined_on: date, policy: Policy) -> bool:
    """A closed cohort takes people only until its Nth group session has begun."""
    nth = db.session.scalars(
        sa.select(GroupSession.occurs_on).where(
            GroupSession.cohort_id == cohort.id, GroupSession.status == "scheduled")
        .order_by(GroupSession.starts_at).offset(policy.closed_join_until_session - 1).limit(1)
    ).first()
    return nth is None or joined_on < nth


def enroll(client_id: int, cohort_id: int, now: datetime, policy: Policy, *,
           joined_on: date | None = None, credited_sessions: int = 0,
           return_request_id: int | None = None, holding_offer: bool = False,
           commit: bool = True) -> Enrollment:
    """Take a seat in a cohort for a client.

    Raises NoSeatLeft when active enrollments, held pauses and open offers fill
    the capacity, AlreadyEnrolled when the client is active there already. A
    ``joined_on`` in the past records an existing roster. ``holding_offer`` means
    the caller is turning the client's own open offer (already a seat) into this.
    """
    get(Client, client_id, "Client")
    cohort = lock_cohort(cohort_id)
    take_seat(cohort, client_id, now, policy, joined_on=joined_on,
              holding_offer=holding_offer)
    enrollment = Enrollment(
        client_id=client_id, cohort_id=cohort_id, status="active",
        joined_on=joined_on or local_today(now, ZoneInfo(cohort.location.timezone)),
        credited_sessions=credited_sessions, return_request_id=return_request_id,
        created_at=now, updated_at=now)
    db.session.add(enrollment)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise AlreadyEnrolled("This client is already in this group") from exc
    if commit:
        db.session.commit()
    return enrollment


def take_seat(cohort: Cohort, client_id: int, now: datetime, policy: Policy, *,
              joined_on: date | None = None, holding_offer: bool = False) -> None:
    """Check, under the cohort's lock, that this client may take a seat now.

    ``holding_offer`` means a seat is already held for this client (their open
    offer, or their own paused enrollment's hold), so it is not counted again.
    """
    if cohort.status != "running":
        raise CohortNotOpen(f"{cohort.name} is {cohort.status}; it takes no enrollments now")
    already = db.session.scalar(sa.select(Enrollment.id).where(
        Enrollment.client_id == client_id, Enrollment.cohort_id == cohort.id,
        Enrollment.status == "active"))
    if already is not None:
        raise AlreadyEnrolled("This client is already in this group")
    if cohort.mode == "closed":
        day = joined_on or local_today(now, ZoneInfo(cohort.location.timezone))
        if not closed_cohort_still_joinable(cohort, day, policy):
            raise CohortNotOpen(f"{cohort.name} is a closed group past its third session")
    if not holding_offer and seats_taken(cohort.id, now) >= cohort.capacity:
        raise NoSeatLeft(f"{cohort.name} has no seat left", field="cohort_id")


def change_status(enrollment_id: int, status: str, now: datetime, policy: Policy, *,
                  release_hold: bool = False, commit: bool = True) -> Enrollment:
    """Move an enrollment through its life.

    Leaving frees the seat at once; a pause holds it for ``pause_hold_days``
    unless ``release_hold`` (which also releases the hold of a paused one).
    Whenever the enrollment stops holding a seat, the seat goes to the waitlist.
    """
    enrollment = get(Enrollment, enrollment_id, "Enrollment")
    cohort = lock_cohort(enrollment.cohort_id)
    old = enrollment.status
    if status == old == "paused" and release_hold:
        _release(enrollment, cohort, now)
    elif status != old:
        if status not in TRANSITIONS[old]:
            raise InvalidTransition(f"An enrollment that is {old} cannot become {status}",
                                    field="status")
        if status == "active":
            holding = enrollment.hold_until is not None and enrollment.hold_until > now
            take_seat(cohort, enrollment.client_id, now, policy, holding_offer=holding)
            enrollment.paused_at = enrollment.hold_until = None
        elif status == "paused":
            enrollment.paused_at = now
            enrollment.hold_until = None if release_hold else now + timedelta(
                days=policy.pause_hold_days)
        else:
            enrollment.left_on = local_today(now, ZoneInfo(cohort.location.timezone))
            enrollment.hold_until = None
        enrollment.status = status
        enrollment.updated_at = now
        db.session.flush()
        if status == "withdrawn":
            from calendars.tokens import revoke_if_client_left

            revoke_if_client_left(enrollment.client_id, now)
        if status != "active" and enrollment.hold_until is None:
            seat_freed(cohort.id, now)
    if commit:
        db.session.commit()
    return enrollment


def _release(enrollment: Enrollment, cohort: Cohort, now: datetime) -> None:
    if enrollment.hold_until is not None:
        enrollment.hold_until = None
        enrollment.updated_at = now
        db.session.flush()
        seat_freed(cohort.id, now)


def release_expired_holds(now: datetime) -> int:
    """Job: paused seats whose hold ran out go to the next in line."""
    rows = list(db.session.scalars(sa.select(Enrollment).where(
        Enrollment.status == "paused", Enrollment.hold_until <= now)))
    for enrollment in rows:
        _release(enrollment, lock_cohort(enrollment.cohort_id), now)
    db.session.commit()
    return len(rows)


def record_attendance(session_id: int, marks: list[dict], staff_id: int | None,
                      now: datetime, policy: Policy) -> list[Attendance]:
    """Set attendance for one group session (upsert per client).

    Each client must be on the cohort's roster (any enrollment status). An
    enrollment whose attended plus credited sessions reach the track's total
    completes, freeing its seat. A returner's first attended session is stamped.
    """
    group_session = get(GroupSession, session_id, "Group session")
    cohort = group_session.cohort
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


def attended_count(enrollment: Enrollment) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Attendance).join(GroupSession).where(
            GroupSession.cohort_id == enrollment.cohort_id,
            Attendance.client_id == enrollment.client_id,
            Attendance.status.in_(ATTENDED),
            GroupSession.occurs_on >= enrollment.joined_on,
        )) or 0


def _complete_if_done(enrollment: Enrollment, cohort: Cohort, now: datetime,
                      policy: Policy) -> None:
    if enrollment.status != "active":
        return
    done = attended_count(enrollment) + enrollment.credited_sessions
    if done >= cohort.track.sessions_to_complete:
        change_status(enrollment.id, "completed", now, policy, commit=False)


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
        Enrollment.cohort_id == cohort_id,
        sa.or_(Enrollment.status == "active",
               sa.and_(Enrollment.status == "paused", Enrollment.hold_until > now)),
    ).order_by(Enrollment.joined_on, Enrollment.id)))
    return cohort, rows, max(cohort.capacity - seats_taken(cohort_id, now), 0)
