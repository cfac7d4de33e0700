"""Read-only queries behind the staff console pages. Nothing here writes.

Each function loads what one page shows in a few queries (no per-row queries in
loops over rosters) and returns plain dataclasses the templates read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from scheduler import audit_words
from scheduler.errors import NotFound
from scheduler.models import (
    WEEKDAYS,
    Attendance,
    AuditEvent,
    CheckIn,
    Client,
    Closure,
    Cohort,
    Enrollment,
    GroupSession,
    Location,
    Notification,
    ReturnRequest,
    SeatOffer,
    StaffUser,
    Track,
    WaitlistEntry,
    db,
)
from scheduler.reminders import change_notice
from scheduler.seats import holds_seat
from scheduler.services import outbox, report_stamps
from scheduler.services.common import Paged, page_of
from scheduler.services.seats import attended_since_joining, holds_seat_clause, seats_by_cohort
from scheduler.services.waitlist import lines_by_cohort
from scheduler.timeutil import PROGRAM_TZ, as_utc, human_when, local_instant, local_today


@dataclass
class Seats:
    capacity: int
    enrolled: int = 0
    held: int = 0
    offered: int = 0

    @property
    def taken(self) -> int:
        return self.enrolled + self.held

    @property
    def free(self) -> int:
        return max(self.capacity - self.enrolled - self.held - self.offered, 0)

    def percent(self, n: int) -> float:
        return round(100 * n / self.capacity, 1) if self.capacity else 0.0


class RosterEnrollment(NamedTuple):
    """What a roster shows of an enrollment (plain columns: a page of rosters loads
    hundreds, and whole ORM rows with every JSON field cost more than the page)."""

    id: int
    cohort_id: int
    status: str
    joined_on: date
    credited_sessions: int
    hold_until: datetime | None


class RosterClient(NamedTuple):
    id: int
    name: str


@dataclass
class RosterLine:
    enrollment: RosterEnrollment
    client: RosterClient
    attended: int
    total: int
    mark: str | None = None

    @property
    def done(self) -> int:
        return self.attended + self.enrollment.credited_sessions


@dataclass
class TodaySession:
    group_session: GroupSession
    cohort: Cohort
    lines: list[RosterLine]


@dataclass
class LocationDay:
    location: Location
    sessions: list[TodaySession]


def _day_bounds(day: date, tz: ZoneInfo = PROGRAM_TZ) -> tuple[datetime, datetime]:
    return local_instant(day, time(0), tz), local_instant(day + timedelta(days=1), time(0), tz)


def roster_lines(cohort_ids: list[int], now: datetime) -> dict[int, list[RosterLine]]:
    """Active and seat-holding paused enrollments per cohort, with progress."""
    if not cohort_ids:
        return {}
    rows = db.session.execute(
        sa.select(Enrollment.id, Enrollment.cohort_id, Enrollment.status, Enrollment.joined_on,
                  Enrollment.credited_sessions, Enrollment.hold_until, Client.id, Client.name,
                  Track.sessions_to_complete)
        .join(Client, Client.id == Enrollment.client_id)
        .join(Cohort, Cohort.id == Enrollment.cohort_id).join(Track)
        .where(Enrollment.cohort_id.in_(cohort_ids), holds_seat_clause(now))
        .order_by(Client.name, Enrollment.id)).all()
    attended = _attended([row[0] for row in rows])
    out: dict[int, list[RosterLine]] = {cid: [] for cid in cohort_ids}
    for row in rows:
        enrollment = RosterEnrollment(*row[:6])
        out[enrollment.cohort_id].append(RosterLine(
            enrollment, RosterClient(row[6], row[7]), attended[enrollment.id], row[8]))
    return out


def _attended(enrollment_ids: list[int]) -> dict[int, int]:
    """Sessions attended since joining (``attended_since_joining``) for these
    enrollments: from the counts for every seat, worked out once per change of
    attendance, enrollments or group sessions (``report_stamps``). A seat taken
    after the transaction read its stamps is counted on its own."""
    counts = report_stamps.reused(report_stamps.PROGRESS, None, _count_attended)
    missing = [i for i in enrollment_ids if i not in counts]
    return {**counts, **_count_attended(missing)} if missing else counts


def _count_attended(enrollment_ids: list[int] | None = None) -> dict[int, int]:
    query = sa.select(Enrollment.id, attended_since_joining())
    query = (query.where(Enrollment.status.in_(("active", "paused")))
             if enrollment_ids is None else query.where(Enrollment.id.in_(enrollment_ids)))
    return {enrollment_id: count or 0 for enrollment_id, count in db.session.execute(query)}


SITES_PER_PAGE = 10  # Today for every site: a page a person reads, however many sites


@dataclass
class TodayPage(Paged):
    """One page of Today: the sites shown (``days``), out of ``count`` sites with a
    group session that day."""

    days: list[LocationDay]
    count: int
    page: int
    sites: list[Site]  # every site by name, for choosing one
    size: int = SITES_PER_PAGE

    @property
    def shown(self) -> list[LocationDay]:
        return self.days


def today(now: datetime, day: date | None = None, *, location_id: int | None = None,
          page: int = 1) -> TodayPage:
    """Every group session on ``day`` (default today, program time zone), per
    location, with rosters and the attendance taken: at ``location_id`` only, or
    every site ``SITES_PER_PAGE`` to a page (sites by name; only those with a group
    session that day count)."""
    start, end = _day_bounds(day or local_today(now))
    on_day = (GroupSession.starts_at >= start, GroupSession.starts_at < end)
    # every site by name, for choosing one, and whether it has a group session that
    # day: one statement for the picker and the pages of sites
    sites = db.session.execute(
        sa.select(Location.id, Location.name, sa.exists().where(
            Cohort.location_id == Location.id, GroupSession.cohort_id == Cohort.id, *on_day))
        .order_by(Location.name, Location.id)).all()
    if location_id is not None:
        site_ids, count, page = [location_id], 1, 1
    else:
        every = [site_id for site_id, _name, meets in sites if meets]
        count = len(every)
        site_ids, page = page_of(every, page, SITES_PER_PAGE)
    rows = db.session.execute(
        sa.select(GroupSession, Cohort, Location)
        .join(Cohort, Cohort.id == GroupSession.cohort_id).join(Location)
        .where(*on_day, Cohort.location_id.in_(site_ids))
        .order_by(Location.name, Location.id, GroupSession.starts_at, Cohort.name)).all()
    lines = roster_lines(sorted({c.id for _, c, _ in rows}), now)
    marks = {(session_id, client_id): status for session_id, client_id, status in
             db.session.execute(sa.select(Attendance.group_session_id, Attendance.client_id,
                                          Attendance.status)
                                .where(Attendance.group_session_id.in_(
                                    [s.id for s, _, _ in rows])))}
    days: dict[int, LocationDay] = {}
    for group_session, cohort, location in rows:
        shown = days.setdefault(location.id, LocationDay(location, []))
        session_lines = [RosterLine(line.enrollment, line.client, line.attended, line.total,
                                    marks.get((group_session.id, line.client.id)))
                         for line in lines[cohort.id]
                         if line.enrollment.joined_on <= group_session.occurs_on]
        shown.sessions.append(TodaySession(group_session, cohort, session_lines))
    return TodayPage(list(days.values()), count, page,
                     [Site(site_id, name) for site_id, name, _meets in sites])


@dataclass
class CohortCard:
    cohort: Cohort
    seats: Seats
    waiting: int = 0  # people in line for a seat


class Site(NamedTuple):
    """A site as a page names it (every site is listed on each visit: a hundred at
    fifty times the demo, where whole rows cost more than the rest of the list)."""

    id: int
    name: str


@dataclass
class WeekGrid:
    location: Site
    times: list[time]
    days: tuple[str, ...]
    cells: dict[tuple[time, str], list[CohortCard]] = field(default_factory=dict)


def _seats(cohort: Cohort, counts: dict[int, dict[str, int]]) -> Seats:
    return Seats(cohort.capacity, **counts.get(cohort.id, {}))


@dataclass
class Week(Paged):
    """One page of the Cohorts grid: the sites shown (``grids``, ``SITES_PER_PAGE``
    of ``count`` sites when every site is shown) and every site to choose from."""

    grids: list[WeekGrid]
    sites: list[tuple[int, str]]  # (id, name) of every site, for choosing one
    count: int
    page: int
    size: int = SITES_PER_PAGE

    @property
    def shown(self) -> list[WeekGrid]:
        return self.grids


class SitesShown(NamedTuple):
    every: list[Site]  # every site by name, for choosing one
    shown: list[Site]  # the one chosen, or a page of every site
    count: int  # sites paged through
    page: int


def sites_shown(location_id: int | None, page: int) -> SitesShown:
    """Every site by name, and those a page of Cohorts or Director shows: the site
    chosen, or ``SITES_PER_PAGE`` of every site on ``page``."""
    every = locations()
    if location_id is not None:
        return SitesShown(every, [loc for loc in every if loc.id == location_id], 1, 1)
    shown, page = page_of(every, page, SITES_PER_PAGE)
    return SitesShown(every, list(shown), len(every), page)


def week_grid(now: datetime, *, location_id: int | None = None, page: int = 1) -> Week:
    """Running cohorts per location (at ``location_id`` only, or every site by name
    ``SITES_PER_PAGE`` to a page) laid out by start time (rows) and weekday
    (columns), each with its seats taken, held, offered and free."""
    sites = sites_shown(location_id, page)
    grids = {loc.id: WeekGrid(loc, [], WEEKDAYS) for loc in sites.shown}
    counts = seats_by_cohort(now, location_ids=list(grids))
    lines = lines_by_cohort(list(grids))
    cohorts = db.session.scalars(
        sa.select(Cohort).where(Cohort.status == "running", Cohort.location_id.in_(list(grids)))
        .order_by(Cohort.start_time, Cohort.name))
    for cohort in cohorts:
        grid = grids[cohort.location_id]
        if cohort.start_time not in grid.times:
            grid.times.append(cohort.start_time)
        card = CohortCard(cohort, _seats(cohort, counts), lines.get(cohort.id, (0,))[0])
        for day in cohort.weekday_list:  # the same card on each of its days
            grid.cells.setdefault((cohort.start_time, day), []).append(card)
    for grid in grids.values():
        grid.times.sort()
        used = {d for (_, d) in grid.cells}
        grid.days = tuple(d for d in WEEKDAYS if d in used or d in WEEKDAYS[:5])
    return Week(list(grids.values()), [(loc.id, loc.name) for loc in sites.every],
                sites.count, sites.page)


@dataclass
class WaitingLine:
    position: int
    entry: WaitlistEntry
    client: Client
    offer: SeatOffer | None


@dataclass
class CohortPage:
    cohort: Cohort
    seats: Seats
    upcoming: list[GroupSession]
    roster: list[RosterLine]
    waitlist: list[WaitingLine]
    open_offers: list[tuple[SeatOffer, Client]]


def cohort_page(cohort_id: int, now: datetime, upcoming: int = 8) -> CohortPage:
    cohort = db.session.scalar(sa.select(Cohort).where(Cohort.id == cohort_id).options(
        joinedload(Cohort.location), joinedload(Cohort.track)))
    if cohort is None:
        raise NotFound(f"Cohort {cohort_id} was not found")
    counts = seats_by_cohort(now, cohort_id=cohort_id)
    start, _ = _day_bounds(local_today(now))
    sessions = list(db.session.scalars(
        sa.select(GroupSession).where(GroupSession.cohort_id == cohort_id,
                                      GroupSession.starts_at >= start)
        .order_by(GroupSession.starts_at).limit(upcoming)))
    offers = db.session.execute(
        sa.select(SeatOffer, Client).join(Client, Client.id == SeatOffer.client_id)
        .where(SeatOffer.cohort_id == cohort_id, SeatOffer.status == "open")
        .order_by(SeatOffer.expires_at)).all()
    offer_by_entry = {o.waitlist_entry_id: o for o, _ in offers}
    entries = db.session.execute(
        sa.select(WaitlistEntry, Client).join(Client, Client.id == WaitlistEntry.client_id)
        .where(WaitlistEntry.cohort_id == cohort_id,
               WaitlistEntry.status.in_(("waiting", "offered")))
        .order_by(WaitlistEntry.priority.desc(), WaitlistEntry.requested_at,
                  WaitlistEntry.id)).all()
    waitlist = [WaitingLine(n, entry, client, offer_by_entry.get(entry.id))
                for n, (entry, client) in enumerate(entries, start=1)]
    return CohortPage(cohort, _seats(cohort, counts), sessions,
                      roster_lines([cohort_id], now)[cohort_id], waitlist,
                      [(o, c) for o, c in offers])


def search_clients(q: str | None, limit: int = 50) -> list[Client]:
    query = (sa.select(Client).where(Client.merged_into_id.is_(None))
             .order_by(Client.name, Client.id).limit(limit))
    if q:
        like = f"%{q.strip()}%"
        matches = [Client.name.ilike(like), Client.email.ilike(like), Client.phone.ilike(like)]
        digits = re.sub(r"\D", "", q)
        if len(digits) >= 4:  # "(617) 555-0100" finds "617 555 0100"
            matches.append(Client.phone_key.contains(digits[-10:]))
        query = query.where(sa.or_(*matches))
    return list(db.session.scalars(query))


@dataclass
class TimelineItem:
    at: datetime
    kind: str
    text: str
    detail: str = ""
    all_day: bool = False  # a date, not a moment: show no time


@dataclass
class EnrollmentProgress:
    enrollment: Enrollment
    cohort: Cohort
    attended: int
    total: int

    @property
    def done(self) -> int:
        return self.attended + self.enrollment.credited_sessions


@dataclass
class ClientPage:
    client: Client
    enrollments: list[EnrollmentProgress]
    timeline: list[TimelineItem]
    messages: list[Notification]
    requests: list[ReturnRequest]  # newest first


def _midnight(day: date) -> datetime:
    return local_instant(day, time(0))


def _happenings(client_id: int):
    """One statement for the timeline's attendance, waitlists, offers and check-ins:
    (kind, at, status, what) rows, ``what`` being the group's name or the check-in's mode."""
    return sa.union_all(
        sa.select(sa.literal("attendance"), GroupSession.starts_at, Attendance.status,
                  Cohort.name)
        .join(GroupSession, GroupSession.id == Attendance.group_session_id)
        .join(Cohort, Cohort.id == GroupSession.cohort_id)
        .where(Attendance.client_id == client_id),
        sa.select(sa.literal("waitlist"), WaitlistEntry.requested_at, WaitlistEntry.status,
                  Cohort.name).join(Cohort, Cohort.id == WaitlistEntry.cohort_id)
        .where(WaitlistEntry.client_id == client_id),
        sa.select(sa.literal("offer"), SeatOffer.offered_at, SeatOffer.status, Cohort.name)
        .join(Cohort, Cohort.id == SeatOffer.cohort_id).where(SeatOffer.client_id == client_id),
        sa.select(sa.literal("check_in"), CheckIn.at, CheckIn.status, CheckIn.mode)
        .where(CheckIn.client_id == client_id))


_HAPPENED = {
    "attendance": lambda status, what: (status.capitalize(), what),
    "waitlist": lambda status, what: (f"Waitlist for {what}", status),
    "offer": lambda status, what: (f"Seat offered in {what}", status),
    "check_in": lambda status, what: (f"Check-in ({what.replace('_', ' ')}), {status}", ""),
}


# how a message reads in a client's timeline
MESSAGE_WORDS = {
    "reminder": "Group session reminder", "checkin_reminder": "Check-in reminder",
    "offer": "Seat offer", "cancellation": "Session cancelled", "session_moved":
    "Session moved", "session_restored": "Session on again", "welcome_back":
    "Welcome back", "cohort_opened": "New group starting", "outreach": "Checking in",
    "placed": "Placed in a group", "waitlisted": "Place in line", "calendar_link":
    "Calendar link", "fresh_joined": "Place in a new group", "still_waiting":
    "Weekly note while waiting",
}
CHANNEL_WORDS = {"email": "email", "sms": "text", "console": "console"}


def client_page(client_id: int, now: datetime, limit: int = 300) -> ClientPage:
    """A client's enrollments with progress, their return requests, and one timeline
    (newest first) of enrollments, pauses, return requests, check-ins, attendance,
    waitlists, offers and messages: the same five statements at any size."""
    rows = db.session.execute(
        sa.select(Client, Enrollment, Cohort, Track.sessions_to_complete,
                  attended_since_joining())
        .outerjoin(Enrollment, Enrollment.client_id == Client.id)
        .outerjoin(Cohort, Cohort.id == Enrollment.cohort_id)
        .outerjoin(Track, Track.id == Cohort.track_id)
        .where(Client.id == client_id)
        .order_by(Enrollment.joined_on.desc(), Enrollment.id.desc())).all()
    if not rows:
        raise NotFound(f"Client {client_id} was not found")
    client = rows[0][0]
    rows = [row for row in rows if row[1] is not None]
    progress = [EnrollmentProgress(e, c, attended or 0, total)
                for _, e, c, total, attended in rows]
    items: list[TimelineItem] = []
    for _, e, cohort, _, _ in rows:
        items.append(TimelineItem(_midnight(e.joined_on), "enrollment",
                                  f"Joined {cohort.name}",
                                  f"{e.credited_sessions} sessions credited"
                                  if e.credited_sessions else "", all_day=True))
        if e.paused_at:
            items.append(TimelineItem(e.paused_at, "pause", f"Paused in {cohort.name}",
                                      "seat held" if e.status == "paused" and holds_seat(
                                          e.status, e.hold_until, now) else ""))
        if e.left_on:
            items.append(TimelineItem(_midnight(e.left_on), "enrollment",
                                      f"{e.status.capitalize()} in {cohort.name}",
                                      all_day=True))
    requests = list(db.session.scalars(sa.select(ReturnRequest).where(
        ReturnRequest.client_id == client_id).order_by(ReturnRequest.requested_at.desc(),
                                                       ReturnRequest.id.desc())))
    for r in requests:
        items.append(TimelineItem(r.requested_at, "return",
                                  f"Asked to come back ({r.channel.replace('_', ' ')})",
                                  r.message or ""))
        for stamp, text in ((r.checked_in_at, "Check-in done"), (r.placed_at, "Placed"),
                            (r.first_attended_at, "First group session back"),
                            (r.closed_at, "Return request closed")):
            if stamp:
                items.append(TimelineItem(stamp, "return", text))
    for kind, at, status, what in db.session.execute(_happenings(client_id)):
        text, detail = _HAPPENED[kind](status, what)
        items.append(TimelineItem(at, kind, text, detail))
    messages = list(db.session.scalars(
        sa.select(Notification).where(Notification.client_id == client_id)
        .order_by(Notification.due_at.desc(), Notification.id.desc()).limit(limit)))
    for m in messages:
        what = MESSAGE_WORDS.get(m.kind, m.kind.replace("_", " ").capitalize())
        items.append(TimelineItem(m.sent_at or m.due_at, "message",
                                  f"{what} by {CHANNEL_WORDS.get(m.channel, m.channel)}",
                                  m.status))
    items.sort(key=lambda i: i.at, reverse=True)
    return ClientPage(client, progress, items[:limit], messages, requests)


@dataclass
class AuditFilter:
    staff_id: int | None = None
    entity: str | None = None
    entity_id: int | None = None
    action: str | None = None
    first: date | None = None
    last: date | None = None


AUDIT_COUNT_CAP = 1000  # the page counts matching events up to this many, then "more than"


class AuditRow(NamedTuple):
    """What the trail shows of an event (plain columns: a page shows a hundred)."""

    at: datetime
    action: str
    entity: str
    entity_id: int | None
    ip: str | None
    detail: dict | None


class AuditStaff(NamedTuple):
    """Who did it, as the trail names them."""

    name: str | None
    email: str
    role: str


def audit_events(f: AuditFilter, page: int = 1, page_size: int = 100,
                 ) -> tuple[list[tuple[AuditRow, AuditStaff | None]], int]:
    """Audit events newest first, filtered; (rows with their staff user, total). The
    total stops at ``AUDIT_COUNT_CAP`` + 1 (read it as "more than the cap"): every
    visit reads and counts the trail, which only grows, so its cost has a bound."""
    query = sa.select(AuditEvent.at, AuditEvent.action, AuditEvent.entity,
                      AuditEvent.entity_id, AuditEvent.ip, AuditEvent.detail,
                      StaffUser.name, StaffUser.email, StaffUser.role).outerjoin(
        StaffUser, StaffUser.id == AuditEvent.staff_id)
    if f.staff_id:
        query = query.where(AuditEvent.staff_id == f.staff_id)
    if f.entity:
        query = query.where(AuditEvent.entity == f.entity)
    if f.entity_id is not None:
        query = query.where(AuditEvent.entity_id == f.entity_id)
    if f.action:
        query = query.where(AuditEvent.action == f.action)
    if f.first:
        query = query.where(AuditEvent.at >= _midnight(f.first))
    if f.last:
        query = query.where(AuditEvent.at < _midnight(f.last + timedelta(days=1)))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(
        query.with_only_columns(AuditEvent.id).limit(AUDIT_COUNT_CAP + 1).subquery())) or 0
    rows = db.session.execute(query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                              .limit(page_size).offset((max(page, 1) - 1) * page_size)).all()
    return [(AuditRow(*row[:6]), AuditStaff(*row[6:]) if row.email is not None else None)
            for row in rows], total


def audit_sentences(rows: list[tuple[AuditRow, AuditStaff | None]]) -> list[str]:
    """Each event as a sentence (``scheduler.audit_words``), with the records' names
    looked up in one statement however many kinds of record the page shows."""
    wanted: dict[str, set[int]] = {}
    for e, _s in rows:
        if e.entity_id is not None:
            wanted.setdefault(e.entity, set()).add(e.entity_id)
    null_at = sa.literal(None, sa.DateTime)
    parts = []
    people = {"client": (Client, Client.id), "client_feed": (Client, Client.id),
              "return_request": (ReturnRequest, ReturnRequest.client_id),
              "enrollment": (Enrollment, Enrollment.client_id),
              "waitlist_entry": (WaitlistEntry, WaitlistEntry.client_id),
              "entry": (WaitlistEntry, WaitlistEntry.client_id)}
    for kind, ids in sorted(wanted.items()):
        if kind in people:
            model, client_id = people[kind]
            query = sa.select(sa.literal(kind), model.id, Client.name, null_at)
            if model is not Client:
                query = query.select_from(model).join(Client, Client.id == client_id)
            parts.append(query.where(model.id.in_(ids)))
        elif kind in ("cohort", "cohort_feed"):
            parts.append(sa.select(sa.literal(kind), Cohort.id, Cohort.name, null_at)
                         .where(Cohort.id.in_(ids)))
        elif kind == "group_session":
            parts.append(sa.select(sa.literal(kind), GroupSession.id, Cohort.name,
                                   GroupSession.starts_at)
                         .join(Cohort, Cohort.id == GroupSession.cohort_id)
                         .where(GroupSession.id.in_(ids)))
        elif kind in ("staff_user", "staff", "facilitator_feed"):
            parts.append(sa.select(sa.literal(kind), StaffUser.id,
                                   sa.func.coalesce(StaffUser.name, StaffUser.email), null_at)
                         .where(StaffUser.id.in_(ids)))
        elif kind in ("location", "location_feed"):
            parts.append(sa.select(sa.literal(kind), Location.id, Location.name, null_at)
                         .where(Location.id.in_(ids)))
    names: dict[tuple[str, int], str] = {}
    if parts:
        for kind, row_id, name, at in db.session.execute(sa.union_all(*parts)):
            if kind in people:
                name = audit_words.short_name(name)
            elif at is not None:
                name = f"{name}'s session of {human_when(as_utc(at))}"
            names[(kind, row_id)] = name
    return [audit_words.sentence(
        e.action, e.entity, e.entity_id, e.detail or {},
        audit_words.who(s.name or s.email if s else None, s.role if s else None),
        names.get((e.entity, e.entity_id))) for e, s in rows]


def audit_choices(f: AuditFilter | None = None) -> tuple[list[str], list[str]]:
    """The kinds of record and the actions the trail's words know, for filter menus,
    with the ones ``f`` asks for. From the vocabulary, not the trail: a DISTINCT over
    every event ever written grew with the trail on each visit to the page."""
    entities = set(audit_words.RECORD_WORDS) | ({f.entity} if f and f.entity else set())
    actions = set(audit_words.VERBS) | ({f.action} if f and f.action else set())
    return sorted(entities), sorted(actions)


def staff_list() -> list[StaffUser]:
    return list(db.session.scalars(sa.select(StaffUser).order_by(StaffUser.name,
                                                                 StaffUser.email)))


def closures_on(day: date, location_id: int | None) -> list[Closure]:
    """Closures already recorded for that day which cover that location (or all)."""
    query = sa.select(Closure).where(Closure.date == day)
    if location_id is not None:
        query = query.where(sa.or_(Closure.location_id == location_id,
                                   Closure.location_id.is_(None)))
    return list(db.session.scalars(query.order_by(Closure.id)))


def locations() -> list[Site]:
    """Every site by name, for choosing one (Cohorts, Director, closures, check-in
    times)."""
    return [Site(*row) for row in db.session.execute(
        sa.select(Location.id, Location.name).order_by(Location.name, Location.id))]


# --- changing one group session -------------------------------------------------------

@dataclass
class SessionChange:
    """What moving, cancelling or restoring one meeting would do, before it is done:
    the message it sends (None: none now) and who gets it, by how."""

    session: GroupSession
    action: str  # move | cancel | restore
    starts_at: datetime
    notice: str | None
    people: list[Client]
    by_email: int
    by_text: int
    unreachable: int


def told_of_closure(sessions: list[GroupSession], now: datetime, policy) -> int | None:
    """How many people a closure's cancellations would message (each once), or None
    when it is too far ahead for notices (reminders and calendars carry it)."""
    told: set[int] = set()
    due = False
    for row in sessions:
        if change_notice(row.starts_at, row.starts_at, row.status, "cancelled", now,
                         policy.change_notice_days):
            due = True
            told |= {p.id for p in outbox.people_told_about(row)}
    return len(told) if due else None


def session_change_preview(session_id: int, now: datetime, policy, *, action: str,
                           starts_at: datetime | None = None) -> SessionChange:
    row = db.session.get(GroupSession, session_id)
    if row is None:
        raise NotFound(f"Group session {session_id} was not found")
    new_start = starts_at or row.starts_at
    new_status = "cancelled" if action == "cancel" else "scheduled"
    notice = change_notice(row.starts_at, new_start, row.status, new_status, now,
                           policy.change_notice_days)
    people = outbox.people_told_about(row) if notice else []
    reach = [outbox.channels_for(p) for p in people]
    return SessionChange(row, action, new_start, notice, people,
                         sum(1 for r in reach if any(c == "email" for c, _ in r)),
                         sum(1 for r in reach if any(c == "sms" for c, _ in r)),
                         sum(1 for r in reach if not r))
