"""The outbox: every message is a Notification row, planned in the same transaction
as the change that causes it. The job runner sends them (see the reminders work).

``queue`` is what other use cases call; it never commits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from scheduler.models import Client, Notification, db


def channels_for(client: Client) -> list[tuple[str, str]]:
    """(channel, recipient) pairs this client can be reached on and has not stopped."""
    out = []
    for channel in client.reminder_channels or ["email"]:
        if channel == "email" and client.email and not client.email_opt_out:
            out.append(("email", client.email))
        elif channel == "sms" and client.phone and not client.sms_opt_out:
            out.append(("sms", client.phone))
    if not out:  # a message the client must get (an offer) falls back to any address
        if client.email and not client.email_opt_out:
            out.append(("email", client.email))
        elif client.phone and not client.sms_opt_out:
            out.append(("sms", client.phone))
    return out


def message_key(kind: str, subject_ref: str, client_id: int, channel: str,
                occurrence: str) -> str:
    return f"{kind}:{subject_ref}:{client_id}:{channel}:{occurrence}"


def queue(kind: str, client: Client, *, subject_ref: str, occurrence: str, due_at: datetime,
          now: datetime, payload: dict[str, Any] | None = None,
          expires_at: datetime | None = None) -> list[Notification]:
    """Plan one message per reachable channel; planning the same key twice adds nothing.

    ``kind`` names the template (reminder, offer, cancellation, welcome_back, ...);
    ``subject_ref`` the record it is about ("group_session:12"); ``occurrence``
    tells apart messages about the same record (the reminder's lead time, the
    offer's id, the session's revision).
    """
    made = []
    for channel, recipient in channels_for(client):
        key = message_key(kind, subject_ref, client.id, channel, occurrence)
        exists = db.session.scalar(sa.select(Notification.id).where(Notification.key == key))
        if exists is not None:
            continue
        row = Notification(key=key, kind=kind, client_id=client.id, channel=channel,
                           recipient=recipient, subject_ref=subject_ref,
                           payload=payload or {}, due_at=due_at, expires_at=expires_at,
                           status="pending", created_at=now, updated_at=now)
        db.session.add(row)
        made.append(row)
    db.session.flush()
    return made
