"""Helpers every use case shares: loading by id, locking a cohort, counting seats."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

import sqlalchemy as sa

from scheduler.errors import NotFound
from scheduler.models import Cohort, Enrollment, SeatOffer, db

T = TypeVar("T")


def get(model: type[T], ident: int, what: str | None = None, field: str | None = None) -> T:
    """The row, or NotFound (404) naming ``field`` when the id came from a request body."""
    row = db.session.get(model, ident)
    if row is None:
        raise NotFound(f"{what or model.__name__} {ident} was not found", field=field)
    return row


def lock_cohort(cohort_id: int) -> Cohort:
    """Load a cohort and hold its row lock until commit.

    On PostgreSQL this is ``SELECT ... FOR UPDATE``; on SQLite every write
    transaction already begins IMMEDIATE, so the whole database is held. Either
    way two seat-takers for one cohort run one after the other.
    """
    cohort = db.session.execute(
        sa.select(Cohort).where(Cohort.id == cohort_id).with_for_update()
    ).scalar_one_or_none()
    if cohort is None:
        raise NotFound(f"Cohort {cohort_id} was not found", field="cohort_id")
    return cohort


def seats_taken(cohort_id: int, now: datetime) -> int:
    """Active enrollments, paused ones still holding their seat, and open offers."""
    enrolled = db.session.scalar(
        sa.select(sa.func.count()).select_from(Enrollment).where(
            Enrollment.cohort_id == cohort_id,
            sa.or_(
                Enrollment.status == "active",
                sa.and_(Enrollment.status == "paused", Enrollment.hold_until > now),
            ),
        )
    )
    offered = db.session.scalar(
        sa.select(sa.func.count()).select_from(SeatOffer).where(
            SeatOffer.cohort_id == cohort_id, SeatOffer.status == "open"
        )
    )
    return int(enrolled or 0) + int(offered or 0)


def seats_by_cohort(now: datetime) -> dict[int, dict[str, int]]:
    """{cohort_id: {"enrolled", "held", "offered"}} for every cohort in one pass each."""
    counts: dict[int, dict[str, int]] = {}

    def bucket(cid: int) -> dict[str, int]:
        return counts.setdefault(cid, {"enrolled": 0, "held": 0, "offered": 0})

    rows = db.session.execute(
        sa.select(Enrollment.cohort_id, Enrollment.status, sa.func.count())
        .where(sa.or_(Enrollment.status == "active",
                      sa.and_(Enrollment.status == "paused", Enrollment.hold_until > now)))
        .group_by(Enrollment.cohort_id, Enrollment.status)
    )
    for cid, status, n in rows:
        bucket(cid)["enrolled" if status == "active" else "held"] += n
    rows = db.session.execute(
        sa.select(SeatOffer.cohort_id, sa.func.count())
        .where(SeatOffer.status == "open").group_by(SeatOffer.cohort_id)
    )
    for cid, n in rows:
        bucket(cid)["offered"] += n
    return counts
