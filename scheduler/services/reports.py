"""Read-only queries behind the Returners and Director pages. Nothing here writes.

``returners_queue`` and ``returner_page`` gather what a coordinator needs to
bring someone back; ``director_report`` adds up capacity, waits and time back
to group across both sites. Each loads in a fixed number of queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, cached_property
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import aliased, load_only

from scheduler import placement, timeback
from scheduler.config import Policy
from scheduler.models import (
    CheckIn,
    Client,
    Cohort,
    Location,
    PlacementDecision,
    Reentry,
    ReturnRequest,
    StaffUser,
    Track,
    db,
)
from scheduler.services import report_stamps, returns
from scheduler.services.common import Paged, get, page_within
from scheduler.services.console import SITES_PER_PAGE, Seats, sites_shown
from scheduler.services.seats import seats_by_cohort
from scheduler.services.waitlist import Waiting, lines_by_cohort, waiting_of
from scheduler.timeutil import as_utc

RECENT_LIMIT = 30
OPEN_PAGE = 25  # open requests on one page of Returners, oldest first
TIME_BACK_DAYS = 90


def age_in_words(earlier: datetime, now: datetime) -> str:
    """How long ago, in the plain words a coordinator says: "under an hour",
    "5 hours", "1 day", "12 days", "7 weeks", "5 months", "2 years"."""
    seconds = max((as_utc(now) - as_utc(earlier)).total_seconds(), 0)
    hours, days = int(seconds // 3600), int(seconds // 86400)
    if hours < 1:
        return "under an hour"
    if days < 1:
        return "1 hour" if hours == 1 else f"{hours} hours"
    if days < 28:
        return "1 day" if days == 1 else f"{days} days"
    if days < 90:
        return f"{days // 7} weeks"
    if days < 730:
        return f"{days // 30} months"
    return f"{days // 365} years"


def days_between(earlier: datetime | None, later: datetime | None) -> float | None:
    return _one_place(timeback.days_between(earlier, later))


# --- the Returners queue ------------------------------------------------------------

@dataclass
class QueueRow:
    request: ReturnRequest
    client: Client
    age: str
    check_in: CheckIn | None
    answered: bool
    clinical_review: bool

    @property
    def new_client(self) -> bool:
        return bool(self.client.needs_confirmation)


@dataclass
class TimeBack:
    """Days from "I'd like to come back" to sitting in a group, over requests made in
    a window, everyone counted (``scheduler.timeback``): somebody not back yet counts
    with their wait so far, so the median and p90 never leave them out."""

    since: datetime | None
    until: datetime
    rows: list[tuple[RequestTimes, timeback.Journey]]
    summary: timeback.Summary
    still_waiting: int  # open or placed, not yet at a group session (any age)

    @cached_property
    def journeys(self) -> list[timeback.Journey]:
        return [j for _r, j in self.rows]

    @property
    def still_open(self) -> int:
        return sum(1 for r, _j in self.rows if r.status == "open")

    @property
    def mean_days(self) -> float | None:
        return _one_place(self.summary.mean_days)

    @property
    def items(self) -> list[dict]:
        """One line per request (the API's and the CSV's)."""
        return [{
            "return_request_id": r.id, "client_id": r.client_id, "status": r.status,
            "stage": j.stage, "location": j.location, "track": j.track, "option": j.kind,
            "requested_at": r.requested_at, "checked_in_at": r.checked_in_at,
            "placed_at": r.placed_at, "first_attended_at": r.first_attended_at,
            "days_to_check_in": _one_place(j.days_to("check_in")),
            "days_to_placed": _one_place(j.days_to("placed")),
            "days_to_group": _one_place(j.days_to("seated")),
            "waiting_days": (_one_place(j.wait(self.until))
                             if j.seated_at is None and not j.closed else None),
        } for r, j in self.rows]

    def groups(self, what: str) -> list[dict]:
        """Figures per location, track or option kind (the API's ``by_…``)."""
        return [{"name": name, "requests": g.requests, "back_in_group": g.seated,
                 "never_seated": g.never_seated, "median_days": _one_place(g.median_days),
                 "p90_days": _one_place(g.p90_days)} for name, g in self.by(what).items()]

    @cached_property  # the figures are reused while time back is (``report_stamps``)
    def by_location(self) -> list[dict]:
        return self.groups("location")

    @cached_property
    def by_track(self) -> list[dict]:
        return self.groups("track")

    @cached_property
    def by_option(self) -> list[dict]:
        return self.groups("option")

    @property
    def requests(self) -> int:
        return self.summary.requests

    @property
    def back_in_group(self) -> int:
        return self.summary.seated

    @property
    def median_days(self) -> float | None:
        return _one_place(self.summary.median_days)

    @property
    def p90_days(self) -> float | None:
        return _one_place(self.summary.p90_days)

    @property
    def median_seated_days(self) -> float | None:
        return _one_place(self.summary.median_seated_days)

    @property
    def median_days_to_placed(self) -> float | None:
        return _one_place(self.summary.stage_medians["placed"])

    @property
    def median_days_to_check_in(self) -> float | None:
        return _one_place(self.summary.stage_medians["check_in"])

    @property
    def never_seated(self) -> int:
        return self.summary.never_seated

    @property
    def waiting_days(self) -> list[float]:
        return [_one_place(a) for a in self.summary.waiting_ages]

    def by(self, what: str) -> dict[str, timeback.Summary]:
        key = {"location": lambda j: j.location, "track": lambda j: j.track,
               "option": lambda j: j.kind}[what]
        return timeback.grouped(self.journeys, key, self.until,
                                "not placed yet" if what == "option" else "no group yet")

    @cached_property
    def distribution(self) -> list[tuple[str, int, int]]:
        return timeback.distribution(self.journeys, self.until)

    @property
    def widest_band(self) -> int:
        """The most people in one band of the chart (at least 1, to scale by)."""
        return max([1, *(s + w for _label, s, w in self.distribution)])


def _one_place(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


@dataclass
class Queue(Paged):
    open: list[QueueRow]  # this page of them
    recent: list[QueueRow]
    time_back: TimeBack
    open_count: int  # all open requests
    page: int
    size: int

    @property
    def count(self) -> int:
        return self.open_count

    @property
    def shown(self) -> list[QueueRow]:
        return self.open


@cache
def _queue_statement(recent: int, size: int):
    """Built once (a statement this size costs more to put together than to run)."""
    latest = (sa.select(ReturnRequest.id).where(ReturnRequest.status != "open")
              .order_by(ReturnRequest.updated_at.desc(), ReturnRequest.id.desc())
              .limit(recent))
    shown = (sa.select(ReturnRequest.id).where(ReturnRequest.status == "open")
             .order_by(ReturnRequest.requested_at, ReturnRequest.id)
             .limit(size).offset(sa.bindparam("skip")))
    counted = aliased(ReturnRequest)
    open_count = (sa.select(sa.func.count()).select_from(counted)
                  .where(counted.status == "open").scalar_subquery())
    return (sa.select(ReturnRequest, Client, CheckIn, Reentry, open_count)
            .join(Client, Client.id == ReturnRequest.client_id)
            .outerjoin(CheckIn, returns.is_current_check_in())
            .outerjoin(Reentry, Reentry.return_request_id == ReturnRequest.id)
            # one list of ids (an OR of two made PostgreSQL read every request);
            # each part a subquery, as SQLite takes no LIMIT inside a UNION
            .where(ReturnRequest.id.in_(sa.union_all(
                *(sa.select(part.subquery().c.id) for part in (shown, latest)))))
            # the queue shows a client's name and whether the record is new: not every
            # JSON field of every client
            .options(load_only(Client.id, Client.name, Client.needs_confirmation),
                     load_only(CheckIn.id, CheckIn.status, CheckIn.at),
                     load_only(Reentry.id, Reentry.clinical_review)))


def returners_queue(now: datetime, *, page: int = 1, recent: int = RECENT_LIMIT) -> Queue:
    """A page of open requests, oldest first (``OPEN_PAGE`` a page, and how many are
    open in all), then the most recently placed or closed, each with its current
    check-in and re-entry answers: one statement for the whole queue. A page past
    the last shows the last."""
    page = max(page, 1)
    rows = db.session.execute(_queue_statement(recent, OPEN_PAGE),
                              {"skip": (page - 1) * OPEN_PAGE}).all()
    open_count = rows[0][4] if rows else None
    if page > 1 and not any(r.status == "open" for r, *_ in rows):
        if open_count is None:
            open_count = db.session.scalar(sa.select(sa.func.count()).where(
                ReturnRequest.status == "open"))
        last = page_within(page, open_count, OPEN_PAGE)
        if last < page:
            return returners_queue(now, page=last, recent=recent)
    lines = [QueueRow(r, c, age_in_words(r.requested_at, now), check_in, reentry is not None,
                      bool(reentry and reentry.clinical_review))
             for r, c, check_in, reentry, _count in rows]
    waiting = sorted((q for q in lines if q.request.status == "open"),
                     key=lambda q: (q.request.requested_at, q.request.id))
    done = sorted((q for q in lines if q.request.status != "open"),
                  key=lambda q: (q.request.updated_at, q.request.id), reverse=True)
    return Queue(waiting, done, time_back(now), int(open_count or 0), page, OPEN_PAGE)


class RequestTimes(NamedTuple):
    """What time back reads of a return request."""

    id: int
    client_id: int
    status: str
    requested_at: datetime
    checked_in_at: datetime | None
    placed_at: datetime | None
    first_attended_at: datetime | None


def journeys(*, since: datetime | None = None, until: datetime | None = None,
             client_id: int | None = None) -> list[tuple[RequestTimes, timeback.Journey]]:
    """Every return request made in [since, until) (its id, client_id, status and
    stage times as plain columns: Returners and Director read a few hundred at scale)
    with its journey: the stages' times, and where and how the person was placed.
    One query."""
    query = (sa.select(ReturnRequest.id, ReturnRequest.client_id, ReturnRequest.status,
                       ReturnRequest.requested_at, ReturnRequest.checked_in_at,
                       ReturnRequest.placed_at, ReturnRequest.first_attended_at,
                       PlacementDecision.kind, Location.name, Track.name)
             .outerjoin(PlacementDecision,
                        PlacementDecision.return_request_id == ReturnRequest.id)
             .outerjoin(Cohort, Cohort.id == PlacementDecision.cohort_id)
             .outerjoin(Location, Location.id == Cohort.location_id)
             .outerjoin(Track, Track.id == Cohort.track_id)
             .order_by(ReturnRequest.requested_at, ReturnRequest.id))
    if since is not None:
        query = query.where(ReturnRequest.requested_at >= since)
    if until is not None:
        query = query.where(ReturnRequest.requested_at < until)
    if client_id is not None:
        query = query.where(ReturnRequest.client_id == client_id)
    return [(r, timeback.Journey(
        request_id=r.id, requested_at=r.requested_at, checked_in_at=r.checked_in_at,
        placed_at=r.placed_at, seated_at=r.first_attended_at, location=location,
        track=track, kind=kind, closed=r.status == "closed"))
        for r, kind, location, track in (
            (RequestTimes(*row[:7]), *row[7:]) for row in db.session.execute(query))]


def time_back(now: datetime, days: int | None = TIME_BACK_DAYS, *,
              since: datetime | None = None, until: datetime | None = None,
              client_id: int | None = None) -> TimeBack:
    """Time back to group over requests made in the last ``days`` (or from ``since``
    to ``until``), everyone counted; and how many people of any age are still on
    their way. The last 90 days, as Returners and Director show them, are worked out
    once and reused while nothing they count has changed (``report_stamps``)."""
    if days == TIME_BACK_DAYS and since is None and until is None and client_id is None:
        return report_stamps.reused(report_stamps.TIME_BACK, now,
                                    lambda: _time_back(now, since=now - timedelta(days=days),
                                                       until=now))
    if client_id is not None:
        get(Client, client_id, "Client")
    if since is None and days is not None:
        since = now - timedelta(days=days)
    return _time_back(now, since=since, until=min(until, now) if until is not None else now,
                      client_id=client_id)


def _time_back(now: datetime, *, since: datetime | None, until: datetime,
               client_id: int | None = None) -> TimeBack:
    rows = journeys(since=since, until=until + timedelta(microseconds=1), client_id=client_id)
    waiting = db.session.scalar(sa.select(sa.func.count()).select_from(ReturnRequest).where(
        ReturnRequest.status.in_(("open", "placed")),
        ReturnRequest.first_attended_at.is_(None))) or 0
    return TimeBack(since=since, until=now, rows=rows,
                    summary=timeback.summarise([j for _r, j in rows], now),
                    still_waiting=int(waiting))


# --- one request --------------------------------------------------------------------

@dataclass
class ReturnerPage:
    request: ReturnRequest
    client: Client
    check_in: CheckIn | None
    check_in_staff: StaffUser | None
    reentry: Reentry | None
    ranking: placement.Ranking | None
    cohort_names: dict[int, str]
    decision: PlacementDecision | None
    decision_cohort_name: str | None
    waiting: list[Waiting]
    steps: list[tuple[str, datetime | None, float | None]]
    staff: list[returns.StaffChoice]
    locations: dict[int, str]
    age: str
    other_open: tuple[int, ...] = ()


def returner_page(return_id: int, now: datetime, policy: Policy) -> ReturnerPage:
    """Everything the request page shows: the request and its client, the check-in,
    the re-entry answers, the ranked options (while open), the decision (once
    placed), what the client waits for, and the request's steps with days taken.
    A fixed handful of statements, however large the program."""
    found = returns.on_file(return_id)
    request = found.request
    waiting = waiting_of(found.client.id)
    refs = returns.references(staff=True)
    ranking = (returns.rank(found, waiting, refs, now, policy)
               if request.status == "open" else None)
    steps = [("Asked to come back", request.requested_at, 0.0)]
    for label, stamp in (("Check-in done", request.checked_in_at),
                         ("Placed", request.placed_at),
                         ("First group session back", request.first_attended_at)):
        steps.append((label, stamp, days_between(request.requested_at, stamp)))
    return ReturnerPage(
        request=request, client=found.client, check_in=found.check_in,
        check_in_staff=found.check_in_staff, reentry=found.reentry, ranking=ranking,
        cohort_names=dict(ranking.cohort_names) if ranking is not None else {},
        decision=found.decision, decision_cohort_name=found.decision_cohort_name,
        waiting=waiting, steps=steps, staff=refs.staff,
        locations=dict(sorted(refs.locations.items(), key=lambda kv: kv[1])),
        age=age_in_words(request.requested_at, now), other_open=found.other_open)


# --- the Director page --------------------------------------------------------------

@dataclass
class CohortLine:
    cohort: Cohort
    seats: Seats
    waiting: int = 0
    longest_wait_days: int | None = None


@dataclass
class LocationLine:
    location: Location
    cohorts: list[CohortLine]

    @property
    def seats(self) -> Seats:
        total = Seats(sum(c.seats.capacity for c in self.cohorts))
        for line in self.cohorts:
            total.enrolled += line.seats.enrolled
            total.held += line.seats.held
            total.offered += line.seats.offered
        return total

    @property
    def waiting(self) -> int:
        return sum(c.waiting for c in self.cohorts)

    @property
    def longest_wait_days(self) -> int | None:
        waits = [c.longest_wait_days for c in self.cohorts if c.longest_wait_days is not None]
        return max(waits) if waits else None


@dataclass
class DirectorReport(Paged):
    locations: list[LocationLine]  # the sites shown: one, or a page of every site
    time_back: TimeBack
    open_requests: int
    forming: int
    sites: list[tuple[int, str]]  # (id, name) of every site, for choosing one
    count: int  # sites the capacity section pages through
    page: int
    size: int = SITES_PER_PAGE

    @property
    def shown(self) -> list[LocationLine]:
        return self.locations


def director_report(now: datetime, *, location_id: int | None = None,
                    page: int = 1) -> DirectorReport:
    """Capacity per location (at ``location_id`` only, or every site by name
    ``SITES_PER_PAGE`` to a page) and running cohort (seats taken / offered / free),
    people waiting per cohort with the longest wait in days, and time back to group
    across the program."""
    sites = sites_shown(location_id, page)
    chosen = [loc.id for loc in sites.shown]
    counts = seats_by_cohort(now, location_ids=chosen)
    waits = lines_by_cohort(chosen)
    # the sites shown, each with its running groups
    rows = db.session.execute(
        sa.select(Location, Cohort)
        .outerjoin(Cohort, sa.and_(Cohort.location_id == Location.id,
                                   Cohort.status == "running"))
        .where(Location.id.in_(chosen))
        .order_by(Location.name, Location.id, Cohort.name, Cohort.id)).all()
    lines: dict[int, LocationLine] = {}
    for loc, cohort in rows:
        line = lines.setdefault(loc.id, LocationLine(loc, []))
        if cohort is None:
            continue
        n, oldest = waits.get(cohort.id, (0, None))
        longest = None
        if oldest is not None:
            longest = int((now - as_utc(oldest)).total_seconds() // 86400)
        line.cohorts.append(CohortLine(
            cohort, Seats(cohort.capacity, **counts.get(cohort.id, {})), n, longest))
    open_requests, forming = db.session.execute(sa.select(
        sa.select(sa.func.count()).select_from(ReturnRequest)
        .where(ReturnRequest.status == "open").scalar_subquery(),
        sa.select(sa.func.count()).select_from(Cohort)
        .where(Cohort.status == "forming").scalar_subquery())).one()
    return DirectorReport(list(lines.values()), time_back(now), int(open_requests or 0),
                          int(forming or 0), [(loc.id, loc.name) for loc in sites.every],
                          sites.count, sites.page)
