"""Time back on Returners and Director, the console's badge of requests needing a
check-in, and the sessions each person on a roster has attended are worked out once
and reused while nothing they count has changed (a stamp rewritten in the same
transaction as any such change), so pages no longer read the last 90 days of
requests, every open request, or every roster's attendance on every visit; and never
show a figure older than the change just made."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import sqlalchemy as sa

from scheduler import timeback
from scheduler.models import Attendance, GroupSession, Location, ReturnRequest, db
from scheduler.services import console, enrollments, outreach, reports, returns
from tests.returns_support import ask_to_come_back
from tests.statements import counted


def statements_in(work) -> int:
    """Statements ``work`` sends in a transaction of its own (as a request's is)."""
    db.session.rollback()
    with counted() as seen:
        work()
    return len(seen)


def test_time_back_read_twice_with_nothing_changed_asks_one_question_the_second_time(
        build, clock):
    ask_to_come_back(build.client("First", email="first@example.org"), clock())
    first = reports.time_back(clock())
    assert statements_in(lambda: reports.time_back(clock())) == 1
    again = reports.time_back(clock())
    assert (again.requests, again.median_days, again.still_waiting) == (
        first.requests, first.median_days, first.still_waiting) == (1, 0.0, 1)


def test_time_back_by_location_track_and_option_is_grouped_once_while_reused(
        build, clock, monkeypatch):
    ask_to_come_back(build.client("First", email="first@example.org"), clock())
    grouped = []
    real = timeback.grouped
    monkeypatch.setattr(timeback, "grouped",
                        lambda *args, **kw: grouped.append(1) or real(*args, **kw))
    first = reports.time_back(clock())
    figures = (first.by_location, first.by_track, first.by_option)
    again = reports.time_back(clock())
    assert (again.by_location, again.by_track, again.by_option) == figures
    assert len(grouped) == 3  # once each, though read twice
    assert [g["requests"] for g in figures[0]] == [1]


def test_a_change_made_in_the_same_instant_is_counted_at_once(build, clock, policy):
    cohort = build.cohort()
    asked = ask_to_come_back(build.client("Asked", email="asked@example.org"), clock())
    assert reports.time_back(clock()).median_days_to_placed is None
    returns.place(asked.id, f"join:{cohort.id}", None, clock(), policy)
    assert reports.time_back(clock()).median_days_to_placed == 0.0
    ask_to_come_back(build.client("Second", email="second@example.org"), clock())
    figures = reports.time_back(clock())
    assert (figures.requests, figures.still_waiting) == (2, 2)


def test_a_renamed_site_is_named_at_once_in_time_back_by_location(build, clock, policy):
    cohort = build.cohort()
    asked = ask_to_come_back(build.client("Asked", email="asked@example.org"), clock())
    returns.place(asked.id, f"join:{cohort.id}", None, clock(), policy)
    before = {g["name"] for g in reports.time_back(clock()).by_location}
    site = db.session.get(Location, cohort.location_id)
    site.name = "Needham Heights"
    db.session.commit()
    after = {g["name"] for g in reports.time_back(clock()).by_location}
    assert "Needham Heights" not in before and "Needham Heights" in after


def test_waits_keep_growing_while_nothing_changes(build, clock):
    ask_to_come_back(build.client("Waiting", email="waiting@example.org"), clock())
    assert reports.time_back(clock()).median_days == 0.0
    clock.advance(days=2)
    assert reports.time_back(clock()).median_days == 2.0


def test_a_change_rolled_back_leaves_the_figures_already_worked_out(build, clock):
    asked = ask_to_come_back(build.client("Kept", email="kept@example.org"), clock())
    reports.time_back(clock())
    db.session.get(ReturnRequest, asked.id).status = "closed"
    db.session.flush()
    db.session.rollback()
    assert statements_in(lambda: reports.time_back(clock())) == 1
    assert reports.time_back(clock()).still_waiting == 1


def test_the_badge_counts_again_as_soon_as_a_check_in_is_booked_or_cancelled(
        build, clock):
    asked = ask_to_come_back(build.client("Asked", email="asked@example.org"), clock())
    assert outreach.needing_reply() == 1
    db.session.rollback()  # a new request's transaction
    with counted() as seen:
        assert outreach.needing_reply() == 1
    assert len(seen) == 1 and "report_stamp" in seen[0]  # the stamp, not the count
    returns.book_check_in(asked.id, clock().replace(hour=20), "phone", clock())
    assert outreach.needing_reply() == 0
    returns.cancel_check_in(asked.id, clock())
    assert outreach.needing_reply() == 1


def _past_sessions(cohort, clock) -> list[int]:
    return list(db.session.scalars(sa.select(GroupSession.id).where(
        GroupSession.cohort_id == cohort.id, GroupSession.ends_at <= clock())
        .order_by(GroupSession.starts_at)))


def _done(cohort, clock) -> dict[str, int]:
    return {line.client.name: line.done
            for line in console.roster_lines([cohort.id], clock())[cohort.id]}


def test_roster_progress_read_twice_with_nothing_changed_does_not_count_attendance_again(
        build, clock, policy):
    cohort = build.cohort()
    ana = build.client("Ana")
    build.enroll(ana, cohort, joined_on=date(2026, 11, 2))
    first, second = _past_sessions(cohort, clock)[:2]
    enrollments.record_attendance(first, [{"client_id": ana.id, "status": "present"}],
                                  None, clock(), policy)
    assert _done(cohort, clock) == {"Ana": 1}
    db.session.rollback()  # a new request's transaction
    with counted() as seen:
        assert _done(cohort, clock) == {"Ana": 1}
    assert not [s for s in seen if "attendance" in s], seen
    # marked just now: the next roster counts it
    enrollments.record_attendance(second, [{"client_id": ana.id, "status": "late"}],
                                  None, clock(), policy)
    assert _done(cohort, clock) == {"Ana": 2}


def test_a_person_seated_or_a_mark_changed_just_now_shows_on_the_roster_at_once(
        build, clock, policy):
    cohort = build.cohort()
    ana, ben = build.client("Ana"), build.client("Ben")
    build.enroll(ana, cohort, joined_on=date(2026, 11, 2))
    first = _past_sessions(cohort, clock)[0]
    enrollments.record_attendance(first, [{"client_id": ana.id, "status": "present"}],
                                  None, clock(), policy)
    assert _done(cohort, clock) == {"Ana": 1}
    build.enroll(ben, cohort, credited_sessions=3)
    assert _done(cohort, clock) == {"Ana": 1, "Ben": 3}
    enrollments.record_attendance(first, [{"client_id": ana.id, "status": "absent"}],
                                  None, clock(), policy)
    assert _done(cohort, clock) == {"Ana": 0, "Ben": 3}


def test_a_rolled_back_mark_leaves_the_roster_as_it_was(build, clock, policy):
    cohort = build.cohort()
    ana = build.client("Ana")
    build.enroll(ana, cohort, joined_on=date(2026, 11, 2))
    first = _past_sessions(cohort, clock)[0]
    assert _done(cohort, clock) == {"Ana": 0}
    db.session.add(Attendance(group_session_id=first, client_id=ana.id, status="present"))
    db.session.flush()
    db.session.rollback()
    assert _done(cohort, clock) == {"Ana": 0}



def _long_waits(clock, policy) -> int:
    return outreach.long_wait_count(clock(), policy)


def test_long_waits_read_twice_with_nothing_changed_do_not_read_the_requests_again(
        build, clock, policy):
    ask_to_come_back(build.client("Asked", email="asked@example.org"),
                     clock() - timedelta(days=policy.waiting_alert_days + 2))
    assert _long_waits(clock, policy) == 1
    db.session.rollback()  # a new request's transaction
    with counted() as seen:
        assert _long_waits(clock, policy) == 1
    assert not [s for s in seen if "return_request" in s], seen


def test_someone_seated_or_asking_just_now_changes_the_long_waits_at_once(
        build, clock, policy):
    long_ago = clock() - timedelta(days=policy.waiting_alert_days + 2)
    asked = ask_to_come_back(build.client("Asked", email="asked@example.org"), long_ago)
    assert _long_waits(clock, policy) == 1
    ask_to_come_back(build.client("Also", email="also@example.org"), long_ago)
    assert _long_waits(clock, policy) == 2
    build.enroll(db.session.get(ReturnRequest, asked.id).client, build.cohort())
    assert _long_waits(clock, policy) == 1  # seated in a group: no longer waiting


def test_long_waits_follow_the_alert_age_of_the_policy_asked_with(build, clock, policy):
    ask_to_come_back(build.client("Asked", email="asked@example.org"),
                     clock() - timedelta(days=policy.waiting_alert_days + 2))
    assert _long_waits(clock, policy) == 1
    later = replace(policy, waiting_alert_days=policy.waiting_alert_days + 5)
    assert _long_waits(clock, later) == 0


def test_a_wait_that_crosses_the_alert_age_is_counted_once_it_has(build, clock, policy):
    ask_to_come_back(build.client("Asked", email="asked@example.org"),
                     clock() - timedelta(days=policy.waiting_alert_days, minutes=-1))
    assert _long_waits(clock, policy) == 0
    assert outreach.long_wait_count(clock() + timedelta(days=1), policy) == 1
