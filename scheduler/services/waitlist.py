"""Waitlist use cases. The waitlist work fills this in; the foundation only needs
``offer_free_seats`` to exist so every freed seat has one place to go."""

from __future__ import annotations

from datetime import datetime


def offer_free_seats(cohort_id: int, now: datetime) -> list:
    """Offer each free seat of a cohort to the next in line. Returns the offers made."""
    return []
