"""Self-booked check-ins: staff publish check-in times, and a person coming back
picks one themselves (from the thank-you page, or the link in their welcome
message), moves it or lets it go. No waiting for a call on a later working day.

The person's link carries their request id, signed with ``SECRET_KEY`` under its
own salt (nothing stored). A time holds ``places`` check-ins; two people taking
the last place at once are served one after the other (the slot's row lock on
PostgreSQL, IMMEDIATE transactions on SQLite).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from scheduler.config import Policy
from scheduler.errors import InvalidTransition, InvalidValue, NoSeatLeft, NotFound
from scheduler.models import (
    CHECKIN_MODES,
    AuditEvent,
    CheckIn,
    CheckInSlot,
    Location,
    ReturnRequest,
    db,
)
from scheduler.security import sign_id, signed_id
from scheduler.services import outbox
from scheduler.services.common import get
from scheduler.services.returns import current_check_in

LINK_SALT = "regroup.check-in"


# --- the person's link -------------------------------------------------------------

def link_token(return_id: int, secret: str) -> str:
    """The secret in a person's "pick a check-in time" link."""
    return sign_id(secret, LINK_SALT, return_id)


def request_for(token: str, secret: str) -> ReturnRequest:
    """The request behind a link; NotFound for a tampered or unknown one."""
    return_id = signed_id(secret, LINK_SALT, token)
    request = db.session.get(ReturnRequest, return_id) if return_id is not None else None
    if request is None:
        raise NotFound("This link is not one we recognise")
    return request


# --- staff publish times -----------------------------------------------------------

def publish_slot(data: dict[str, Any], now: datetime, *, staff_id: int | None) -> CheckInSlot:
    """Publish a check-in time (``starts_at``, ``mode``, ``minutes``, ``places``,
    ``location_id`` for in-person ones). Audited; one commit."""
    if data.get("mode") not in CHECKIN_MODES:
        raise InvalidValue(f"Mode must be one of {', '.join(CHECKIN_MODES)}", field="mode")
    if data["starts_at"] <= now:
        raise InvalidValue("Choose a time that has not passed", field="starts_at")
    location_id = data.get("location_id")
    if location_id is not None:
        get(Location, location_id, "Location", "location_id")
    elif data["mode"] == "in_person":
        raise InvalidValue("Say where an in-person check-in happens", field="location_id")
    slot = CheckInSlot(location_id=location_id, starts_at=data["starts_at"],
                       minutes=data.get("minutes") or 30, mode=data["mode"],
                       places=data.get("places") or 1, staff_id=staff_id, created_at=now,
                       updated_at=now)
    db.session.add(slot)
    db.session.flush()
    db.session.add(AuditEvent(at=now, staff_id=staff_id, action="check_in_slot.publish",
                              entity="check_in_slot", entity_id=slot.id,
                              detail={"starts_at": slot.starts_at.isoformat(),
                                      "mode": slot.mode, "places": slot.places}))
    db.session.commit()
    return slot


def withdraw_slot(slot_id: int, now: datetime, *, staff_id: int | None) -> CheckInSlot:
    """Take a time down. One somebody picked is refused (409): move them first."""
    slot = _lock_slot(slot_id)
    if slot.withdrawn_at is not None:
        raise InvalidTransition("This time is already taken down")
    if _taken({slot.id}).get(slot.id):
        raise InvalidTransition("Someone picked this time; move their check-in first")
    slot.withdrawn_at, slot.updated_at = now, now
    db.session.add(AuditEvent(at=now, staff_id=staff_id, action="check_in_slot.withdraw",
                              entity="check_in_slot", entity_id=slot.id, detail={}))
    db.session.commit()
    return slot


@dataclass(frozen=True)
class SlotView:
    slot: CheckInSlot
    location: Location | None
    places_left: int


def open_slots(now: datetime, policy: Policy, *, limit: int = 8,
               include_full: bool = False) -> list[SlotView]:
    """Published times still ahead (at least ``self_check_in_notice_hours`` away),
    soonest first, with places left; one statement however many there are."""
    taken = (sa.select(sa.func.count()).where(CheckIn.slot_id == CheckInSlot.id,
                                              CheckIn.status == "booked")
             .correlate(CheckInSlot).scalar_subquery())
    query = (sa.select(CheckInSlot, Location, taken)
             .outerjoin(Location, Location.id == CheckInSlot.location_id)
             .where(CheckInSlot.withdrawn_at.is_(None),
                    CheckInSlot.starts_at > now + timedelta(
                        hours=policy.self_check_in_notice_hours))
             .order_by(CheckInSlot.starts_at, CheckInSlot.id).limit(limit))
    if not include_full:
        query = query.where(taken < CheckInSlot.places)
    return [SlotView(slot, location, slot.places - used)
            for slot, location, used in db.session.execute(query)]


def _taken(slot_ids: set[int]) -> dict[int, int]:
    if not slot_ids:
        return {}
    return dict(db.session.execute(
        sa.select(CheckIn.slot_id, sa.func.count()).where(
            CheckIn.slot_id.in_(slot_ids), CheckIn.status == "booked")
        .group_by(CheckIn.slot_id)).all())


def _lock_slot(slot_id: int) -> CheckInSlot:
    slot = db.session.execute(sa.select(CheckInSlot).where(CheckInSlot.id == slot_id)
                              .with_for_update()).scalar_one_or_none()
    if slot is None:
        raise NotFound(f"Check-in time {slot_id} was not found", field="slot_id")
    return slot


# --- the person picks --------------------------------------------------------------

def book_slot(return_id: int, slot_id: int, now: datetime, policy: Policy, *,
              staff_id: int | None = None) -> CheckIn:
    """The person picks a published time: their check-in is booked there (or moved
    there from another time; its revision rises and reminders for the old time are
    cancelled). Refused: a request already settled, a time gone or full (409).

    ``staff_id`` books it for them: a coordinator picking up a request takes the
    next open time rather than a call on a later working day; the check-in is
    theirs to hold and the audit row names them."""
    request = db.session.execute(sa.select(ReturnRequest).where(
        ReturnRequest.id == return_id).with_for_update()).scalar_one_or_none()
    if request is None:
        raise NotFound(f"Return request {return_id} was not found")
    if request.status != "open":
        raise InvalidTransition("This request is settled already; we will be in touch")
    slot = _lock_slot(slot_id)
    if slot.withdrawn_at is not None or slot.starts_at <= now + timedelta(
            hours=policy.self_check_in_notice_hours):
        raise InvalidTransition("That time is no longer available; please pick another",
                                field="slot_id")
    row = current_check_in(return_id)
    if row is not None and row.slot_id == slot.id and row.status == "booked":
        return row
    if _taken({slot.id}).get(slot.id, 0) >= slot.places:
        raise NoSeatLeft("Someone just took that time; please pick another", field="slot_id")
    if row is None or row.status == "done":
        row = CheckIn(return_request_id=request.id, client_id=request.client_id,
                      revision=0, created_at=now)
        db.session.add(row)
    else:
        row.revision += 1
        outbox.cancel_pending(f"check_in:{row.id}", ("checkin_reminder",), now,
                              reason="moved to another time")
    row.at, row.minutes, row.mode = slot.starts_at, slot.minutes, slot.mode
    row.location_id, row.slot_id, row.status = slot.location_id, slot.id, "booked"
    row.staff_id, row.updated_at = staff_id, now
    request.updated_at = now
    db.session.flush()
    db.session.add(AuditEvent(at=now, staff_id=staff_id, action="check_in.self_booked"
                              if staff_id is None else "check_in.slot_booked",
                              entity="return_request", entity_id=request.id,
                              detail={"slot_id": slot.id, "check_in_id": row.id}))
    db.session.commit()
    return row

