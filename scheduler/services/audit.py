"""The audit trail: who read or changed which record, when, from where.

``stage`` hands a row to the next commit of the session, so a write and its
audit row commit together (or not at all): the API and the console stage before
they call a use case, and the use case's one commit carries the row; a read's
row is committed when the request ends (``commit_staged``). Audit rows are
append-only: the ORM refuses to update or delete one (``AuditEventsAreAppendOnly``),
and on PostgreSQL a trigger from migration 0006 refuses raw SQL too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from scheduler.models import AuditEvent, db

ACTIONS = ("read", "create", "update", "delete", "sign_in", "sign_in_refused", "sign_out",
           "password_set")


class AuditEventsAreAppendOnly(RuntimeError):
    """Raised when code tries to change or remove an audit row."""


STAGED = "regroup.staged_audit"
MADE = "regroup.made_while_staged"


def stage(action: str, entity: str, entity_id: int | None, *, staff_id: int | None,
          ip: str | None, now: datetime, detail: dict[str, Any] | None = None,
          ) -> dict[str, Any]:
    """Hand an audit row to the session's next commit. Returns the staged item;
    its ``written`` turns true when the row joined a commit. An ``entity_id`` of
    None is filled with the id of the first ``entity`` row that commit creates."""
    item = {"action": action, "entity": entity, "entity_id": entity_id,
            "staff_id": staff_id, "ip": (ip or "")[:64] or None, "at": now,
            "detail": detail or {}, "written": False}
    db.session.info.setdefault(STAGED, []).append(item)
    return item


def commit_staged() -> None:
    """Commit the audit rows still staged (the end of a request). When nothing else
    in the session changed, as on every read, they go in as one plain INSERT and
    the commit leaves the rows the page loaded alone: the unit of work would look
    over each of them and expire them all, about a millisecond of every page. Any
    other change commits with them, as on every commit."""
    session = db.session()  # the request's Session itself, not its scoped proxy
    staged = session.info.get(STAGED)
    if not staged:
        return
    if session.new or session.dirty or session.deleted:
        session.commit()
        return
    session.info.pop(STAGED)
    session.info.pop(MADE, None)
    session.execute(sa.insert(AuditEvent), [
        {"at": item["at"], "staff_id": item["staff_id"], "action": item["action"],
         "entity": item["entity"], "entity_id": item["entity_id"], "ip": item["ip"],
         "detail": item["detail"]} for item in staged])
    keep, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = keep
    for item in staged:
        item["written"] = True


def unstage() -> None:
    """Forget staged rows no commit carried (the request they belong to ended)."""
    db.session.info.pop(STAGED, None)
    db.session.info.pop(MADE, None)


@event.listens_for(Session, "after_flush")
def _note_made(session: Session, _context) -> None:
    """While an audit row is staged, remember the rows each flush creates (the
    staged row's ``entity_id`` may be one of them)."""
    if session.info.get(STAGED):
        session.info.setdefault(MADE, []).extend(
            obj for obj in session.new if hasattr(obj, "__tablename__"))


@event.listens_for(Session, "before_commit")
def _write_staged(session: Session) -> None:
    staged = session.info.pop(STAGED, None)
    if not staged:
        return
    session.flush()
    made = session.info.pop(MADE, [])
    for item in staged:
        entity_id = item["entity_id"]
        if entity_id is None:
            entity_id = next((obj.id for obj in made
                              if obj.__tablename__ == item["entity"]), None)
        session.add(AuditEvent(at=item["at"], staff_id=item["staff_id"],
                               action=item["action"], entity=item["entity"],
                               entity_id=entity_id, ip=item["ip"], detail=item["detail"]))
        item["written"] = True
    session.flush()


@event.listens_for(Session, "after_rollback")
def _drop_staged(session: Session) -> None:
    session.info.pop(STAGED, None)
    session.info.pop(MADE, None)


@event.listens_for(Session, "before_flush")
def _refuse_changes(session: Session, _context, _instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted
                                            or session.is_modified(obj)):
            raise AuditEventsAreAppendOnly("Audit events cannot be changed or deleted")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(state) -> None:
    if not (state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    if mapper is not None and mapper.class_ is AuditEvent:
        raise AuditEventsAreAppendOnly("Audit events cannot be changed or deleted")
