"""A journey: someone asks to come back on the public form and picks no time; a
coordinator books them on an open check-in time with one click; they are reminded,
checked in, placed back in their own group and sit in its next session. Everything
they and staff see on the way is checked."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from scheduler.messages import render
from scheduler.models import CheckIn, GroupSession, Notification, ReturnRequest, db
from scheduler.services import checkins, outbox
from tests.forms import post_form
from tests.returns_support import attend_until

# the clock starts Mon Nov 30, 10:00 in Boston; the open time is 3:00 PM that day
OPEN_TIME = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)
TONIGHT = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)  # the group meets at 6 PM


def test_asked_on_the_form_booked_by_a_coordinator_reminded_placed_and_back_in_group(
        app, build, clock, console_as):
    group = build.cohort(name="Monday Evening", capacity=4)
    robin = build.client("Robin Example", email="robin@example.org")
    attend_until(build, group, robin, date(2026, 11, 23))
    checkins.publish_slot({"starts_at": OPEN_TIME, "mode": "phone"}, clock(), staff_id=None)

    # the person: the form, and a thank-you page offering the time (they pick none)
    thanks = post_form(app.test_client(), "/come-back",
                       {"name": "Robin Example", "email": "robin@example.org"})
    assert thanks.status_code == 200 and "3:00 PM" in thanks.get_data(as_text=True)
    request = db.session.scalars(sa.select(ReturnRequest)).one()
    assert request.client_id == robin.id

    # the coordinator: the open time on the request's page, booked with one click
    coordinator = console_as("coordinator")
    page = f"/returners/{request.id}"
    assert "Open check-in times" in coordinator.get(page).get_data(as_text=True)
    booked = coordinator.post_form(page, f"{page}/check-in/time",
                                   {"slot_id": re.search(
                                       r'name="slot_id" value="(\d+)"',
                                       coordinator.get(page).get_data(as_text=True)).group(1)},
                                   follow_redirects=True)
    assert "Check-in booked: by phone, Mon Nov 30, 3:00 PM." in booked.get_data(as_text=True)
    check_in = db.session.scalars(sa.select(CheckIn)).one()
    assert (check_in.at, check_in.status) == (OPEN_TIME, "booked")

    # the person is reminded before it, discreetly
    outbox.plan_reminders(clock(), build.policy)
    [reminder] = db.session.scalars(sa.select(Notification).where(
        Notification.subject_ref == f"check_in:{check_in.id}")).all()
    assert reminder.due_at == OPEN_TIME - timedelta(hours=2)
    words = render(reminder, app.jinja_env, app.config)
    assert "3:00 PM" in words.text
    for private in ("IOP", "addiction", "recovery", "substance", "relapse"):
        assert private.lower() not in (words.subject + words.text).lower()

    # the call happens; the coordinator records it, the answers, and places them
    clock.set(OPEN_TIME + timedelta(minutes=30))
    coordinator.post_form(page, f"{page}/check-in", {
        "date": "2026-11-30", "time": "15:00", "mode": "phone", "done": "on"})
    coordinator.post_form(page, f"{page}/reentry", {"preference": "same_group",
                                                    "dayparts": ["evening"]})
    placed = coordinator.post_form(page, f"{page}/place", {"option_id": f"resume:{group.id}"},
                                   follow_redirects=True)
    assert "Placed: pick up in the same group" in placed.get_data(as_text=True)
    [told] = db.session.scalars(sa.select(Notification).where(
        Notification.client_id == robin.id, Notification.kind == "placed")).all()
    assert "Mon Nov 30, 6:00 PM" in render(told, app.jinja_env, app.config).text

    # tonight's session: on Today's roster, marked present, and back in group
    session_id = db.session.scalar(sa.select(GroupSession.id).where(
        GroupSession.cohort_id == group.id, GroupSession.starts_at == TONIGHT))
    clock.set(TONIGHT + timedelta(minutes=20))
    today = coordinator.get("/").get_data(as_text=True)
    assert f'data-client-id="{robin.id}"' in today
    coordinator.post_form("/", f"/group-sessions/{session_id}/attendance",
                          {f"client-{robin.id}": "present"})
    db.session.expire_all()
    back = db.session.get(ReturnRequest, request.id)
    assert (back.checked_in_at, back.first_attended_at) == (OPEN_TIME, TONIGHT)
    assert back.requested_at <= back.checked_in_at <= back.placed_at <= back.first_attended_at
