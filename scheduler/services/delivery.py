"""Sending the outbox: claim due rows, send each once, record what happened.

A row's life: ``pending`` -> ``claimed`` (by one runner, with a lease) -> the
runner commits ``sending_at`` -> hands it to the provider -> ``sent``.

- Claiming is one short transaction: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL,
  and on SQLite the IMMEDIATE transaction every write here begins with, so two
  runners never claim the same row.
- A claimed row whose lease ran out goes back to ``pending`` when its runner had
  not yet started sending it, and to ``unknown`` when it had (``sending_at`` set):
  the provider may have taken it, so staff look rather than the client getting
  it twice. Never sent twice beats always sent.
- A reminder (or notice) still unsent when its meeting begins becomes
  ``expired``; a provider failure is retried with backoff up to
  ``send_max_attempts`` and then ``failed``.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from scheduler.channels import send_each, transport_for
from scheduler.config import Policy
from scheduler.messages import draft, prepare, word
from scheduler.models import (
    CheckIn,
    Client,
    Cohort,
    Enrollment,
    GroupSession,
    Notification,
    db,
)
from scheduler.reminders import after_quiet_hours, in_quiet_hours
from scheduler.timeutil import PROGRAM_TZ

log = logging.getLogger("regroup.outbox")
RUNNER_ID = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
PAUSE_POINTS = ("after_claim", "before_send", "after_send", "after_mark")


def _pause_point(name: str) -> None:
    """Test hook: with REGROUP_OUTBOX_PAUSE_AT=<name>, announce the point by creating
    REGROUP_OUTBOX_PAUSE_FILE and wait there to be killed."""
    if os.environ.get("REGROUP_OUTBOX_PAUSE_AT") != name:
        return
    marker = os.environ.get("REGROUP_OUTBOX_PAUSE_FILE")
    if marker:
        Path(marker).write_text(str(os.getpid()))
    while True:
        time.sleep(3600)


def _update(*where) -> Any:
    return sa.update(Notification).where(*where).execution_options(synchronize_session=False)


def expire_and_recover(now: datetime, lease: timedelta | None = None) -> dict[str, int]:
    """Pending rows past their expiry become ``expired``; claimed rows whose lease ran
    out go back to ``pending`` (not started) or become ``unknown`` (maybe sent)."""
    expired = db.session.execute(
        _update(Notification.status == "pending", Notification.expires_at <= now)
        .values(status="expired", updated_at=now)).rowcount
    lapsed = (Notification.status == "claimed", Notification.lease_until < now)
    back = db.session.execute(
        _update(*lapsed, Notification.sending_at.is_(None))
        .values(status="pending", claimed_by=None, lease_until=None, updated_at=now)).rowcount
    unknown = db.session.execute(
        _update(*lapsed, Notification.sending_at.is_not(None))
        .values(status="unknown", updated_at=now,
                error="the runner stopped while sending; it may have gone out")).rowcount
    db.session.commit()
    return {"expired": expired or 0, "recovered": back or 0, "unknown": unknown or 0}


def claim(runner: str, now: datetime, limit: int, lease: timedelta) -> list[int]:
    """Claim up to ``limit`` due rows for ``runner`` in one short transaction."""
    query = (sa.select(Notification.id)
             .where(Notification.status == "pending", Notification.due_at <= now)
             .order_by(Notification.due_at, Notification.id).limit(limit))
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(db.session.scalars(query))
    if ids:
        db.session.execute(
            _update(Notification.id.in_(ids), Notification.status == "pending")
            .values(status="claimed", claimed_by=runner, lease_until=now + lease,
                    sending_at=None, updated_at=now))
    db.session.commit()
    return ids


def _prefetch(rows: list[Notification]) -> tuple[set[tuple[int, int]], list]:
    """Load what a group's checks and templates read in a few queries, so the
    identity map answers their lookups while the caller holds the returned objects
    (the map only keeps weak references). Returns the enrolled (client, cohort)
    pairs and the objects."""
    client_ids = {n.client_id for n in rows if n.client_id}
    payloads = [n.payload or {} for n in rows]
    session_ids = {p["group_session_id"] for p in payloads if p.get("group_session_id")}
    held: list = []
    if client_ids:
        held += db.session.scalars(sa.select(Client).where(Client.id.in_(client_ids))).all()
    if session_ids:
        held += db.session.scalars(
            sa.select(GroupSession).where(GroupSession.id.in_(session_ids))
            .options(joinedload(GroupSession.cohort).joinedload(Cohort.location),
                     joinedload(GroupSession.cohort).joinedload(Cohort.track))).unique().all()
    if not client_ids:
        return set(), held
    return {(c, k) for c, k in db.session.execute(
        sa.select(Enrollment.client_id, Enrollment.cohort_id).where(
            Enrollment.client_id.in_(client_ids), Enrollment.status == "active"))}, held


def why_not(n: Notification, now: datetime,
            enrolled: set[tuple[int, int]] | None = None) -> tuple[str, str] | None:
    """(status, reason) when this row must not go out now, else None.
    ``enrolled`` (client, cohort) pairs may be passed in from a prefetch."""
    if n.expires_at is not None and n.expires_at <= now:
        return "expired", "its moment passed before it could be sent"
    client = db.session.get(Client, n.client_id) if n.client_id else None
    if client is not None and (
            (n.channel == "email" and client.email_opt_out)
            or (n.channel == "sms" and client.sms_opt_out)):
        return "cancelled", "the client stopped this channel"
    payload = n.payload or {}
    if n.kind == "reminder" and payload.get("group_session_id"):
        session = db.session.get(GroupSession, payload["group_session_id"])
        if session is None or session.status != "scheduled" or (
                session.revision != payload.get("revision")):
            return "cancelled", "the group session changed"
        if enrolled is not None:
            active = (n.client_id, session.cohort_id) in enrolled
        else:
            active = db.session.scalar(sa.select(Enrollment.id).where(
                Enrollment.client_id == n.client_id, Enrollment.cohort_id == session.cohort_id,
                Enrollment.status == "active")) is not None
        if not active:
            return "cancelled", "no longer enrolled"
    if n.kind == "checkin_reminder" and payload.get("check_in_id"):
        check_in = db.session.get(CheckIn, payload["check_in_id"])
        if check_in is None or check_in.status != "booked" or (
                check_in.revision != payload.get("revision")):
            return "cancelled", "the check-in changed"
    if n.kind in ("reminder", "checkin_reminder") and client is not None and (
            payload.get("lead_minutes") not in (client.reminder_minutes or [])):
        return "cancelled", "the client changed their reminder times"
    return None


def deliver_group(ids: list[int], runner: str, now: datetime, policy: Policy, config,
                  transports: dict[str, Any], *, deadline: float | None = None,
                  ) -> dict[str, int]:
    """Send a group of claimed rows: one transaction decides and marks them all as
    sending, then each goes to its provider, then one transaction records them.

    A runner that dies between the two transactions leaves at most ``len(ids)``
    rows ``unknown``; groups of one make that exact.
    """
    outcomes: dict[str, int] = {}

    def count(outcome: str) -> None:
        outcomes[outcome] = outcomes.get(outcome, 0) + 1

    # the row locks (PostgreSQL; SQLite's IMMEDIATE transaction holds the database)
    # keep another runner's lease recovery out until this runner has decided
    rows = db.session.scalars(
        sa.select(Notification).where(Notification.id.in_(ids)).order_by(Notification.id)
        .with_for_update().execution_options(populate_existing=True)).all()
    enrolled, _held = _prefetch(rows)
    going = []
    for n in rows:
        if n.status != "claimed" or n.claimed_by != runner or n.sending_at is not None:
            count("skipped")  # the lease ran out and another runner took it over
            continue
        stop = why_not(n, now, enrolled)
        if stop is not None:
            n.status, n.error, n.updated_at = stop[0], stop[1], now
            count(stop[0])
            continue
        tz = ZoneInfo((n.payload or {}).get("tz") or PROGRAM_TZ.key)
        if n.channel == "sms" and in_quiet_hours(now, tz, policy.quiet_start_hour,
                                                 policy.quiet_end_hour):
            n.due_at = after_quiet_hours(now, tz, policy.quiet_start_hour,
                                         policy.quiet_end_hour)
            n.status, n.claimed_by, n.lease_until, n.updated_at = "pending", None, None, now
            count("deferred")
            continue
        going.append(n)
    try:  # what their calendar entries need, read once for them all
        prepared = prepare(going, config)
    except Exception:  # a data problem in one: each prepares its own, failing alone
        log.exception("could not prepare notifications %s together", [n.id for n in going])
        prepared = None
    ready = []
    for n in going:
        try:
            ready.append((n.id, n.channel, draft(n, config, prepared)))
        except Exception as exc:  # a data problem: staff must look
            log.exception("could not draft notification %s", n.id)
            n.status, n.error, n.updated_at = "failed", f"render: {exc}", now
            count("failed")
    marked: set[int] = set()
    if ready:
        db.session.flush()
        marked = set(db.session.scalars(
            sa.update(Notification)
            .where(Notification.id.in_([nid for nid, _, _ in ready]),
                   Notification.claimed_by == runner, Notification.status == "claimed",
                   Notification.sending_at.is_(None))
            .values(sending_at=now, updated_at=now).returning(Notification.id)
            .execution_options(synchronize_session=False)))
    db.session.commit()
    _pause_point("before_send")
    sent, failed, unsure, later, unworded = [], [], [], [], []

    def due(channel: str):  # drawn as the transport sends: each worded while the last goes
        for nid, kind, drafted in ready:
            if kind != channel:
                continue
            if nid not in marked:
                count("skipped")
            elif deadline is not None and time.monotonic() > deadline:
                later.append(nid)  # the run is out of time: never handed over, so safe
            else:
                try:
                    message = word(drafted, current_app.jinja_env)
                except Exception as exc:  # a template problem: never handed over
                    log.exception("could not render notification %s", nid)
                    unworded.append((nid, f"render: {exc}"))
                    continue
                yield nid, message

    for channel in dict.fromkeys(kind for _, kind, _ in ready):
        transport = transports.get(channel)
        if transport is None:
            transport = transports[channel] = transport_for(channel, config)
        for nid, status, detail in send_each(transport, due(channel)):
            if status == "sent":
                sent.append(nid)
            elif status == "unknown":
                unsure.append((nid, detail))
            else:
                failed.append((nid, detail))
    _pause_point("after_send")
    if sent:
        db.session.execute(
            _update(Notification.id.in_(sent), Notification.claimed_by == runner,
                    Notification.status.in_(("claimed", "unknown")))
            .values(status="sent", sent_at=now, attempts=Notification.attempts + 1,
                    error=None, lease_until=None, updated_at=now))
        outcomes["sent"] = outcomes.get("sent", 0) + len(sent)
    for nid, error in failed:
        count(_failed(nid, now, policy, error))
    for nid, error in unworded:  # staff must look: trying again would fail the same way
        db.session.execute(
            _update(Notification.id == nid, Notification.claimed_by == runner)
            .values(status="failed", error=error[:2000], sending_at=None, lease_until=None,
                    updated_at=now))
        count("failed")
    for nid, error in unsure:  # handed over, unanswered: staff look; never sent twice
        db.session.execute(
            _update(Notification.id == nid, Notification.claimed_by == runner)
            .values(status="unknown", error=error[:2000], attempts=Notification.attempts + 1,
                    lease_until=None, updated_at=now))
        count("unknown")
    if later:
        db.session.execute(
            _update(Notification.id.in_(later), Notification.claimed_by == runner)
            .values(status="pending", claimed_by=None, lease_until=None, sending_at=None,
                    updated_at=now))
        outcomes["later"] = outcomes.get("later", 0) + len(later)
    db.session.commit()
    _pause_point("after_mark")
    return outcomes


def _failed(nid: int, now: datetime, policy: Policy, error: str) -> str:
    """Record a provider refusal (the message did not go). Does not commit."""
    n = db.session.get(Notification, nid)
    n.attempts += 1
    n.error, n.updated_at = error[:2000], now
    if n.attempts >= policy.send_max_attempts:
        n.status = "failed"
    else:  # the provider said no: it did not go, so trying again cannot double it
        n.status, n.claimed_by, n.lease_until, n.sending_at = "pending", None, None, None
        n.due_at = now + timedelta(minutes=2 ** n.attempts)
    log.warning("notification %s not sent (%s): %s", nid, n.status, error)
    return n.status


def send_due(now: datetime, policy: Policy, *, runner: str | None = None, batch: int = 100,
             max_rows: int | None = None, transports: dict[str, Any] | None = None,
             group: int | None = None) -> dict[str, int]:
    """Job: expire, recover lapsed leases, then claim and send due rows in batches
    until none are due (or ``max_rows`` were handled). Returns counts by outcome.

    ``group`` (default OUTBOX_SEND_GROUP, 20) rows share each pair of commits."""
    config = current_app.config
    lease = timedelta(seconds=int(config.get("OUTBOX_LEASE_SECONDS", 300)))
    group = max(1, group or int(config.get("OUTBOX_SEND_GROUP", 20)))
    runner = runner or RUNNER_ID
    # a slow provider must not hold the runner: no new batch is claimed once the
    # run has used its time (the rest waits for the next run, a minute later)
    budget = float(config.get("OUTBOX_SEND_BUDGET_SECONDS", 60))
    started = time.monotonic()
    owned = transports is None  # connections opened here are closed here
    transports = {} if transports is None else transports
    counts: dict[str, int] = dict(expire_and_recover(now, lease))
    handled = 0
    try:
        while max_rows is None or handled < max_rows:
            if time.monotonic() - started > budget:
                counts["over_budget"] = 1
                break
            size = batch if max_rows is None else min(batch, max_rows - handled)
            ids = claim(runner, now, size, lease)
            if not ids:
                break
            _pause_point("after_claim")
            for start in range(0, len(ids), group):
                for outcome, n in deliver_group(ids[start:start + group], runner, now, policy,
                                                config, transports,
                                                deadline=started + budget).items():
                    counts[outcome] = counts.get(outcome, 0) + n
            handled += len(ids)
    finally:
        if owned:
            for transport in transports.values():
                getattr(transport, "close", lambda: None)()
    return counts
