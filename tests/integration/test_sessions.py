"""Group sessions follow their cohort's pattern, closures and horizon."""

from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from scheduler.models import Attendance, GroupSession
from scheduler.services import cohorts, enrollments
from scheduler.timeutil import to_local


def _sessions(db, cohort):
    return list(db.session.scalars(sa.select(GroupSession).where(
        GroupSession.cohort_id == cohort.id).order_by(GroupSession.starts_at)))


def test_a_running_cohort_gets_sessions_from_its_start_to_sixteen_weeks_ahead(db, build):
    cohort = build.cohort(starts_on=date(2026, 11, 2))
    rows = _sessions(db, cohort)
    assert rows[0].occurs_on == date(2026, 11, 2)
    assert rows[-1].occurs_on <= date(2026, 11, 30) + timedelta(weeks=16)
    assert rows[-1].occurs_on >= date(2026, 11, 30) + timedelta(weeks=16) - timedelta(days=7)
    assert {to_local(r.starts_at).time() for r in rows} == {time(18, 0)}


def test_sessions_keep_local_time_across_spring_and_autumn_changes(db, build, clock):
    clock.set(datetime(2026, 2, 20, 12, tzinfo=UTC))
    cohort = build.cohort(starts_on=date(2026, 3, 2), ends_on=date(2026, 11, 30))
    clock.set(datetime(2026, 10, 1, 12, tzinfo=UTC))
    cohorts.extend_horizon(clock(), build.policy)
    by_day = {r.occurs_on: r for r in _sessions(db, cohort)}
    assert by_day[date(2026, 3, 5)].starts_at == datetime(2026, 3, 5, 23, tzinfo=UTC)
    assert by_day[date(2026, 3, 9)].starts_at == datetime(2026, 3, 9, 22, tzinfo=UTC)
    assert by_day[date(2026, 10, 29)].starts_at == datetime(2026, 10, 29, 22, tzinfo=UTC)
    assert by_day[date(2026, 11, 2)].starts_at == datetime(2026, 11, 2, 23, tzinfo=UTC)


def test_a_closure_cancels_its_sessions_and_keeps_them_with_the_reason(db, build, clock):
    boston = build.location("Boston")
    cohort = build.cohort(location=boston)
    other_site = build.cohort()
    _, cancelled = cohorts.create_closure(boston.id, date(2026, 12, 24), "Holiday", clock(),
                                          build.policy)
    rows = {r.occurs_on: r for r in _sessions(db, cohort)}
    assert [s.id for s in cancelled] == [rows[date(2026, 12, 24)].id]
    assert rows[date(2026, 12, 24)].status == "cancelled"
    assert rows[date(2026, 12, 24)].cancel_reason == "Holiday"
    assert rows[date(2026, 12, 24)].revision == 1
    other = {r.occurs_on: r for r in _sessions(db, other_site)}
    assert other[date(2026, 12, 24)].status == "scheduled"


def test_a_closure_for_every_location_reaches_every_cohort(db, build, clock):
    first, second = build.cohort(), build.cohort()
    cohorts.create_closure(None, date(2026, 12, 24), "Holiday", clock(), build.policy)
    for cohort in (first, second):
        day = {r.occurs_on: r for r in _sessions(db, cohort)}[date(2026, 12, 24)]
        assert day.status == "cancelled"


def test_a_pattern_change_reshapes_future_sessions_and_leaves_the_past_and_its_attendance(
        db, build, clock):
    cohort = build.cohort(starts_on=date(2026, 11, 2))
    client = build.client()
    build.enroll(client, cohort, joined_on=date(2026, 11, 2))
    past = _sessions(db, cohort)[0]
    enrollments.record_attendance(past.id, [{"client_id": client.id, "status": "present"}],
                                  None, clock(), build.policy)
    past_before = (past.starts_at, past.revision)
    cohorts.update_cohort(cohort.id, {"start_time": time(18, 30)}, clock(), build.policy)
    db.session.expire_all()
    rows = _sessions(db, cohort)
    for row in rows:
        if row.starts_at <= clock():
            assert to_local(row.starts_at).time() == time(18, 0)
            assert row.revision == 0
        else:
            assert to_local(row.starts_at).time() == time(18, 30)
            assert row.revision == 1
    assert (db.session.get(GroupSession, past.id).starts_at,
            db.session.get(GroupSession, past.id).revision) == past_before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == 1


def test_the_horizon_job_adds_the_next_weeks_as_time_passes(db, build, clock):
    cohort = build.cohort()
    last_before = _sessions(db, cohort)[-1].occurs_on
    clock.advance(weeks=2)
    assert cohorts.extend_horizon(clock(), build.policy) > 0
    assert _sessions(db, cohort)[-1].occurs_on > last_before
    assert cohorts.extend_horizon(clock(), build.policy) == 0


def test_a_forming_cohort_has_no_sessions_until_it_opens(db, build):
    cohort = build.cohort(status="forming", starts_on=None)
    assert _sessions(db, cohort) == []


def test_an_earlier_end_date_cancels_the_sessions_after_it(db, build, clock):
    cohort = build.cohort(starts_on=date(2026, 11, 2))
    cohorts.update_cohort(cohort.id, {"ends_on": date(2026, 12, 10)}, clock(), build.policy)
    after = [r for r in _sessions(db, cohort) if r.occurs_on > date(2026, 12, 10)]
    assert after and {r.status for r in after} == {"cancelled"}
    kept = [r for r in _sessions(db, cohort) if r.occurs_on <= date(2026, 12, 10)]
    assert {r.status for r in kept} == {"scheduled"}


def test_ending_a_cohort_cancels_its_future_sessions_and_keeps_its_past(db, build, clock):
    cohort = build.cohort(starts_on=date(2026, 11, 2))
    cohorts.update_cohort(cohort.id, {"status": "ended"}, clock(), build.policy)
    rows = _sessions(db, cohort)
    assert {r.status for r in rows if r.starts_at > clock()} == {"cancelled"}
    assert {r.status for r in rows if r.starts_at <= clock()} == {"scheduled"}
    assert db.session.get(type(cohort), cohort.id).ends_on == date(2026, 11, 30)


def test_an_ended_cohort_cannot_run_again(build, clock):
    import pytest

    from scheduler.errors import InvalidTransition

    cohort = build.cohort()
    cohorts.update_cohort(cohort.id, {"status": "ended"}, clock(), build.policy)
    with pytest.raises(InvalidTransition):
        cohorts.update_cohort(cohort.id, {"status": "running"}, clock(), build.policy)


def test_opening_a_forming_cohort_creates_its_sessions(db, build, clock):
    cohort = build.cohort(status="forming", starts_on=None)
    cohorts.update_cohort(cohort.id, {"status": "running", "starts_on": date(2026, 12, 7)},
                          clock(), build.policy)
    rows = _sessions(db, cohort)
    assert rows[0].occurs_on == date(2026, 12, 7)
    assert db.session.get(type(cohort), cohort.id).opened_at == clock()


def test_a_session_moved_by_hand_keeps_its_new_time_through_later_pattern_runs(
        db, build, clock):
    cohort = build.cohort()
    target = next(r for r in _sessions(db, cohort) if r.occurs_on == date(2026, 12, 7))
    new_start = datetime(2026, 12, 8, 23, 0, tzinfo=UTC)
    cohorts.change_session(target.id, clock(), starts_at=new_start)
    cohorts.update_cohort(cohort.id, {"start_time": time(17, 0)}, clock(), build.policy)
    moved = db.session.get(GroupSession, target.id)
    assert moved.starts_at == new_start and moved.revision == 1
