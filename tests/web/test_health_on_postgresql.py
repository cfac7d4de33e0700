"""/healthz on PostgreSQL: one round trip, timed in the worker's own thread when a
pooled connection is at hand (issue 15: every check used to hand its round trip
to a probe thread), still answering 503 at its deadline when the database hangs,
and replacing a connection the server dropped."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from scheduler import reads
from tests.conftest import PG_URL
from tests.trickle import freezable_proxy

pytestmark = pytest.mark.skipif(not PG_URL, reason="checked on PostgreSQL")


def app_on(make_app, url):
    return make_app({"SQLALCHEMY_DATABASE_URI": str(url), "HEALTH_BUDGET_SECONDS": 0.5})


def test_a_database_that_stops_answering_after_connecting_gets_a_503_at_the_deadline(make_app):
    real = sa.engine.make_url(PG_URL)
    with freezable_proxy(real.port or 5432) as (port, frozen):
        app = app_on(make_app, real.set(host="127.0.0.1", port=port).render_as_string(False))
        web = app.test_client()
        assert web.get("/healthz").status_code == 200  # a connection now waits in the pool
        frozen.set()
        response = web.get("/healthz")
        assert response.status_code == 503
        assert response.get_json() == {"status": "unavailable", "database": "not answering"}


def test_with_a_pooled_connection_the_check_needs_no_probe_thread(make_app, monkeypatch):
    web = app_on(make_app, PG_URL).test_client()
    assert web.get("/healthz").status_code == 200

    def no_thread(*args, **kwargs):
        raise AssertionError("the probe thread was used")

    monkeypatch.setattr(reads._probes, "submit", no_thread)
    assert [web.get("/healthz").status_code for _ in range(3)] == [200, 200, 200]


def test_a_pooled_connection_the_server_dropped_is_replaced_and_the_check_passes(make_app):
    app = app_on(make_app, PG_URL)
    web = app.test_client()
    assert web.get("/healthz").status_code == 200
    with app.app_context():  # the pooled connection's server process
        [pid] = reads.fetch_one("SELECT pg_backend_pid()")
    killer = sa.create_engine(PG_URL)
    with killer.connect() as connection:
        connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    killer.dispose()
    assert web.get("/healthz").status_code == 200
