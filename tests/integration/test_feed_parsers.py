"""Independent parsers read our bytes and agree on every start and end instant:
Home Assistant's `ical`, vobject, and ical.js (Thunderbird's) through node."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from scheduler.models import GroupSession
from scheduler.services import cohorts, enrollments
from tests import feed_parsers
from tests.feed_fixtures import check_in, client_bytes, expected_instants, staff_bytes

EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _client_in(build, *groups, joined_on=None):
    client = build.client(show_location=True, alarm_minutes=60)
    for group in groups:
        build.enroll(client, group, joined_on=joined_on)
    return "client", client.id


def spring_forward(build, clock, db):
    clock.set(datetime(2026, 2, 23, 15, 0, tzinfo=UTC))
    evening = build.cohort(weekdays=EVERY_DAY, starts_on=date(2026, 3, 1))
    # 01:00 EST on the change day runs three real hours, ending 05:00 EDT
    overnight = build.cohort(weekdays=["sun"], start_time=time(1, 0),
                             starts_on=date(2026, 3, 1))
    return _client_in(build, evening, overnight, joined_on=date(2026, 3, 1))


def fall_back(build, clock, db):
    clock.set(datetime(2026, 10, 20, 15, 0, tzinfo=UTC))
    evening = build.cohort(weekdays=EVERY_DAY, starts_on=date(2026, 10, 25))
    # 00:30 EDT + 2 h ends at the second 01:30 of the night (01:30 EST)
    overnight = build.cohort(weekdays=["sun"], start_time=time(0, 30), minutes=120,
                             starts_on=date(2026, 10, 25))
    return _client_in(build, evening, overnight, joined_on=date(2026, 10, 25))


def holiday_closure(build, clock, db):
    group = build.cohort()
    subject = _client_in(build, group, joined_on=date(2026, 11, 2))
    cohorts.create_closure(None, date(2026, 12, 24), "Holiday", clock(), build.policy)
    return subject


def moved_session(build, clock, db):
    group = build.cohort()
    subject = _client_in(build, group)
    row = db.session.scalars(sa.select(GroupSession).where(
        GroupSession.occurs_on == date(2026, 12, 10))).one()
    clock.advance(minutes=1)
    cohorts.change_session(row.id, clock(), starts_at=row.starts_at - timedelta(days=1, hours=2),
                           minutes=90)
    return subject


def pattern_change(build, clock, db):
    group = build.cohort()
    subject = _client_in(build, group, joined_on=date(2026, 11, 2))
    clock.advance(minutes=1)
    cohorts.update_cohort(group.id, {"weekdays": ["tue", "fri"], "start_time": time(9, 15)},
                          clock(), build.policy)
    return subject


def switching_cohorts(build, clock, db):
    old, new = build.cohort(), build.cohort(weekdays=["tue", "sat"], start_time=time(10, 0))
    client = build.client()
    first = build.enroll(client, old, joined_on=date(2026, 11, 2))
    clock.advance(days=2)
    enrollments.change_status(first.id, "moved", clock(), build.policy)
    build.enroll(client, new)
    check_in(client, datetime(2026, 12, 4, 20, 0, tzinfo=UTC), clock(), mode="video")
    return "client", client.id


def empty_feed(build, clock, db):
    return "client", build.client().id


def staff_location_feed(build, clock, db):
    location = build.location("Needham", address="9 Elm St, Needham, MA")
    group = build.cohort(location, room="Room 2")
    client = build.client("Robin Example")
    build.enroll(client, group)
    check_in(client, datetime(2026, 12, 4, 20, 0, tzinfo=UTC), clock(), mode="in_person",
             location_id=location.id)
    return "location", location.id


SCENARIOS = [spring_forward, fall_back, holiday_closure, moved_session, pattern_change,
             switching_cohorts, empty_feed, staff_location_feed]
PARSERS = {"ical": feed_parsers.by_ical, "vobject": feed_parsers.by_vobject,
           "icaljs": feed_parsers.by_icaljs}


@pytest.mark.parametrize("parser", list(PARSERS))
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__)
def test_parsers_agree_on_every_start_and_end(scenario, parser, build, clock, db, app):
    if parser == "icaljs":
        feed_parsers.require_icaljs()
    kind, subject = scenario(build, clock, db)
    data = (client_bytes(subject, app) if kind == "client" else staff_bytes(kind, subject, app))
    expected = expected_instants(kind, subject, app)
    assert feed_parsers.structural_problems(data) == []
    assert PARSERS[parser](data) == expected
    if scenario is not empty_feed:
        assert expected


def test_the_dst_fixtures_hold_events_on_both_sides_of_each_change(build, clock, db, app):
    for scenario, change in ((spring_forward, datetime(2026, 3, 8, 7, 0, tzinfo=UTC)),
                             (fall_back, datetime(2026, 11, 1, 6, 0, tzinfo=UTC))):
        kind, subject = scenario(build, clock, db)
        starts = [v[0] for v in expected_instants(kind, subject, app).values()]
        assert min(starts) < change < max(starts)


def test_ical_js_reads_the_feeds_own_timezone(build, clock, db, app):
    feed_parsers.require_icaljs()
    _, subject = spring_forward(build, clock, db)
    parsed = feed_parsers.by_icaljs_full(client_bytes(subject, app))
    assert {e["start_zone"] for e in parsed["events"]} == {"America/New_York"}
