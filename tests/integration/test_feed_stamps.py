"""Feed versions stamped on write, checked against the oracle (the aggregates over
every row a feed reads, as the version was computed before): after each change
a program goes through, every live feed whose oracle version moved has a new
revision. The precise "only the feeds it touches" cases are in
tests/api/test_feeds_http.py."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from calendars import tokens
from scheduler.models import FeedToken, GroupSession, Location, StaffUser
from scheduler.services import clients, cohorts, enrollments, feed_stamps, returns, seats, staff
from tests.feed_oracle import oracle_version


def revisions(db) -> dict[int, int]:
    return dict(db.session.execute(sa.select(FeedToken.id, FeedToken.revision).where(
        FeedToken.revoked_at.is_(None))).all())


def oracles(db, clock, policy) -> dict[int, tuple]:
    rows = db.session.execute(sa.select(FeedToken.id, FeedToken.kind, FeedToken.subject_id)
                              .where(FeedToken.revoked_at.is_(None))).all()
    return {row.id: oracle_version(row.kind, row.id, row.subject_id, clock(), policy)
            for row in rows}


@pytest.fixture
def program(app, db, build, clock):
    """Two sites, three groups (two facilitators), five people, a check-in, and a
    live feed for every person, group, site and facilitator."""
    robin, _ = staff.create_staff("robin@example.org", "clinician", clock(), name="Robin Lee")
    sam, _ = staff.create_staff("sam@example.org", "clinician", clock(), name="Sam Ortiz")
    boston, needham = build.location("Boston"), build.location("Needham")
    track = build.track("IOP")
    groups = [build.cohort(boston, track, facilitator_id=robin.id),
              build.cohort(boston, track, facilitator_id=sam.id),
              build.cohort(needham, track, facilitator_id=sam.id)]
    people = [build.client(f"Person {n} Example", email=f"p{n}@example.org") for n in range(5)]
    for person, group in zip(people, [0, 0, 1, 2, 2], strict=True):
        build.enroll(person, groups[group])
    request, _ = returns.submit_return({"name": "Person", "email": "p4@example.org"},
                                       "web", clock())
    returns.book_check_in(request.id, clock() + timedelta(days=2), "in_person", clock(),
                          staff_id=robin.id, location_id=needham.id)
    for kind, subjects in (("client", people), ("cohort", groups),
                           ("location", (boston, needham)), ("facilitator", (robin, sam))):
        for subject in subjects:
            tokens.issue(kind, subject.id, clock())
    return {"robin": robin, "sam": sam, "boston": boston, "needham": needham,
            "groups": groups, "people": people, "request": request}


def first_future_session(db, cohort, now):
    return db.session.scalars(sa.select(GroupSession).where(
        GroupSession.cohort_id == cohort.id, GroupSession.status == "scheduled",
        GroupSession.starts_at > now)
        .order_by(GroupSession.starts_at)).first()


def changes(program, db, clock, policy):
    p = program
    groups, people = p["groups"], p["people"]
    return [
        ("a session moved", lambda: cohorts.change_session(
            first_future_session(db, groups[0], clock()).id, clock(),
            starts_at=first_future_session(db, groups[0], clock()).starts_at + timedelta(hours=1))),
        ("a session cancelled", lambda: cohorts.change_session(
            first_future_session(db, groups[2], clock()).id, clock(), status="cancelled",
            cancel_reason="Room flooded")),
        ("a calendar title chosen", lambda: clients.update_client(
            people[1].id, {"calendar_title": "Evening"}, clock())),
        ("a person renamed (initials)", lambda: clients.update_client(
            people[3].id, {"name": "Quinn Zed"}, clock())),
        ("a second group joined", lambda: enrollments.enroll(
            people[0].id, groups[2].id, clock(), policy)),
        ("a pause", lambda: enrollments.change_status(
            seats.live_enrollment(people[2].id, groups[1].id).id, "paused", clock(),
            policy, release_hold=True)),
        ("a group renamed", lambda: cohorts.update_cohort(
            groups[1].id, {"name": "Tuesday Evening", "room": "Room 4"}, clock(), policy)),
        ("a group moved to the other site", lambda: cohorts.update_cohort(
            groups[1].id, {"location_id": p["needham"].id}, clock(), policy)),
        ("a facilitator changed", lambda: cohorts.update_cohort(
            groups[0].id, {"facilitator_id": p["sam"].id}, clock(), policy)),
        ("a site's address changed", lambda: cohorts.update_location(
            p["boston"].id, {"address": "9 Elm St, Boston"})),
        ("a staff member renamed", lambda: rename_staff(db, p["robin"].id)),
        ("a check-in moved", lambda: returns.book_check_in(
            p["request"].id, clock() + timedelta(days=3), "in_person", clock(),
            staff_id=p["sam"].id, location_id=p["boston"].id)),
        ("a closure", lambda: cohorts.create_closure(
            p["needham"].id, date(2026, 12, 24), "Holiday", clock(), policy)),
        ("a withdrawal", lambda: enrollments.change_status(
            seats.live_enrollment(people[4].id, groups[2].id).id, "withdrawn", clock(),
            policy)),
        ("a check-in cancelled", lambda: returns.cancel_check_in(p["request"].id, clock())),
    ]


def rename_staff(db, staff_id):
    db.session.get(StaffUser, staff_id).name = "Robin Lee-Park"
    db.session.commit()


def test_every_feed_whose_rows_changed_has_a_new_revision(program, db, clock, policy):
    missed = []
    for what, change in changes(program, db, clock, policy):
        before_oracle, before = oracles(db, clock, policy), revisions(db)
        clock.advance(minutes=1)
        change()
        db.session.expire_all()
        after_oracle, after = oracles(db, clock, policy), revisions(db)
        moved = {token for token in before_oracle.keys() & after_oracle.keys()
                 if after_oracle[token] != before_oracle[token]}
        missed += [(what, token) for token in moved if after[token] == before[token]]
        assert moved, f"{what}: the oracle saw nothing change (the step tests nothing)"
    assert missed == []


def test_a_change_no_feed_shows_raises_no_revision(program, db, clock, policy):
    before = revisions(db)
    returns.close_return(program["request"].id, clock())
    assert revisions(db) == before


def test_a_rolled_back_change_raises_no_revision(program, db, clock, policy):
    before = revisions(db)
    db.session.get(Location, program["boston"].id).address = "Never saved"
    db.session.flush()
    db.session.rollback()
    db.session.commit()
    assert revisions(db) == before


def test_which_feeds_a_session_move_reaches(program, db):
    touches = feed_stamps.Touches(cohorts={program["groups"][0].id})
    reached = set(db.session.execute(sa.select(FeedToken.kind, FeedToken.subject_id).where(
        FeedToken.id.in_(feed_stamps.reached(db.session, touches)))).all())
    people = program["people"]
    assert reached == {("client", people[0].id), ("client", people[1].id),
                       ("cohort", program["groups"][0].id),
                       ("location", program["boston"].id),
                       ("facilitator", program["robin"].id)}
