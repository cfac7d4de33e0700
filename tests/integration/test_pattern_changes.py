"""A change to a running group's pattern reshapes its sessions from the later of today
and the change's effective date, never before: no session before today is created,
moved or removed, by the change or by the hourly job that follows it (issue 14)."""

from __future__ import annotations

from datetime import date, time

import pytest
import sqlalchemy as sa

from scheduler.models import GroupSession
from scheduler.services import cohorts, enrollments

TODAY = date(2026, 11, 30)  # the clock: Monday 10:00 in Boston


def rows(db, cohort_id):
    return {r.occurs_on: (r.id, r.starts_at, r.ends_at, r.status, r.revision)
            for r in db.session.scalars(sa.select(GroupSession).where(
                GroupSession.cohort_id == cohort_id))}


def before_today(found):
    return {day: row for day, row in found.items() if day < TODAY}


CHANGES = {
    "weekdays": {"weekdays": ["tue", "thu"]},
    "start time": {"start_time": time(19, 0)},
    "length": {"minutes": 120},
    "capacity": {"capacity": 14},
    "an earlier start date": {"starts_on": date(2026, 10, 5)},
    "a later start date": {"starts_on": date(2026, 12, 7)},
    "an end date": {"ends_on": date(2026, 12, 15)},
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_pattern_change_never_creates_moves_or_removes_a_session_before_today(
        app, db, build, clock, policy, change):
    group = build.cohort(starts_on=date(2026, 11, 2))  # Mon, Wed, Thu 18:00 since Nov 2
    person = build.client()
    build.enroll(person, group, joined_on=date(2026, 11, 2))
    past_session = min(day for day in rows(db, group.id) if day < TODAY)
    enrollments.record_attendance(rows(db, group.id)[past_session][0],
                                  [{"client_id": person.id, "status": "present"}], None,
                                  clock(), policy)
    before = rows(db, group.id)
    cohorts.update_cohort(group.id, dict(CHANGES[change]), clock(), policy)
    cohorts.extend_horizon(clock(), policy)  # the hourly job, after the change
    after = rows(db, group.id)
    assert before_today(after) == before_today(before)


def test_new_weekdays_take_effect_from_today_and_the_old_days_ahead_are_cancelled(
        app, db, build, clock, policy):
    group = build.cohort(starts_on=date(2026, 11, 2))
    cohorts.update_cohort(group.id, {"weekdays": ["tue", "thu"]}, clock(), policy)
    after = rows(db, group.id)
    assert after[date(2026, 12, 1)][3] == "scheduled"          # the first Tuesday ahead
    assert after[date(2026, 12, 2)][3] == "cancelled"          # Wednesday is no longer a day
    assert date(2026, 11, 24) not in after                     # no Tuesday before today


def test_a_change_with_a_later_effective_date_leaves_the_sessions_before_it_alone(
        app, db, build, clock, policy, api):
    group = build.cohort(starts_on=date(2026, 11, 2))
    before = rows(db, group.id)
    response = api.patch(f"/api/v1/cohorts/{group.id}",
                         json={"weekdays": ["tue", "thu"], "effective_from": "2026-12-14"})
    assert response.status_code == 200, response.get_json()
    cohorts.extend_horizon(clock(), policy)
    after = rows(db, group.id)
    kept = {day: row for day, row in before.items() if day < date(2026, 12, 14)}
    assert {day: after[day] for day in kept} == kept
    assert date(2026, 12, 8) not in after                       # no Tuesday before it
    assert after[date(2026, 12, 15)][3] == "scheduled"          # Tuesdays from then on
    assert after[date(2026, 12, 14)][3] == "cancelled"          # Mondays end then
