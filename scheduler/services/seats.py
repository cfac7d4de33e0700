"""The one place every freed seat is announced.

Withdrawal, completion, a move, a released pause hold, staff removal, a raised
capacity and a cohort opening all call ``seat_freed`` inside their own
transaction, so the offer (if anyone waits) commits together with the change.
"""

from __future__ import annotations

from datetime import datetime


def seat_freed(cohort_id: int, now: datetime) -> None:
    from scheduler.services.waitlist import offer_free_seats

    offer_free_seats(cohort_id, now)
