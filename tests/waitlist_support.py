"""Helpers for the waitlist tests: a full group with people in line, and seat counts."""

from __future__ import annotations

import sqlalchemy as sa

from scheduler.models import Cohort, Enrollment, SeatOffer, WaitlistEntry, db
from scheduler.services import waitlist


def full_group_with_line(build, capacity: int = 2, waiting: int = 2, **cohort_kw):
    """A full cohort, its enrollments, and ``waiting`` clients in line (in order)."""
    cohort = build.cohort(capacity=capacity, **cohort_kw)
    seated = [build.enroll(build.client(email=f"seated{n}@example.org"), cohort)
              for n in range(capacity)]
    line = []
    for n in range(waiting):
        client = build.client(email=f"waiting{n}.{cohort.id}@example.org")
        line.append(waitlist.add_to_waitlist(client.id, cohort.id, build.clock()))
        build.clock.advance(minutes=1)
    return cohort, seated, line


def open_offers(cohort_id: int) -> list[SeatOffer]:
    return list(db.session.scalars(sa.select(SeatOffer).where(
        SeatOffer.cohort_id == cohort_id, SeatOffer.status == "open").order_by(SeatOffer.id)))


def token_for(offer: SeatOffer) -> str:
    return waitlist.offer_token(offer.id)


def entry_status(entry_id: int) -> str:
    db.session.expire_all()
    return db.session.get(WaitlistEntry, entry_id).status


def seat_holders(cohort_id: int, now) -> int:
    """Active enrollments + paused ones still holding + open offers."""
    held = db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment).where(
        Enrollment.cohort_id == cohort_id,
        sa.or_(Enrollment.status == "active",
               sa.and_(Enrollment.status == "paused", Enrollment.hold_until > now))))
    return held + len(open_offers(cohort_id))


def capacity(cohort_id: int) -> int:
    return db.session.scalar(sa.select(Cohort.capacity).where(Cohort.id == cohort_id))
