"""A Hypothesis state machine drives seats through every path (enroll, withdraw,
pause, capacity changes, offers, accept, decline, removal, the clock, expiry) and
checks the seat invariants after every step, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import date, time

import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from scheduler.errors import DomainError, OfferAlreadyAnswered
from scheduler.models import Cohort, Enrollment, SeatOffer, WaitlistEntry, db
from scheduler.services import clients, cohorts, enrollments, waitlist
from tests.conftest import _empty_all_tables

PICK = st.integers(min_value=0, max_value=30)
CLIENTS = 7


def _pick(rows: list, index: int):
    return rows[index % len(rows)] if rows else None


class SeatMachine(RuleBasedStateMachine):
    def __init__(self, clock, policy, start):
        super().__init__()
        self.clock, self.policy = clock, policy
        clock.set(start)
        db.session.rollback()
        _empty_all_tables(db)
        location = cohorts.create_location("Boston", "1 Example St")
        track = cohorts.create_track("Evening")
        self.cohort_ids = [cohorts.create_cohort({
            "location_id": location.id, "track_id": track.id, "name": f"Group {n}",
            "weekdays": ["mon", "wed", "thu"], "start_time": time(18, 0), "minutes": 180,
            "capacity": capacity, "starts_on": date(2026, 11, 2)}, start, policy).id
            for n, capacity in enumerate((2, 3))]
        self.client_ids = [clients.create_client(
            {"name": f"Person {n}", "email": f"p{n}@example.org"}, start).id
            for n in range(CLIENTS)]
        # start busy: both groups full, people in line for each (one for both)
        for n, cohort_id in enumerate(self.cohort_ids):
            for client_id in self.client_ids[n * 2:n * 2 + 2]:
                enrollments.enroll(client_id, cohort_id, start, policy)
            for client_id in self.client_ids[4:]:
                waitlist.add_to_waitlist(client_id, cohort_id, start)
        self.settled = True
        self.credit_seen: dict[int, int] = {}

    # --- helpers ---------------------------------------------------------------
    def attempt(self, call, *args, **kwargs):
        try:
            return call(*args, **kwargs)
        except DomainError:
            db.session.rollback()
            return None

    def rows(self, query):
        db.session.expire_all()
        rows = list(db.session.scalars(query))
        db.session.rollback()
        return rows

    def enrollments_in(self, *statuses):
        return self.rows(sa.select(Enrollment).where(Enrollment.status.in_(statuses))
                         .order_by(Enrollment.id))

    def offers(self, status="open"):
        return self.rows(sa.select(SeatOffer).where(SeatOffer.status == status)
                         .order_by(SeatOffer.id))

    # --- rules -----------------------------------------------------------------
    @rule(who=PICK, where=PICK, priority=st.integers(0, 2))
    def join(self, who, where, priority):
        self.attempt(waitlist.add_to_waitlist, _pick(self.client_ids, who),
                     _pick(self.cohort_ids, where), self.clock(), priority=priority)

    @rule(who=PICK, where=PICK)
    def enroll(self, who, where):
        self.attempt(enrollments.enroll, _pick(self.client_ids, who),
                     _pick(self.cohort_ids, where), self.clock(), self.policy)

    @rule(who=PICK, where=PICK, credit=st.integers(0, 12))
    def enroll_with_credit(self, who, where, credit):
        """Staff seat someone with sessions carried; a paused place there is reused."""
        self.attempt(enrollments.enroll, _pick(self.client_ids, who),
                     _pick(self.cohort_ids, where), self.clock(), self.policy,
                     credited_sessions=credit)

    @rule(which=PICK, status=st.sampled_from(["withdrawn", "completed", "moved"]))
    def leave(self, which, status):
        row = _pick(self.enrollments_in("active", "paused"), which)
        if row is not None:
            self.attempt(enrollments.change_status, row.id, status, self.clock(), self.policy)

    @rule(which=PICK, release=st.booleans())
    def pause(self, which, release):
        row = _pick(self.enrollments_in("active", "paused"), which)
        if row is not None:
            self.attempt(enrollments.change_status, row.id, "paused", self.clock(),
                         self.policy, release_hold=release)

    @rule(which=PICK)
    def come_back_from_pause(self, which):
        row = _pick(self.enrollments_in("paused"), which)
        if row is not None:
            self.attempt(enrollments.change_status, row.id, "active", self.clock(),
                         self.policy)

    @rule(where=PICK, capacity=st.integers(0, 5))
    def set_capacity(self, where, capacity):
        self.attempt(cohorts.update_cohort, _pick(self.cohort_ids, where),
                     {"capacity": capacity}, self.clock(), self.policy)

    @rule(where=PICK)
    def offer_free_seats(self, where):
        """Offering again is harmless: with nothing free (once settled) it makes nothing."""
        made = waitlist.offer_free_seats(_pick(self.cohort_ids, where), self.clock(),
                                         policy=self.policy)
        db.session.commit()
        if self.settled:
            assert made == []

    @rule(which=PICK)
    def accept(self, which):
        offer = _pick(self.offers(), which)
        if offer is None:
            return
        enrollment = self.attempt(waitlist.accept_offer, waitlist.offer_token(offer.id),
                                  self.clock(), self.policy)
        if enrollment is not None:
            live_elsewhere = self.rows(sa.select(WaitlistEntry).where(
                WaitlistEntry.client_id == offer.client_id,
                WaitlistEntry.status.in_(("waiting", "offered"))))
            assert live_elsewhere == []

    @rule(which=PICK, keep_place=st.booleans())
    def decline(self, which, keep_place):
        offer = _pick(self.offers(), which)
        if offer is not None:
            self.attempt(waitlist.decline_offer, waitlist.offer_token(offer.id), self.clock(),
                         keep_place=keep_place)

    @rule(which=PICK, status=st.sampled_from(["accepted", "declined", "expired", "withdrawn"]))
    def answer_an_answered_offer_again(self, which, status):
        offer = _pick(self.offers(status), which)
        if offer is None:
            return
        try:
            waitlist.accept_offer(waitlist.offer_token(offer.id), self.clock(), self.policy)
        except DomainError as exc:
            db.session.rollback()
            assert isinstance(exc, OfferAlreadyAnswered) or status == "expired"
        else:
            raise AssertionError(f"a {status} offer was accepted")

    @rule(which=PICK)
    def open_the_link(self, which):
        offer = _pick(self.offers(), which)
        if offer is not None:
            waitlist.view_offer(waitlist.offer_token(offer.id), self.clock())
            db.session.rollback()

    @rule(which=PICK, front=st.booleans())
    def staff_move_up(self, which, front):
        entry = _pick(self.rows(sa.select(WaitlistEntry).where(
            WaitlistEntry.status.in_(("waiting", "offered"))).order_by(WaitlistEntry.id)), which)
        if entry is not None:
            self.attempt(waitlist.move_up, entry.id, "Needs to start soon", self.clock(),
                         priority=None if front else entry.priority + 1)

    @rule(which=PICK)
    def staff_remove(self, which):
        entry = _pick(self.rows(sa.select(WaitlistEntry).where(
            WaitlistEntry.status.in_(("waiting", "offered"))).order_by(WaitlistEntry.id)), which)
        if entry is not None:
            self.attempt(waitlist.remove_entry, entry.id, "Asked to come off the list",
                         self.clock())

    @rule(hours=st.integers(0, 40), jobs=st.booleans())
    def time_passes(self, hours, jobs):
        """The clock moves on; the background jobs may or may not have run since."""
        self.clock.advance(hours=hours)
        if jobs:
            waitlist.expire_offers(self.clock(), self.policy)
            enrollments.release_expired_holds(self.clock())
        self.settled = jobs or (self.settled and hours == 0)

    # --- invariants --------------------------------------------------------------
    def seat_counts(self) -> dict[int, tuple[int, int]]:
        now = self.clock()
        db.session.expire_all()
        out = {}
        for cohort_id in self.cohort_ids:
            capacity = db.session.scalar(sa.select(Cohort.capacity).where(Cohort.id == cohort_id))
            seated = db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment).where(
                Enrollment.cohort_id == cohort_id,
                sa.or_(Enrollment.status == "active",
                       sa.and_(Enrollment.status == "paused", Enrollment.hold_until > now))))
            offered = db.session.scalar(sa.select(sa.func.count()).select_from(SeatOffer).where(
                SeatOffer.cohort_id == cohort_id, SeatOffer.status == "open"))
            out[cohort_id] = (capacity, seated + offered)
        db.session.rollback()
        return out

    @invariant()
    def seats_held_never_exceed_capacity(self):
        for cohort_id, (capacity, held) in self.seat_counts().items():
            assert held <= capacity, f"cohort {cohort_id}: {held} held, capacity {capacity}"

    @invariant()
    def a_client_holds_at_most_one_open_offer_per_cohort(self):
        pairs = [(o.client_id, o.cohort_id) for o in self.offers()]
        assert len(pairs) == len(set(pairs))

    @invariant()
    def each_open_offer_matches_one_offered_place_in_line(self):
        open_entries = sorted(o.waitlist_entry_id for o in self.offers())
        offered = sorted(e.id for e in self.rows(
            sa.select(WaitlistEntry).where(WaitlistEntry.status == "offered")))
        assert open_entries == offered

    @invariant()
    def no_one_answers_an_offer_after_its_time(self):
        for offer in self.offers("accepted"):
            assert offer.responded_at < offer.expires_at

    @invariant()
    def a_person_has_at_most_one_live_enrollment_per_group(self):
        pairs = [(e.client_id, e.cohort_id) for e in self.enrollments_in("active", "paused")]
        assert len(pairs) == len(set(pairs))

    @invariant()
    def credit_never_decreases(self):
        for enrollment in self.enrollments_in("active", "paused", "completed", "withdrawn",
                                              "moved"):
            seen = self.credit_seen.get(enrollment.id, 0)
            assert enrollment.credited_sessions >= seen, f"enrollment {enrollment.id}"
            self.credit_seen[enrollment.id] = enrollment.credited_sessions

    @precondition(lambda self: self.settled)
    @invariant()
    def no_seat_stays_free_while_someone_eligible_waits(self):
        counts = self.seat_counts()
        for cohort_id, (capacity, held) in counts.items():
            if held >= capacity:
                continue
            # people who said "not this time" skip seats until that session has begun
            waiting = self.rows(sa.select(WaitlistEntry.client_id).where(
                WaitlistEntry.cohort_id == cohort_id, WaitlistEntry.status == "waiting",
                WaitlistEntry.not_before.is_(None)))
            active = set(self.rows(sa.select(Enrollment.client_id).where(
                Enrollment.cohort_id == cohort_id, Enrollment.status == "active")))
            assert set(waiting) <= active, (
                f"cohort {cohort_id} has {capacity - held} free seats and people waiting")


def test_seat_invariants_hold_through_any_sequence_of_changes(app, clock, policy):
    start = clock()
    run_state_machine_as_test(
        lambda: SeatMachine(clock, policy, start),
        settings=settings(max_examples=20, stateful_step_count=30, deadline=None,
                          database=None,
                          suppress_health_check=[HealthCheck.too_slow,
                                                 HealthCheck.filter_too_much]))
