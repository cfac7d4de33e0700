"""The CLI in API.md: staff create prints a token last; demo load is idempotent."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from scheduler.models import (
    CheckIn,
    CheckInSlot,
    Client,
    Cohort,
    Enrollment,
    GroupSession,
    Location,
)
from scheduler.security import token_hash


def test_staff_create_prints_a_working_token_as_the_last_line(app, db):
    from scheduler.models import ApiToken

    result = app.test_cli_runner().invoke(args=["staff", "create", "Kim@Staff.test",
                                                "--role", "clinician"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert db.session.scalar(sa.select(ApiToken.id).where(
        ApiToken.token_hash == token_hash(token))) is not None
    response = app.test_client().get("/api/v1/cohorts",
                                     headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_staff_create_refuses_an_unknown_role(app):
    result = app.test_cli_runner().invoke(args=["staff", "create", "a@b.test", "--role", "boss"])
    assert result.exit_code != 0


def test_demo_load_builds_both_sites_and_running_it_twice_changes_nothing(app, db):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo", "load"]).exit_code == 0

    def counts():
        return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(m))
                     for m in (Location, Cohort, Client, Enrollment, GroupSession))

    first = counts()
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    assert counts() == first
    assert first[0] == 2 and 55 <= first[2] <= 65
    statuses = set(db.session.scalars(sa.select(Enrollment.status)))
    assert {"active", "paused"} <= statuses
    cancelled = db.session.scalar(sa.select(sa.func.count()).select_from(GroupSession).where(
        GroupSession.status == "cancelled"))
    assert cancelled > 0


@pytest.mark.parametrize("hour", [7, 22])
def test_the_demos_check_ins_and_times_to_pick_fall_in_office_hours_whenever_it_loads(
        app, db, clock, hour):
    ny = ZoneInfo("America/New_York")
    clock.set(datetime(2026, 12, 4, hour, 30, tzinfo=ny).astimezone(UTC))
    assert app.test_cli_runner().invoke(args=["demo", "load"]).exit_code == 0
    times = [c.at for c in db.session.scalars(sa.select(CheckIn).where(
        CheckIn.status == "booked"))] + list(db.session.scalars(sa.select(
            CheckInSlot.starts_at)))
    assert len(times) >= 9
    for at in times:
        local = at.replace(tzinfo=at.tzinfo or UTC).astimezone(ny)
        assert local.weekday() < 5 and 9 <= local.hour < 17, local
        assert local > clock().astimezone(ny)
