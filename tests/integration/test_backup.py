"""`flask backup PATH` / `restore PATH`: a consistent snapshot and the way back, on the
database the suite runs on (a scratch database of its own, never the shared one)."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade
from sqlalchemy.engine import make_url

from scheduler.app import create_app
from scheduler.models import Client, db
from scheduler.services.clients import create_client
from scheduler.services.staff import create_staff

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
PG_URL = os.environ.get("REGROUP_TEST_DATABASE_URL")


@pytest.fixture
def scratch_url(tmp_path):
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'live.sqlite3'}"
        return
    name = f"regroup_backup_{os.getpid()}"
    admin = sa.create_engine(make_url(PG_URL).set(database="postgres"),
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def names() -> list[str]:
    return sorted(db.session.scalars(sa.select(Client.name)))


def test_a_backup_restores_exactly_what_was_there_when_it_was_taken(scratch_url, tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": scratch_url, "TESTING": True})
    runner = app.test_cli_runner()
    snapshot = tmp_path / "regroup.backup"
    with app.app_context():
        upgrade(x_arg=["quiet"])
        create_client({"name": "Kept Person", "email": "kept@example.org"}, NOW)
        made = runner.invoke(args=["backup", str(snapshot)])
        assert made.exit_code == 0, made.output
        assert "Backed up" in made.output and snapshot.stat().st_size > 0
        create_client({"name": "Later Person", "email": "later@example.org"}, NOW)
        db.session.execute(sa.update(Client).where(Client.name == "Kept Person")
                           .values(name="Renamed Person"))
        db.session.commit()
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()  # the app is stopped before a restore
        refused = runner.invoke(args=["restore", str(snapshot)], input="n\n")
        assert refused.exit_code != 0
        restored = runner.invoke(args=["restore", str(snapshot), "--yes"])
        assert restored.exit_code == 0, restored.output
        assert "Restored" in restored.output
        assert names() == ["Kept Person"]
        # the restored database is a working one: writes go on
        create_client({"name": "After Person", "email": "after@example.org"}, NOW)
        assert names() == ["After Person", "Kept Person"]
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


def test_a_backup_never_overwrites_a_file_and_restore_refuses_what_is_not_a_backup(
        scratch_url, tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": scratch_url, "TESTING": True})
    runner = app.test_cli_runner()
    existing = tmp_path / "exists.backup"
    existing.write_text("keep me")
    with app.app_context():
        upgrade(x_arg=["quiet"])
        again = runner.invoke(args=["backup", str(existing)])
        assert again.exit_code != 0 and "exists" in again.output
        assert existing.read_text() == "keep me"
        bogus = runner.invoke(args=["restore", str(existing), "--yes"])
        assert bogus.exit_code != 0
        assert "failed" in bogus.output or "not a" in bogus.output
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Client)) == 0
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


def test_a_downgrade_that_would_drop_data_refuses_unless_forced(scratch_url, caplog):
    app = create_app({"SQLALCHEMY_DATABASE_URI": scratch_url, "TESTING": True})
    with app.app_context():
        upgrade(x_arg=["quiet"])
        downgrade(revision="0013", x_arg=["quiet"])  # 0014's columns hold nothing yet
        upgrade(x_arg=["quiet"])
        create_staff("s@example.org", "admin", NOW)  # has a session version
        db.session.remove()
        with pytest.raises(SystemExit):  # Flask-Migrate logs the refusal and exits 1
            downgrade(revision="0013", x_arg=["quiet"])
        assert "would drop data in api_token.expires_at, staff_user.session_version" in (
            caplog.text)
        db.session.remove()
        assert "session_version" in {
            c["name"] for c in sa.inspect(db.engine).get_columns("staff_user")}
        downgrade(revision="0013", x_arg=["quiet", "force"])
        assert "session_version" not in {
            c["name"] for c in sa.inspect(db.engine).get_columns("staff_user")}
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()
