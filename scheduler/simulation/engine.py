"""The simulator: a program run through the real use cases on a throwaway database,
with a clock it moves forward an hour at a time.

Nothing here decides who gets a seat, what an offer is, when a hold lapses or what
a message says: the services do, exactly as for staff and clients. The simulator
only plays the people: new people arriving, clients coming or missing group,
drifting away, asking to come back and answering offers; a coordinator picking
requests up in working hours, booking and holding check-ins, placing each returner
into their first option and opening fresh groups that are ready; and the
background jobs on their schedules. Messages go through the real outbox to a null
transport. Same scenario, days and seed: same numbers.
"""

from __future__ import annotations

import random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade

from scheduler import timeback
from scheduler.errors import DomainError
from scheduler.jobs import job_table
from scheduler.models import (
    LIVE_WAITLIST,
    Attendance,
    CheckIn,
    Client,
    Cohort,
    Enrollment,
    FormingMember,
    GroupSession,
    Location,
    Notification,
    ReturnRequest,
    SeatOffer,
    WaitlistEntry,
    db,
)
from scheduler.services import (
    checkins,
    cohorts,
    enrollments,
    reports,
    returns,
    seats,
    staff,
    waitlist,
)
from scheduler.services.clients import create_client
from scheduler.services.seats import ATTENDED
from scheduler.simulation.scenario import Scenario
from scheduler.timeutil import as_utc

TZ = ZoneInfo("America/New_York")
# job name -> the local hour it runs at in a simulation (the rest run every hour)
DAILY_IN_SIMULATION = {"extend_horizon": 2, "detect_disengagement": 2,
                       "tell_staff_of_stalled": 9}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class SimClock:
    """The app's clock (``CLOCK``): whatever time the simulation has reached."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Person:
    client_id: int
    location: str
    evening: bool
    phone_only: bool
    drifting: bool = False  # has stopped coming; absent until they come back
    returner: bool = False
    first_back_pending: bool = False
    back_at: datetime | None = None  # when their place (back) in a group began

    def seated(self, now: datetime, first_back: bool = True) -> None:
        self.first_back_pending, self.back_at = first_back, now


@dataclass
class Counters:
    capacity_violations: int = 0
    two_groups: int = 0
    new_people: int = 0
    new_seated: int = 0
    new_waitlisted: int = 0
    drifted: int = 0
    checkins_missed: int = 0
    checkins_self_booked: int = 0  # the person picked a published time
    checkins_open_times: int = 0  # a coordinator booked an open published time for them
    checkins_called: int = 0  # a coordinator's call a working day or so later
    checkins_on_call_back: int = 0  # done on the coordinator's first call back
    no_option: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    groups_opened: int = 0
    groups_merged: int = 0
    groups_opened_smaller: int = 0
    returners_short: int = 0  # returners the scenario wanted but nobody was away

    def refuse(self, what: str) -> None:
        self.refused[what] = self.refused.get(what, 0) + 1


@dataclass
class Result:
    scenario: Scenario
    seed: int
    days: int
    start: datetime  # when the month of returners begins
    end: datetime
    journeys: list[timeback.Journey]
    counters: Counters
    utilisation: dict[str, float]
    waits: dict[str, float | int | None]
    offers: dict[str, int]
    messages: dict[str, int]
    duplicates: int

    @property
    def summary(self) -> timeback.Summary:
        return timeback.summarise(self.journeys, self.end)


def _local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=TZ).astimezone(UTC)


class World:
    def __init__(self, scenario: Scenario, seed: int, days: int, clock: SimClock, policy,
                 progress: Callable[[int], None] | None = None):
        self.sc, self.seed, self.days, self.clock, self.policy = (
            scenario, seed, days, clock, policy)
        self.rng = random.Random(seed)
        self.progress = progress or (lambda _n: None)
        self.start = _local(scenario.start, time(0))
        self.t0 = _local(scenario.start - timedelta(weeks=scenario.history_weeks), time(0))
        self.end = self.start + timedelta(days=days)
        self.people: dict[int, Person] = {}
        self.counters = Counters()
        self.staff_id = 0
        self.location_ids: dict[str, int] = {}
        self.track_ids: dict[str, int] = {}
        self.ready_at: dict[int, datetime] = {}  # request -> when the coordinator picks it up
        self.offer_plans: dict[int, tuple[datetime, str] | None] = {}
        self.arrivals: list[datetime] = []
        self.return_times: list[datetime] = []
        self.waiting_new: list[tuple[datetime, int]] = []  # new people for the coordinator
        self.last_session_check = self.t0
        work = scenario.coordinator
        self.work_days = {WEEKDAYS.index(d) for d in work.get("working_days",
                                                              "mon,tue,wed,thu,fri").split(",")}
        self.work_hours = tuple(work.get("hours", (9, 17)))

    # --- time -----------------------------------------------------------------------

    def working(self, at: datetime) -> bool:
        local = at.astimezone(TZ)
        return (local.weekday() in self.work_days
                and self.work_hours[0] <= local.hour < self.work_hours[1])

    def after_working_hours(self, at: datetime, hours: float) -> datetime:
        """The moment ``hours`` of working time after ``at``."""
        left, t = hours, at
        while True:
            if self.working(t):
                if left <= 0:
                    return t
                left -= 1
            t += timedelta(hours=1)

    def working_day_after(self, day: date, n: int) -> date:
        while n > 0:
            day += timedelta(days=1)
            if day.weekday() in self.work_days:
                n -= 1
        return day

    # --- the program at the start of the history ----------------------------------------

    def setup(self) -> None:
        now, sc = self.t0, self.sc
        self.clock.now = now
        self.staff_id = staff.create_staff("coordinator@sim.regroup.test", "coordinator",
                                           now)[0].id
        for loc in sc.locations:
            self.location_ids[loc["name"]] = cohorts.create_location(
                loc["name"], loc.get("address", ""), phone=loc.get("phone", "")).id
        for track in sc.tracks:
            self.track_ids[track["name"]] = cohorts.create_track(
                track["name"], int(track.get("sessions", 36))).id
        for spec in sc.cohorts:
            self._cohort(spec, now)
        for closure in sc.closures:
            day = sc.start + timedelta(days=int(closure["day"]))
            location = closure.get("location")
            cohorts.create_closure(self.location_ids[location] if location else None, day,
                                   closure.get("reason", "The program is closed"), now,
                                   self.policy)
        self._long_gone(now)
        fill = float(sc.people.get("initial_fill", 0.8))
        for cohort in self._running_cohorts():
            for _ in range(round(cohort.capacity * fill)):
                person = self._new_person(now, cohort)
                enrollments.enroll(person.client_id, cohort.id, now, self.policy,
                                   joined_on=now.astimezone(TZ).date(),
                                   credited_sessions=self.rng.randint(0, 30))
        total_hours = (self.end - self.t0).total_seconds() / 3600
        rate = sc.new_per_week / (7 * 24)
        t = 0.0
        while rate > 0:
            t += self.rng.expovariate(rate)
            if t >= total_hours:
                break
            self.arrivals.append(self.t0 + timedelta(hours=int(t)))
        span = min(sc.returner_days, self.days)
        for _ in range(sc.returners if span > 0 else 0):
            day = self.rng.randrange(span)
            hour = self.rng.randrange(8, 22)
            self.return_times.append(_local(sc.start + timedelta(days=day), time(hour)))
        self.return_times.sort()

    def _cohort(self, spec: dict, now: datetime, *, status: str = "running",
                starts_on: date | None = None, ends_on: date | None = None) -> Cohort:
        return cohorts.create_cohort({
            "name": spec["name"], "location_id": self.location_ids[spec["location"]],
            "track_id": self.track_ids[spec["track"]],
            "weekdays": spec["weekdays"].split(","),
            "start_time": time.fromisoformat(spec["start"]),
            "minutes": int(spec.get("minutes", 180)), "capacity": int(spec["capacity"]),
            "mode": spec.get("mode", "rolling"), "status": status,
            "starts_on": starts_on or now.astimezone(TZ).date() - timedelta(days=7),
            "ends_on": ends_on}, now, self.policy)

    def _running_cohorts(self) -> list[Cohort]:
        return list(db.session.scalars(sa.select(Cohort).where(
            Cohort.status == "running").order_by(Cohort.id)))

    def _new_person(self, now: datetime, cohort: Cohort | None = None) -> Person:
        people = self.sc.people
        n = len(self.people) + 1
        if cohort is not None:
            location = next(k for k, v in self.location_ids.items() if v == cohort.location_id)
            evening = cohort.start_time.hour >= 17
        else:
            weights = people.get("location_weights", {})
            names = sorted(self.location_ids)
            location = self.rng.choices(names, [float(weights.get(k, 1)) for k in names])[0]
            evening = self.rng.random() < float(people.get("evening_share", 0.6))
        phone_only = self.rng.random() < float(people.get("phone_only", 0.2))
        client = create_client({
            "name": f"Sim Person {n}",
            "email": None if phone_only else f"person{n}@sim.example.org",
            "phone": f"617-555-{n % 10000:04d}" if phone_only or n % 2 else None,
            "preferred_location_ids": [self.location_ids[location]],
        }, now)
        person = Person(client.id, location, evening, phone_only)
        self.people[client.id] = person
        return person

    def _long_gone(self, now: datetime) -> None:
        """People whose group ended one to three years before the history begins."""
        count = int(self.sc.people.get("long_gone", 0))
        if not count:
            return
        first = self.sc.cohorts[0]
        start_day = now.astimezone(TZ).date()
        old = self._cohort({**first, "name": f"{first['name']} (earlier years)"}, now,
                           starts_on=start_day - timedelta(days=3 * 365),
                           ends_on=start_day - timedelta(days=365))
        sessions = list(db.session.scalars(sa.select(GroupSession).where(
            GroupSession.cohort_id == old.id).order_by(GroupSession.starts_at)))
        for _ in range(count):
            person = self._new_person(now, old)
            begin = self.rng.randrange(max(1, len(sessions) - 20))
            attended = sessions[begin:begin + self.rng.randint(4, 20)]
            db.session.add(Enrollment(
                client_id=person.client_id, cohort_id=old.id, status="withdrawn",
                joined_on=attended[0].occurs_on, left_on=attended[-1].occurs_on,
                created_at=now, updated_at=now))
            for s in attended:
                db.session.add(Attendance(group_session_id=s.id, client_id=person.client_id,
                                          status="present", recorded_at=s.ends_at))
            person.drifting = True
        old.status = "ended"
        db.session.commit()

    # --- one hour -------------------------------------------------------------------------

    def run(self) -> Result:
        self.setup()
        hours = int((self.end - self.t0).total_seconds() // 3600)
        for h in range(1, hours + 1):
            now = self.t0 + timedelta(hours=h)
            self.clock.now = now
            self.hour(now)
            if h % 24 == 0:
                self.progress(1)
        self.clock.now = self.end
        return self.result()

    def hour(self, now: datetime) -> None:
        local = now.astimezone(TZ)
        if local.hour == 0 and local.weekday() == 0:
            self.weekly_drift()
        while self.arrivals and self.arrivals[0] <= now:
            self.waiting_new.append((self.arrivals.pop(0), self._new_person(now).client_id))
        while self.return_times and self.return_times[0] <= now:
            self.return_times.pop(0)
            self.ask_to_come_back(now)
        self.take_attendance(now)
        if self.working(now):
            self.coordinator(now)
        self.check_ins(now)
        self.answer_offers(now)
        self.jobs(now, local)

    def weekly_drift(self) -> None:
        p = float(self.sc.people.get("disengage_per_week", 0.03))
        active = set(db.session.scalars(sa.select(Enrollment.client_id).where(
            Enrollment.status == "active")))
        for client_id in sorted(active):
            person = self.people.get(client_id)
            if person and not person.drifting and self.rng.random() < p:
                person.drifting = True
                self.counters.drifted += 1

    def jobs(self, now: datetime, local: datetime) -> None:
        """The background jobs, from the same table `flask jobs run` schedules, every
        simulated hour; those whose work changes only from day to day (the session
        horizon, pauses after absences, stalled fresh groups) once a day, to keep a
        run short."""
        for name, (_interval, job) in job_table().items():
            at = DAILY_IN_SIMULATION.get(name)
            if at is None or local.hour == at:
                job(now, self.policy)
        if local.hour == 2:
            self.check_one_group_each()

    def check_one_group_each(self) -> None:
        twice = db.session.scalar(sa.select(sa.func.count()).select_from(
            sa.select(Enrollment.client_id).where(Enrollment.status == "active")
            .group_by(Enrollment.client_id).having(sa.func.count() > 1).subquery()))
        self.counters.two_groups += int(twice or 0)

    # --- people -----------------------------------------------------------------------------

    def take_attendance(self, now: datetime) -> None:
        due = list(db.session.scalars(sa.select(GroupSession).where(
            GroupSession.status == "scheduled", GroupSession.ends_at > self.last_session_check,
            GroupSession.ends_at <= now).order_by(GroupSession.starts_at, GroupSession.id)))
        self.last_session_check = now
        absence = float(self.sc.people.get("absence", 0.12))
        first_back = float(self.sc.people.get("first_session_present", 0.95))
        for s in due:
            if seats.seats_taken(s.cohort_id, now) > s.cohort.capacity:
                self.counters.capacity_violations += 1
            roster = list(db.session.scalars(sa.select(Enrollment).where(
                Enrollment.cohort_id == s.cohort_id, Enrollment.status == "active",
                Enrollment.joined_on <= s.occurs_on).order_by(Enrollment.client_id)))
            marks = []
            for e in roster:
                person = self.people.get(e.client_id)
                if person is None:
                    continue
                if person.back_at is not None and as_utc(s.starts_at) < person.back_at:
                    continue  # it began before they had their place back: not theirs
                if person.drifting:
                    status = "absent"
                elif person.first_back_pending:
                    status = "present" if self.rng.random() < first_back else "excused"
                    person.first_back_pending = status != "present"
                else:
                    roll = self.rng.random()
                    status = ("present" if roll >= absence else
                              "excused" if roll < absence / 2 else "absent")
                marks.append({"client_id": e.client_id, "status": status})
            if marks:
                self._try("attendance", enrollments.record_attendance, s.id, marks,
                          self.staff_id, now, self.policy, role="clinician")

    def ask_to_come_back(self, now: datetime) -> None:
        person = self._choose_returner(now)
        if person is None:
            self.counters.returners_short += 1
            return
        client = db.session.get(Client, person.client_id)
        person.drifting, person.returner = False, True
        channel = self.rng.choice(("web", "phone") if person.phone_only
                                  else ("web", "web", "phone", "email"))
        request, _ = returns.submit_return(
            {"name": client.name, "email": client.email, "phone": client.phone,
             "message": None}, channel, now)
        self.ready_at[request.id] = self.after_working_hours(
            now, float(self.sc.coordinator.get("reply_hours", 4)))
        booking = self.sc.check_in
        if booking.get("self_booking") and self.rng.random() < float(
                booking.get("self_book_share", 0.7)):
            slots = checkins.open_slots(now, self.policy, limit=1)
            if slots and self._try("self-booked check-in", checkins.book_slot, request.id,
                                   slots[0].slot.id, now, self.policy) is not None:
                self.counters.checkins_self_booked += 1

    def _choose_returner(self, now: datetime) -> Person | None:
        """Somebody away now, from the time-away band the scenario's weights pick."""
        busy = set(db.session.scalars(sa.select(Enrollment.client_id).where(
            Enrollment.status == "active")))
        busy |= set(db.session.scalars(sa.select(ReturnRequest.client_id)))
        last = dict(db.session.execute(
            sa.select(Attendance.client_id, sa.func.max(GroupSession.starts_at))
            .join(GroupSession, GroupSession.id == Attendance.group_session_id)
            .where(Attendance.status.in_(ATTENDED)).group_by(Attendance.client_id)).all())
        away = {cid: (now - as_utc(at)).days for cid, at in last.items()
                if cid not in busy and cid in self.people}
        if not away:
            return None
        bands = self.sc.people.get("away_bands", [[1, 100000, 1.0]])
        order = self.rng.choices(range(len(bands)), [float(b[2]) for b in bands])[0]
        low, high = bands[order][0], bands[order][1]
        inside = sorted(c for c, d in away.items() if low <= d <= high)
        if not inside:  # nobody in that band: the nearest band's people
            inside = sorted(away, key=lambda c: (min(abs(away[c] - low), abs(away[c] - high)),
                                                 c))[:5]
        return self.people[self.rng.choice(inside)]

    def answer_offers(self, now: datetime) -> None:
        offers = list(db.session.scalars(sa.select(SeatOffer).where(
            SeatOffer.status == "open").order_by(SeatOffer.id)))
        conf = self.sc.offers
        for offer in offers:
            if offer.id not in self.offer_plans:
                plan = None
                if self.rng.random() < float(conf.get("answer", 0.8)):
                    low, high = conf.get("answer_hours", (1, 30))
                    at = offer.offered_at + timedelta(hours=self.rng.uniform(low, high))
                    take = self.rng.random() < float(conf.get("take", 0.9))
                    plan = (as_utc(at), "take" if take else "pass")
                self.offer_plans[offer.id] = plan
            plan = self.offer_plans[offer.id]
            if plan is None or plan[0] > now or as_utc(offer.expires_at) <= now:
                continue
            token = waitlist.offer_token(offer.id)
            if plan[1] == "take":
                enrolled = self._try("offer taken", waitlist.accept_offer, token, now,
                                     self.policy)
                person = self.people.get(offer.client_id)
                if enrolled is not None and person is not None:
                    person.seated(now, first_back=person.returner)
                    person.drifting = False
            else:
                self._try("offer passed", waitlist.decline_offer, token, now, keep_place=True)
            self.offer_plans[offer.id] = None

    # --- the coordinator --------------------------------------------------------------------

    def coordinator(self, now: datetime) -> None:
        for arrived, client_id in list(self.waiting_new):
            if arrived <= now:
                self.waiting_new.remove((arrived, client_id))
                self.intake(client_id, now)
        due = sorted(rid for rid, at in self.ready_at.items() if at <= now)
        for rid in due:
            del self.ready_at[rid]
            request = db.session.get(ReturnRequest, rid)
            if request.status != "open" or returns.current_check_in(rid) is not None:
                continue
            on_call = float(self.sc.coordinator.get("checks_in_on_call_back", 0))
            if on_call and self.rng.random() < on_call:
                # the person picks up: the call back is the check-in (nothing booked)
                self.counters.checkins_on_call_back += 1
                self.check_in(rid, request.client_id, now)
                continue
            self.book_call(rid, now)
        local = now.astimezone(TZ)
        if local.hour == 10:
            self.fresh_groups(now)
        if local.hour == self.work_hours[0] and self.sc.check_in.get("self_booking"):
            self.publish_check_in_times(local.date())

    def fresh_groups(self, now: datetime) -> None:
        """Open the forming groups that are ready; take the proposal for those that
        waited too long (merge into a running group, or open smaller)."""
        conf = self.sc.coordinator
        for view in returns.forming_cohorts(now, self.policy):
            done = None
            if view.ready and conf.get("opens_ready_groups", True):
                done = self._try("open fresh group", returns.open_forming, view.cohort.id,
                                 self.staff_id, now, self.policy)
                self.counters.groups_opened += done is not None
            elif view.proposal is not None and conf.get("takes_proposals", True):
                if view.proposal.action == "merge":
                    done = self._try("merge fresh group", returns.merge_forming,
                                     view.cohort.id, view.proposal.into_cohort_id,
                                     self.staff_id, now, self.policy)
                    self.counters.groups_merged += done is not None
                else:
                    done = self._try("open fresh group early", returns.open_forming,
                                     view.cohort.id, self.staff_id, now, self.policy,
                                     early=True)
                    self.counters.groups_opened_smaller += done is not None
            if done is not None:
                for m in view.members:
                    if m.client_id in self.people:
                        self.people[m.client_id].seated(now)

    def book_call(self, return_id: int, now: datetime) -> None:
        """The coordinator's call a working day or so later; or, where the program
        publishes check-in times and the scenario says the coordinator uses them,
        the soonest open time if it comes before that call."""
        day = self.working_day_after(now.astimezone(TZ).date(),
                                     int(self.sc.coordinator.get("check_in_after_days", 1)))
        hour = self.rng.randrange(self.work_hours[0], self.work_hours[1])
        call = _local(day, time(hour))
        if self.sc.coordinator.get("books_open_times"):
            soonest = checkins.open_slots(now, self.policy, limit=1)
            if soonest and as_utc(soonest[0].slot.starts_at) < call and self._try(
                    "open check-in time booked", checkins.book_slot, return_id,
                    soonest[0].slot.id, now, self.policy, staff_id=self.staff_id) is not None:
                self.counters.checkins_open_times += 1
                return
        if self._try("check-in booked", returns.book_check_in, return_id, call, "phone", now,
                     staff_id=self.staff_id) is not None:
            self.counters.checkins_called += 1

    def publish_check_in_times(self, today: date) -> None:
        day = self.working_day_after(today, 1)
        modes = self.sc.check_in.get("modes", ["phone"])
        count = int(self.sc.check_in.get("slots_per_day", 3))
        span = self.work_hours[1] - self.work_hours[0]
        for i in range(count):
            hour = self.work_hours[0] + (i * span) // max(count, 1)
            self._try("check-in time published", checkins.publish_slot, {
                "starts_at": _local(day, time(hour)), "mode": modes[i % len(modes)],
                "minutes": 30, "places": 1}, self.clock.now, staff_id=self.staff_id)

    def intake(self, client_id: int, now: datetime) -> None:
        """A new person: a seat in a fitting group if there is one, else its waitlist."""
        person = self.people[client_id]
        self.counters.new_people += 1
        fitting = [c for c in self._running_cohorts()
                   if c.location_id == self.location_ids[person.location]
                   and (c.start_time.hour >= 17) == person.evening and not c.for_returners]
        if not fitting:
            fitting = [c for c in self._running_cohorts() if not c.for_returners]
        taken = seats.seats_by_cohort(now)
        free = [c for c in fitting if sum(taken.get(c.id, {}).values()) < c.capacity]
        if free and self._try("new person seated", enrollments.enroll, client_id,
                              free[0].id, now, self.policy) is not None:
            self.counters.new_seated += 1
            return
        line = {c.id: len(waitlist.waitlist_for(c.id)) for c in fitting}
        choice = min(fitting, key=lambda c: (line[c.id], c.id))
        if self._try("new person waitlisted", waitlist.add_to_waitlist, client_id, choice.id,
                     now, policy=self.policy) is not None:
            self.counters.new_waitlisted += 1

    def check_ins(self, now: datetime) -> None:
        due = list(db.session.scalars(sa.select(CheckIn).join(
            ReturnRequest, ReturnRequest.id == CheckIn.return_request_id).where(
            CheckIn.status == "booked", CheckIn.at <= now, ReturnRequest.status == "open")
            .order_by(CheckIn.at, CheckIn.id)))
        show = float(self.sc.coordinator.get("check_in_show", 0.9))
        for check_in in due:
            rid = check_in.return_request_id
            if self.rng.random() >= show:
                self.counters.checkins_missed += 1
                self.book_call(rid, now)
                continue
            self.check_in(rid, check_in.client_id, now)

    def check_in(self, return_id: int, client_id: int, now: datetime) -> None:
        """The check-in: the person's answers recorded, then their first option taken."""
        person = self.people[client_id]
        weights = self.sc.people.get("preference", {"no_preference": 1})
        names = sorted(weights)
        preference = self.rng.choices(names, [float(weights[k]) for k in names])[0]
        answers = {"preference": preference,
                   "dayparts": ["evening" if person.evening else "morning"],
                   "location_ids": [self.location_ids[person.location]], "weekdays": []}
        if self._try("re-entry answers", returns.record_reentry, return_id, answers,
                     self.staff_id, now) is None:
            return
        self.place_first_option(return_id, now)

    def place_first_option(self, return_id: int, now: datetime) -> None:
        ranking = returns.options_for(return_id, now, self.policy)
        if not ranking.options:
            self.counters.no_option += 1
            return
        placed = self._try("placement", returns.place, return_id, ranking.options[0].id,
                           self.staff_id, now, self.policy)
        if placed is not None and placed.enrollment is not None:
            person = self.people.get(placed.enrollment.client_id)
            if person is not None:
                person.seated(now)

    def _try(self, what: str, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except DomainError:
            db.session.rollback()
            self.counters.refuse(what)
            return None

    # --- what happened --------------------------------------------------------------------

    def result(self) -> Result:
        start, end = self.start, self.end
        names = {loc.id: loc.name for loc in db.session.scalars(sa.select(Location))}
        journeys = [j for _r, j in reports.journeys(since=start)]
        return Result(self.sc, self.seed, self.days, start, end, journeys, self.counters,
                      self._utilisation(names), self._waits(), self._offers(),
                      self._messages(), self._duplicates())

    def _utilisation(self, names: dict[int, str]) -> dict[str, float]:
        rows = db.session.execute(
            sa.select(Cohort.location_id, Cohort.capacity, GroupSession.id,
                      sa.select(sa.func.count()).select_from(Attendance).where(
                          Attendance.group_session_id == GroupSession.id).scalar_subquery())
            .join(Cohort, Cohort.id == GroupSession.cohort_id)
            .where(GroupSession.status == "scheduled", GroupSession.starts_at >= self.start,
                   GroupSession.ends_at <= self.end)).all()
        seats_used: dict[str, list[int]] = {}
        for location_id, capacity, _sid, on_roster in rows:
            for key in (names[location_id], "all"):
                used = seats_used.setdefault(key, [0, 0])
                used[0] += on_roster
                used[1] += capacity
        return {k: (u / c if c else 0.0) for k, (u, c) in sorted(seats_used.items())}

    def _waits(self) -> dict[str, float | int | None]:
        entries = list(db.session.execute(
            sa.select(WaitlistEntry.requested_at, WaitlistEntry.status,
                      sa.select(sa.func.min(SeatOffer.responded_at)).where(
                          SeatOffer.waitlist_entry_id == WaitlistEntry.id,
                          SeatOffer.status == "accepted").scalar_subquery())
            .where(WaitlistEntry.requested_at >= self.start)))
        seated = [timeback.days_between(a, b) for a, _s, b in entries if b is not None]
        forming = db.session.scalar(sa.select(sa.func.count()).select_from(FormingMember)
                                    .where(FormingMember.status == "waiting")) or 0
        return {"joined": len(entries), "seated": len(seated),
                "still waiting": sum(1 for _a, s, _b in entries if s in LIVE_WAITLIST),
                "median days to a seat": timeback.median(seated),
                "in forming groups": int(forming)}

    def _offers(self) -> dict[str, int]:
        counts = dict(db.session.execute(
            sa.select(SeatOffer.status, sa.func.count()).where(
                SeatOffer.offered_at >= self.start).group_by(SeatOffer.status)).all())
        return {"made": sum(counts.values()), "taken": counts.get("accepted", 0),
                "passed": counts.get("declined", 0), "lapsed": counts.get("expired", 0),
                "open": counts.get("open", 0), "withdrawn": counts.get("withdrawn", 0)}

    def _messages(self) -> dict[str, int]:
        """Messages made since the month of returners began, by channel and outcome;
        and how many returners who gave only a phone number heard nothing at all."""
        rows = db.session.execute(
            sa.select(Notification.channel, Notification.status, sa.func.count())
            .where(Notification.created_at >= self.start)
            .group_by(Notification.channel, Notification.status)
            .order_by(Notification.channel, Notification.status)).all()
        out = {f"{channel} {status}": n for channel, status, n in rows}
        phone_only = sorted(p.client_id for p in self.people.values()
                            if p.phone_only and p.returner)
        heard = set(db.session.scalars(sa.select(Notification.client_id).where(
            Notification.client_id.in_(phone_only), Notification.status == "sent",
            Notification.created_at >= self.start))) if phone_only else set()
        out["phone-only returners"] = len(phone_only)
        out["phone-only returners sent nothing"] = len(set(phone_only) - heard)
        return out

    def _duplicates(self) -> int:
        """Messages sent twice: the same message kind about the same thing to the same
        person on the same channel, sent within an hour of another."""
        rows = db.session.execute(
            sa.select(Notification.client_id, Notification.kind, Notification.subject_ref,
                      Notification.channel, Notification.sent_at)
            .where(Notification.status == "sent", Notification.client_id.is_not(None))
            .order_by(Notification.client_id, Notification.kind, Notification.subject_ref,
                      Notification.channel, Notification.sent_at)).all()
        twice, previous = 0, None
        for row in rows:
            if previous is not None and tuple(row[:4]) == tuple(previous[:4]) and (
                    as_utc(row[4]) - as_utc(previous[4])) < timedelta(hours=1):
                twice += 1
            previous = row
        return twice


def run(scenario: Scenario, *, days: int, seed: int, make_app: Callable[..., Flask],
        progress: Callable[[int], None] | None = None, database_url: str | None = None
        ) -> Result:
    """Run ``scenario`` for ``days`` after its history on a throwaway SQLite database
    (or ``database_url``, which must be empty) built by ``make_app(overrides)``, and
    return what happened."""
    clock = SimClock(datetime.now(UTC))
    policy = scenario.policy()
    with tempfile.TemporaryDirectory(prefix="regroup-sim-") as folder:
        url = database_url or f"sqlite:///{Path(folder) / 'simulation.sqlite3'}"
        app = make_app({"SQLALCHEMY_DATABASE_URI": url, "CLOCK": clock, "POLICY": policy,
                        "OUTBOX_TRANSPORT": "null", "TESTING": True,
                        "SECRET_KEY": f"simulation-{seed}", "REGROUP_ENV": "development",
                        "RUN_JOBS_IN_WEB": False})
        with app.app_context():
            upgrade(x_arg=["quiet"])
            try:
                return World(scenario, seed, days, clock, policy, progress).run()
            finally:
                db.session.remove()
                for engine in db.engines.values():
                    engine.dispose()
