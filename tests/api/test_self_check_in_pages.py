"""Picking a check-in time: the staff API that publishes times, the thank-you page,
the person's own link, and the welcome message that carries it."""

from datetime import timedelta

import sqlalchemy as sa

from scheduler.messages import render
from scheduler.models import CheckIn, Notification, ReturnRequest, db
from scheduler.services import checkins
from tests.forms import post_form


def test_staff_publish_list_and_take_down_check_in_times(api, build, clock):
    boston = build.location("Boston")
    made = api.post("/api/v1/check-in-slots", json={
        "starts_at": "2026-12-01T14:00:00-05:00", "mode": "in_person",
        "location_id": boston.id, "places": 2})
    assert made.status_code == 201
    listed = api.get("/api/v1/check-in-slots").get_json()
    assert [(s["starts_at"], s["places_left"]) for s in listed] == [
        ("2026-12-01T14:00:00-05:00", 2)]
    assert api.delete(f"/api/v1/check-in-slots/{made.get_json()['id']}").status_code == 204
    assert api.get("/api/v1/check-in-slots").get_json() == []


def test_a_time_in_the_past_is_refused_naming_the_field(api):
    response = api.post("/api/v1/check-in-slots", json={
        "starts_at": "2026-11-01T14:00:00-05:00", "mode": "phone"})
    assert response.status_code == 422
    assert "starts_at" in response.get_json()["errors"]["json"]


def _slot(clock, hours=26):
    return checkins.publish_slot({"starts_at": clock() + timedelta(hours=hours),
                                  "mode": "phone"}, clock(), staff_id=None)


def test_the_thank_you_page_offers_the_next_times_and_books_one(app, clock):
    slot = _slot(clock)
    http = app.test_client()
    page = post_form(http, "/come-back", {"name": "Sam", "phone": "617 555 0142"})
    html = page.get_data(as_text=True)
    assert "Pick a time for your check-in" in html and "Tue Dec 1, 12:00 PM · By phone" in html
    action = html.split('action="', 2)[-1].split('"', 1)[0]
    assert action.startswith("/check-in/")
    booked = post_form(http, action, {"slot_id": slot.id})
    assert booked.status_code == 303
    page = http.get(booked.headers["Location"]).get_data(as_text=True)
    assert "Booked. Thank you: we'll talk then." in page
    [row] = db.session.scalars(sa.select(CheckIn)).all()
    assert (row.slot_id, row.mode, row.status) == (slot.id, "phone", "booked")


def test_the_persons_link_moves_and_cancels_their_check_in(app, build, clock):
    early, later = _slot(clock, 26), _slot(clock, 50)
    from tests.returns_support import ask_to_come_back

    request = ask_to_come_back(build.client("Robin Example", email="r@example.org"),
                               clock(), channel="web")
    token = checkins.link_token(request.id, app.config["SECRET_KEY"])
    http = app.test_client()
    post_form(http, f"/check-in/{token}", {"slot_id": early.id})
    post_form(http, f"/check-in/{token}", {"slot_id": later.id})
    moved = http.get(f"/check-in/{token}").get_data(as_text=True)
    assert "Wed Dec 2, 12:00 PM" in moved and "I can't make this time" in moved
    post_form(http, f"/check-in/{token}", {}, action=f"/check-in/{token}/cancel")
    assert db.session.scalars(sa.select(CheckIn.status)).all() == ["cancelled"]


def test_a_tampered_check_in_link_gets_a_kind_page(app):
    response = app.test_client().get("/check-in/not-a-real-link")
    assert response.status_code == 404
    assert "Nothing is wrong on your side" in response.get_data(as_text=True)


def test_the_welcome_message_carries_the_link_when_times_are_open(app, clock):
    _slot(clock)
    post_form(app.test_client(), "/come-back", {"name": "Sam", "email": "sam@example.org"})
    [welcome] = db.session.scalars(sa.select(Notification).where(
        Notification.kind == "welcome_back")).all()
    text = render(welcome, app.jinja_env, app.config).text
    request_id = db.session.scalar(sa.select(ReturnRequest.id))
    token = checkins.link_token(request_id, app.config["SECRET_KEY"])
    assert f"/check-in/{token}" in text


def test_without_open_times_the_welcome_message_promises_only_a_call(app):
    post_form(app.test_client(), "/come-back", {"name": "Sam", "email": "sam@example.org"})
    [welcome] = db.session.scalars(sa.select(Notification)).all()
    text = render(welcome, app.jinja_env, app.config).text
    assert "/check-in/" not in text and "in touch soon" in text
