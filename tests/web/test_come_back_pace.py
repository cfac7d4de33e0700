"""Both public doors take the same time for a person the program knows and a new
one: each answer waits out the same floor (PUBLIC_FORM_SECONDS), so timing cannot
tell whether an email or phone number is on file. The clock is faked: no timings."""

from __future__ import annotations

import pytest

import blueprints.comeback as comeback
from tests.forms import post_form


@pytest.fixture
def paced(app, monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(comeback.time, "monotonic", lambda: 100.0)
    monkeypatch.setattr(comeback.time, "sleep", slept.append)
    app.config["PUBLIC_FORM_SECONDS"] = 0.1
    return slept


def test_the_page_waits_out_the_same_floor_for_known_and_new_people(app, build, paced):
    build.client("Known Person", email="known@example.org")
    web = app.test_client()
    for email in ("known@example.org", "new@example.org"):
        response = post_form(web, "/come-back", {"name": "Sam", "email": email})
        assert response.status_code == 200
    assert paced == [0.1, 0.1]


def test_the_json_door_waits_out_the_same_floor_too(app, build, paced):
    build.client("Known Person", phone="617-555-0100")
    web = app.test_client()
    for phone in ("617-555-0100", "617-555-0199"):
        response = web.post("/api/v1/public/returns", json={"name": "Sam", "phone": phone})
        assert response.status_code == 202
    assert paced == [0.1, 0.1]


def test_the_thank_you_page_says_thanks_once_and_gives_a_number_to_call(app, build):
    from scheduler.services.cohorts import create_location

    create_location("Boston", "100 Example Street", phone="617-555-0100")
    response = post_form(app.test_client(), "/come-back",
                         {"name": "Sam", "email": "sam@example.org"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.count("Thank you") == 1
    assert 'call Boston at <a href="tel:617-555-0100">617-555-0100</a>' in html


def test_every_problem_on_the_come_back_form_is_shown_at_once(app):
    response = post_form(app.test_client(), "/come-back",
                         {"name": "", "email": "not-an-address", "phone": "12"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for field in ("name", "email", "phone"):
        assert f'id="{field}-error"' in html
