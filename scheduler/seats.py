"""Pure seat rules: what holds a seat, how many are free, the closed-group joining
window, and how credit carries. Values in, values out: no database, no Flask.
``scheduler/services/seats.py`` applies them under the cohort's lock."""

from __future__ import annotations

from datetime import date, datetime


def holds_seat(status: str, hold_until: datetime | None, now: datetime) -> bool:
    """An active enrollment holds a seat; a paused one only while its hold lasts."""
    return status == "active" or (status == "paused" and hold_until is not None
                                  and hold_until > now)


def seats_free(capacity: int, taken: int) -> int:
    """Seats nobody holds: never negative, even if capacity was lowered by hand."""
    return max(capacity - taken, 0)


def closed_window_open(last_session_to_join: date | None, day: date) -> bool:
    """A closed cohort takes people only until its ``closed_join_until_session``-th
    scheduled group session has begun (``last_session_to_join``, its day; None when
    the cohort has fewer scheduled sessions than that)."""
    return last_session_to_join is None or day < last_session_to_join


def carried_credit(done_here: int, agreed: int) -> int:
    """The credit to add to an enrollment so that its sessions done (attended there
    plus credited) reach ``agreed``: credit carries and never goes down."""
    return max(agreed - done_here, 0)
