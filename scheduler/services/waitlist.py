"""Waitlist use cases: joining, offering freed seats, answering offers, expiry, staff moves.

Every change to an offer or a place in line happens while the cohort's row is
locked (``lock_cohort``: ``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite every
write transaction is ``BEGIN IMMEDIATE``), and every count of seats includes open
offers. So a seat held by an open offer is never given to anyone else, a seat is
never offered twice, and an accept racing an expiry has exactly one outcome.

Offer links carry the offer id signed with ``SECRET_KEY`` (itsdangerous, its own
salt, HMAC-SHA256). Only the link's SHA-256 is stored (``SeatOffer.token_hash``);
the outbox payload holds no secret, and the sender rebuilds the link with
``offer_url(offer_id)`` at send time.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, has_app_context

from scheduler.config import Policy
from scheduler.errors import (
    AlreadyEnrolled,
    AlreadyWaiting,
    CohortNotOpen,
    InvalidTransition,
    InvalidValue,
    NotFound,
    OfferAlreadyAnswered,
    OfferExpired,
)
from scheduler.models import (
    LIVE_WAITLIST,
    AuditEvent,
    Client,
    Cohort,
    Enrollment,
    FormingMember,
    GroupSession,
    Location,
    SeatOffer,
    WaitlistEntry,
    db,
)
from scheduler.seats import seats_free
from scheduler.security import new_token, sign_id, signed_id, token_hash
from scheduler.services import notices, outbox
from scheduler.services.common import get
from scheduler.services.seats import (
    cohorts_shown,
    end_other_paused,
    lock_cohort,
    move_status,
    seat_client,
    seats_taken,
    takes_people,
)
from scheduler.waitlist import (
    InLine,
    choose_offers,
    front_priority,
    offer_has_lapsed,
    offer_terms,
    positions,
)

LIVE = LIVE_WAITLIST
DECLINED_REASON = "Asked to come off the list"
PLACED_REASON = "Took a seat in another group"
OFFER_SALT = "regroup.seat-offer"
UPCOMING_FOR_OFFERS = 6


# --- configuration from the app, when there is one -------------------------------

def _config(name: str) -> Any:
    if not has_app_context():
        return None
    return current_app.config.get(name)


def _policy(policy: Policy | None) -> Policy:
    return policy or _config("POLICY") or Policy()


def _secret(secret_key: str | None) -> str:
    secret = secret_key or _config("SECRET_KEY")
    if not secret:
        raise RuntimeError("Offer links need SECRET_KEY (run inside the app context)")
    return secret


# --- offer links -------------------------------------------------------------------

def offer_token(offer_id: int, secret_key: str | None = None) -> str:
    """The secret part of an offer link (the offer id, signed). Never stored."""
    return sign_id(_secret(secret_key), OFFER_SALT, offer_id)


def offer_id_from_token(token: str, secret_key: str | None = None) -> int | None:
    """The offer id a link stands for, or None when it is tampered or not ours."""
    return signed_id(_secret(secret_key), OFFER_SALT, token)


def offer_url(offer_id: int) -> str:
    """The client's link to an offer, rebuilt at send time from the offer id."""
    base = (_config("PUBLIC_BASE_URL") or "").rstrip("/")
    return f"{base}/offers/{offer_token(offer_id)}"


# --- joining and offering ------------------------------------------------------------

def join_waitlist(client_id: int, cohort_id: int, now: datetime, *, priority: int = 0,
                  return_request_id: int | None = None, credited_sessions: int = 0,
                  policy: Policy | None = None) -> WaitlistEntry:
    """Put a client in line for a cohort (priority tier, then request time). Never
    commits: the public use cases ``add_to_waitlist`` and ``returns.place`` do.

    ``credited_sessions`` is the progress agreed for a returner; the seat they take
    from an offer carries it. A client may wait for several cohorts at once. When
    the cohort has a free seat and nobody ahead, the entry gets an offer at once.
    """
    get(Client, client_id, "Client")
    lock_cohort(cohort_id)
    live = db.session.scalar(sa.select(WaitlistEntry.id).where(
        WaitlistEntry.client_id == client_id, WaitlistEntry.cohort_id == cohort_id,
        WaitlistEntry.status.in_(LIVE)))
    if live is not None:
        raise AlreadyWaiting("This client is already waiting for this group")
    if _active_client_ids(cohort_id, [client_id]):
        raise AlreadyEnrolled("This client is already in this group")
    entry = WaitlistEntry(client_id=client_id, cohort_id=cohort_id, priority=priority,
                          requested_at=now, return_request_id=return_request_id,
                          credited_sessions=credited_sessions, created_at=now,
                          updated_at=now)
    db.session.add(entry)
    db.session.flush()
    seat_freed(cohort_id, now, policy=policy)
    return entry


def add_to_waitlist(client_id: int, cohort_id: int, now: datetime, *, priority: int = 0,
                    staff_id: int | None = None, policy: Policy | None = None,
                    ) -> WaitlistEntry:
    """Staff put a client in line (the API's POST /waitlist); one commit."""
    entry = join_waitlist(client_id, cohort_id, now, priority=priority, policy=policy)
    if staff_id is not None:
        _audit(staff_id, "waitlist.join", entry, now, {"for_client": client_id})
    db.session.commit()
    return entry


def seat_freed(cohort_id: int, now: datetime, *, policy: Policy | None = None,
               ) -> list[SeatOffer]:
    """The one hook for a freed seat: withdrawal, completion, a move, a released or
    lapsed hold, staff removal, raised capacity, a cohort opening, an offer passed
    on. Offers each free seat to the next in line. Returns the offers made.

    Runs inside the caller's transaction and never commits: the offers and their
    messages commit (or roll back) together with the change that freed the seat.
    A cohort that takes nobody now (not running, or a closed group past its
    joining window) makes no offers.
    """
    policy = _policy(policy)
    cohort = lock_cohort(cohort_id)
    if not takes_people(cohort, now, policy):
        return []
    free = seats_free(cohort.capacity, seats_taken(cohort.id, now))
    if free == 0:
        return []
    waiting = list(db.session.scalars(
        sa.select(WaitlistEntry).where(WaitlistEntry.cohort_id == cohort.id,
                                       WaitlistEntry.status == "waiting")
        .order_by(WaitlistEntry.priority.desc(), WaitlistEntry.requested_at,
                  WaitlistEntry.id)
        .execution_options(populate_existing=True)))
    if not waiting:
        return []
    enrolled = _active_client_ids(cohort.id, [e.client_id for e in waiting])
    for entry in waiting:
        if entry.client_id in enrolled:  # staff enrolled them directly meanwhile
            move_status(entry, "enrolled", now)
    holding = set(db.session.scalars(sa.select(SeatOffer.client_id).where(
        SeatOffer.cohort_id == cohort.id, SeatOffer.status == "open")))
    by_id = {e.id: e for e in waiting}
    chosen = choose_offers([_in_line(e) for e in waiting], free,
                           frozenset(enrolled | holding), now=now)
    if not chosen:
        return []
    session, expires_at = _offer_for(cohort, now, policy)
    return [_make_offer(by_id[c.id], cohort, session, expires_at, now) for c in chosen]


# the name the rest of the code base used before ``seat_freed`` was the hook
offer_free_seats = seat_freed


def _offer_for(cohort: Cohort, now: datetime,
               policy: Policy) -> tuple[GroupSession | None, datetime]:
    """The group session a seat offered now is for, and when the offer ends
    (``scheduler.waitlist.offer_terms``: notice, time to answer, quiet hours)."""
    upcoming = list(db.session.scalars(sa.select(GroupSession).where(
        GroupSession.cohort_id == cohort.id, GroupSession.status == "scheduled",
        GroupSession.starts_at > now).order_by(GroupSession.starts_at)
        .limit(UPCOMING_FOR_OFFERS)))
    terms = offer_terms(now, [s.starts_at for s in upcoming], offer_hours=policy.offer_hours,
                        min_notice_hours=policy.offer_min_notice_hours,
                        min_answer_hours=policy.offer_min_answer_hours,
                        tz=ZoneInfo(cohort.location.timezone),
                        quiet_start=policy.quiet_start_hour,
                        quiet_end=policy.quiet_end_hour)
    session = upcoming[terms.session_index] if terms.session_index is not None else None
    return session, terms.expires_at


def _active_client_ids(cohort_id: int, client_ids: list[int]) -> set[int]:
    if not client_ids:
        return set()
    return set(db.session.scalars(sa.select(Enrollment.client_id).where(
        Enrollment.cohort_id == cohort_id, Enrollment.status == "active",
        Enrollment.client_id.in_(client_ids))))


def _in_line(entry: WaitlistEntry) -> InLine:
    return InLine(entry.id, entry.client_id, entry.priority, entry.requested_at,
                  entry.not_before)


def _make_offer(entry: WaitlistEntry, cohort: Cohort, session: GroupSession | None,
                expires_at: datetime, now: datetime) -> SeatOffer:
    offer = SeatOffer(cohort_id=cohort.id, client_id=entry.client_id,
                      waitlist_entry_id=entry.id,
                      group_session_id=session.id if session else None, status="open",
                      offered_at=now, expires_at=expires_at,
                      # a unique placeholder until the id (which the link signs) exists
                      token_hash=token_hash(new_token()), created_at=now, updated_at=now)
    db.session.add(offer)
    db.session.flush()
    offer.token_hash = token_hash(offer_token(offer.id))
    move_status(entry, "offered", now)
    location = cohort.location
    outbox.queue("offer", entry.client, subject_ref=f"seat_offer:{offer.id}", occurrence="1",
                 due_at=now, now=now, expires_at=expires_at, payload={
                     "offer_id": offer.id,
                     "cohort_id": cohort.id,
                     "group_session_id": offer.group_session_id,
                     "first_session_at": session.starts_at.isoformat() if session else None,
                     "expires_at": expires_at.isoformat(),
                     "location_name": location.name,
                     "location_address": location.address,
                     "room": cohort.room,
                 })
    return offer


# --- answering an offer (client links) ---------------------------------------------

@dataclass(frozen=True)
class OfferView:
    """What the client's offer page shows (``entry`` says whether they are still in
    line after answering)."""

    offer: SeatOffer
    cohort: Cohort
    location: Location
    group_session: GroupSession | None
    entry: WaitlistEntry | None = None


def _resolve(token: str) -> SeatOffer:
    offer_id = offer_id_from_token(token)
    offer = db.session.get(SeatOffer, offer_id) if offer_id is not None else None
    if offer is None or offer.token_hash != token_hash(token):
        raise NotFound("This link is not one we recognise")
    return offer


def _lock_offer(offer_id: int) -> SeatOffer:
    return db.session.execute(
        sa.select(SeatOffer).where(SeatOffer.id == offer_id).with_for_update()
        .execution_options(populate_existing=True)).scalar_one()


def _entry(entry_id: int) -> WaitlistEntry:
    return db.session.execute(
        sa.select(WaitlistEntry).where(WaitlistEntry.id == entry_id)
        .execution_options(populate_existing=True)).scalar_one()


def _keep_place_after(offer: SeatOffer, now: datetime) -> None:
    """The person keeps their place in line and loses only this seat: no seat is
    offered to them again until the group session it was for has begun (a day
    after the offer ended when it was for none)."""
    entry = _entry(offer.waitlist_entry_id)
    if entry.status != "offered":
        return
    session = (db.session.get(GroupSession, offer.group_session_id)
               if offer.group_session_id else None)
    move_status(entry, "waiting", now)
    entry.not_before = (session.starts_at if session
                        else offer.expires_at + timedelta(days=1))


def _lapse(offer: SeatOffer, now: datetime) -> None:
    """An unanswered offer ends; its seat is passed on by the caller, and the person
    keeps their place in line for the next one."""
    move_status(offer, "expired", now)
    _keep_place_after(offer, now)


def _expire_lazily(offer: SeatOffer, now: datetime) -> bool:
    """Expire an open offer whose time has passed, passing its seat on. True if it did."""
    if offer.status != "open" or not offer_has_lapsed(offer.expires_at, now):
        return False
    _lapse(offer, now)
    db.session.flush()
    seat_freed(offer.cohort_id, now)
    return True


def view_offer(token: str, now: datetime) -> OfferView:
    """The offer behind a link; an open offer past its time expires now (lazily)."""
    offer = _resolve(token)
    if offer.status == "open" and offer_has_lapsed(offer.expires_at, now):
        lock_cohort(offer.cohort_id)
        offer = _lock_offer(offer.id)
        _expire_lazily(offer, now)
        db.session.commit()
    cohort = db.session.get(Cohort, offer.cohort_id)
    session = (db.session.get(GroupSession, offer.group_session_id)
               if offer.group_session_id else None)
    entry = db.session.get(WaitlistEntry, offer.waitlist_entry_id)
    return OfferView(offer, cohort, cohort.location, session, entry)


def _check_answerable(offer: SeatOffer, now: datetime) -> None:
    if offer.status == "expired":
        raise OfferExpired("This offer has ended")
    if offer.status != "open":
        raise OfferAlreadyAnswered(f"This offer was already {offer.status}")
    if _expire_lazily(offer, now):
        db.session.commit()
        raise OfferExpired("This offer has ended")


def accept_offer(token: str, now: datetime, policy: Policy | None = None) -> Enrollment:
    """Turn an open offer into a seat (it is already held for them) through the one
    seat path: their own paused enrollment there is reused, the credit agreed when
    they joined the line carries, and they are told when and where.

    The client leaves every other waitlist; their other open offers are withdrawn
    and those seats go to the next in line. Raises NotFound (unknown or tampered
    link), OfferExpired, OfferAlreadyAnswered.
    """
    return _accept(_resolve(token), now, _policy(policy))


def _accept(offer: SeatOffer, now: datetime, policy: Policy, *,
            staff_id: int | None = None) -> Enrollment:
    client_id = offer.client_id
    # lock every cohort this will touch in one order, so two accepts never deadlock
    others = set(db.session.scalars(sa.select(WaitlistEntry.cohort_id).where(
        WaitlistEntry.client_id == client_id, WaitlistEntry.status.in_(LIVE))))
    for cohort_id in sorted(others | {offer.cohort_id}):
        lock_cohort(cohort_id)
    offer = _lock_offer(offer.id)
    _check_answerable(offer, now)
    entry = _entry(offer.waitlist_entry_id)
    try:
        seated = seat_client(client_id, offer.cohort_id, now, policy, holding_offer=True,
                             credited_sessions=entry.credited_sessions,
                             return_request_id=entry.return_request_id)
    except (AlreadyEnrolled, CohortNotOpen):
        # the group took them another way, or stopped taking people: nothing to hold
        move_status(offer, "withdrawn", now)
        offer.responded_at = now
        move_status(entry, "removed", now)
        db.session.flush()
        seat_freed(offer.cohort_id, now, policy=policy)
        db.session.commit()
        raise
    enrollment = seated.enrollment
    move_status(offer, "accepted", now)
    offer.responded_at, offer.enrollment_id = now, enrollment.id
    move_status(entry, "enrolled", now)
    _leave_other_waitlists(client_id, offer.cohort_id, now, policy)
    for cohort_id in end_other_paused(client_id, offer.cohort_id, now):
        seat_freed(cohort_id, now, policy=policy)
    if seated.freed_extra:
        seat_freed(offer.cohort_id, now, policy=policy)
    notices.tell_seated(enrollment, now, return_request_id=entry.return_request_id,
                        occurrence=f"offer-{offer.id}")
    if staff_id is not None:
        _audit(staff_id, "seat_offer.accept", offer, now, {"for_client": client_id})
    db.session.commit()
    return enrollment


def _leave_other_waitlists(client_id: int, kept_cohort_id: int, now: datetime,
                           policy: Policy) -> None:
    entries = list(db.session.scalars(sa.select(WaitlistEntry).where(
        WaitlistEntry.client_id == client_id, WaitlistEntry.status.in_(LIVE),
        WaitlistEntry.cohort_id != kept_cohort_id).order_by(WaitlistEntry.cohort_id)
        .execution_options(populate_existing=True)))
    freed = []
    for entry in entries:
        lock_cohort(entry.cohort_id)
        if entry.status == "offered":
            for offer in _open_offers_of(entry):
                move_status(offer, "withdrawn", now)
                offer.responded_at = now
                freed.append(entry.cohort_id)
        move_status(entry, "removed", now)
        entry.removed_reason = PLACED_REASON
    db.session.flush()
    for cohort_id in freed:
        seat_freed(cohort_id, now, policy=policy)


def _open_offers_of(entry: WaitlistEntry) -> list[SeatOffer]:
    return list(db.session.scalars(sa.select(SeatOffer).where(
        SeatOffer.waitlist_entry_id == entry.id, SeatOffer.status == "open")
        .with_for_update().execution_options(populate_existing=True)))


def decline_offer(token: str, now: datetime, *, keep_place: bool = True) -> SeatOffer:
    """Say no to an offer; the seat goes to the next in line at once.

    ``keep_place`` ("Not this time, keep my place") keeps them in line for a later
    seat; without it ("Take me off the list") their place in line ends too.
    """
    return _decline(_resolve(token), now, keep_place=keep_place)


def _decline(offer: SeatOffer, now: datetime, *, keep_place: bool = True,
             staff_id: int | None = None) -> SeatOffer:
    lock_cohort(offer.cohort_id)
    offer = _lock_offer(offer.id)
    _check_answerable(offer, now)
    move_status(offer, "declined", now)
    offer.responded_at = now
    if keep_place:
        _keep_place_after(offer, now)
    else:
        entry = _entry(offer.waitlist_entry_id)
        move_status(entry, "removed", now)
        entry.removed_reason = DECLINED_REASON
    if staff_id is not None:
        _audit(staff_id, "seat_offer.decline", offer, now,
               {"for_client": offer.client_id, "keep_place": keep_place})
    db.session.flush()
    seat_freed(offer.cohort_id, now)
    db.session.commit()
    return offer


# --- the background job ------------------------------------------------------------

def expire_offers(now: datetime, policy: Policy | None = None) -> int:
    """Job: open offers past their time expire and their seats go to the next in line
    (the person keeps their place for a later seat); a cohort with a free seat and
    people waiting whose skip has passed is offered on too.

    Idempotent, and safe in two processes: each cohort is claimed with
    ``FOR UPDATE SKIP LOCKED`` (PostgreSQL), so a cohort another runner or an
    accepting client holds is left for them (the accept decides, or the next run
    expires it). On SQLite the transactions are IMMEDIATE and run one after the
    other. Commits once per cohort. Returns how many offers expired.
    """
    lapsed_ids = set(db.session.scalars(
        sa.select(SeatOffer.cohort_id).where(SeatOffer.status == "open",
                                             SeatOffer.expires_at <= now).distinct()))
    skipping_ids = set(db.session.scalars(
        sa.select(WaitlistEntry.cohort_id).where(WaitlistEntry.status == "waiting",
                                                 WaitlistEntry.not_before.is_not(None),
                                                 WaitlistEntry.not_before <= now)
        .distinct()))
    db.session.rollback()
    expired = 0
    for cohort_id in sorted(lapsed_ids | skipping_ids):
        claimed = db.session.execute(
            sa.select(Cohort.id).where(Cohort.id == cohort_id)
            .with_for_update(skip_locked=True)).scalar_one_or_none()
        if claimed is None:
            db.session.rollback()
            continue
        lapsed = list(db.session.scalars(
            sa.select(SeatOffer).where(SeatOffer.cohort_id == cohort_id,
                                       SeatOffer.status == "open",
                                       SeatOffer.expires_at <= now)
            .order_by(SeatOffer.id).with_for_update()
            .execution_options(populate_existing=True)))
        for offer in lapsed:
            _lapse(offer, now)
        db.session.execute(sa.update(WaitlistEntry).where(
            WaitlistEntry.cohort_id == cohort_id, WaitlistEntry.status == "waiting",
            WaitlistEntry.not_before <= now).values(not_before=None)
            .execution_options(synchronize_session="fetch"))
        db.session.flush()
        seat_freed(cohort_id, now, policy=policy)
        db.session.commit()
        expired += len(lapsed)
    return expired


# --- staff ---------------------------------------------------------------------------

@dataclass(frozen=True)
class PlaceInLine:
    entry: WaitlistEntry
    position: int
    offer: SeatOffer | None


def waitlist_for(cohort_id: int) -> list[PlaceInLine]:
    """Everyone in line for a cohort, in order, each with their open offer (if any)."""
    get(Cohort, cohort_id, "Cohort")
    entries = list(db.session.scalars(sa.select(WaitlistEntry).where(
        WaitlistEntry.cohort_id == cohort_id, WaitlistEntry.status.in_(LIVE))))
    offers = {o.waitlist_entry_id: o for o in db.session.scalars(sa.select(SeatOffer).where(
        SeatOffer.cohort_id == cohort_id, SeatOffer.status == "open"))}
    places = positions([_in_line(e) for e in entries])
    ordered = sorted(entries, key=lambda e: places[e.id])
    return [PlaceInLine(e, places[e.id], offers.get(e.id)) for e in ordered]


@dataclass(frozen=True)
class Waiting:
    """One thing a client waits for: a place in a cohort's line (with its position and
    any open offer's deadline) or a place in a forming cohort."""

    cohort_id: int
    cohort_name: str
    kind: str  # waitlist | forming
    since: datetime
    position: int | None = None
    offer_expires_at: datetime | None = None


def lines_by_cohort(location_ids: Collection[int] | None = None,
                    ) -> dict[int, tuple[int, datetime]]:
    """{cohort_id: (people in line, when the longest-waiting one asked)} for every
    cohort with a line (or those at ``location_ids``), in one query (the Cohorts grid
    and the Director page)."""
    return {cid: (n, oldest) for cid, n, oldest in db.session.execute(
        sa.select(WaitlistEntry.cohort_id, sa.func.count(),
                  sa.func.min(WaitlistEntry.requested_at))
        .where(WaitlistEntry.status.in_(LIVE),
               cohorts_shown(WaitlistEntry.cohort_id, location_ids))
        .group_by(WaitlistEntry.cohort_id))}


@functools.cache
def _waiting_statement():
    """Built once (``waiting_of`` runs on every client and request page)."""
    client_id = sa.bindparam("client_id")
    theirs = sa.select(WaitlistEntry.cohort_id).where(
        WaitlistEntry.client_id == client_id, WaitlistEntry.status.in_(LIVE))
    lines = (sa.select(sa.literal("waitlist").label("kind"), WaitlistEntry.cohort_id,
                       Cohort.name, WaitlistEntry.id, WaitlistEntry.client_id,
                       WaitlistEntry.priority, WaitlistEntry.requested_at.label("since"),
                       WaitlistEntry.not_before, SeatOffer.expires_at)
             .join(Cohort, Cohort.id == WaitlistEntry.cohort_id)
             .outerjoin(SeatOffer, sa.and_(SeatOffer.waitlist_entry_id == WaitlistEntry.id,
                                           SeatOffer.status == "open"))
             .where(WaitlistEntry.cohort_id.in_(theirs), WaitlistEntry.status.in_(LIVE)))
    forming = (sa.select(sa.literal("forming"), FormingMember.cohort_id, Cohort.name,
                         FormingMember.id, FormingMember.client_id, sa.literal(0),
                         FormingMember.joined_at, sa.null(), sa.null())
               .join(Cohort, Cohort.id == FormingMember.cohort_id)
               .where(FormingMember.client_id == client_id, FormingMember.status == "waiting"))
    return sa.union_all(lines, forming)


def waiting_of(client_id: int) -> list[Waiting]:
    """Every line and forming cohort the client waits in, in one statement however
    many: the whole of each of their lines comes back so ``positions`` (the one
    ordering rule) places them."""
    rows = db.session.execute(_waiting_statement(), {"client_id": client_id}).all()
    by_line: dict[int, list] = {}
    for row in rows:
        if row.kind == "waitlist":
            by_line.setdefault(row.cohort_id, []).append(row)
    places: dict[int, int] = {}
    for line in by_line.values():
        places.update(positions([InLine(r.id, r.client_id, r.priority, r.since,
                                        r.not_before) for r in line]))
    mine = sorted((r for r in rows if r.client_id == client_id),
                  key=lambda r: (r.kind != "waitlist", r.since, r.id))
    return [Waiting(r.cohort_id, r.name, r.kind, r.since,
                    places.get(r.id) if r.kind == "waitlist" else None, r.expires_at)
            for r in mine]


def place_of(entry_id: int) -> PlaceInLine:
    """One entry with its current position (0 when it is no longer in line)."""
    entry = get(WaitlistEntry, entry_id, "Waitlist entry")
    for place in waitlist_for(entry.cohort_id):
        if place.entry.id == entry.id:
            return place
    return PlaceInLine(entry, 0, None)


def offers_for(cohort_id: int, *, status: str | None = "open") -> list[SeatOffer]:
    """A cohort's offers (open ones by default): who holds a seat, and until when."""
    get(Cohort, cohort_id, "Cohort")
    query = sa.select(SeatOffer).where(SeatOffer.cohort_id == cohort_id)
    if status is not None:
        query = query.where(SeatOffer.status == status)
    return list(db.session.scalars(query.order_by(SeatOffer.expires_at, SeatOffer.id)))


def _live_entry(entry_id: int) -> WaitlistEntry:
    entry = get(WaitlistEntry, entry_id, "Waitlist entry")
    lock_cohort(entry.cohort_id)
    entry = _entry(entry_id)
    if entry.status not in LIVE:
        raise InvalidTransition(f"This entry is {entry.status}; it is no longer in line")
    return entry


def _audit(staff_id: int | None, action: str, row: WaitlistEntry | SeatOffer, now: datetime,
           detail: dict[str, Any]) -> None:
    entity = "seat_offer" if isinstance(row, SeatOffer) else "waitlist_entry"
    db.session.add(AuditEvent(at=now, staff_id=staff_id, action=action, entity=entity,
                              entity_id=row.id, detail=detail))


def answer_for_client(offer_id: int, answer: str, now: datetime, *,
                      staff_id: int | None = None, policy: Policy | None = None,
                      ) -> Enrollment | SeatOffer:
    """Staff record a client's answer given by phone or in person ("accept" returns
    the enrollment, "decline" the offer). Same rules as the client's own link; the
    staff member is audited (``staff_id`` None records no audit row)."""
    offer = get(SeatOffer, offer_id, "Seat offer")
    if answer not in ("accept", "decline"):
        raise InvalidValue("Answer accept or decline", field="answer")
    if answer == "accept":
        return _accept(offer, now, _policy(policy), staff_id=staff_id)
    return _decline(offer, now, staff_id=staff_id)


def move_up(entry_id: int, reason: str, now: datetime, *, staff_id: int | None = None,
            priority: int | None = None) -> PlaceInLine:
    """Move an entry up: to ``priority`` when given (it must be higher than now),
    else to the front of the line. The reason is kept on the entry and audited."""
    if not reason.strip():
        raise InvalidValue("Say why this person moves up", field="reason")
    entry = _live_entry(entry_id)
    line = [_in_line(e) for e in db.session.scalars(sa.select(WaitlistEntry).where(
        WaitlistEntry.cohort_id == entry.cohort_id, WaitlistEntry.status.in_(LIVE)))]
    before = positions(line)[entry.id]
    target = priority if priority is not None else front_priority(line, entry.id)
    if priority is not None and priority <= entry.priority:
        raise InvalidValue(f"Moving up needs a priority above {entry.priority}",
                           field="priority")
    if priority is None and before == 1:
        raise InvalidTransition("This person is already first in line")
    old_priority = entry.priority
    entry.priority, entry.moved_up_reason, entry.updated_at = target, reason.strip(), now
    db.session.flush()
    place = place_of(entry.id)
    _audit(staff_id, "waitlist.move_up", entry, now, {
        "reason": reason.strip(), "from_priority": old_priority, "to_priority": target,
        "from_position": before, "to_position": place.position})
    db.session.commit()
    return place


def remove_entry(entry_id: int, reason: str, now: datetime, *,
                 staff_id: int | None = None) -> WaitlistEntry:
    """Take an entry out of line; a seat it was offered goes to the next in line."""
    if not reason.strip():
        raise InvalidValue("Say why this entry is removed", field="reason")
    entry = _live_entry(entry_id)
    withdrawn = []
    if entry.status == "offered":
        for offer in _open_offers_of(entry):
            move_status(offer, "withdrawn", now)
            withdrawn.append(offer.id)
    move_status(entry, "removed", now)
    entry.removed_reason = reason.strip()
    _audit(staff_id, "waitlist.remove", entry, now,
           {"reason": reason.strip(), "withdrawn_offer_ids": withdrawn})
    db.session.flush()
    if withdrawn:
        seat_freed(entry.cohort_id, now)
    db.session.commit()
    return entry
