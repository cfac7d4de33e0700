"""The application factory: config, extensions, blueprints, errors, CLI."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask
from flask_migrate import Migrate
from sqlalchemy import event

from blueprints import register_blueprints
from scheduler import reads
from scheduler.cli import register_cli
from scheduler.config import from_environment, policy_from_environment
from scheduler.jobs import maybe_start_in_web
from scheduler.models import db
from scheduler.services import feed_stamps, report_stamps  # noqa: F401  (stamped on commit)
from scheduler.timeutil import utcnow

ROOT = Path(__file__).resolve().parent.parent
migrate = Migrate()


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app. ``overrides`` (tests, scripts) win over the environment.

    Useful overrides: ``SQLALCHEMY_DATABASE_URI``, ``CLOCK`` (a zero-argument
    callable giving an aware UTC ``now``), ``POLICY`` (a ``Policy``).
    """
    app = Flask("regroup", instance_path=str(ROOT / "instance"),
                template_folder=str(ROOT / "blueprints" / "templates"),
                static_folder=str(ROOT / "blueprints" / "static"))
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(from_environment(app.instance_path))
    app.config.update(
        SQLALCHEMY_ENGINE_OPTIONS={},
        CLOCK=utcnow,
        POLICY=policy_from_environment(),
        API_TITLE="Regroup staff API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        JSON_SORT_KEYS=False,
    )
    if overrides:
        app.config.update(overrides)
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgresql://"):
        uri = app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + uri[13:]
    if uri.startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "connect_args": {"timeout": 30, "check_same_thread": False},
            **app.config["SQLALCHEMY_ENGINE_OPTIONS"],
        }
    else:
        # a database that stops answering must not hang a worker for ever
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "pool_pre_ping": True,
            "connect_args": {"connect_timeout": app.config["DATABASE_CONNECT_TIMEOUT"],
                             "options": _session_settings(app.config)},
            **app.config["SQLALCHEMY_ENGINE_OPTIONS"]}

    app.config["SQLALCHEMY_BINDS"] = {
        reads.BIND: {"url": app.config["SQLALCHEMY_DATABASE_URI"],
                     **reads.engine_options(app.config["SQLALCHEMY_ENGINE_OPTIONS"])},
        **app.config.get("SQLALCHEMY_BINDS", {})}
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True,
                     compare_type=True)
    if uri.startswith("sqlite"):
        with app.app_context():
            _sqlite_hooks(db.engine)

    register_blueprints(app)
    register_cli(app, create_app)
    if app.config.get("RUN_JOBS_IN_WEB") and not app.testing:
        maybe_start_in_web(app)
    return app


def _session_settings(config) -> str:
    """PostgreSQL settings each connection starts with: the longest a statement may
    run, and (unless set empty) the planner's cost of a random page read."""
    settings = [f"-c statement_timeout={int(config['DATABASE_STATEMENT_TIMEOUT_MS'])}"]
    cost = str(config.get("DATABASE_RANDOM_PAGE_COST") or "").strip()
    if cost:
        try:
            settings.append(f"-c random_page_cost={float(cost)}")
        except ValueError:
            raise RuntimeError(f"DATABASE_RANDOM_PAGE_COST must be a number, not {cost!r}"
                               ) from None
    return " ".join(settings)


def _sqlite_hooks(engine) -> None:
    """WAL, foreign keys, and BEGIN IMMEDIATE (SQLAlchemy's documented pysqlite recipe),
    so concurrent seat-takers wait their turn instead of failing on upgrade."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
