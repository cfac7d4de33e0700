"""Nobody falls out of sight: everyone waiting to be back in a group, the weekly
note they get while they wait, and what staff are told (long waits, new requests)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from scheduler import waiting
from scheduler.config import Policy
from scheduler.models import (
    LIVE_WAITLIST,
    CheckIn,
    Client,
    Enrollment,
    FormingMember,
    Location,
    Notification,
    ReturnRequest,
    WaitlistEntry,
    db,
)
from scheduler.placement import calendar_days
from scheduler.services import outbox, report_stamps
from scheduler.services.common import Paged, page_within
from scheduler.services.notices import routes_for
from scheduler.services.waitlist import place_of
from scheduler.timeutil import local_today

LONG_WAITS_PAGE = 25  # long waits on one page of Returners, longest first


def _waiting_rows(*columns, asked_before: datetime | None = None):
    """``columns`` of requests that may be waiting (made before ``asked_before``, if
    given), each with whether the client is seated in a group now, oldest first: the
    query only narrows to requests open or placed and not yet at a group session;
    ``scheduler.waiting.is_waiting`` decides."""
    query = (sa.select(*columns, ReturnRequest.status, ReturnRequest.first_attended_at,
                       sa.exists().where(Enrollment.client_id == Client.id,
                                         Enrollment.status == "active"))
             .join(Client, Client.id == ReturnRequest.client_id)
             .where(ReturnRequest.status.in_(("open", "placed")),
                    ReturnRequest.first_attended_at.is_(None))
             .order_by(ReturnRequest.requested_at, ReturnRequest.id))
    if asked_before is not None:
        query = query.where(ReturnRequest.requested_at < asked_before)
    return db.session.execute(query).all()


def waiting_requests() -> list[tuple[ReturnRequest, Client]]:
    """Everyone waiting to be back in a group, oldest first."""
    return [(r, c) for r, c, status, first, seated in _waiting_rows(ReturnRequest, Client)
            if waiting.is_waiting(status, first, bool(seated))]


def weekly_waiting_notes(now: datetime, policy: Policy) -> int:
    """Job: each person waiting hears from the program at least every
    ``waiting_note_days`` (``scheduler.waiting.weekly_note_due``): where they stand,
    that nothing is needed of them, and how to stop these notes. One commit."""
    rows = [(r, c) for r, c in waiting_requests() if c.waiting_notes]
    if not rows:
        db.session.rollback()
        return 0
    ids = [c.id for _r, c in rows]
    heard = dict(db.session.execute(
        sa.select(Notification.client_id,
                  sa.func.max(sa.func.coalesce(Notification.sent_at, Notification.due_at)))
        .where(Notification.client_id.in_(ids),
               Notification.status.in_(("sent", "pending", "claimed")))
        .group_by(Notification.client_id)).all())
    lines = {e.client_id: e for e in db.session.scalars(
        sa.select(WaitlistEntry).where(WaitlistEntry.client_id.in_(ids),
                                       WaitlistEntry.status.in_(LIVE_WAITLIST))
        .order_by(WaitlistEntry.requested_at.desc()))}
    forming = {m.client_id: m for m in db.session.scalars(
        sa.select(FormingMember).where(FormingMember.client_id.in_(ids),
                                       FormingMember.status == "waiting"))}
    queued = 0
    for request, client in rows:
        if not waiting.weekly_note_due(request.requested_at, heard.get(client.id), now,
                                       policy):
            continue
        payload = {"return_request_id": request.id, "stage": "asked"}
        if client.id in lines:
            entry = lines[client.id]
            payload.update(stage="waitlist", cohort_id=entry.cohort_id,
                           position=place_of(entry.id).position)
        elif client.id in forming:
            payload.update(stage="forming", cohort_id=forming[client.id].cohort_id)
        queued += len(outbox.queue(
            "still_waiting", client, subject_ref=f"return_request:{request.id}",
            occurrence=local_today(now).isoformat(), due_at=now, now=now,
            to=routes_for(client, request), payload=payload))
    db.session.commit()
    return queued


# --- what staff see ---------------------------------------------------------------------

@dataclass(frozen=True)
class LongWait:
    request: ReturnRequest
    client: Client
    days: int
    stage: str  # "not placed yet" | "waiting for a seat"


@dataclass
class LongWaits(Paged):
    """One page of ``long_waits`` (``LONG_WAITS_PAGE`` a page) and how many in all."""

    waits: list[LongWait]
    count: int
    page: int
    size: int

    @property
    def shown(self) -> list[LongWait]:
        return self.waits


def long_waits(now: datetime, policy: Policy, *, page: int = 1,
               size: int = LONG_WAITS_PAGE) -> LongWaits:
    """Everyone who has waited more than ``waiting_alert_days`` to be back in a
    group, longest first, a page at a time (the Returners page; a page past the
    last shows the last). Whole rows are loaded only for that page, not for everyone
    on their way back."""
    ids = _long_wait_ids(now, policy)
    page = page_within(page, len(ids), size)
    chosen = ids[(page - 1) * size:page * size]
    rows = db.session.execute(
        sa.select(ReturnRequest, Client).join(Client, Client.id == ReturnRequest.client_id)
        .where(ReturnRequest.id.in_(chosen))
        .order_by(ReturnRequest.requested_at, ReturnRequest.id)).all() if chosen else []
    return LongWaits([LongWait(r, c, calendar_days(r.requested_at, now),
                               "not placed yet" if r.status == "open"
                               else "waiting for a seat") for r, c in rows],
                     len(ids), page, size)


def long_wait_count(now: datetime, policy: Policy) -> int:
    """How many ``long_waits`` there are (Today's line)."""
    return len(_long_wait_ids(now, policy))


def _long_wait_ids(now: datetime, policy: Policy) -> list[int]:
    """The requests of ``long_waits``: Today and Returners show them on every visit,
    so they are worked out once a minute while no request or enrollment changes
    (``report_stamps``)."""
    return report_stamps.reused(report_stamps.WAITING, now,
                                lambda: _find_long_wait_ids(now, policy),
                                given=(policy.waiting_alert_days,))


def _find_long_wait_ids(now: datetime, policy: Policy) -> list[int]:
    """From four columns a request, read only for those who asked long enough ago."""
    return [request_id for request_id, requested_at, status, first, seated in _waiting_rows(
        ReturnRequest.id, ReturnRequest.requested_at,
        asked_before=waiting.long_wait_since(now, policy))
        if waiting.is_waiting(status, first, bool(seated))
        and waiting.waited_too_long(requested_at, now, policy)]


def new_requests_digest(now: datetime, policy: Policy) -> int:
    """Job: at each location's ``digest_hour`` (its local time), coordinators get one
    email with how many people asked to come back there in the last day (and those
    with no site yet) and how many still need a check-in. Counts and a link, no names.
    Once a day per location (keyed by the local date). One commit."""
    told = 0
    since = now - timedelta(days=1)
    locations = [loc for loc in db.session.scalars(
        sa.select(Location).where(Location.digest_hour.is_not(None)).order_by(Location.id))
        if now.astimezone(ZoneInfo(loc.timezone)).hour == loc.digest_hour]
    if not locations:
        db.session.rollback()
        return 0
    fresh = db.session.execute(
        sa.select(ReturnRequest.id, ReturnRequest.status, Client.preferred_location_ids)
        .join(Client, Client.id == ReturnRequest.client_id)
        .where(ReturnRequest.requested_at > since, ReturnRequest.requested_at <= now)).all()
    booked = set(db.session.scalars(sa.select(CheckIn.return_request_id).where(
        CheckIn.return_request_id.in_([r.id for r in fresh]), CheckIn.status != "cancelled")))
    for loc in locations:
        mine = [r for r in fresh
                if not r.preferred_location_ids or r.preferred_location_ids[0] == loc.id]
        if not mine:
            continue
        told += outbox.queue_for_staff(
            "new_requests", subject_ref=f"location:{loc.id}",
            occurrence=now.astimezone(ZoneInfo(loc.timezone)).date().isoformat(), now=now,
            payload={"location_name": loc.name, "count": len(mine),
                     "need_check_in": sum(1 for r in mine
                                          if r.status == "open" and r.id not in booked)})
    db.session.commit()
    return told


def needing_reply() -> int:
    """Open requests nobody has booked a check-in for yet (the console's badge, on
    every page: counted again only after a request or a check-in changed)."""
    return report_stamps.reused(report_stamps.NEEDING_CHECK_IN, None, _count_needing_reply)


@functools.cache
def _needing_reply_statement():
    # asked per open request through the check-in index (LIMIT 1 keeps it so: as a
    # NOT EXISTS, PostgreSQL chose to hash every check-in ever booked, 4.5 ms at 50x)
    booked = (sa.select(CheckIn.id).where(CheckIn.return_request_id == ReturnRequest.id,
                                          CheckIn.status != "cancelled")
              .limit(1).correlate(ReturnRequest).scalar_subquery())
    return sa.select(sa.func.count()).select_from(ReturnRequest).where(
        ReturnRequest.status == "open", booked.is_(None))


def _count_needing_reply() -> int:
    return int(db.session.scalar(_needing_reply_statement()) or 0)
