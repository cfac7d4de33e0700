"""Move, cancel or put back on one group session from its cohort's page, seeing
first who will be told and how; bad input is a message on the page."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from scheduler.messages import render
from scheduler.models import GroupSession, Notification, db


def setup(build, **client):
    cohort = build.cohort(name="Monday Evening")
    people = [build.client("Email Person", email="e@example.org"),
              build.client("Text Person", phone="617-555-0101", email=None),
              build.client("Quiet Person", email="q@example.org", email_opt_out=True)]
    for person in people:
        build.enroll(person, cohort, joined_on=date(2026, 11, 2))
    session = db.session.scalars(sa.select(GroupSession).where(
        GroupSession.cohort_id == cohort.id, GroupSession.occurs_on == date(2026, 12, 2))
    ).one()
    return cohort, session


def notices(kind):
    return list(db.session.scalars(sa.select(Notification).where(Notification.kind == kind)))


def test_moving_a_session_previews_who_is_told_then_moves_it_and_tells_them(
        app, build, console_as):
    cohort, session = setup(build)
    console = console_as("coordinator")
    cohort_page = console.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    page = f"/cohorts/{cohort.id}/sessions/{session.id}"
    assert f'href="{page}">move or cancel</a>' in cohort_page
    preview = console.get(f"{page}?action=move&date=2026-12-02&time=19:00")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "Move to Wed Dec 2, 7:00 PM" in html
    assert "3 people will be told the new time: 1 by email, 1 by text; 1 cannot be reached" \
        in html
    assert notices("session_moved") == []  # a preview changes nothing
    done = console.post_form(f"{page}?action=move&date=2026-12-02&time=19:00", page,
                             {"action": "move", "date": "2026-12-02", "time": "19:00"},
                             follow_redirects=True)
    assert "The group session moved to Wed Dec 2, 7:00 PM. 3 people are being told." in (
        done.get_data(as_text=True))
    db.session.expire_all()
    assert db.session.get(GroupSession, session.id).starts_at.hour == 0  # 7 PM EST in UTC
    told = notices("session_moved")
    assert {n.channel for n in told} == {"email", "sms"}
    text = render(told[0], app.jinja_env, app.config).text
    assert "has a new time: Wed Dec 2, 7:00 PM" in text


def test_cancelling_then_putting_it_back_on_tells_people_each_time(app, build, console_as):
    cohort, session = setup(build)
    console = console_as("coordinator")
    page = f"/cohorts/{cohort.id}/sessions/{session.id}"
    console.post_form(f"{page}?action=cancel&reason=Facilitator+away", page,
                      {"action": "cancel", "reason": "Facilitator away"})
    assert len(notices("cancellation")) == 2
    html = console.get(page).get_data(as_text=True)
    assert "Put it back on" in html and "cancelled: Facilitator away" in html
    preview = console.get(f"{page}?action=restore").get_data(as_text=True)
    assert "will be told that it is on again" in preview
    console.post_form(f"{page}?action=restore", page, {"action": "restore"})
    db.session.expire_all()
    assert db.session.get(GroupSession, session.id).status == "scheduled"
    restored = notices("session_restored")
    assert len(restored) == 2
    assert "is on again, after all" in render(restored[0], app.jinja_env, app.config).text


def test_a_past_time_or_a_missing_reason_is_a_message_on_the_page(build, console_as, db):
    cohort, session = setup(build)
    console = console_as("coordinator")
    page = f"/cohorts/{cohort.id}/sessions/{session.id}"
    past = console.get(f"{page}?action=move&date=2026-11-01&time=18:00")
    assert past.status_code == 422
    assert "The new time must be in the future" in past.get_data(as_text=True)
    no_reason = console.post_form(page, page, {"action": "cancel", "reason": " "})
    assert no_reason.status_code == 422
    assert "Say why" in no_reason.get_data(as_text=True)
    assert db.session.get(GroupSession, session.id).status == "scheduled"


def test_a_viewer_sees_no_change_links_and_cannot_change_a_session(build, console_as, db):
    cohort, session = setup(build)
    viewer = console_as("viewer")
    assert "move or cancel" not in viewer.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    page = f"/cohorts/{cohort.id}/sessions/{session.id}"
    assert viewer.post_form(page, page, {"action": "cancel", "reason": "x"}).status_code \
        == 403
    assert db.session.get(GroupSession, session.id).status == "scheduled"
