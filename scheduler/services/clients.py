"""Use cases for client records."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from scheduler.errors import InvalidValue
from scheduler.models import Client, Enrollment, FollowUp, Location, Notification, db
from scheduler.services.common import get

EDITABLE = ("name", "email", "phone", "preferred_location_ids", "availability",
            "reminder_minutes", "reminder_channels", "calendar_title", "show_location",
            "program_words_opt_in", "alarm_minutes", "email_opt_out", "sms_opt_out",
            "needs_confirmation")


def email_key(email: str | None) -> str | None:
    """Case-insensitive, trimmed address used for matching; None when blank."""
    email = (email or "").strip().lower()
    return email or None


def phone_key(phone: str | None) -> str | None:
    """Digits only, with a leading US country code dropped: '+1 (617) 555-0100' ->
    '6175550100'. None when it cannot be a phone number: fewer than 7 digits, or
    more than the 15 any number in the world has (E.164)."""
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return digits if 7 <= len(digits) <= 15 else None


def find_by_contact(email: str | None, phone: str | None) -> Client | None:
    """The earliest client whose email or phone matches, normalised."""
    conditions = []
    if email_key(email):
        conditions.append(Client.email_key == email_key(email))
    if phone_key(phone):
        conditions.append(Client.phone_key == phone_key(phone))
    if not conditions:
        return None
    return db.session.scalars(
        sa.select(Client).where(sa.or_(*conditions), Client.merged_into_id.is_(None))
        .order_by(Client.id)).first()


def _apply(client: Client, data: dict[str, Any]) -> None:
    if data.get("email_opt_out") and "email" in (data.get("reminder_channels") or []):
        raise InvalidValue("Email reminders need email: untick “No email at all”, or "
                           "choose text messages", field="reminder_channels")
    for name in EDITABLE:
        if name in data:
            setattr(client, name, data[name])
    if "phone" in data and data["phone"] and phone_key(data["phone"]) is None:
        raise InvalidValue("Enter a phone number of 7 to 15 digits", field="phone")
    client.email_key = email_key(client.email)
    client.phone_key = phone_key(client.phone)
    ids = client.preferred_location_ids or []
    if ids:
        known = set(db.session.scalars(sa.select(Location.id).where(Location.id.in_(ids))))
        missing = [i for i in ids if i not in known]
        if missing:
            raise InvalidValue(f"Unknown location {missing[0]}", field="preferred_location_ids")


def new_client(data: dict[str, Any], now: datetime) -> Client:
    """Add a client record in the caller's transaction (never commits)."""
    client = Client(name=data["name"], created_at=now, updated_at=now)
    _apply(client, data)
    db.session.add(client)
    db.session.flush()
    return client


def create_client(data: dict[str, Any], now: datetime) -> Client:
    client = new_client(data, now)
    db.session.commit()
    return client


def update_client(client_id: int, data: dict[str, Any], now: datetime) -> Client:
    client = get(Client, client_id, "Client")
    _apply(client, data)
    client.updated_at = now
    db.session.commit()
    return client


def enrollments_of(client_id: int) -> list[Enrollment]:
    """A client's enrollments, newest first."""
    get(Client, client_id, "Client")
    return list(db.session.scalars(sa.select(Enrollment).where(
        Enrollment.client_id == client_id).order_by(Enrollment.joined_on.desc(),
                                                    Enrollment.id.desc())))


def messages_of(client_id: int) -> sa.Select:
    """Messages planned or sent to a client, newest first, as a query the caller
    reads a page of (a client in a group for years has hundreds)."""
    get(Client, client_id, "Client")
    return sa.select(Notification).where(Notification.client_id == client_id).order_by(
        Notification.created_at.desc(), Notification.id.desc())


def confirm_client(client_id: int, staff_id: int | None, now: datetime) -> Client:
    """Staff confirmed who a person new from a return request is: the flag clears and
    the "confirm_client" follow-ups are resolved."""
    client = get(Client, client_id, "Client")
    client.needs_confirmation = False
    client.updated_at = now
    for item in db.session.scalars(sa.select(FollowUp).where(
            FollowUp.client_id == client_id, FollowUp.kind == "confirm_client",
            FollowUp.resolved_at.is_(None))):
        item.resolved_at, item.resolved_by, item.updated_at = now, staff_id, now
    db.session.commit()
    return client
