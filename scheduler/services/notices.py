"""Telling a person where they stand, at every step of coming back.

Seated (by placement, an accepted offer, a group opening or a merge), waiting in
line: one message each, on the channel their request came in by, with when,
where, who to contact and their calendar link. Queued in the caller's
transaction (the outbox row commits with the seat) and keyed, so telling twice
sends once.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from scheduler.models import (
    Client,
    Cohort,
    Enrollment,
    GroupSession,
    Notification,
    ReturnRequest,
    WaitlistEntry,
    db,
)
from scheduler.services import feed_tokens, outbox

DEVELOPMENT_FEED_KEY = "regroup-development-feed-uids"


def feed_key() -> str:
    """The key calendar links are made under (``FEED_UID_KEY`` of the app)."""
    from flask import current_app, has_app_context

    if has_app_context():
        return current_app.config["FEED_UID_KEY"]
    return DEVELOPMENT_FEED_KEY


def routes_for(client: Client, request: ReturnRequest | None) -> list[tuple[str, str]]:
    """(channel, recipient) for a reply about a request: the way they reached us
    (a phone call or a phone-only form gets a text, else an email), never an
    address they did not give for it; without a request, the client's own choices."""
    if request is None:
        return outbox.channels_for(client)
    email = None if client.email_opt_out else request.email
    phone = None if client.sms_opt_out else request.phone
    if phone and (request.channel == "phone" or not email):
        return [("sms", phone)]
    if email:
        return [("email", email)]
    return outbox.channels_for(client)


def _request(return_request_id: int | None) -> ReturnRequest | None:
    return db.session.get(ReturnRequest, return_request_id) if return_request_id else None


def first_session(cohort_id: int, now: datetime, joined_on=None) -> GroupSession | None:
    query = sa.select(GroupSession).where(
        GroupSession.cohort_id == cohort_id, GroupSession.status == "scheduled",
        GroupSession.starts_at > now)
    if joined_on is not None:
        query = query.where(GroupSession.occurs_on >= joined_on)
    return db.session.scalars(query.order_by(GroupSession.starts_at).limit(1)).first()


def tell_seated(enrollment: Enrollment, now: datetime, *,
                return_request_id: int | None = None, occurrence: str = "1",
                ) -> list[Notification]:
    """Queue "you have a seat": group, first session (date and local time), address,
    who to contact, and the calendar link with how to subscribe."""
    client = db.session.get(Client, enrollment.client_id)
    cohort = db.session.get(Cohort, enrollment.cohort_id)
    session = first_session(cohort.id, now, enrollment.joined_on)
    request = _request(return_request_id or enrollment.return_request_id)
    feed_tokens.ensure("client", client.id, now, feed_key())
    return outbox.queue(
        "placed", client, subject_ref=f"enrollment:{enrollment.id}", occurrence=occurrence,
        due_at=now, now=now, to=routes_for(client, request), payload={
            "cohort_id": cohort.id, "enrollment_id": enrollment.id,
            "group_session_id": session.id if session else None,
            "first_session_at": session.starts_at.isoformat() if session else None,
            "feed_link": True,
        })


def tell_waiting(entry: WaitlistEntry, position: int, now: datetime) -> list[Notification]:
    """Queue "you have a place in line": their place and what happens next."""
    client = db.session.get(Client, entry.client_id)
    request = _request(entry.return_request_id)
    return outbox.queue(
        "waitlisted", client, subject_ref=f"waitlist_entry:{entry.id}", occurrence="1",
        due_at=now, now=now, to=routes_for(client, request), payload={
            "cohort_id": entry.cohort_id, "position": position,
            "waitlist_entry_id": entry.id,
        })
