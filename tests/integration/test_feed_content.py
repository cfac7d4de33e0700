"""What each feed holds and says, built from the database."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from calendars.build import uid_for
from scheduler.models import GroupSession
from scheduler.services import cohorts, enrollments
from tests.feed_fixtures import (
    FORBIDDEN_WORDS,
    KEY,
    check_in,
    client_bytes,
    staff_bytes,
)
from tests.feed_parsers import event_blocks, raw_events, structural_problems


def sessions_of(db, cohort):
    return list(db.session.scalars(sa.select(GroupSession).where(
        GroupSession.cohort_id == cohort.id).order_by(GroupSession.starts_at)))


def uid(row) -> str:
    return uid_for(f"group_session:{row.id}", KEY)


def test_a_client_feed_holds_one_event_per_group_session_since_they_joined(build, app, db):
    cohort = build.cohort()
    client = build.client()
    build.enroll(client, cohort, joined_on=date(2026, 11, 9))
    data = client_bytes(client.id, app)
    expected = {uid(s) for s in sessions_of(db, cohort) if s.occurs_on >= date(2026, 11, 9)}
    assert set(raw_events(data)) == expected
    assert structural_problems(data) == []


def test_the_client_feed_window_is_60_days_back_to_six_months_ahead(build, app, db, clock):
    cohort = build.cohort(starts_on=date(2026, 8, 3))
    client = build.client()
    build.enroll(client, cohort, joined_on=date(2026, 8, 3))
    clock.advance(weeks=14)  # the horizon rolls on; feed the rows a job would have made
    cohorts.extend_horizon(clock(), build.policy)
    data = client_bytes(client.id, app)
    today = date(2027, 3, 8)
    shown = {s.occurs_on for s in sessions_of(db, cohort) if uid(s) in raw_events(data)}
    assert min(shown) >= today - timedelta(days=60)
    assert max(shown) < today + timedelta(days=183)
    assert min(shown) <= today - timedelta(days=55)


def test_the_same_data_gives_byte_identical_feeds(build, app, clock):
    client = build.client()
    build.enroll(client, build.cohort())
    first = client_bytes(client.id, app)
    clock.advance(hours=3)
    build.enroll(build.client(), build.cohort())  # someone else's group changes
    assert client_bytes(client.id, app) == first


def test_uids_are_opaque_and_the_same_in_client_and_staff_feeds(build, app, db):
    cohort = build.cohort()
    client = build.client("Robin Example")
    build.enroll(client, cohort)
    client_uids = set(raw_events(client_bytes(client.id, app)))
    staff_uids = set(raw_events(staff_bytes("cohort", cohort.id, app)))
    assert client_uids and client_uids <= staff_uids
    for value in client_uids:
        assert "robin" not in value.lower() and "session" not in value
        assert len(value.split("@")[0]) == 32


def test_client_feeds_say_group_session_and_nothing_about_the_program(build, app):
    location = build.location("Boston", address="1 Main St")
    track = build.track("IOP Evening Recovery")
    cohort = build.cohort(location, track, name="IOP Addiction Recovery A", room="Suite 4")
    client = build.client("Robin Example")
    build.enroll(client, cohort)
    data = client_bytes(client.id, app)
    text = data.decode().lower()
    for word in FORBIDDEN_WORDS + ("robin", "suite 4", "main st"):
        assert word not in text, word
    assert all("SUMMARY:Group session" in block for block in event_blocks(data))


def test_a_client_may_name_their_events_and_show_the_place(build, app):
    location = build.location("Boston", address="1 Main St")
    cohort = build.cohort(location, room="Room 2")
    client = build.client(calendar_title="Tuesday thing, with J; ok", show_location=True)
    build.enroll(client, cohort)
    blocks = event_blocks(client_bytes(client.id, app))
    assert "SUMMARY:Tuesday thing\\, with J\\; ok" in blocks[0]
    assert "LOCATION:Boston\\, 1 Main St (Room 2)" in blocks[0]


def test_an_alarm_appears_only_when_the_client_asks_for_one(build, app, db):
    cohort = build.cohort()
    quiet, alarmed = build.client(), build.client(alarm_minutes=30)
    build.enroll(quiet, cohort)
    build.enroll(alarmed, cohort)
    assert b"VALARM" not in client_bytes(quiet.id, app)
    assert client_bytes(alarmed.id, app).count(b"TRIGGER:-PT30M") == len(
        raw_events(client_bytes(alarmed.id, app)))


def test_a_closure_cancels_and_the_session_stays_14_days_after_it_would_have_met(
        build, app, db, clock):
    cohort = build.cohort()
    client = build.client()
    build.enroll(client, cohort)
    cohorts.create_closure(None, date(2026, 12, 24), "Holiday", clock(), build.policy)
    closed = next(s for s in sessions_of(db, cohort) if s.occurs_on == date(2026, 12, 24))
    block = raw_events(client_bytes(client.id, app))[uid(closed)].decode()
    assert "STATUS:CANCELLED" in block and "SUMMARY:Cancelled: Group session" in block
    assert "Holiday" not in block  # staff's reason stays in staff feeds
    clock.set(datetime(2027, 1, 7, 15, 0, tzinfo=UTC))  # 14 days after
    assert uid(closed) in raw_events(client_bytes(client.id, app))
    clock.set(datetime(2027, 1, 8, 15, 0, tzinfo=UTC))  # 15 days after
    assert uid(closed) not in raw_events(client_bytes(client.id, app))


def test_moving_one_session_raises_its_sequence_and_leaves_the_others_byte_identical(
        build, app, db, clock):
    cohort = build.cohort()
    client = build.client()
    build.enroll(client, cohort)
    before = raw_events(client_bytes(client.id, app))
    target = next(s for s in sessions_of(db, cohort) if s.occurs_on == date(2026, 12, 9))
    clock.advance(minutes=5)
    cohorts.change_session(target.id, clock(), starts_at=target.starts_at + timedelta(hours=1))
    after = raw_events(client_bytes(client.id, app))
    assert b"SEQUENCE:1" in after[uid(target)] and b"SEQUENCE:0" in before[uid(target)]
    assert b"DTSTART;TZID=America/New_York:20261209T190000" in after[uid(target)]
    assert b"DTSTAMP:20261130T150500Z" in after[uid(target)]
    assert {k: v for k, v in after.items() if k != uid(target)} == {
        k: v for k, v in before.items() if k != uid(target)}


def test_a_pattern_change_moves_future_sessions_and_keeps_past_ones(build, app, db, clock):
    cohort = build.cohort()
    client = build.client()
    build.enroll(client, cohort, joined_on=date(2026, 11, 2))
    before = raw_events(client_bytes(client.id, app))
    clock.advance(minutes=5)
    cohorts.update_cohort(cohort.id, {"start_time": time(17, 30)}, clock(), build.policy)
    after = raw_events(client_bytes(client.id, app))
    for row in sessions_of(db, cohort):
        if row.occurs_on < date(2026, 11, 30):
            assert after[uid(row)] == before[uid(row)]
        elif row.occurs_on > date(2026, 11, 30):
            assert b"T173000" in after[uid(row)] and b"SEQUENCE:1" in after[uid(row)]


def test_a_client_who_switched_cohorts_sees_each_group_only_while_they_were_in_it(
        build, app, db, clock):
    old, new = build.cohort(), build.cohort(weekdays=["tue"], start_time=time(11, 0))
    client = build.client()
    first = build.enroll(client, old, joined_on=date(2026, 11, 2))
    clock.advance(days=1)  # Tue Dec 1, 10 AM: the new group meets at 11
    enrollments.change_status(first.id, "moved", clock(), build.policy)
    build.enroll(client, new)
    shown = set(raw_events(client_bytes(client.id, app)))
    for row in sessions_of(db, old):
        assert (uid(row) in shown) == (row.occurs_on < date(2026, 12, 1))
    for row in sessions_of(db, new):
        assert (uid(row) in shown) == (row.occurs_on >= date(2026, 12, 1))


def test_a_client_with_no_groups_gets_a_valid_empty_feed(build, app):
    data = client_bytes(build.client().id, app)
    assert structural_problems(data) == [] and raw_events(data) == {}


def test_check_ins_are_in_the_client_feed_in_plain_words(build, app, clock):
    client = build.client()
    row = check_in(client, datetime(2026, 12, 2, 15, 0, tzinfo=UTC), clock())
    block = raw_events(client_bytes(client.id, app))[uid_for(f"check_in:{row.id}", KEY)]
    assert b"SUMMARY:Check-in call" in block
    assert b"DTSTART;TZID=America/New_York:20261202T100000" in block
    assert b"DTEND;TZID=America/New_York:20261202T103000" in block


def test_staff_feeds_name_clients_by_initials_only(build, app, clock):
    location = build.location("Needham")
    cohort = build.cohort(location)
    for name in ("Robin Example", "Sam Q. Person"):
        build.enroll(build.client(name), cohort)
    for kind, subject in (("cohort", cohort.id), ("location", location.id)):
        data = staff_bytes(kind, subject, app)
        text = data.decode()
        assert "Robin" not in text and "Person" not in text
        assert "Clients (2): R.E.\\, S.Q.P." in data.replace(b"\r\n ", b"").decode()
        assert structural_problems(data) == []


def test_a_facilitator_feed_holds_their_groups_and_check_ins(build, app, db, clock):
    from scheduler.services.staff import create_staff

    staff, _ = create_staff("fac@staff.test", "clinician", clock(), name="Jo Facilitator")
    mine, other = build.cohort(facilitator_id=staff.id), build.cohort()
    client = build.client("Robin Example")
    row = check_in(client, datetime(2026, 12, 3, 15, 0, tzinfo=UTC), clock(),
                   staff_id=staff.id)
    shown = raw_events(staff_bytes("facilitator", staff.id, app))
    assert {uid(s) for s in sessions_of(db, mine)} <= set(shown)
    assert not {uid(s) for s in sessions_of(db, other)} & set(shown)
    assert b"SUMMARY:Check-in call: R.E." in shown[uid_for(f"check_in:{row.id}", KEY)]
