"""The audit trail: who read or changed which record, when, from where.

``record`` is the only way in. Audit rows are append-only: the ORM refuses to
update or delete one (``AuditEventsAreAppendOnly``), and on PostgreSQL a trigger
from migration 0006 refuses raw SQL too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from scheduler.models import AuditEvent, db

ACTIONS = ("read", "create", "update", "delete", "sign_in", "sign_in_refused", "sign_out",
           "password_set")


class AuditEventsAreAppendOnly(RuntimeError):
    """Raised when code tries to change or remove an audit row."""


def record(action: str, entity: str, entity_id: int | None, *, staff_id: int | None,
           ip: str | None, now: datetime, detail: dict[str, Any] | None = None,
           commit: bool = True) -> AuditEvent:
    """Append one audit event. ``commit=False`` leaves it in the caller's transaction."""
    row = AuditEvent(at=now, staff_id=staff_id, action=action, entity=entity,
                     entity_id=entity_id, ip=(ip or "")[:64] or None, detail=detail or {})
    db.session.add(row)
    if commit:
        db.session.commit()
    return row


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
