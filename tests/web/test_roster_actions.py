"""A coordinator changes one person's place from the cohort page: pause (seat held or
freed), resume, complete, withdraw, move (sessions done carried) and set credit, each
with its reason in the audit trail; a freed seat is offered to the next in line at
once (issue 11)."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from scheduler.models import AuditEvent, Enrollment, SeatOffer
from scheduler.services import waitlist


@pytest.fixture
def group(build):
    cohort = build.cohort(capacity=2, starts_on=date(2026, 11, 2))
    sam, alex = build.client("Sam Rivera"), build.client("Alex Kim")
    enrollments = [build.enroll(p, cohort, joined_on=date(2026, 11, 2)) for p in (sam, alex)]
    waiting = build.client("Jo Waiting", email="jo@example.org")
    waitlist.add_to_waitlist(waiting.id, cohort.id, build.clock())
    return cohort, enrollments, waiting


def act(console, cohort, enrollment, **form):
    page = f"/cohorts/{cohort.id}"
    return console.post_form(page, f"/cohorts/{cohort.id}/enrollments/{enrollment.id}", form)


def status_of(db, enrollment):
    db.session.expire_all()
    return db.session.get(Enrollment, enrollment.id)


@pytest.mark.parametrize(("action", "status", "offered"), [
    ("withdrawn", "withdrawn", True), ("completed", "completed", True),
    ("pause_release", "paused", True), ("pause", "paused", False)])
def test_a_roster_change_frees_the_seat_through_the_one_path_and_is_audited(
        console_as, db, group, action, status, offered):
    cohort, (sam, _), waiting = group
    console = console_as("coordinator")
    response = act(console, cohort, sam, action=action, reason="Talked on the phone")
    assert response.status_code == 302
    assert status_of(db, sam).status == status
    offers = db.session.scalars(sa.select(SeatOffer).where(
        SeatOffer.client_id == waiting.id)).all()
    assert bool(offers) is offered
    audit = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "enrollment.status")).one()
    assert audit.detail["reason"] == "Talked on the phone"


def test_resume_and_credit_and_move_keep_the_person_whole(console_as, db, build, group):
    cohort, (sam, _), _ = group
    other = build.cohort(name="Tuesday Evening", weekdays=["tue"])
    console = console_as("coordinator")
    assert act(console, cohort, sam, action="pause").status_code == 302
    assert act(console, cohort, sam, action="resume").status_code == 302
    assert status_of(db, sam).status == "active"
    assert act(console, cohort, sam, action="credit", credited_sessions="6",
               reason="Sessions at another program").status_code == 302
    assert status_of(db, sam).credited_sessions == 6
    assert act(console, cohort, sam, action="move", to_cohort_id=str(other.id)).status_code == 302
    moved = db.session.scalars(sa.select(Enrollment).where(
        Enrollment.cohort_id == other.id)).one()
    assert status_of(db, sam).status == "moved" and moved.credited_sessions >= 6


def test_a_refused_change_says_why_on_the_page_and_changes_nothing(console_as, db, group):
    cohort, (sam, _), _ = group
    console = console_as("coordinator")
    response = act(console, cohort, sam, action="credit", credited_sessions="5", reason="")
    assert response.status_code == 422
    assert "Say why the credit changes" in response.get_data(as_text=True)
    assert status_of(db, sam).credited_sessions == 0
    assert act(console, cohort, sam, action="move").status_code == 422


def test_viewers_see_no_roster_changes(console_as, group):
    cohort, (sam, _), _ = group
    viewer = console_as("viewer")
    assert "Pause, hold the seat" not in viewer.get(f"/cohorts/{cohort.id}").get_data(
        as_text=True)
    assert viewer.client.post(f"/cohorts/{cohort.id}/enrollments/{sam.id}",
                              data={"action": "withdrawn"}).status_code in (400, 403)


def test_each_session_on_the_cohort_page_links_to_its_attendance(console_as, group):
    cohort, _, _ = group
    page = console_as("coordinator").get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert "/?date=2026-11-30#session-" in page


def test_every_roster_line_offers_the_other_groups_to_move_to_with_names_as_text(
        console_as, build, group):
    cohort, enrollments, _ = group
    other = build.cohort(name='<i>Evening</i> & "B"', location=cohort.location)
    html = console_as("coordinator").get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    option = f'<option value="{other.id}">&lt;i&gt;Evening&lt;/i&gt; &amp; &#34;B&#34;</option>'
    assert html.count(option) == len(enrollments)
    assert "<i>Evening</i>" not in html
