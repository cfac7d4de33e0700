"""Seat offers under real concurrency: threads with their own database connections."""

import threading
from collections.abc import Callable
from datetime import timedelta
from functools import partial

import sqlalchemy as sa

from scheduler.errors import DomainError, NoSeatLeft, OfferExpired
from scheduler.models import Enrollment, SeatOffer
from scheduler.services import enrollments, waitlist
from tests.waitlist_support import full_group_with_line, open_offers, seat_holders, token_for


def race(app, db, attempts: list[Callable[[], str]]) -> list[str]:
    """Run every attempt at once, each in its own app context (own connection)."""
    from scheduler.models import db as shared

    db.session.rollback()  # end this thread's read transaction before the race
    outcomes: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(attempts))

    def run(attempt: Callable[[], str]) -> None:
        with app.app_context():
            barrier.wait()
            try:
                result = attempt()
            except DomainError as exc:
                shared.session.rollback()
                result = type(exc).__name__
            finally:
                shared.session.remove()
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=run, args=(a,)) for a in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.session.expire_all()
    return outcomes


def active_in(db, cohort_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment).where(
        Enrollment.cohort_id == cohort_id, Enrollment.status == "active"))


def test_fifty_accepts_and_enrolls_for_six_seats_seat_exactly_six(app, db, build, clock):
    cohort = build.cohort(capacity=10)
    for _ in range(4):
        build.enroll(build.client(), cohort)
    for n in range(3):  # three in line: each is offered one of the six free seats
        waitlist.add_to_waitlist(build.client(email=f"w{n}@example.org").id, cohort.id, clock())
    tokens = [token_for(o) for o in open_offers(cohort.id)]
    walk_ins = [build.client().id for _ in range(47)]
    now, policy, cohort_id = clock(), build.policy, cohort.id

    def accept(token):
        return lambda: (waitlist.accept_offer(token, now, policy), "accepted")[1]

    def enroll(client_id):
        return lambda: (enrollments.enroll(client_id, cohort_id, now, policy), "enrolled")[1]

    outcomes = race(app, db, [accept(t) for t in tokens] + [enroll(c) for c in walk_ins])
    assert outcomes.count("accepted") == 3
    assert outcomes.count("enrolled") == 3
    assert outcomes.count(NoSeatLeft.__name__) == 44
    assert active_in(db, cohort_id) == 10
    assert open_offers(cohort_id) == []


def _cancel(enrollment_id, now, policy):
    enrollments.change_status(enrollment_id, "withdrawn", now, policy)
    return "withdrawn"


def _enroll(client_id, cohort_id, now, policy):
    enrollments.enroll(client_id, cohort_id, now, policy)
    return "enrolled"


def _accept(token, now, policy):
    waitlist.accept_offer(token, now, policy)
    return "accepted"


def _expire(now):
    waitlist.expire_offers(now)
    return "job ran"


def test_a_cancellation_racing_a_walk_in_leaves_the_seat_with_the_head_of_the_line(
        app, db, build, clock):
    for _ in range(3):
        cohort, seated, line = full_group_with_line(build, capacity=3, waiting=2)
        walk_in = build.client().id
        now, policy = clock(), build.policy
        outcomes = race(app, db, [partial(_cancel, seated[0].id, now, policy),
                                  partial(_enroll, walk_in, cohort.id, now, policy)])
        assert sorted(outcomes) == ["NoSeatLeft", "withdrawn"]
        assert [o.waitlist_entry_id for o in open_offers(cohort.id)] == [line[0].id]
        assert seat_holders(cohort.id, now) == 3


def test_an_accept_at_the_last_instant_racing_the_expiry_job_has_one_outcome(
        app, db, build, clock):
    for _ in range(4):
        cohort, seated, line = full_group_with_line(build, capacity=2, waiting=2)
        enrollments.change_status(seated[0].id, "withdrawn", clock(), build.policy)
        [offer] = open_offers(cohort.id)
        expires_at = offer.expires_at
        last_instant = expires_at - timedelta(milliseconds=1)
        outcomes = sorted(race(app, db, [
            partial(_accept, token_for(offer), last_instant, build.policy),
            partial(_expire, expires_at)]))
        status = db.session.get(SeatOffer, offer.id).status
        followers = [o.waitlist_entry_id for o in open_offers(cohort.id)]
        if status == "accepted":
            assert outcomes == ["accepted", "job ran"]
            assert followers == []
        else:
            assert status == "expired"
            assert outcomes == [OfferExpired.__name__, "job ran"]
            assert followers == [line[1].id]
        assert seat_holders(cohort.id, expires_at) == 2
        clock.advance(days=1)


def test_two_expiry_runners_at_once_expire_each_offer_once(app, db, build, clock):
    groups = [full_group_with_line(build, capacity=1, waiting=2) for _ in range(4)]
    for _, seated, _ in groups:
        enrollments.change_status(seated[0].id, "withdrawn", clock(), build.policy)
    later = clock() + timedelta(days=2)
    outcomes = race(app, db, [lambda: waitlist.expire_offers(later)] * 2)
    assert sum(outcomes) == 4
    for cohort, _, line in groups:
        assert [o.waitlist_entry_id for o in open_offers(cohort.id)] == [line[1].id]


def test_one_client_accepting_two_offers_at_once_keeps_exactly_one_seat(app, db, build, clock):
    for _ in range(3):
        first, seated_a, _ = full_group_with_line(build, capacity=1, waiting=0)
        second, seated_b, _ = full_group_with_line(build, capacity=1, waiting=0)
        both = build.client(email="both@example.org").id
        for cohort in (first, second):
            waitlist.add_to_waitlist(both, cohort.id, clock())
        behind = waitlist.add_to_waitlist(build.client().id, second.id, clock())
        waitlist.add_to_waitlist(behind.client_id, first.id, clock())
        enrollments.change_status(seated_a[0].id, "withdrawn", clock(), build.policy)
        enrollments.change_status(seated_b[0].id, "withdrawn", clock(), build.policy)
        tokens = [token_for(open_offers(c.id)[0]) for c in (first, second)]
        outcomes = race(app, db, [partial(_accept, t, clock(), build.policy) for t in tokens])
        assert sorted(outcomes) == ["OfferAlreadyAnswered", "accepted"]
        seats = db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment).where(
            Enrollment.client_id == both, Enrollment.status == "active"))
        assert seats == 1
        # the seat the client did not keep went to the person behind them
        passed = [o.client_id for c in (first, second) for o in open_offers(c.id)]
        assert passed == [behind.client_id]
