"""Pure rules: nobody waiting to be back in a group falls out of sight.

A person is waiting from "I'd like to come back" until their first group session,
unless they are seated somewhere (an active enrollment) or their request was
closed. They hear from the program at least every ``waiting_note_days``, counted
from the last message they got (or from asking), in daytime hours; staff see
everyone who has waited longer than ``waiting_alert_days``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from scheduler.config import Policy
from scheduler.timeutil import PROGRAM_TZ, as_utc


def is_waiting(status: str, first_attended_at: datetime | None, seated_now: bool) -> bool:
    return status in ("open", "placed") and first_attended_at is None and not seated_now


def weekly_note_due(requested_at: datetime, last_heard_at: datetime | None, now: datetime,
                    policy: Policy, tz=PROGRAM_TZ) -> bool:
    """Whether a waiting person should get a note now: ``waiting_note_days`` since the
    last message they got (or since they asked), and within the daytime hours."""
    start, end = policy.waiting_note_hours
    if not start <= now.astimezone(tz).hour < end:
        return False
    since = max(as_utc(requested_at), as_utc(last_heard_at) if last_heard_at else
                as_utc(requested_at))
    return as_utc(now) - since >= timedelta(days=policy.waiting_note_days)


def long_wait_since(now: datetime, policy: Policy) -> datetime:
    """Whoever asked before this instant has waited too long (``waited_too_long``)."""
    return as_utc(now) - timedelta(days=policy.waiting_alert_days)


def waited_too_long(requested_at: datetime, now: datetime, policy: Policy) -> bool:
    return as_utc(requested_at) < long_wait_since(now, policy)
