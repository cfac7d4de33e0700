"""Bounded and guarded: security headers on every answer, a body limit that chunked
requests cannot skip, a health check that answers 503 when the database hangs,
reads of contacts audited, and no demo in production (issue 13)."""

from __future__ import annotations

import io

import sqlalchemy as sa

from scheduler.app import create_app
from scheduler.models import AuditEvent
from tests.trickle import silent_server


def test_every_answer_carries_the_security_headers(app, console_as, api):
    web = app.test_client()
    for response in (web.get("/come-back"), web.get("/login"), console_as("viewer").get("/"),
                     api.get("/api/v1/cohorts"), web.get("/healthz")):
        directives = dict(d.strip().split(" ", 1) for d in
                          response.headers["Content-Security-Policy"].split(";"))
        assert directives["script-src"] == "'self'"
        assert directives["frame-ancestors"] == "'none'"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"


def test_pages_with_a_secret_in_their_address_send_no_referrer(app, build, clock):
    from calendars import tokens

    client = build.client()
    build.enroll(client, build.cohort())
    token = tokens.issue("client", client.id, clock())
    response = app.test_client().get(f"/me/{token}")
    assert response.status_code == 200
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "onclick" not in response.get_data(as_text=True)


def test_https_answers_carry_hsts(app):
    response = app.test_client().get("/healthz", base_url="https://regroup.test")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_a_body_over_the_limit_is_refused_even_when_chunked(app, api):
    app.config["MAX_CONTENT_LENGTH"] = 4096
    big = b'{"name": "' + b"x" * 10_000 + b'"}'
    sized = api.post("/api/v1/tracks", data=big, headers={"Content-Type": "application/json"})
    chunked = api.post("/api/v1/tracks", input_stream=io.BytesIO(big),
                       headers={"Content-Type": "application/json",
                                "Transfer-Encoding": "chunked"},
                       environ_overrides={"wsgi.input_terminated": True})
    assert (sized.status_code, chunked.status_code) == (413, 413)


def test_health_answers_503_when_the_database_accepts_but_never_answers(database_url):
    with silent_server() as port:
        app = create_app({"SQLALCHEMY_DATABASE_URI":
                          f"postgresql+psycopg://nobody@127.0.0.1:{port}/nothing",
                          "TESTING": True, "SECRET_KEY": "x", "HEALTH_BUDGET_SECONDS": 0.5})
        response = app.test_client().get("/healthz")
        assert response.status_code == 503
        assert response.get_json() == {"status": "unavailable", "database": "not answering"}


def test_reading_notifications_and_forming_groups_is_audited(api, db):
    for path in ("/api/v1/notifications", "/api/v1/forming-cohorts"):
        assert api.get(path).status_code == 200
    entities = [str(e.detail) for e in db.session.scalars(sa.select(AuditEvent))]
    assert any("/api/v1/notifications" in d for d in entities)
    assert any("/api/v1/forming-cohorts" in d for d in entities)


def test_the_demo_is_refused_in_production(app):
    app.config["REGROUP_ENV"] = "production"
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code != 0 and "not loaded in production" in result.output


def test_the_limiter_runs_on_every_address_but_those_polled_all_day(database_url, make_app):
    from unittest import mock

    from flask_limiter import Limiter

    with mock.patch.object(Limiter, "_check_request_limit", autospec=True) as check:
        app = make_app({"SQLALCHEMY_DATABASE_URI": database_url})
        web = app.test_client()
        for path in ("/healthz", "/feeds/not-a-token.ics"):
            web.get(path)
        assert check.call_count == 0
        web.get("/come-back")
        assert check.call_count == 1
