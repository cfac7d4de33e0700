"""Seats: capacity holds under concurrency, pauses hold a seat, completion frees one."""

import threading
from datetime import date, time

import pytest
import sqlalchemy as sa

from scheduler.errors import (
    AlreadyEnrolled,
    CapacityBelowSeatsTaken,
    CohortNotOpen,
    InvalidTransition,
    NoSeatLeft,
)
from scheduler.models import Enrollment, GroupSession
from scheduler.services import cohorts, console, enrollments, notices
from scheduler.services.seats import seats_taken


def test_enrolling_beyond_capacity_is_refused(build):
    cohort = build.full_cohort(capacity=2)
    with pytest.raises(NoSeatLeft):
        build.enroll(build.client(), cohort)


def test_enrolling_twice_in_one_cohort_is_refused(build):
    cohort, client = build.cohort(), build.client()
    build.enroll(client, cohort)
    with pytest.raises(AlreadyEnrolled):
        build.enroll(client, cohort)


def test_a_paused_enrollment_holds_its_seat_until_the_hold_ends(build, clock):
    cohort = build.cohort(capacity=1)
    first = build.enroll(build.client(), cohort)
    enrollments.change_status(first.id, "paused", clock(), build.policy)
    with pytest.raises(NoSeatLeft):
        build.enroll(build.client(), cohort)
    clock.advance(days=build.policy.pause_hold_days, seconds=1)
    assert seats_taken(cohort.id, clock()) == 0
    build.enroll(build.client(), cohort)


def test_a_paused_client_comes_back_into_their_held_seat(build, clock):
    cohort = build.cohort(capacity=1)
    first = build.enroll(build.client(), cohort)
    enrollments.change_status(first.id, "paused", clock(), build.policy)
    back = enrollments.change_status(first.id, "active", clock(), build.policy)
    assert back.status == "active" and back.hold_until is None


def test_withdrawing_frees_the_seat_and_records_the_day(build, clock):
    cohort = build.cohort(capacity=1)
    first = build.enroll(build.client(), cohort)
    left = enrollments.change_status(first.id, "withdrawn", clock(), build.policy)
    assert left.left_on == date(2026, 11, 30)
    build.enroll(build.client(), cohort)


def test_a_withdrawn_enrollment_cannot_become_active_again(build, clock):
    first = build.enroll(build.client(), build.cohort())
    enrollments.change_status(first.id, "withdrawn", clock(), build.policy)
    with pytest.raises(InvalidTransition):
        enrollments.change_status(first.id, "active", clock(), build.policy)


def test_capacity_cannot_drop_below_the_seats_taken(build, clock):
    cohort = build.full_cohort(capacity=3)
    with pytest.raises(CapacityBelowSeatsTaken):
        cohorts.update_cohort(cohort.id, {"capacity": 2}, clock(), build.policy)


def test_a_closed_cohort_takes_no_one_after_its_third_session(build):
    cohort = build.cohort(mode="closed", starts_on=date(2026, 11, 2))
    with pytest.raises(CohortNotOpen):
        build.enroll(build.client(), cohort)


def test_enough_attended_sessions_complete_the_enrollment_and_free_the_seat(db, build, clock):
    track = build.track(sessions_to_complete=2)
    cohort = build.cohort(track=track, capacity=1, starts_on=date(2026, 11, 2))
    client = build.client()
    enrollment = build.enroll(client, cohort, joined_on=date(2026, 11, 2))
    first_two = list(db.session.scalars(sa.select(GroupSession).where(
        GroupSession.cohort_id == cohort.id).order_by(GroupSession.starts_at).limit(2)))
    for row in first_two:
        enrollments.record_attendance(row.id, [{"client_id": client.id, "status": "present"}],
                                      None, clock(), build.policy)
    assert db.session.get(Enrollment, enrollment.id).status == "completed"
    build.enroll(build.client(), cohort)


def test_thirty_parallel_enrollments_for_five_seats_leave_exactly_five(app, db, build, clock):
    cohort_id = build.cohort(capacity=5).id
    people = [build.client().id for _ in range(30)]
    policy = build.policy
    db.session.rollback()  # end this thread's read transaction before the race
    outcomes: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(people))

    def attempt(client_id: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                enrollments.enroll(client_id, cohort_id, clock(), policy)
                result = "enrolled"
            except NoSeatLeft:
                result = "full"
            finally:
                from scheduler.models import db as local_db

                local_db.session.remove()
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(cid,)) for cid in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes).count("enrolled") == 5
    assert outcomes.count("full") == 25
    active = db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment).where(
        Enrollment.cohort_id == cohort_id, Enrollment.status == "active"))
    assert active == 5


def test_a_person_seated_after_the_days_session_began_starts_at_the_next_one(
        db, build, clock):
    # Monday 10:00 in Boston; the morning group met at 9:30 and is still in the room
    morning = build.cohort(weekdays=["mon", "wed"], start_time=time(9, 30))
    person = build.client(email="late@example.org")
    enrollment = build.enroll(person, morning)
    assert enrollment.joined_on == date(2026, 12, 2)
    first = notices.first_session(morning.id, clock(), enrollment.joined_on)
    assert first.occurs_on == date(2026, 12, 2)
    [boston] = console.today(clock()).days
    [session_today] = boston.sessions
    assert person.id not in {line.client.id for line in session_today.lines}


def test_a_person_seated_before_the_days_session_starts_tonight(db, build, clock):
    evening = build.cohort(weekdays=["mon", "wed"], start_time=time(18, 0))
    enrollment = build.enroll(build.client(email="early@example.org"), evening)
    assert enrollment.joined_on == date(2026, 11, 30)
    [boston] = console.today(clock()).days
    [session_tonight] = boston.sessions
    assert enrollment.client_id in {line.client.id for line in session_tonight.lines}
