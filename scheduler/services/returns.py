"""Coming back: return requests, check-ins, re-entry, ranked placement, fresh cohorts
and time back to group.

Each use case takes ids/values and ``now``, loads, applies the pure rules in
``scheduler/placement.py`` and commits once. Every seat is taken through
``seats.seat_client``, which reuses the person's own enrollment and carries credit.

Forming cohorts: a fresh group of returners is a ``Cohort`` with status
``forming`` and ``for_returners`` set, and no group sessions until it opens.
Its members are ``FormingMember`` rows (migration 0002); opening or merging
turns each waiting member into an enrollment and records which one.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import aliased, joinedload

from scheduler import check_in_rules, placement, text
from scheduler.config import Policy
from scheduler.errors import (
    CohortNotReady,
    InvalidTransition,
    InvalidValue,
    NoSeatLeft,
    NotFound,
    OptionNotAvailable,
)
from scheduler.models import (
    CHECK_IN_HOLDERS,
    CHECKIN_MODES,
    LIVE_ENROLLMENT,
    RETURN_CHANNELS,
    Attendance,
    AuditEvent,
    CheckIn,
    Client,
    Cohort,
    Enrollment,
    FollowUp,
    FormingMember,
    GroupSession,
    Location,
    Notification,
    PlacementDecision,
    Reentry,
    ReturnRequest,
    StaffUser,
    Track,
    WaitlistEntry,
    db,
)
from scheduler.schedule import Occurrence, Pattern, daypart_of, first_meeting
from scheduler.seats import closed_window_open
from scheduler.services import feed_tokens, notices, outbox
from scheduler.services.clients import email_key, find_by_contact, new_client, phone_key
from scheduler.services.cohorts import materialise, pattern_of
from scheduler.services.common import get
from scheduler.services.seats import (
    ATTENDED,
    end_other_paused,
    holds_seat,
    last_session_to_join_column,
    lock_cohort,
    seat_client,
    seats_taken,
    seats_taken_column,
    sessions_done,
)
from scheduler.services.waitlist import Waiting, join_waitlist, place_of, seat_freed, waiting_of
from scheduler.timeutil import as_utc, local_today

EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_MESSAGE = 5000


# --- return requests -------------------------------------------------------------

def request_problems(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Trim and check a return request (a name and one way to reach them): the
    cleaned values and every problem at once, by field, so a form can show them all."""
    out: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for name, limit in (("name", 120), ("email", 254), ("phone", 40),
                        ("message", MAX_MESSAGE)):
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            problems[name], value = "Please use plain text here", ""
        value = text.clean(value or "", multiline=name == "message").strip()
        if len(value) > limit:
            problems.setdefault(name, f"Please keep this under {limit} characters")
        out[name] = value or None
    if not out["name"]:
        problems.setdefault("name", "Please tell us your name (a first name is fine)")
    if out["email"] and not EMAIL_SHAPE.match(out["email"]):
        problems.setdefault("email", "That email address does not look complete")
    if out["phone"] and phone_key(out["phone"]) is None:
        problems.setdefault("phone", "Please include the whole phone number")
    if not out["email"] and not out["phone"] and "email" not in problems and (
            "phone" not in problems):
        problems["email"] = "Leave an email address or a phone number so we can reach you"
    return out, problems


def clean_request(data: dict[str, Any]) -> dict[str, Any]:
    """The cleaned request, or InvalidValue naming the first field with a problem."""
    out, problems = request_problems(data)
    for field in ("name", "email", "phone", "message"):
        if field in problems:
            raise InvalidValue(problems[field], field=field)
    return out


def _one_at_a_time_per_contact(email: str | None, phone: str | None) -> None:
    """The same new person asking twice at once (two tabs, a double tap) must not
    become two clients. On PostgreSQL hold a transaction-scoped advisory lock per
    normalised contact, in a fixed order; SQLite's IMMEDIATE transactions already
    run one at a time."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    keys = sorted(f"{kind}:{value}" for kind, value in
                  (("email", email_key(email)), ("phone", phone_key(phone))) if value)
    for key in keys:
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(
            sa.func.hashtextextended(key, 0))))


def submit_return(data: dict[str, Any], channel: str, now: datetime, *,
                  staff_id: int | None = None) -> tuple[ReturnRequest, bool]:
    """Record "I'd like to come back". Returns (request, joined_open_request).

    Matches an existing client by normalised email or phone, or creates one
    flagged for staff to confirm. A second request while one is open joins it
    (``contacts`` rises). A new request queues the welcome-back message in the
    same transaction.
    """
    if channel not in RETURN_CHANNELS:
        raise InvalidValue(f"Channel must be one of {', '.join(RETURN_CHANNELS)}",
                           field="channel")
    data = clean_request(data)
    _one_at_a_time_per_contact(data["email"], data["phone"])
    client = find_by_contact(data["email"], data["phone"])
    if client is None:
        client = new_client({"name": data["name"], "email": data["email"],
                             "phone": data["phone"], "needs_confirmation": True}, now)
        db.session.add(FollowUp(kind="confirm_client", client_id=client.id,
                                note="New person from a return request: please confirm "
                                     "who they are", created_at=now, updated_at=now))
    request = db.session.scalars(sa.select(ReturnRequest).where(
        ReturnRequest.client_id == client.id, ReturnRequest.status == "open")
        .order_by(ReturnRequest.id.desc()).with_for_update()).first()
    joined = request is not None
    if joined:
        request.contacts += 1
        request.last_contact_at = now
        request.email = request.email or data["email"]
        request.phone = request.phone or data["phone"]
        if data["message"]:
            request.message = (f"{request.message}\n\n{data['message']}" if request.message
                               else data["message"])
        request.updated_at = now
    else:
        request = ReturnRequest(
            client_id=client.id, name=data["name"], email=data["email"], phone=data["phone"],
            message=data["message"], channel=channel, status="open", contacts=1,
            entered_by=staff_id, requested_at=now, last_contact_at=now, created_at=now,
            updated_at=now)
        db.session.add(request)
        db.session.flush()
        outbox.queue("welcome_back", client, subject_ref=f"return_request:{request.id}",
                     occurrence="1", due_at=now, now=now,
                     to=notices.routes_for(client, request),
                     payload={"return_request_id": request.id})
    db.session.flush()
    db.session.commit()
    return request, joined


def link_to_client(return_id: int, client_id: int, staff_id: int | None,
                   now: datetime) -> ReturnRequest:
    """Staff recognised the person behind a request: it (with its check-in, answers
    and messages) moves to their own record, so their history and progress count.

    The contact details given on the request become the record's, the old ones are
    kept in ``former_contacts``; a record made only for this request is marked as
    merged into theirs. Audited in the same transaction.
    """
    request = _lock_request(return_id)
    target = get(Client, client_id, "Client", "client_id")
    if target.merged_into_id is not None:
        raise InvalidValue("That record was merged into another; choose that one",
                           field="client_id")
    old = request.client
    if old.id == target.id:
        raise InvalidTransition("This request is already linked to that client",
                                field="client_id")
    if request.status == "placed":
        raise InvalidTransition("This request is placed already; link it before placing")
    # a record made only for this request has nothing else: it folds into theirs
    only_this = old.needs_confirmation and not db.session.scalar(
        sa.select(sa.func.count()).select_from(Enrollment).where(
            Enrollment.client_id == old.id)) and not db.session.scalar(
        sa.select(sa.func.count()).select_from(ReturnRequest).where(
            ReturnRequest.client_id == old.id, ReturnRequest.id != request.id))
    _take_contacts(target, request, now)
    request.client_id = target.id
    request.updated_at = now
    for model in (CheckIn, FormingMember, WaitlistEntry):
        db.session.execute(sa.update(model).where(
            model.client_id == old.id, model.return_request_id == request.id)
            .values(client_id=target.id).execution_options(synchronize_session=False))
    if only_this:
        for model in (FollowUp, Notification):
            db.session.execute(sa.update(model).where(model.client_id == old.id)
                               .values(client_id=target.id)
                               .execution_options(synchronize_session=False))
        old.merged_into_id, old.needs_confirmation, old.updated_at = target.id, False, now
        for item in db.session.scalars(sa.select(FollowUp).where(
                FollowUp.client_id == target.id, FollowUp.kind == "confirm_client",
                FollowUp.resolved_at.is_(None))):
            item.resolved_at, item.resolved_by, item.updated_at = now, staff_id, now
    db.session.add(AuditEvent(at=now, staff_id=staff_id, action="return_request.link",
                              entity="return_request", entity_id=request.id,
                              detail={"from_client": old.id, "to_client": target.id,
                                      "merged": only_this}))
    db.session.commit()
    return request


def _take_contacts(client: Client, request: ReturnRequest, now: datetime) -> None:
    history = list(client.former_contacts or [])
    for kind, new in (("email", request.email), ("phone", request.phone)):
        current = getattr(client, kind)
        key = email_key if kind == "email" else phone_key
        if new and key(new) != key(current):
            if current:
                history.append({"kind": kind, "value": current, "until": now.isoformat()})
            setattr(client, kind, new)
    client.former_contacts = history
    client.email_key, client.phone_key = email_key(client.email), phone_key(client.phone)
    client.updated_at = now


def list_returns(status: str | None = None, client_id: int | None = None) -> sa.Select:
    query = sa.select(ReturnRequest).order_by(ReturnRequest.requested_at.desc(),
                                              ReturnRequest.id.desc())
    if status:
        query = query.where(ReturnRequest.status == status)
    if client_id:
        query = query.where(ReturnRequest.client_id == client_id)
    return query


def close_return(return_id: int, now: datetime) -> ReturnRequest:
    """Staff close a request that needs nothing more (the person chose to wait)."""
    request = _lock_request(return_id)
    if request.status != "open":
        raise InvalidTransition(f"This request is already {request.status}", field="status")
    request.status, request.closed_at, request.updated_at = "closed", now, now
    db.session.commit()
    return request


def _lock_request(return_id: int) -> ReturnRequest:
    request = db.session.scalars(sa.select(ReturnRequest).where(
        ReturnRequest.id == return_id).with_for_update()).first()
    if request is None:
        raise NotFound(f"Return request {return_id} was not found")
    return request


# --- check-in -------------------------------------------------------------------

def is_current_check_in():
    """Joins ``CheckIn`` to ``ReturnRequest`` at the request's current check-in (its
    latest one not cancelled): pages join it to read many at once. By the request's
    id first, so the database reads that request's check-ins, not all of them."""
    later = aliased(CheckIn)
    latest = (sa.select(sa.func.max(later.id))
              .where(later.return_request_id == ReturnRequest.id, later.status != "cancelled")
              .correlate(ReturnRequest).scalar_subquery())
    return sa.and_(CheckIn.return_request_id == ReturnRequest.id, CheckIn.id == latest)


def current_check_in(return_id: int) -> CheckIn | None:
    return db.session.scalar(sa.select(CheckIn).join(ReturnRequest, is_current_check_in())
                             .where(ReturnRequest.id == return_id))


def book_check_in(return_id: int, at: datetime, mode: str, now: datetime, *,
                  staff_id: int | None = None, minutes: int | None = None,
                  location_id: int | None = None, status: str = "booked") -> CheckIn:
    """Book the check-in, or move the one already booked (its revision rises).

    ``status="done"`` records that it happened and stamps ``checked_in_at``.
    """
    request = _lock_request(return_id)
    if mode not in CHECKIN_MODES:
        raise InvalidValue(f"Mode must be one of {', '.join(CHECKIN_MODES)}", field="mode")
    if status not in ("booked", "done"):
        raise InvalidValue("Status must be booked or done", field="status")
    if staff_id is not None and db.session.get(StaffUser, staff_id) is None:
        raise InvalidValue(f"Unknown staff user {staff_id}", field="staff_id")
    if location_id is not None and db.session.get(Location, location_id) is None:
        raise InvalidValue(f"Unknown location {location_id}", field="location_id")
    refused = check_in_rules.refusal(at, status, request.requested_at, now)
    if refused is not None:
        raise InvalidValue(refused[1], field=refused[0])
    row = current_check_in(return_id)
    if row is None:
        row = CheckIn(return_request_id=request.id, client_id=request.client_id, at=at,
                      mode=mode, staff_id=staff_id, location_id=location_id,
                      minutes=minutes or 30, status=status, revision=0, created_at=now,
                      updated_at=now)
        db.session.add(row)
    else:
        changed = (row.at, row.mode, row.staff_id, row.location_id, row.minutes,
                   row.status) != (at, mode, staff_id, location_id, minutes or row.minutes,
                                   status)
        row.at, row.mode, row.staff_id, row.location_id = at, mode, staff_id, location_id
        row.minutes = minutes or row.minutes
        row.status = status
        if changed:
            row.revision += 1
            row.updated_at = now
    if status == "done" and request.checked_in_at is None:
        request.checked_in_at = min(at, now)
    db.session.commit()
    return row


def cancel_check_in(return_id: int, now: datetime) -> CheckIn:
    _lock_request(return_id)
    row = current_check_in(return_id)
    if row is None:
        raise NotFound("No check-in is booked for this request")
    row.status = "cancelled"
    row.revision += 1
    row.updated_at = now
    outbox.cancel_pending(f"check_in:{row.id}", ("checkin_reminder",), now,
                          reason="check-in cancelled")
    db.session.commit()
    return row


# --- re-entry -------------------------------------------------------------------

def _attended_rows(client_id: int, now: datetime) -> list[tuple[int, datetime, int]]:
    """(group_session_id, starts_at, cohort_id) of every attended session, oldest first."""
    return [tuple(r) for r in db.session.execute(
        sa.select(GroupSession.id, GroupSession.starts_at, GroupSession.cohort_id)
        .join(Attendance, Attendance.group_session_id == GroupSession.id)
        .where(Attendance.client_id == client_id, Attendance.status.in_(ATTENDED),
               GroupSession.starts_at <= now)
        .order_by(GroupSession.starts_at, GroupSession.id))]


def record_reentry(return_id: int, answers: dict[str, Any], staff_id: int | None,
                   now: datetime) -> Reentry:
    """Store what the check-in learned. Time away comes from attendance, never typed.

    "Using again?" is optional; a "yes" flags a clinical review and nothing else.
    """
    request = _lock_request(return_id)
    location_ids = list(answers.get("location_ids") or [])
    if location_ids:
        known = set(db.session.scalars(sa.select(Location.id).where(
            Location.id.in_(location_ids))))
        missing = [i for i in location_ids if i not in known]
        if missing:
            raise InvalidValue(f"Unknown location {missing[0]}", field="location_ids")
    attended = _attended_rows(request.client_id, now)
    row = db.session.scalar(sa.select(Reentry).where(Reentry.return_request_id == return_id))
    if row is None:
        row = Reentry(return_request_id=return_id, created_at=now)
        db.session.add(row)
    row.last_attended_session_id = attended[-1][0] if attended else None
    row.days_away = placement.days_away(
        placement.History(last_attended_at=attended[-1][1] if attended else None), now)
    row.using_again = answers.get("using_again")
    row.clinical_review = row.using_again == "yes"
    row.preference = answers.get("preference") or "no_preference"
    row.weekdays = list(answers.get("weekdays") or [])
    row.dayparts = list(answers.get("dayparts") or [])
    row.location_ids = location_ids
    row.notes = answers.get("notes")
    row.recorded_by = staff_id
    row.updated_at = now
    if request.checked_in_at is None:
        request.checked_in_at = now
    request.updated_at = now
    db.session.commit()
    return row


def reentry_for(return_id: int) -> Reentry | None:
    return db.session.scalar(sa.select(Reentry).where(Reentry.return_request_id == return_id))


# --- ranked options -------------------------------------------------------------

def _history(client: Client, waiting: list[Waiting], now: datetime) -> placement.History:
    attended = _attended_rows(client.id, now)
    client_enrollments = list(db.session.scalars(sa.select(Enrollment).where(
        Enrollment.client_id == client.id).order_by(Enrollment.joined_on, Enrollment.id)))
    # Credit decided at an earlier placement already folds in what came before it, so
    # count from the latest such enrollment on (never twice, never silently lost).
    anchor = next((e for e in reversed(client_enrollments)
                   if e.return_request_id is not None), None)
    carried: tuple[tuple[datetime, int], ...] = ()
    counted = attended
    if anchor is not None:
        as_of = datetime.combine(anchor.joined_on, time(12), tzinfo=UTC)
        carried = ((as_of, anchor.credited_sessions),) if anchor.credited_sessions else ()
        counted = [a for a in attended if a[1] >= as_of - timedelta(hours=12)]
    prior_cohort_id = attended[-1][2] if attended else (
        client_enrollments[-1].cohort_id if client_enrollments else None)
    holds = live = False
    active: set[int] = set()
    for e in client_enrollments:
        if e.cohort_id == prior_cohort_id and e.status in LIVE_ENROLLMENT:
            live = True
            holds = holds or holds_seat(e.status, e.hold_until, now)
        elif e.status == "active":
            active.add(e.cohort_id)
    waiting_ids = frozenset(w.cohort_id for w in waiting if w.kind == "waitlist")
    forming = frozenset(w.cohort_id for w in waiting if w.kind == "forming")
    return placement.History(
        attended_at=tuple(a[1] for a in counted), carried=carried,
        last_attended_at=attended[-1][1] if attended else None,
        prior_cohort_id=prior_cohort_id, prior_enrollment_holds_seat=holds,
        prior_enrollment_live=live, active_cohort_ids=frozenset(active),
        waiting_cohort_ids=waiting_ids, forming_cohort_ids=forming)


@functools.cache
def _snapshot_statement(closed_join_until_session: int, at_sites: bool = False):
    """Built once per policy (``at_sites``: only cohorts at the ``location_ids``
    bound): plain columns, not ORM objects (this runs for every
    cohort on every ranking); the next session, the forming count, the seats taken
    and a closed group's last day to join ride along as correlated subqueries."""
    now = sa.bindparam("now")
    first_session = (sa.select(sa.func.min(GroupSession.starts_at))
                     .where(GroupSession.cohort_id == Cohort.id,
                            GroupSession.status == "scheduled", GroupSession.starts_at > now)
                     .correlate(Cohort).scalar_subquery())
    waiting_members = (sa.select(sa.func.count()).select_from(FormingMember)
                       .where(FormingMember.cohort_id == Cohort.id,
                              FormingMember.status == "waiting")
                       .correlate(Cohort).scalar_subquery())
    last_to_join = last_session_to_join_column(closed_join_until_session)
    statement = (
        sa.select(Cohort.id, Cohort.name, Cohort.location_id, Cohort.track_id,
                  Cohort.status, Cohort.mode, Cohort.weekdays, Cohort.start_time,
                  Cohort.minutes, Cohort.capacity, Cohort.for_returners,
                  Location.name.label("location_name"), Location.timezone,
                  first_session.label("first_at"), waiting_members.label("members"),
                  seats_taken_column(now).label("taken"),
                  sa.case((Cohort.mode == "closed", last_to_join)).label("last_to_join"))
        .join(Location)
        .where(sa.or_(Cohort.status.in_(("running", "forming")),
                      Cohort.id.in_(sa.bindparam("include_ids", expanding=True))))
        .order_by(Cohort.id))
    if at_sites:
        statement = statement.where(
            Cohort.location_id.in_(sa.bindparam("location_ids", expanding=True)))
    return statement


def cohort_snapshots(now: datetime, policy: Policy, *, include_ids: tuple[int, ...] = (),
                     location_ids: Collection[int] | None = None,
                     ) -> list[placement.CohortSnapshot]:
    """Snapshots of every running and forming cohort (plus ``include_ids``), or of
    those at ``location_ids``, in one statement, however many cohorts there are."""
    at_sites = location_ids is not None
    values = {"now": now, "include_ids": list(include_ids)}
    if at_sites:
        values["location_ids"] = list(location_ids)
    rows = db.session.execute(
        _snapshot_statement(policy.closed_join_until_session, at_sites), values).all()
    today = local_today(now)
    out = []
    # rows unpacked by position: read by name, each of the 17 columns of every cohort
    # cost a lookup (a third of this function's time at 50x)
    for (cohort_id, name, location_id, track_id, status, mode, days, start_time, minutes,
         capacity, for_returners, location_name, timezone, first_at, members, taken,
         last_to_join) in rows:
        weekdays = tuple(d for d in days.split(",") if d)
        if status != "running":
            first_at = None
        elif first_at is not None and first_at.tzinfo is None:
            first_at = first_at.replace(tzinfo=UTC)
        if status == "forming":
            first_at = _estimated_start(weekdays, start_time, minutes, timezone, now, policy)
        joinable = (closed_window_open(last_to_join, today)
                    if mode == "closed" and status == "running" else True)
        out.append(placement.CohortSnapshot(
            id=cohort_id, name=name, location_id=location_id, location_name=location_name,
            track_id=track_id, status=status, mode=mode, weekdays=weekdays,
            start_time=start_time, daypart=daypart_of(start_time, policy.dayparts),
            capacity=capacity, seats_taken=taken or 0, first_session_at=first_at,
            joinable=joinable, for_returners=for_returners, members=members or 0))
    return out


def _estimated_start(weekdays: tuple[str, ...], start: time, minutes: int, tz: str,
                     now: datetime, policy: Policy) -> datetime:
    """When a forming cohort would first meet if it opened now."""
    return _first_meeting(Pattern(weekdays, start, minutes, ZoneInfo(tz)), now,
                          policy).starts_at


def _first_meeting(pattern: Pattern, now: datetime, policy: Policy) -> Occurrence:
    """A fresh group opened now first meets at its first session at least
    ``fresh_notice_hours`` away: the same evening when opened in the morning."""
    return first_meeting(pattern, now + timedelta(hours=policy.fresh_notice_hours))


def _answers(reentry: Reentry | None) -> placement.Answers:
    if reentry is None:
        return placement.Answers()
    return placement.Answers(
        preference=reentry.preference or "no_preference",
        weekdays=tuple(reentry.weekdays or ()), dayparts=tuple(reentry.dayparts or ()),
        location_ids=tuple(reentry.location_ids or ()), using_again=reentry.using_again)


@dataclass
class OnFile:
    """A return request with everything recorded on it, read in one statement."""

    request: ReturnRequest
    client: Client
    reentry: Reentry | None
    check_in: CheckIn | None
    check_in_staff: StaffUser | None
    decision: PlacementDecision | None
    decision_cohort_name: str | None
    other_open: tuple[int, ...]


@functools.cache
def _on_file_statement():
    """Built once: a statement this size costs more to put together than to run."""
    later_decision = aliased(PlacementDecision)
    other = aliased(ReturnRequest)
    latest = (sa.select(sa.func.max(later_decision.id))
              .where(later_decision.return_request_id == ReturnRequest.id)
              .correlate(ReturnRequest).scalar_subquery())
    others = (sa.select(sa.func.aggregate_strings(sa.cast(other.id, sa.String), ","))
              .where(other.client_id == ReturnRequest.client_id, other.id != ReturnRequest.id,
                     other.status == "open")
              .correlate(ReturnRequest).scalar_subquery())
    return (sa.select(ReturnRequest, Client, Reentry, CheckIn, StaffUser, PlacementDecision,
                      Cohort.name, others)
            .join(Client, Client.id == ReturnRequest.client_id)
            .outerjoin(Reentry, Reentry.return_request_id == ReturnRequest.id)
            .outerjoin(CheckIn, is_current_check_in())
            .outerjoin(StaffUser, StaffUser.id == CheckIn.staff_id)
            .outerjoin(PlacementDecision, PlacementDecision.id == latest)
            .outerjoin(Cohort, Cohort.id == PlacementDecision.cohort_id)
            .where(ReturnRequest.id == sa.bindparam("return_id")))


def on_file(return_id: int) -> OnFile:
    """The request, its client, the re-entry answers, the current check-in (and who
    holds it), the latest placement decision (and its cohort's name) and the
    client's other open requests."""
    found = db.session.execute(_on_file_statement(), {"return_id": return_id}).first()
    if found is None:
        raise NotFound(f"Return request {return_id} was not found")
    request, client, reentry, check_in, staff, decision, cohort_name, other_ids = found
    return OnFile(request, client, reentry, check_in, staff, decision, cohort_name,
                  tuple(sorted(int(i) for i in (other_ids or "").split(",") if i)))


class StaffChoice(NamedTuple):
    id: int
    name: str | None
    email: str


@dataclass
class References:
    """The small reference tables in one round trip: tracks and locations (what
    ranking needs) and, when asked, the staff who can hold a check-in."""

    tracks: list[placement.TrackInfo]
    locations: dict[int, str]
    staff: list[StaffChoice]


def references(*, staff: bool = False) -> References:
    parts = [sa.select(sa.literal("track"), Track.id, Track.name, sa.null(),
                       Track.sessions_to_complete),
             sa.select(sa.literal("location"), Location.id, Location.name, sa.null(),
                       sa.literal(0))]
    if staff:
        parts.append(sa.select(sa.literal("staff"), StaffUser.id, StaffUser.name,
                               StaffUser.email, sa.literal(0))
                     .where(StaffUser.active.is_(True), StaffUser.role.in_(CHECK_IN_HOLDERS)))
    out = References([], {}, [])
    for what, row_id, name, email, sessions in sorted(
            db.session.execute(sa.union_all(*parts)), key=lambda r: (r[0], r[1])):
        if what == "track":
            out.tracks.append(placement.TrackInfo(row_id, name, sessions))
        elif what == "location":
            out.locations[row_id] = name
        else:
            out.staff.append(StaffChoice(row_id, name, email))
    out.staff.sort(key=lambda s: ((s.name or "").lower(), s.email))
    return out


def rank(found: OnFile, waiting: list[Waiting], refs: References, now: datetime,
         policy: Policy) -> placement.Ranking:
    """The ranked placement options for a request already read (``on_file``), with
    what its client waits for (``waiting_of``) and the reference tables."""
    history = _history(found.client, waiting, now)
    include = (history.prior_cohort_id,) if history.prior_cohort_id else ()
    snapshots = cohort_snapshots(now, policy, include_ids=include)
    return placement.rank_options(history, _answers(found.reentry), snapshots, refs.tracks,
                                  now, policy, refs.locations)


def options_for(return_id: int, now: datetime, policy: Policy) -> placement.Ranking:
    """The ranked placement options for a return request, in the same few queries
    however large the program (no query per cohort, person or option)."""
    found = on_file(return_id)
    return rank(found, waiting_of(found.client.id), references(), now, policy)


# --- placing --------------------------------------------------------------------

@dataclass
class Placement:
    decision: PlacementDecision
    option: placement.Option
    enrollment: Enrollment | None = None
    waitlist_entry: WaitlistEntry | None = None
    forming_member: FormingMember | None = None


def place(return_id: int, option_id: str, staff_id: int | None, now: datetime,
          policy: Policy, *, credited_sessions: int | None = None) -> Placement:
    """Take the chosen option in one transaction and record the decision.

    The seat is taken under the cohort's lock (``seats.seat_client``), so two
    coordinators can never overfill a group; an option that is no longer on
    offer is refused (409) rather than guessed at.
    """
    try:
        kind, cohort_id, fresh_new = placement.parse_option_id(option_id)
    except ValueError as exc:
        raise InvalidValue("Choose one of the offered option ids", field="option_id") from exc
    request = _lock_request(return_id)
    if request.status != "open":
        raise InvalidTransition(f"This request is already {request.status}")
    ranking = options_for(return_id, now, policy)
    option = next((o for o in ranking.options if o.id == option_id), None)
    if option is None:
        raise OptionNotAvailable("That option is not available now; please look again",
                                 field="option_id")
    credit = option.progress.credited
    if credited_sessions is not None:
        most = min(option.progress.total,
                   option.progress.credited + option.progress.beyond_window)
        if not 0 <= credited_sessions <= most:
            raise InvalidValue(f"Credit between 0 and {most} sessions",
                               field="credited_sessions")
        credit = credited_sessions
    result = Placement(decision=None, option=option)  # type: ignore[arg-type]
    if kind in ("resume", "join"):
        seated = seat_client(request.client_id, cohort_id, now, policy,
                             credited_sessions=credit, return_request_id=request.id)
        result.enrollment = seated.enrollment
        for freed_id in end_other_paused(request.client_id, cohort_id, now):
            seat_freed(freed_id, now, policy=policy)
        notices.tell_seated(seated.enrollment, now, return_request_id=request.id,
                            occurrence=f"request-{request.id}")
    elif kind == "waitlist":
        entry = join_waitlist(request.client_id, cohort_id, now, credited_sessions=credit,
                              return_request_id=request.id, policy=policy)
        result.waitlist_entry = entry
        if entry.status == "waiting":  # an offer made at once tells them itself
            notices.tell_waiting(entry, place_of(entry.id).position, now)
    else:
        if fresh_new is not None:
            cohort_id = _forming_cohort_for(*fresh_new, now, policy).id
        result.forming_member = _join_forming(request, cohort_id, credit, now)
        notices.tell_forming(request.client, db.session.get(Cohort, cohort_id), request, now)
    _check_in_settled(request.id, now)
    done = sessions_done(result.enrollment) if result.enrollment else credit
    decision = PlacementDecision(
        return_request_id=request.id, kind=kind,
        cohort_id=cohort_id,
        chosen={**option.as_dict(), "credited_sessions": done},
        offered=[o.as_dict() for o in ranking.options], decided_by=staff_id, decided_at=now,
        enrollment_id=result.enrollment.id if result.enrollment else None,
        waitlist_entry_id=result.waitlist_entry.id if result.waitlist_entry else None)
    db.session.add(decision)
    request.status, request.placed_at, request.updated_at = "placed", now, now
    db.session.flush()
    result.decision = decision
    db.session.commit()
    return result


def _check_in_settled(return_id: int, now: datetime) -> None:
    """Placement settles the check-in: one that has happened is done, one still ahead
    is cancelled, and its pending reminders with it."""
    row = current_check_in(return_id)
    if row is None or row.status != "booked":
        return
    row.status = "done" if row.at <= now else "cancelled"
    row.revision += 1
    row.updated_at = now
    if row.status == "cancelled":
        outbox.cancel_pending(f"check_in:{row.id}", ("checkin_reminder",), now,
                              reason="placed before the check-in")


def _forming_cohort_for(location_id: int, track_id: int, daypart: str, now: datetime,
                        policy: Policy) -> Cohort:
    """The forming returners' cohort for this place, track and daypart (made if none)."""
    for cohort in db.session.scalars(sa.select(Cohort).where(
            Cohort.status == "forming", Cohort.for_returners.is_(True),
            Cohort.location_id == location_id, Cohort.track_id == track_id)
            .order_by(Cohort.id)):
        if daypart_of(cohort.start_time, policy.dayparts) == daypart:
            return cohort
    location = get(Location, location_id, "Location")
    get(Track, track_id, "Track")
    weekdays, start = policy.fresh_patterns[daypart]
    cohort = Cohort(location_id=location_id, track_id=track_id,
                    name=f"{location.name} {daypart} fresh group", mode="rolling",
                    status="forming", weekdays=weekdays,
                    start_time=time.fromisoformat(start), minutes=180,
                    capacity=policy.fresh_max_size, for_returners=True, created_at=now,
                    updated_at=now)
    db.session.add(cohort)
    db.session.flush()
    return cohort


def _join_forming(request: ReturnRequest, cohort_id: int, credit: int,
                  now: datetime) -> FormingMember:
    cohort = lock_cohort(cohort_id)
    if cohort.status != "forming":
        raise OptionNotAvailable(f"{cohort.name} is no longer forming", field="option_id")
    count = db.session.scalar(sa.select(sa.func.count()).select_from(FormingMember).where(
        FormingMember.cohort_id == cohort_id, FormingMember.status == "waiting")) or 0
    if count >= cohort.capacity:
        raise NoSeatLeft(f"{cohort.name} has all its places taken", field="option_id")
    member = db.session.scalar(sa.select(FormingMember).where(
        FormingMember.cohort_id == cohort_id, FormingMember.client_id == request.client_id))
    if member is None:
        member = FormingMember(cohort_id=cohort_id, client_id=request.client_id,
                               created_at=now)
        db.session.add(member)
    member.return_request_id, member.credited_sessions = request.id, credit
    member.status, member.joined_at, member.updated_at = "waiting", now, now
    db.session.flush()
    return member


# --- fresh cohorts --------------------------------------------------------------

@dataclass
class FormingView:
    cohort: Cohort
    members: list[FormingMember]
    ready: bool
    estimated_start: datetime
    # short of its size for too long: merge it or open it smaller (staff decide)
    proposal: placement.StalledPlan | None = None
    # the running groups at its site, by name: where staff may merge its people
    targets: list[placement.CohortSnapshot] = dataclasses.field(default_factory=list)

    @property
    def waiting_since(self) -> datetime | None:
        return self.members[0].joined_at if self.members else None


def forming_cohorts(now: datetime, policy: Policy, *, ready_only: bool = False,
                    location_id: int | None = None) -> list[FormingView]:
    """Forming cohorts of returners (at ``location_id`` only, if given) with their
    members; ``ready`` at the minimum size."""
    query = (sa.select(Cohort).where(Cohort.status == "forming")
             .options(joinedload(Cohort.location)).order_by(Cohort.id))
    if location_id is not None:
        query = query.where(Cohort.location_id == location_id)
    cohorts = list(db.session.scalars(query))
    members: dict[int, list[FormingMember]] = {}
    if cohorts:
        for m in db.session.scalars(sa.select(FormingMember).where(
                FormingMember.cohort_id.in_([c.id for c in cohorts]),
                FormingMember.status == "waiting").options(joinedload(FormingMember.client))
                .order_by(FormingMember.joined_at, FormingMember.id)):
            members.setdefault(m.cohort_id, []).append(m)
    views = [FormingView(c, members.get(c.id, []),
                         len(members.get(c.id, [])) >= policy.fresh_min_size,
                         _estimated_start(tuple(c.weekday_list), c.start_time, c.minutes,
                                          c.location.timezone, now, policy))
             for c in cohorts]
    if ready_only:
        return [v for v in views if v.ready]
    gathered = [v for v in views if v.members]
    if gathered:  # read at their sites only: a merge stays where people asked to be
        snapshots = {s.id: s for s in cohort_snapshots(
            now, policy, location_ids=sorted({v.cohort.location_id for v in gathered}))}
        running = [s for s in snapshots.values() if s.status == "running"]
        for v in gathered:
            v.targets = sorted((s for s in running
                                if placement.merges_here(v.cohort.location_id, s.location_id)),
                               key=lambda s: (s.name, s.id))
            if v.ready:
                continue
            v.proposal = placement.plan_for_stalled(
                snapshots[v.cohort.id], len(v.members), as_utc(v.waiting_since), running,
                now, policy)
    return views


def tell_staff_of_stalled(now: datetime, policy: Policy) -> int:
    """Job: coordinators hear once a day about each forming group that has waited too
    long for its size, with what is proposed (merge or open smaller). One commit."""
    told = 0
    for view in forming_cohorts(now, policy):
        plan = view.proposal
        if plan is None:
            continue
        into = db.session.get(Cohort, plan.into_cohort_id) if plan.into_cohort_id else None
        told += outbox.queue_for_staff(
            "forming_stalled", subject_ref=f"cohort:{view.cohort.id}",
            occurrence=local_today(now).isoformat(), now=now,
            payload={"cohort_id": view.cohort.id, "cohort_name": view.cohort.name,
                     "members": len(view.members), "action": plan.action,
                     "into_cohort_name": into.name if into else None, "why": plan.why})
    db.session.commit()
    return told


def _waiting_members(cohort_id: int) -> list[FormingMember]:
    return list(db.session.scalars(sa.select(FormingMember).where(
        FormingMember.cohort_id == cohort_id, FormingMember.status == "waiting")
        .order_by(FormingMember.joined_at, FormingMember.id)))


def _enroll_members(members: list[FormingMember], cohort: Cohort, joined_on: date,
                    now: datetime, policy: Policy) -> list[Enrollment]:
    made = []
    for member in members:
        enrollment = seat_client(
            member.client_id, cohort.id, now, policy, joined_on=joined_on,
            credited_sessions=member.credited_sessions,
            return_request_id=member.return_request_id).enrollment
        for freed_id in end_other_paused(member.client_id, cohort.id, now):
            seat_freed(freed_id, now, policy=policy)
        member.status, member.enrollment_id, member.updated_at = "enrolled", enrollment.id, now
        made.append(enrollment)
    return made


def _tell_members(members: list[FormingMember], cohort: Cohort, first: datetime | None,
                  now: datetime) -> None:
    for member in members:
        request = (db.session.get(ReturnRequest, member.return_request_id)
                   if member.return_request_id else None)
        feed_tokens.ensure("client", member.client_id, now, notices.feed_key())
        outbox.queue("cohort_opened", member.client, subject_ref=f"cohort:{cohort.id}",
                     occurrence="1", due_at=now, now=now,
                     to=notices.routes_for(member.client, request),
                     payload={"cohort_id": cohort.id, "enrollment_id": member.enrollment_id,
                              "first_session_at": first.isoformat() if first else None,
                              "feed_link": True})


def open_forming(cohort_id: int, staff_id: int | None, now: datetime, policy: Policy, *,
                 early: bool = False) -> tuple[Cohort, list[Enrollment]]:
    """Open a forming cohort: next start date on its pattern, group sessions made,
    every member enrolled and told, the event recorded, spare seats offered on."""
    cohort = lock_cohort(cohort_id)
    if cohort.status != "forming":
        raise InvalidTransition(f"{cohort.name} is {cohort.status}, not forming")
    members = _waiting_members(cohort.id)
    if not members:
        raise CohortNotReady(f"{cohort.name} has no one waiting to start")
    if len(members) < policy.fresh_min_size and not early:
        raise CohortNotReady(
            f"{cohort.name} has {len(members)} of {policy.fresh_min_size} people; "
            "open it early to start anyway")
    if len(members) > cohort.capacity:
        raise NoSeatLeft(f"{cohort.name} has more people than seats", field="capacity")
    first = _first_meeting(pattern_of(cohort), now, policy)
    starts_on = first.occurs_on
    cohort.starts_on, cohort.status, cohort.opened_at = starts_on, "running", now
    cohort.updated_at = now
    db.session.flush()
    materialise(cohort, now, policy)
    db.session.flush()
    made = _enroll_members(members, cohort, starts_on, now, policy)
    _tell_members(members, cohort, first.starts_at, now)
    db.session.add(AuditEvent(at=now, staff_id=staff_id, action="cohort_opened",
                              entity="cohort", entity_id=cohort.id,
                              detail={"members": len(members), "early": early,
                                      "starts_on": starts_on.isoformat()}))
    db.session.flush()
    if seats_taken(cohort.id, now) < cohort.capacity:
        seat_freed(cohort.id, now)
    db.session.commit()
    return cohort, made


def merge_forming(cohort_id: int, into_cohort_id: int, staff_id: int | None, now: datetime,
                  policy: Policy) -> tuple[Cohort, list[Enrollment]]:
    """Move every waiting member of a forming cohort into a running one (seats
    permitting, else 409); the forming cohort ends without ever meeting."""
    forming = lock_cohort(cohort_id)
    if forming.status != "forming":
        raise InvalidTransition(f"{forming.name} is {forming.status}, not forming")
    target = lock_cohort(into_cohort_id)
    if target.status != "running":
        raise InvalidValue(f"{target.name} is not running", field="cohort_id")
    if not placement.merges_here(forming.location_id, target.location_id):
        raise InvalidValue(f"{target.name} meets at {target.location.name}; the people "
                           f"gathered for {forming.name} asked for {forming.location.name}",
                           field="cohort_id")
    members = _waiting_members(forming.id)
    free = target.capacity - seats_taken(target.id, now)
    if len(members) > free:
        raise NoSeatLeft(f"{target.name} has {max(free, 0)} seats for {len(members)} people",
                         field="cohort_id")
    made = _enroll_members(members, target, local_today(now, ZoneInfo(
        target.location.timezone)), now, policy)
    first = db.session.scalar(sa.select(sa.func.min(GroupSession.starts_at)).where(
        GroupSession.cohort_id == target.id, GroupSession.status == "scheduled",
        GroupSession.starts_at > now))
    _tell_members(members, target, first, now)
    forming.status, forming.updated_at = "ended", now
    db.session.add(AuditEvent(at=now, staff_id=staff_id, action="forming_merged",
                              entity="cohort", entity_id=forming.id,
                              detail={"into_cohort_id": target.id, "members": len(members)}))
    db.session.commit()
    return target, made
