"""Every staff page asks the database a fixed number of questions, however large
the program grows (no query per row). Counts, never timings: bench/load.py times."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from scheduler.models import Cohort, Enrollment, GroupSession, db
from scheduler.services import enrollments, returns, waitlist
from tests.returns_support import fresh_group
from tests.statements import counted


def grow(build, clock, copies: int, *, waits_more: int | None = None) -> dict:
    """``copies`` more of a small program: three groups (one closed to joiners after
    its start) with a roster and attendance, people in line, a fresh group forming,
    return requests at each step. ``waits_more`` (a client id) joins the line of
    each new group too, so what one person waits on grows with the program."""
    ids: dict = {}
    for _ in range(copies):
        site = build.location()
        groups = [build.cohort(site, capacity=6), build.cohort(site, capacity=8,
                                                               weekdays=["tue", "thu"]),
                  build.cohort(site, capacity=5, mode="closed")]
        for group in groups:
            members = [build.client() for _ in range(5)]
            for person in members:
                build.enroll(person, group, joined_on=date(2026, 11, 2))
            past = db.session.scalars(sa.select(GroupSession.id).where(
                GroupSession.cohort_id == group.id, GroupSession.ends_at <= clock())
                .order_by(GroupSession.starts_at).limit(4)).all()
            for session_id in past:
                enrollments.record_attendance(session_id, [
                    {"client_id": p.id, "status": "present" if i % 3 else "absent"}
                    for i, p in enumerate(members)], None, clock(), build.policy)
        for _ in range(2):
            waitlist.add_to_waitlist(build.client().id, groups[0].id, clock())
        if waits_more is not None:
            waitlist.add_to_waitlist(waits_more, groups[1].id, clock())
        fresh_group(build, site, 1)
        for step in range(3):
            person = build.client(email=f"back{step}.{site.id}@example.org")
            request, _ = returns.submit_return({"name": person.name, "email": person.email},
                                               "phone", clock() - timedelta(days=step))
            if step:
                returns.book_check_in(request.id, clock() + timedelta(days=1), "phone",
                                      clock())
            if step == 2:
                returns.record_reentry(request.id, {"dayparts": ["evening"]}, None, clock())
            ids.setdefault("return_id", request.id)
            ids.setdefault("returner_client_id", request.client_id)
        ids.setdefault("cohort_id", groups[0].id)
        ids.setdefault("client_id", members[0].id)
    return ids


PAGES = {
    "Today": "/",
    "Returners": "/returners",
    "a returner": "/returners/{return_id}",
    "Cohorts": "/cohorts",
    "a cohort": "/cohorts/{cohort_id}",
    "a client": "/clients/{client_id}",
    "Director": "/director",
    "Audit": "/admin/audit",
}


CEILING = 10  # issue 15: every page in at most ten statements on PostgreSQL


def statements(app, path: str, get) -> int:
    """Statements the request runs (``tests.statements.counted``)."""
    get(path)  # warm: first-use loads (the signed-in user, caches) are not the page's
    with counted() as seen:
        response = get(path)
    assert response.status_code == 200, path
    return len(seen)


@pytest.mark.parametrize("page", sorted(PAGES))
def test_each_staff_page_asks_the_same_number_of_questions_at_any_size(
        app, build, clock, console_as, page):
    console = console_as("admin")
    small = grow(build, clock, 1)
    before = statements(app, PAGES[page].format(**small), console.get)
    grow(build, clock, 3, waits_more=small["returner_client_id"])
    assert statements(app, PAGES[page].format(**small), console.get) == before <= CEILING


def test_placement_options_ask_the_same_number_of_questions_at_any_size(
        app, build, clock, api):
    small = grow(build, clock, 1)
    path = f"/api/v1/returns/{small['return_id']}/options"
    before = statements(app, path, api.get)
    grow(build, clock, 3, waits_more=small["returner_client_id"])
    assert statements(app, path, api.get) == before <= CEILING


@pytest.mark.parametrize("page", ["Today", "Cohorts", "Director"])
def test_a_coordinator_at_one_site_is_shown_it_in_the_same_number_of_questions(
        app, build, clock, console_as, page):
    console = console_as("coordinator")
    small = grow(build, clock, 1)
    site = db.session.scalar(sa.select(Cohort.location_id).where(
        Cohort.id == small["cohort_id"]))
    assert console.post_form("/", "/site", {"location_id": str(site)}).status_code == 302
    before = statements(app, PAGES[page], console.get)
    grow(build, clock, 3, waits_more=small["returner_client_id"])
    assert statements(app, PAGES[page], console.get) == before <= CEILING


@pytest.mark.parametrize("page", ["Returners", "Director"])
def test_a_page_that_works_time_back_out_again_after_a_change_still_fits_the_ceiling(
        app, build, clock, console_as, page):
    console = console_as("admin")
    grow(build, clock, 1)
    assert console.get(PAGES[page]).status_code == 200  # time back worked out and kept
    person = build.client(email="changed@example.org")
    returns.submit_return({"name": person.name, "email": person.email}, "phone", clock())
    with counted() as seen:
        assert console.get(PAGES[page]).status_code == 200
    assert any("placement_decision" in s for s in seen)  # worked out again, not reused
    assert len(seen) <= CEILING


@pytest.mark.parametrize("page", ["Today", "Returners", "Director", "a cohort"])
def test_a_page_reads_every_report_stamp_it_needs_in_one_statement(
        app, build, clock, console_as, page):
    console = console_as("admin")
    path = PAGES[page].format(**grow(build, clock, 1))
    console.get(path)
    db.session.rollback()  # each request's own transaction (the tests share one session)
    with counted() as seen:
        assert console.get(path).status_code == 200
    assert len([s for s in seen if "report_stamp" in s]) == 1, seen


def test_today_after_attendance_is_taken_counts_it_again_and_still_fits_the_ceiling(
        app, build, clock, console_as):
    console = console_as("admin")
    small = grow(build, clock, 1)
    assert console.get("/").status_code == 200  # rosters' progress worked out and kept
    session_id = db.session.scalar(sa.select(GroupSession.id).where(
        GroupSession.cohort_id == small["cohort_id"], GroupSession.ends_at <= clock())
        .order_by(GroupSession.starts_at.desc()))
    member = db.session.scalar(sa.select(Enrollment.client_id).where(
        Enrollment.cohort_id == small["cohort_id"]).order_by(Enrollment.id))
    enrollments.record_attendance(session_id, [{"client_id": member, "status": "late"}],
                                  None, clock(), build.policy)
    with counted() as seen:
        assert console.get("/").status_code == 200
    assert any("attendance" in s and "count" in s for s in seen)  # worked out again
    assert len(seen) <= CEILING
