"""The audit trail is append-only: the app cannot change a row, nor can raw SQL on
PostgreSQL."""

import pytest
import sqlalchemy as sa

from scheduler.models import AuditEvent, Client
from scheduler.services import audit


def _one(db, clock):
    audit.stage("read", "client", 7, staff_id=None, ip="127.0.0.1", now=clock())
    audit.commit_staged()
    row = db.session.scalars(sa.select(AuditEvent)).one()
    db.session.commit()  # no read left open: raw SQL from another connection goes through
    return row


def test_a_read_commits_its_audit_row_and_leaves_what_the_page_loaded_as_it_was(
        db, build, clock):
    client = build.client("Dana Example")
    db.session.commit()
    loaded = db.session.get(Client, client.id)
    item = audit.stage("read", "client", None, staff_id=None, ip=None, now=clock())
    audit.commit_staged()
    assert item["written"]
    row = db.session.scalars(sa.select(AuditEvent)).one()
    assert (row.action, row.entity, row.entity_id) == ("read", "client", None)
    assert "name" in loaded.__dict__  # not expired: no reload of every row a page showed
    audit.commit_staged()  # nothing staged: nothing more written
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 1


def test_a_change_left_in_the_session_commits_together_with_the_staged_row(
        db, build, clock):
    client = build.client("Dana Example")
    db.session.commit()
    db.session.get(Client, client.id).name = "Dana Renamed"
    audit.stage("update", "client", client.id, staff_id=None, ip=None, now=clock())
    audit.commit_staged()
    db.session.expire_all()
    assert db.session.get(Client, client.id).name == "Dana Renamed"
    assert db.session.scalars(sa.select(AuditEvent.action)).all() == ["update"]


def test_recording_an_event_stores_who_what_which_record_when_and_from_where(db, clock):
    _one(db, clock)
    row = db.session.scalars(sa.select(AuditEvent)).one()
    assert (row.action, row.entity, row.entity_id, row.ip, row.at) == (
        "read", "client", 7, "127.0.0.1", clock())


def test_the_orm_refuses_to_update_an_audit_event(db, clock):
    row = _one(db, clock)
    row.action = "update"
    with pytest.raises(audit.AuditEventsAreAppendOnly):
        db.session.commit()
    db.session.rollback()
    assert db.session.scalars(sa.select(AuditEvent.action)).one() == "read"


def test_the_orm_refuses_to_delete_an_audit_event(db, clock):
    row = _one(db, clock)
    db.session.delete(row)
    with pytest.raises(audit.AuditEventsAreAppendOnly):
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 1


def test_a_bulk_orm_update_of_audit_events_is_refused(db, clock):
    _one(db, clock)
    with pytest.raises(audit.AuditEventsAreAppendOnly):
        db.session.execute(sa.update(AuditEvent).values(action="update"))
    db.session.rollback()


def test_a_bulk_orm_delete_of_audit_events_is_refused(db, clock):
    _one(db, clock)
    with pytest.raises(audit.AuditEventsAreAppendOnly):
        db.session.execute(sa.delete(AuditEvent))
    db.session.rollback()


def test_postgresql_refuses_a_raw_sql_update_of_an_audit_event(db, clock):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the database trigger exists on PostgreSQL only")
    _one(db, clock)
    with db.engine.connect() as conn, pytest.raises(sa.exc.DBAPIError, match="append-only"):
        conn.execute(sa.text("UPDATE audit_event SET action = 'update'"))
    assert db.session.scalars(sa.select(AuditEvent.action)).one() == "read"


def test_postgresql_refuses_a_raw_sql_delete_of_an_audit_event(db, clock):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the database trigger exists on PostgreSQL only")
    _one(db, clock)
    with db.engine.connect() as conn, pytest.raises(sa.exc.DBAPIError, match="append-only"):
        conn.execute(sa.text("DELETE FROM audit_event"))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 1


def test_postgresql_refuses_truncating_the_audit_trail(db, clock):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the database trigger exists on PostgreSQL only")
    _one(db, clock)
    with db.engine.connect() as conn, pytest.raises(sa.exc.DBAPIError, match="append-only"):
        conn.execute(sa.text("TRUNCATE audit_event"))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 1
