"""The client's page `/me/<token>`: upcoming times, calendar links, their choices."""

from __future__ import annotations

import re
from datetime import date

import pytest

from calendars import tokens
from scheduler.models import Client
from tests.feed_fixtures import FORBIDDEN_WORDS
from tests.forms import post_form


@pytest.fixture
def person(build, clock):
    location = build.location("Boston", address="1 Main St")
    track = build.track("IOP Evening")
    cohort = build.cohort(location, track, name="IOP Recovery Evening A")
    client = build.client("Robin Example", email="robin@example.test")
    build.enroll(client, cohort, joined_on=date(2026, 11, 2))
    return client, tokens.issue("client", client.id, clock())


def text_of(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


def test_the_page_lists_upcoming_group_sessions_in_plain_words(app, person):
    _, token = person
    response = app.test_client().get(f"/me/{token}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Mon Nov 30, 6:00 PM" in html  # today's, in Boston time
    assert "Wed Dec 2, 6:00 PM" in html
    assert "Mon Nov 23" not in html  # past ones are not "upcoming"


def test_the_page_offers_webcal_google_https_download_and_a_qr_code(app, person):
    _, token = person
    html = app.test_client().get(f"/me/{token}").get_data(as_text=True)
    assert f'href="webcal://regroup.test/feeds/{token}.ics"' in html
    assert f'value="https://regroup.test/feeds/{token}.ics"' in html
    assert "From URL" in html
    assert f"/feeds/{token}.ics?download=1" in html
    assert "<svg" in html


def test_the_page_is_kept_out_of_caches_and_referers(app, person):
    _, token = person
    response = app.test_client().get(f"/me/{token}")
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"


def test_the_page_says_where_to_go_even_when_the_calendar_does_not(app, person):
    client, token = person
    assert not client.show_location
    html = app.test_client().get(f"/me/{token}").get_data(as_text=True)
    assert "Boston, 1 Main St" in html
    assert b"1 Main St" not in app.test_client().get(f"/feeds/{token}.ics").data


def test_the_page_never_names_the_program(app, person):
    _, token = person
    words = text_of(app.test_client().get(f"/me/{token}").get_data(as_text=True)).lower()
    for word in FORBIDDEN_WORDS:
        assert word not in words, word


def test_every_form_carries_a_csrf_field(app, person):
    _, token = person
    html = app.test_client().get(f"/me/{token}").get_data(as_text=True)
    assert html.count("<form") == html.count('name="csrf_token"') == 3


def test_saving_preferences_changes_the_calendar(app, db, person):
    client, token = person
    web = app.test_client()
    response = post_form(web, f"/me/{token}", {
        "reminder_minutes": ["120"], "reminder_channels": ["sms"],
        "calendar_title": "Thursday thing", "show_location": "on", "alarm_minutes": "30"},
        action=f"/me/{token}/preferences")
    assert response.status_code == 303
    db.session.expire_all()
    saved = db.session.get(Client, client.id)
    assert (saved.reminder_minutes, saved.reminder_channels, saved.calendar_title,
            saved.show_location, saved.alarm_minutes) == ([120], ["sms"], "Thursday thing",
                                                          True, 30)
    feed = web.get(f"/feeds/{token}.ics").data
    assert b"SUMMARY:Thursday thing" in feed and b"TRIGGER:-PT30M" in feed
    assert b"1 Main St" in feed


def test_a_bad_choice_gets_422_naming_the_field(app, person):
    _, token = person
    response = post_form(app.test_client(), f"/me/{token}", {"alarm_minutes": "7"},
                         action=f"/me/{token}/preferences")
    assert response.status_code == 422
    assert 'id="error-alarm_minutes"' in response.get_data(as_text=True)


def test_a_client_can_stop_email_and_texts(app, db, person):
    client, token = person
    response = post_form(app.test_client(), f"/me/{token}",
                         {"email_opt_out": "on", "sms_opt_out": "on"},
                         action=f"/me/{token}/messages")
    assert response.status_code == 303
    db.session.expire_all()
    saved = db.session.get(Client, client.id)
    assert saved.email_opt_out and saved.sms_opt_out


def test_a_client_can_turn_their_link_off(app, person):
    _, token = person
    web = app.test_client()
    assert post_form(web, f"/me/{token}", {}, action=f"/me/{token}/turn-off").status_code == 200
    assert web.get(f"/me/{token}").status_code == 404
    assert web.get(f"/feeds/{token}.ics").status_code == 404


def test_an_unknown_link_gets_a_kind_404(app):
    response = app.test_client().get("/me/" + "y" * 43)
    assert response.status_code == 404
    assert "No explanation needed" in response.get_data(as_text=True)


def test_a_staff_feed_token_does_not_open_a_client_page(app, build, clock):
    token = tokens.issue("cohort", build.cohort().id, clock())
    assert app.test_client().get(f"/me/{token}").status_code == 404
