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
from flask import current_app, has_app_context

from scheduler.errors import InvalidValue, NotFound
from scheduler.models import (
    AuditEvent,
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


def send_calendar_link(client_id: int, channel: str, now: datetime, *,
                       staff_id: int | None) -> Notification:
    """Staff send a client their calendar link (and page) by email or SMS. The
    same link each time (made once, shown again); audited. One commit."""
    client = db.session.get(Client, client_id)
    if client is None:
        raise NotFound(f"Client {client_id} was not found")
    address = {"email": client.email, "sms": client.phone}.get(channel)
    if channel not in ("email", "sms"):
        raise InvalidValue("Send by email or sms", field="channel")
    if not address:
        what = "email address" if channel == "email" else "phone number"
        raise InvalidValue(f"There is no {what} on file for this client", field="channel")
    if (client.email_opt_out if channel == "email" else client.sms_opt_out):
        raise InvalidValue(f"This client stopped {channel} messages", field="channel")
    feed_tokens.ensure("client", client.id, now, feed_key())
    [row] = outbox.queue("calendar_link", client, subject_ref=f"client:{client.id}",
                         occurrence=now.strftime("%Y%m%dT%H%M%S%f"), due_at=now, now=now,
                         to=[(channel, address)], payload={"feed_link": True})
    db.session.add(AuditEvent(at=now, staff_id=staff_id, action="calendar_link.send",
                              entity="client", entity_id=client.id,
                              detail={"channel": channel}))
    db.session.commit()
    return row


def tell_forming(member_client: Client, cohort: Cohort, request: ReturnRequest | None,
                 now: datetime) -> list[Notification]:
    """Queue "you have a place in a new group that is forming": where, and that
    they will hear the first date when it opens."""
    return outbox.queue(
        "fresh_joined", member_client, subject_ref=f"cohort:{cohort.id}", occurrence="joined",
        due_at=now, now=now, to=routes_for(member_client, request),
        payload={"cohort_id": cohort.id})
