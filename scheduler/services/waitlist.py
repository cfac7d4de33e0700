"""Waitlist use cases. The waitlist work completes this module; the foundation
provides joining a waitlist and the one place every freed seat goes."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from scheduler.errors import AlreadyWaiting
from scheduler.models import Client, WaitlistEntry, db
from scheduler.services.common import get, lock_cohort


def join_waitlist(client_id: int, cohort_id: int, now: datetime, *, priority: int = 0,
                  return_request_id: int | None = None, commit: bool = True,
                  ) -> WaitlistEntry:
    """Put a client in line for a cohort (priority tier, then request time)."""
    get(Client, client_id, "Client")
    lock_cohort(cohort_id)
    live = db.session.scalar(sa.select(WaitlistEntry.id).where(
        WaitlistEntry.client_id == client_id, WaitlistEntry.cohort_id == cohort_id,
        WaitlistEntry.status.in_(("waiting", "offered"))))
    if live is not None:
        raise AlreadyWaiting("This client is already waiting for this group")
    entry = WaitlistEntry(client_id=client_id, cohort_id=cohort_id, priority=priority,
                          requested_at=now, return_request_id=return_request_id,
                          created_at=now, updated_at=now)
    db.session.add(entry)
    db.session.flush()
    if commit:
        db.session.commit()
    return entry


def offer_free_seats(cohort_id: int, now: datetime) -> list:
    """Offer each free seat of a cohort to the next in line. Returns the offers made."""
    return []
