"""Coordinators publish check-in times that people coming back pick themselves."""

import sqlalchemy as sa

from scheduler.models import AuditEvent, CheckInSlot, db


def test_a_coordinator_publishes_a_time_and_sees_it_listed(build, console_as):
    boston = build.location("Boston")
    console = console_as("coordinator")
    response = console.post_form("/check-in-times", "/check-in-times", {
        "date": "2026-12-01", "time": "14:30", "mode": "in_person",
        "location_id": boston.id, "minutes": 30, "places": 2})
    assert response.status_code == 302
    html = console.get("/check-in-times").get_data(as_text=True)
    assert "Tue Dec 1, 2:30 PM · In person · Boston · 2 of 2 open" in html
    [slot] = db.session.scalars(sa.select(CheckInSlot)).all()
    assert slot.starts_at.hour == 19  # 2:30 PM in Boston is 19:30 UTC
    assert db.session.scalars(sa.select(AuditEvent.action)).all().count(
        "check_in_slot.publish") == 1


def test_a_time_in_the_past_is_refused_on_the_page(console_as):
    console = console_as("coordinator")
    response = console.post_form("/check-in-times", "/check-in-times", {
        "date": "2026-11-01", "time": "14:30", "mode": "phone"})
    assert response.status_code == 422
    assert "Choose a time that has not passed" in response.get_data(as_text=True)


def test_a_viewer_sees_the_times_but_cannot_publish(console_as):
    console = console_as("viewer")
    assert "Publish a time" not in console.get("/check-in-times").get_data(as_text=True)
    response = console.post_form("/check-in-times", "/check-in-times", {
        "date": "2026-12-01", "time": "14:30", "mode": "phone"})
    assert response.status_code == 403
