"""Pure rule: when a check-in may be booked or recorded as done.

A check-in is never before the person asked to come back; one still to happen is
booked at a time that has not passed; "done" is recorded only once its time has
come. (A check-in that already happened is recorded as done, with its real time.)
"""

from __future__ import annotations

from datetime import datetime, timedelta

from scheduler.timeutil import as_utc

GRACE = timedelta(minutes=5)  # typing a time on the hour a few minutes late is fine


def refusal(at: datetime, status: str, requested_at: datetime,
            now: datetime) -> tuple[str, str] | None:
    """(field, message) when this check-in cannot be saved as it is, else None."""
    at, requested_at, now = as_utc(at), as_utc(requested_at), as_utc(now)
    if at < requested_at - GRACE:
        return "at", "A check-in cannot come before they asked to come back"
    if status == "done" and at > now + GRACE:
        return "status", "It can be marked done once it has happened"
    if status == "booked" and at < now - GRACE:
        return "at", "Choose a time that has not passed (or mark it done if it happened)"
    return None
