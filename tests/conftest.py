"""Shared fixtures: a migrated database (SQLite, or PostgreSQL when
REGROUP_TEST_DATABASE_URL is set), an app per test with a controllable clock,
and API clients signed in with each role."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

PG_URL = os.environ.get("REGROUP_TEST_DATABASE_URL")


class Clock:
    """A clock the test moves by hand: ``clock()`` is ``now``."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> datetime:
        self.now = self.now + timedelta(**delta)
        return self.now

    def set(self, now: datetime) -> datetime:
        self.now = now
        return now


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """A database migrated to head once per test run."""
    from flask_migrate import upgrade

    from scheduler.app import create_app
    from scheduler.models import db

    if PG_URL:
        engine = sa.create_engine(PG_URL)
        try:
            with engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA public CASCADE"))
                conn.execute(sa.text("CREATE SCHEMA public"))
        except sa.exc.OperationalError as exc:
            pytest.exit(f"PostgreSQL at {PG_URL} is not reachable: {exc}", returncode=3)
        finally:
            engine.dispose()
        url = PG_URL
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'regroup.sqlite3'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    with app.app_context():
        upgrade()
        for engine in db.engines.values():
            engine.dispose()
    return url


def _empty_all_tables(db) -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        # the audit trail refuses TRUNCATE (a trigger); a scratch test database is
        # emptied on purpose, as a superuser, with triggers set aside for this statement
        db.session.execute(sa.text("SET LOCAL session_replication_role = replica"))
        db.session.execute(sa.text(
            "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(sa.text(f'DELETE FROM "{table}"'))
    db.session.commit()


@pytest.fixture
def clock() -> Clock:
    # Mon 2026-11-30 10:00 in Boston
    return Clock(datetime(2026, 11, 30, 15, 0, tzinfo=UTC))


@pytest.fixture
def app(database_url, clock):
    from scheduler.app import create_app
    from scheduler.models import db

    app = create_app({
        "SQLALCHEMY_DATABASE_URI": database_url,
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "CLOCK": clock,
        "PUBLIC_BASE_URL": "https://regroup.test",
    })
    with app.app_context():
        _empty_all_tables(db)
        yield app
    close_app(app)


def close_app(app) -> None:
    """Close what an app opened: the feed watch's listening connection and every pooled
    connection (PostgreSQL warns of a connection dropped while open)."""
    from scheduler.models import db

    app.extensions["feed_watch"].close()
    with app.app_context():
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


@pytest.fixture
def make_app():
    """``make_app(config)``: an app of the test's own settings, closed after it."""
    from scheduler.app import create_app

    made = []

    def make(config: dict):
        made.append(create_app({"TESTING": True, "SECRET_KEY": "test-secret", **config}))
        return made[-1]

    yield make
    for app in made:
        close_app(app)


@pytest.fixture
def db(app):
    from scheduler.models import db

    return db


@pytest.fixture
def policy(app):
    return app.config["POLICY"]


@pytest.fixture
def build(app, clock):
    from tests.builders import Builder

    return Builder(app, clock)


class ApiClient:
    """The Flask test client with a staff bearer token on every request."""

    def __init__(self, client, token: str):
        self.client, self.token = client, token

    def _headers(self, kwargs):
        headers = dict(kwargs.pop("headers", {}) or {})
        headers.setdefault("Authorization", f"Bearer {self.token}")
        return headers

    def __getattr__(self, method):
        if method not in {"get", "post", "put", "patch", "delete", "head", "options", "trace"}:
            raise AttributeError(method)

        def call(path, **kwargs):
            return getattr(self.client, method)(path, headers=self._headers(kwargs), **kwargs)

        return call


@pytest.fixture
def api_as(app, clock):
    """``api_as("viewer")`` gives an API client signed in with that role."""
    from scheduler.services.staff import create_staff

    made = {}

    def make(role: str = "coordinator") -> ApiClient:
        if role not in made:
            _, token = create_staff(f"{role}@staff.test", role, clock())
            made[role] = ApiClient(app.test_client(), token)
        return made[role]

    return make


@pytest.fixture
def api(api_as) -> ApiClient:
    return api_as("coordinator")
