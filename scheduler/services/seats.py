"""Seats have one home: the cohort lock, the seat count, what holds a seat, the
closed-group joining window, how credit carries, and seating a client.

Every way into a group (resume, join, an offer accepted from the page or recorded
by staff, a forming group opened or merged, staff enrolling, a move) calls
``seat_client``. It runs under the cohort's lock, reuses the person's own live
enrollment in that group (so their progress carries, never split or lost), and
never commits: the use case that called it does, once.

This module sits at the bottom of ``scheduler/services``: it imports no other use
case. Offering a freed seat to the next in line lives one layer up
(``waitlist.seat_freed``), and every caller that frees a seat calls that.

The rules themselves are plain functions in ``scheduler/seats.py`` (``holds_seat``,
``seats_free``, ``carried_credit``, ``closed_window_open``), tested without a
database.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from scheduler.config import Policy
from scheduler.errors import (
    AlreadyEnrolled,
    CohortNotOpen,
    InvalidTransition,
    NoSeatLeft,
    NotFound,
)
from scheduler.models import (
    LIVE_ENROLLMENT,
    Attendance,
    Client,
    Cohort,
    Enrollment,
    GroupSession,
    SeatOffer,
    StatusChangeRefused,
    db,
)
from scheduler.seats import carried_credit, closed_window_open, holds_seat
from scheduler.services.common import get
from scheduler.timeutil import local_today

ATTENDED = ("present", "late")


# --- the same rules in SQL -----------------------------------------------------------

def holds_seat_clause(now: datetime):
    """``holds_seat`` as a SQL condition on Enrollment."""
    return sa.or_(Enrollment.status == "active",
                  sa.and_(Enrollment.status == "paused", Enrollment.hold_until > now))


def lock_cohort(cohort_id: int) -> Cohort:
    """Load a cohort and hold its row lock until commit.

    On PostgreSQL this is ``SELECT ... FOR UPDATE``; on SQLite every write
    transaction already begins IMMEDIATE, so the whole database is held. Either
    way two seat-takers for one cohort run one after the other.
    """
    cohort = db.session.execute(
        sa.select(Cohort).where(Cohort.id == cohort_id).with_for_update()
    ).scalar_one_or_none()
    if cohort is None:
        raise NotFound(f"Cohort {cohort_id} was not found", field="cohort_id")
    return cohort


def seats_taken(cohort_id: int, now: datetime) -> int:
    """Active enrollments, paused ones still holding their seat, and open offers."""
    enrolled = db.session.scalar(
        sa.select(sa.func.count()).select_from(Enrollment).where(
            Enrollment.cohort_id == cohort_id, holds_seat_clause(now)))
    offered = db.session.scalar(
        sa.select(sa.func.count()).select_from(SeatOffer).where(
            SeatOffer.cohort_id == cohort_id, SeatOffer.status == "open"))
    return int(enrolled or 0) + int(offered or 0)


def seats_by_cohort(now: datetime, *, location_ids: Collection[int] | None = None,
                    cohort_id: int | None = None) -> dict[int, dict[str, int]]:
    """{cohort_id: {"enrolled", "held", "offered"}} for every cohort, or only those at
    ``location_ids``, or ``cohort_id`` alone (what a page shows: the sites' or one
    group's seats are not counted from every group's), in one query."""
    enrolled = (sa.select(Enrollment.cohort_id,
                          sa.case((Enrollment.status == "active", "enrolled"), else_="held"),
                          sa.func.count())
                .where(holds_seat_clause(now),
                       cohorts_shown(Enrollment.cohort_id, location_ids, cohort_id))
                .group_by(Enrollment.cohort_id, Enrollment.status))
    offered = (sa.select(SeatOffer.cohort_id, sa.literal("offered"), sa.func.count())
               .where(SeatOffer.status == "open",
                      cohorts_shown(SeatOffer.cohort_id, location_ids, cohort_id))
               .group_by(SeatOffer.cohort_id))
    counts: dict[int, dict[str, int]] = {}
    for cid, what, n in db.session.execute(sa.union_all(enrolled, offered)):
        bucket = counts.setdefault(cid, {"enrolled": 0, "held": 0, "offered": 0})
        bucket[what] += n
    return counts


def cohorts_shown(column, location_ids: Collection[int] | None = None,
                  cohort_id: int | None = None):
    """A condition on a cohort id ``column``: every cohort, those at ``location_ids``,
    or ``cohort_id`` alone."""
    if cohort_id is not None:
        return column == cohort_id
    if location_ids is not None:
        return column.in_(sa.select(Cohort.id).where(Cohort.location_id.in_(location_ids)))
    return sa.true()


def closed_cohort_still_joinable(cohort: Cohort, day: date, policy: Policy) -> bool:
    return closed_windows_open([cohort.id], day, policy)[cohort.id]


def last_session_to_join_column(closed_join_until_session: int):
    """The day of a cohort's ``closed_join_until_session``-th scheduled group session
    (NULL when it has fewer), as a column correlated to ``Cohort``: what
    ``closed_window_open`` compares today with, for many cohorts in one statement."""
    return (sa.select(GroupSession.occurs_on)
            .where(GroupSession.cohort_id == Cohort.id, GroupSession.status == "scheduled")
            .order_by(GroupSession.starts_at)
            .limit(1).offset(closed_join_until_session - 1)
            .correlate(Cohort).scalar_subquery())


def seats_taken_column(now: datetime):
    """``seats_by_cohort``'s total for a cohort (enrolled, held and offered seats), as
    a column correlated to ``Cohort``, for pages that read cohorts in one statement."""
    holding = (sa.select(sa.func.count()).select_from(Enrollment)
               .where(Enrollment.cohort_id == Cohort.id, holds_seat_clause(now))
               .correlate(Cohort).scalar_subquery())
    offered = (sa.select(sa.func.count()).select_from(SeatOffer)
               .where(SeatOffer.cohort_id == Cohort.id, SeatOffer.status == "open")
               .correlate(Cohort).scalar_subquery())
    return holding + offered


def closed_windows_open(cohort_ids: list[int], day: date, policy: Policy) -> dict[int, bool]:
    """``closed_window_open`` for many closed cohorts in one query."""
    if not cohort_ids:
        return {}
    column = last_session_to_join_column(policy.closed_join_until_session)
    rows = db.session.execute(sa.select(Cohort.id, column).where(Cohort.id.in_(cohort_ids)))
    return {cid: closed_window_open(last, day) for cid, last in rows}


def takes_people(cohort: Cohort, now: datetime, policy: Policy,
                 day: date | None = None) -> bool:
    """Whether the cohort takes anyone now: running, and for a closed group, still
    inside its joining window."""
    if cohort.status != "running":
        return False
    if cohort.mode == "closed":
        day = day or local_today(now, ZoneInfo(cohort.location.timezone))
        return closed_cohort_still_joinable(cohort, day, policy)
    return True


def live_enrollment(client_id: int, cohort_id: int) -> Enrollment | None:
    """The client's one live (active or paused) enrollment in a cohort, if any."""
    return db.session.scalars(sa.select(Enrollment).where(
        Enrollment.client_id == client_id, Enrollment.cohort_id == cohort_id,
        Enrollment.status.in_(LIVE_ENROLLMENT))
        .execution_options(populate_existing=True)).first()


def attended_since_joining():
    """Group sessions of an enrollment's cohort the client attended since joining,
    as a column of an ``Enrollment`` row (one rule for rosters, pages and credit)."""
    return (sa.select(sa.func.count(Attendance.id))
            .join(GroupSession, GroupSession.id == Attendance.group_session_id)
            .where(GroupSession.cohort_id == Enrollment.cohort_id,
                   Attendance.client_id == Enrollment.client_id,
                   Attendance.status.in_(ATTENDED),
                   GroupSession.occurs_on >= Enrollment.joined_on)
            .correlate(Enrollment).scalar_subquery())


def attended_count(enrollment: Enrollment) -> int:
    """``attended_since_joining`` for one enrollment."""
    return db.session.scalar(sa.select(attended_since_joining())
                             .where(Enrollment.id == enrollment.id)) or 0


def sessions_done(enrollment: Enrollment) -> int:
    """Attended plus credited: what the roster shows as done toward the track."""
    return attended_count(enrollment) + enrollment.credited_sessions


def move_status(row, status: str, now: datetime) -> None:
    """Change a status through the model's allowed transitions (409 otherwise)."""
    try:
        row.move_to(status, now)
    except StatusChangeRefused as exc:
        raise InvalidTransition(str(exc), field="status") from exc


# --- seating a client ----------------------------------------------------------------

@dataclass(frozen=True)
class Seated:
    """What ``seat_client`` did: the enrollment, whether it reused the person's own
    (``reused``), and whether a second seat held for them was given back
    (``freed_extra``: the caller offers it on)."""

    enrollment: Enrollment
    reused: bool
    freed_extra: bool


def seat_client(client_id: int, cohort_id: int, now: datetime, policy: Policy, *,
                credited_sessions: int = 0, joined_on: date | None = None,
                return_request_id: int | None = None, holding_offer: bool = False,
                ) -> Seated:
    """Seat a client in a cohort, under its lock. Never commits.

    * Their own paused enrollment there is reactivated (its hold, if it lasts, is
      their seat) and keeps its progress; ``credited_sessions`` only ever raises
      what it counts (``carried_credit``).
    * Otherwise a new enrollment starts with ``credited_sessions``.
    * ``holding_offer``: an open offer already holds a seat for them (the caller
      turns it into this enrollment), so no free seat is needed. When their own
      held pause was a seat as well, one of the two is given back
      (``freed_extra``).

    Raises AlreadyEnrolled (active there already), CohortNotOpen (not running, or
    a closed group past its window), NoSeatLeft.
    """
    get(Client, client_id, "Client")
    cohort = lock_cohort(cohort_id)
    if cohort.status != "running":
        raise CohortNotOpen(f"{cohort.name} is {cohort.status}; it takes no enrollments now")
    own = live_enrollment(client_id, cohort_id)
    if own is not None and own.status == "active":
        raise AlreadyEnrolled("This client is already in this group")
    own_hold = own is not None and holds_seat(own.status, own.hold_until, now)
    if own is None:
        joined_on = joined_on or starting_day(cohort, now)
        if not takes_people(cohort, now, policy, joined_on):
            raise CohortNotOpen(f"{cohort.name} is a closed group past its "
                                f"{_ordinal(policy.closed_join_until_session)} session")
    if not (holding_offer or own_hold) and seats_taken(cohort.id, now) >= cohort.capacity:
        raise NoSeatLeft(f"{cohort.name} has no seat left", field="cohort_id")
    if own is not None:
        own.credited_sessions += carried_credit(sessions_done(own), credited_sessions)
        move_status(own, "active", now)
        own.paused_at = own.hold_until = None
        if return_request_id is not None:
            own.return_request_id = return_request_id
        db.session.flush()
        return Seated(own, True, holding_offer and own_hold)
    enrollment = Enrollment(
        client_id=client_id, cohort_id=cohort_id, status="active",
        joined_on=joined_on,
        credited_sessions=credited_sessions, return_request_id=return_request_id,
        created_at=now, updated_at=now)
    db.session.add(enrollment)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:
        raise AlreadyEnrolled("This client is already in this group") from exc
    return Seated(enrollment, False, False)


def next_group_session(cohort_id: int, now: datetime) -> GroupSession | None:
    """The first scheduled group session that has not begun."""
    return db.session.scalars(sa.select(GroupSession).where(
        GroupSession.cohort_id == cohort_id, GroupSession.status == "scheduled",
        GroupSession.starts_at > now).order_by(GroupSession.starts_at).limit(1)).first()


def starting_day(cohort: Cohort, now: datetime) -> date:
    """The day a new member's place begins: the day of the group's first session not
    yet begun, so someone seated while a session is on, or after the day's session,
    is not on that session's roster (nor marked absent from it); today when no
    session lies ahead."""
    first = next_group_session(cohort.id, now)
    return (first.occurs_on if first is not None
            else local_today(now, ZoneInfo(cohort.location.timezone)))


def _ordinal(n: int) -> str:
    return {1: "first", 2: "second", 3: "third"}.get(n, f"{n}th")


def end_other_paused(client_id: int, kept_cohort_id: int, now: datetime) -> list[int]:
    """A person seated in one group leaves their paused places in others (ended as
    ``moved``; their progress is carried by the seat they took). Returns the cohorts
    whose held seat this gave back, for the caller to offer on."""
    freed = []
    paused = list(db.session.scalars(sa.select(Enrollment).where(
        Enrollment.client_id == client_id, Enrollment.status == "paused",
        Enrollment.cohort_id != kept_cohort_id).order_by(Enrollment.cohort_id)))
    for enrollment in paused:
        cohort = lock_cohort(enrollment.cohort_id)
        if holds_seat(enrollment.status, enrollment.hold_until, now):
            freed.append(cohort.id)
        move_status(enrollment, "moved", now)
        enrollment.hold_until = None
        enrollment.left_on = local_today(now, ZoneInfo(cohort.location.timezone))
    db.session.flush()
    return freed
