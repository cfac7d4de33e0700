"""Helpers for the reminders tests (plain functions, no fixtures)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from scheduler.models import GroupSession, Notification, db

FORBIDDEN = ("addiction", "recovery", "substance", "iop", "relapse", "dropped out",
             "failed", "non-compliant", "no-show", "treatment", "rehab")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def rows(**where) -> list[Notification]:
    query = sa.select(Notification).order_by(Notification.due_at, Notification.key)
    for name, value in where.items():
        query = query.where(getattr(Notification, name) == value)
    db.session.expire_all()
    return list(db.session.scalars(query))


def session_at(cohort, starts_at: datetime) -> GroupSession:
    return db.session.scalars(sa.select(GroupSession).where(
        GroupSession.cohort_id == cohort.id, GroupSession.starts_at == starts_at)).one()


def discreet(text: str) -> list[str]:
    """The forbidden words found in ``text`` (case-insensitive, whole words for IOP)."""
    import re

    low = text.lower()
    return [w for w in FORBIDDEN if re.search(rf"\b{re.escape(w)}\b", low)]
