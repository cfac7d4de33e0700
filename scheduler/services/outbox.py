"""The outbox: every message is a Notification row, planned in the same transaction
as the change that causes it. ``scheduler.services.delivery`` sends them.

``queue`` is what other use cases call; nothing here commits except the jobs
(``plan_reminders``) and ``opt_out``.

Keys: ``kind:subject_ref:client:channel:occurrence`` (staff rows use ``staff-<id>``
for the client part). Group-session reminders carry the session's revision in
their occurrence (``1440m-r3``), so moving a session plans new keys and the old
pending ones are cancelled; planning the same key twice adds nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import sqlalchemy as sa
from flask import current_app, has_app_context

from scheduler.config import Policy
from scheduler.errors import InvalidTransition, InvalidValue
from scheduler.models import (
    CheckIn,
    Client,
    Cohort,
    Enrollment,
    GroupSession,
    Location,
    Notification,
    StaffUser,
    db,
)
from scheduler.reminders import after_quiet_hours, change_notice
from scheduler.reminders import plan_reminders as reminder_rule
from scheduler.services.common import get
from scheduler.timeutil import PROGRAM_TZ, as_utc

INSERT_CHUNK = 2000


def reach(channels: Sequence[str] | None, email: str | None, phone: str | None,
          email_opt_out: bool, sms_opt_out: bool, *, fallback: bool = True,
          ) -> list[tuple[str, str]]:
    """(channel, recipient) pairs for these contact details and choices.

    A chosen channel with no address falls back to the other one (someone who gave
    only a phone number gets texts, only an email address emails); an opt-out is a
    choice and is kept. ``fallback`` (messages the client must get, like an offer):
    when nothing is left, any address they have not stopped."""
    addresses = {"email": (email, email_opt_out), "sms": (phone, sms_opt_out)}
    other = {"email": "sms", "sms": "email"}
    out: list[tuple[str, str]] = []
    for channel in channels or ["email"]:
        if channel not in addresses:
            continue
        address, stopped = addresses[channel]
        if not address:  # nothing to send it to: the other way, if they gave one
            channel = other[channel]
            address, stopped = addresses[channel]
        if address and not stopped and (channel, address) not in out:
            out.append((channel, address))
    if not out and fallback:
        for channel in ("email", "sms"):
            address, stopped = addresses[channel]
            if address and not stopped:
                return [(channel, address)]
    return out


def channels_for(client: Client) -> list[tuple[str, str]]:
    """(channel, recipient) pairs this client can be reached on and has not stopped."""
    return reach(client.reminder_channels, client.email, client.phone,
                 client.email_opt_out, client.sms_opt_out)


def message_key(kind: str, subject_ref: str, client_id: int | str, channel: str,
                occurrence: str) -> str:
    return f"{kind}:{subject_ref}:{client_id}:{channel}:{occurrence}"


def _policy() -> Policy:
    return current_app.config["POLICY"] if has_app_context() else Policy()


def queue(kind: str, client: Client, *, subject_ref: str, occurrence: str, due_at: datetime,
          now: datetime, payload: dict[str, Any] | None = None,
          expires_at: datetime | None = None, tz: ZoneInfo | None = None,
          to: Sequence[tuple[str, str]] | None = None) -> list[Notification]:
    """Plan one message per reachable channel; planning the same key twice adds nothing.

    ``kind`` names the template (reminder, offer, cancellation, welcome_back, ...);
    ``subject_ref`` the record it is about ("group_session:12"); ``occurrence``
    tells apart messages about the same record (the reminder's lead time, the
    offer's id, the session's revision). SMS due in quiet hours (in ``tz``, the
    program's zone by default) is deferred to the morning. ``to`` sends to these
    (channel, recipient) pairs instead of the client's own choices (a reply on the
    channel a request came in by).
    """
    policy = _policy()
    made = []
    for channel, recipient in (channels_for(client) if to is None else to):
        key = message_key(kind, subject_ref, client.id, channel, occurrence)
        exists = db.session.scalar(sa.select(Notification.id).where(Notification.key == key))
        if exists is not None:
            continue
        due = due_at
        if channel == "sms":
            due = after_quiet_hours(due_at, tz or PROGRAM_TZ, policy.quiet_start_hour,
                                    policy.quiet_end_hour)
        row = Notification(key=key, kind=kind, client_id=client.id, channel=channel,
                           recipient=recipient, subject_ref=subject_ref,
                           payload=payload or {}, due_at=due, expires_at=expires_at,
                           status="pending", created_at=now, updated_at=now)
        db.session.add(row)
        made.append(row)
    db.session.flush()
    return made


def queue_for_staff(kind: str, *, subject_ref: str, occurrence: str, now: datetime,
                    payload: dict[str, Any] | None = None,
                    roles: Iterable[str] = ("coordinator", "admin")) -> int:
    """One email per active staff member with one of ``roles``. Does not commit."""
    staff = db.session.execute(sa.select(StaffUser.id, StaffUser.email).where(
        StaffUser.active.is_(True), StaffUser.role.in_(tuple(roles)))).all()
    rows = [dict(key=message_key(kind, subject_ref, f"staff-{sid}", "email", occurrence),
                 kind=kind, client_id=None, staff_id=sid, channel="email", recipient=email,
                 subject_ref=subject_ref, payload=payload or {}, due_at=now, expires_at=None)
            for sid, email in staff]
    return insert_new(rows, now)


COLUMNS = ("key", "kind", "client_id", "staff_id", "channel", "recipient", "subject_ref",
           "payload", "due_at", "expires_at", "status", "attempts", "created_at", "updated_at")


def insert_new(rows: list[dict[str, Any]], now: datetime) -> int:
    """Insert notification rows whose key is new (ON CONFLICT DO NOTHING, one
    executemany per chunk). Returns how many were inserted. Does not commit.

    Planning writes many rows, so values go to the driver as plain tuples: naive
    UTC datetimes (as text on SQLite, in SQLAlchemy's own storage format) and
    JSON text, which is what the ORM would have stored.
    """
    if not rows:
        return 0
    connection = db.session.connection()
    dialect = connection.dialect.name
    if dialect == "sqlite":
        mark, json_mark = "?", "?"

        def stamp(value):
            return None if value is None else (
                as_utc(value).replace(tzinfo=None).isoformat(" ", "microseconds"))
    elif dialect == "postgresql":
        mark, json_mark = "%s", "CAST(%s AS JSON)"

        def stamp(value):
            return None if value is None else as_utc(value).replace(tzinfo=None)
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise RuntimeError(f"unsupported database {dialect}")
    marks = ", ".join(json_mark if c == "payload" else mark for c in COLUMNS)
    sql = (f"INSERT INTO notification ({', '.join(COLUMNS)}) VALUES ({marks}) "
           "ON CONFLICT (key) DO NOTHING")
    created = stamp(now)
    # rows of one planning run share few instants and payload objects: convert each once
    stamps: dict[datetime | None, Any] = {}
    texts: dict[int, str] = {}

    def stamp_once(value):
        if value not in stamps:
            stamps[value] = stamp(value)
        return stamps[value]

    def dumps_once(payload):
        payload = payload or {}
        if id(payload) not in texts:
            texts[id(payload)] = json.dumps(payload)
        return texts[id(payload)]

    added = 0
    cursor = connection.connection.cursor()
    try:
        for start in range(0, len(rows), INSERT_CHUNK):
            values = [(r["key"], r["kind"], r.get("client_id"), r.get("staff_id"), r["channel"],
                       r["recipient"], r.get("subject_ref"), dumps_once(r.get("payload")),
                       stamp_once(r["due_at"]), stamp_once(r.get("expires_at")), "pending", 0,
                       created, created) for r in rows[start:start + INSERT_CHUNK]]
            if dialect == "postgresql" and len(values) >= COPY_FROM:
                added += _copy_in(cursor, values)
            else:
                cursor.executemany(sql, values)
                added += max(cursor.rowcount or 0, 0)
    finally:
        cursor.close()
    return added


COPY_FROM = 200
# the COLUMNS' types for a binary COPY (a tenth of planning's time, against text). The
# payload is JSON text already: json's binary form is its text, so it goes as text
COPY_TYPES = ("varchar", "varchar", "int4", "int4", "varchar", "varchar", "varchar", "text",
              "timestamp", "timestamp", "varchar", "int4", "timestamp", "timestamp")


def _copy_in(cursor, values: list[tuple]) -> int:
    """PostgreSQL: COPY a chunk's new keys straight into the table. Keys already
    there (a re-plan) or twice in the chunk are left out first; should another
    writer add one of the rest in between, the unique key refuses the COPY, it is
    undone to its savepoint, and the chunk goes the careful way (``_copy_staged``)."""
    known = _known_keys(cursor, [row[0] for row in values])
    fresh, seen = [], set(known)
    for row in values:
        if row[0] not in seen:
            seen.add(row[0])
            fresh.append(row)
    if not fresh:
        return 0
    cursor.execute("SAVEPOINT notification_copy")
    try:
        with cursor.copy(f"COPY notification ({', '.join(COLUMNS)}) FROM STDIN "
                         "(FORMAT BINARY)") as copy:
            copy.set_types(COPY_TYPES)
            for row in fresh:
                copy.write_row(row)
    except psycopg.errors.UniqueViolation:
        cursor.execute("ROLLBACK TO SAVEPOINT notification_copy")
        return _copy_staged(cursor, fresh)
    cursor.execute("RELEASE SAVEPOINT notification_copy")
    return len(fresh)


def _known_keys(cursor, keys: list[str]) -> set[str]:
    # one text parameter split by the server: a list parameter is dumped key by key
    # (a tenth of planning's time); keys are ours and hold no newline
    if any("\n" in key for key in keys):
        cursor.execute("SELECT key FROM notification WHERE key = ANY(%s)", (keys,))
    else:
        cursor.execute("SELECT key FROM notification "
                       "WHERE key = ANY(string_to_array(%s, E'\\n'))", ("\n".join(keys),))
    return {key for (key,) in cursor.fetchall()}


def _copy_staged(cursor, values: list[tuple]) -> int:
    """COPY into a temporary table, then insert the keys still new."""
    cols = ", ".join(COLUMNS)
    cursor.execute(
        "CREATE TEMP TABLE IF NOT EXISTS notification_incoming (key varchar(200), "
        "kind varchar(30), client_id integer, staff_id integer, channel varchar(10), "
        "recipient varchar(254), subject_ref varchar(60), payload json, due_at timestamp, "
        "expires_at timestamp, status varchar(10), attempts integer, created_at timestamp, "
        "updated_at timestamp) ON COMMIT DROP")
    with cursor.copy(f"COPY notification_incoming ({cols}) FROM STDIN") as copy:
        for row in values:
            copy.write_row(row)
    cursor.execute(f"INSERT INTO notification ({cols}) SELECT {cols} FROM "
                   "notification_incoming ON CONFLICT (key) DO NOTHING")
    added = max(cursor.rowcount or 0, 0)
    # TRUNCATE, not DELETE: deleted rows would stay as dead tuples that every later
    # chunk's INSERT ... SELECT scans again (a third of planning's time at 360,000)
    cursor.execute("TRUNCATE notification_incoming")
    return added


# ---------------------------------------------------------------- reminders


def _session_rows(now: datetime, until: datetime, session_ids: Sequence[int] | None):
    query = (sa.select(GroupSession.id, GroupSession.cohort_id, GroupSession.occurs_on,
                       GroupSession.starts_at, GroupSession.revision, Location.timezone)
             .join(Cohort, Cohort.id == GroupSession.cohort_id)
             .join(Location, Location.id == Cohort.location_id)
             .where(GroupSession.status == "scheduled", Cohort.status == "running",
                    GroupSession.starts_at > now))
    if session_ids is not None:
        query = query.where(GroupSession.id.in_(list(session_ids)))
    else:
        query = query.where(GroupSession.starts_at <= until)
    return db.session.execute(query).all()


def plan_reminders(now: datetime, policy: Policy, *, horizon: timedelta | None = None,
                   session_ids: Sequence[int] | None = None, commit: bool = True) -> int:
    """Job: plan reminders for group sessions and check-ins starting within
    ``reminder_plan_hours`` (or ``horizon``). Idempotent by key; returns rows added.

    Each active enrollee of the session's cohort (joined on or before its day)
    gets one row per chosen lead time and reachable channel; SMS due in quiet
    hours is deferred to the morning in the location's zone.
    """
    until = now + (horizon or timedelta(hours=policy.reminder_plan_hours))
    sessions = _session_rows(now, until, session_ids)
    by_cohort: dict[int, list] = {}
    for row in sessions:
        by_cohort.setdefault(row.cohort_id, []).append(row)
    rows: list[dict[str, Any]] = []
    added = 0
    if by_cohort:
        people = db.session.execute(
            sa.select(Enrollment.cohort_id, Enrollment.joined_on, Client.id,
                      Client.reminder_minutes, Client.reminder_channels, Client.email,
                      Client.phone, Client.email_opt_out, Client.sms_opt_out)
            .join(Client, Client.id == Enrollment.client_id)
            .where(Enrollment.status == "active", Enrollment.cohort_id.in_(list(by_cohort)))
        ).all()
        zones: dict[str, ZoneInfo] = {}
        instants: dict[tuple[int, tuple[int, ...]], list] = {}  # shared by equal choices
        payloads: dict = {}
        for person in people:
            reachable = reach(person.reminder_channels, person.email, person.phone,
                              person.email_opt_out, person.sms_opt_out, fallback=False)
            if not reachable or not person.reminder_minutes:
                continue
            for gs in by_cohort[person.cohort_id]:
                if person.joined_on > gs.occurs_on:
                    continue
                tz = zones.setdefault(gs.timezone, ZoneInfo(gs.timezone))
                leads = tuple(person.reminder_minutes)
                planned = instants.get((gs.id, leads))
                if planned is None:
                    planned = instants[(gs.id, leads)] = reminder_rule(
                        gs.starts_at, leads, now, tz)
                rows.extend(_reminder_rows(
                    "reminder", f"group_session:{gs.id}", person.id, reachable, planned, tz,
                    gs.starts_at, gs.revision, {"group_session_id": gs.id}, policy, payloads))
                if len(rows) >= INSERT_CHUNK * 5:
                    added += insert_new(rows, now)
                    rows = []
    if session_ids is None:
        rows.extend(_check_in_rows(now, until, policy))
    added += insert_new(rows, now)
    if commit:
        db.session.commit()
    return added


def _reminder_rows(kind: str, subject_ref: str, client_id: int, reachable, planned, tz,
                   starts_at: datetime, revision: int, extra: dict[str, Any],
                   policy: Policy, payloads: dict | None = None) -> list[dict[str, Any]]:
    rows = []
    payloads = {} if payloads is None else payloads
    expires_at = as_utc(starts_at)
    for p in planned:
        payload = payloads.get((subject_ref, p.lead_minutes))
        if payload is None:  # one (read-only) payload object per meeting and lead time
            payload = payloads[(subject_ref, p.lead_minutes)] = {
                **extra, "revision": revision, "lead_minutes": p.lead_minutes,
                "starts_at": expires_at.isoformat(), "tz": tz.key}
        for channel, recipient in reachable:
            due = p.due_at
            if channel == "sms":
                due = after_quiet_hours(due, tz, policy.quiet_start_hour,
                                        policy.quiet_end_hour)
            rows.append(dict(
                key=message_key(kind, subject_ref, client_id, channel,
                                f"{p.lead_minutes}m-r{revision}"),
                kind=kind, client_id=client_id, staff_id=None, channel=channel,
                recipient=recipient, subject_ref=subject_ref, payload=payload, due_at=due,
                expires_at=expires_at))
    return rows


def _check_in_rows(now: datetime, until: datetime, policy: Policy) -> list[dict[str, Any]]:
    found = db.session.execute(
        sa.select(CheckIn.id, CheckIn.at, CheckIn.revision, CheckIn.mode, Client.id,
                  Client.reminder_minutes, Client.reminder_channels, Client.email,
                  Client.phone, Client.email_opt_out, Client.sms_opt_out, Location.timezone)
        .join(Client, Client.id == CheckIn.client_id)
        .outerjoin(Location, Location.id == CheckIn.location_id)
        .where(CheckIn.status == "booked", CheckIn.at > now, CheckIn.at <= until)
    ).all()
    rows: list[dict[str, Any]] = []
    for c in found:
        reachable = reach(c.reminder_channels, c.email, c.phone, c.email_opt_out,
                          c.sms_opt_out, fallback=False)
        if not reachable or not c.reminder_minutes:
            continue
        tz = ZoneInfo(c.timezone) if c.timezone else PROGRAM_TZ
        rows.extend(_reminder_rows(
            "checkin_reminder", f"check_in:{c[0]}", c[4], reachable,
            reminder_rule(c.at, c.reminder_minutes, now, tz), tz, c.at, c.revision,
            {"check_in_id": c[0], "mode": c.mode}, policy))
    return rows


def cancel_pending(subject_ref: str, kinds: Iterable[str], now: datetime, *,
                   keep_suffix: str | None = None, reason: str = "") -> int:
    """Cancel pending rows about a record (all, or those whose key does not end in
    ``keep_suffix``). Does not commit."""
    query = sa.update(Notification).where(
        Notification.subject_ref == subject_ref, Notification.kind.in_(tuple(kinds)),
        Notification.status == "pending")
    if keep_suffix is not None:
        query = query.where(sa.not_(Notification.key.endswith(keep_suffix)))
    result = db.session.execute(
        query.values(status="cancelled", error=reason or None, updated_at=now)
        .execution_options(synchronize_session=False))
    return result.rowcount or 0


def session_changed(row: GroupSession, old_starts_at: datetime, old_status: str,
                    now: datetime, policy: Policy | None = None) -> None:
    """Called, in the same transaction, after a group session moved or changed status.

    Stale pending reminders are cancelled; a cancelled meeting tells its enrollees
    once per revision, a moved one tells them and re-plans reminders. Notices go
    only for meetings within ``change_notice_days`` (further out, the reminders
    and calendar feeds carry the change). Does not commit.
    """
    policy = policy or _policy()
    ref = f"group_session:{row.id}"
    db.session.flush()
    cancel_pending(ref, ("reminder",), now, keep_suffix=f"-r{row.revision}",
                   reason="the group session changed")
    old_start, new_start = as_utc(old_starts_at), as_utc(row.starts_at)
    if row.status == "cancelled" and old_status == "scheduled":
        cancel_pending(ref, ("reminder", "session_moved", "session_restored"), now,
                       reason="cancelled")
    elif row.status == "scheduled" and new_start != old_start:
        cancel_pending(ref, ("session_moved",), now, keep_suffix=f":r{row.revision}",
                       reason="moved again")
    if row.status == "scheduled" and old_status == "cancelled":
        cancel_pending(ref, ("cancellation",), now, reason="on again")
    kind = change_notice(old_start, new_start, old_status, row.status, now,
                         policy.change_notice_days)
    if kind is not None:
        payload = {"group_session_id": row.id, "revision": row.revision,
                   "old_starts_at": old_start.isoformat(), "starts_at": new_start.isoformat()}
        tz = ZoneInfo(row.cohort.location.timezone)
        expires = {"cancellation": old_start, "session_restored": new_start}.get(
            kind, min(old_start, new_start))
        for client in people_told_about(row):
            queue(kind, client, subject_ref=ref, occurrence=f"r{row.revision}", due_at=now,
                  now=now, payload=payload, expires_at=expires, tz=tz)
    if row.status == "scheduled":
        plan_reminders(now, policy, session_ids=[row.id], commit=False)


def people_told_about(row: GroupSession) -> list[Client]:
    """Who hears about a change to this meeting: its group's active people who had
    joined by its day (the same people its reminders go to)."""
    return _active_enrollees(row.cohort_id, row.occurs_on)


def _active_enrollees(cohort_id: int, day: date) -> list[Client]:
    return list(db.session.scalars(
        sa.select(Client).join(Enrollment, Enrollment.client_id == Client.id).where(
            Enrollment.cohort_id == cohort_id, Enrollment.status == "active",
            Enrollment.joined_on <= day).order_by(Client.id)))


def opt_out(client_id: int, channel: str, now: datetime, *, commit: bool = True) -> bool:
    """Stop one channel for a client (``email``, ``sms``) or the weekly notes while
    they wait (``waiting_notes``), and cancel what is still pending of it.
    Returns False when the client is unknown."""
    client = db.session.get(Client, client_id)
    if client is None:
        return False
    pending = sa.update(Notification).where(Notification.client_id == client_id,
                                            Notification.status == "pending")
    if channel == "email":
        client.email_opt_out = True
        pending = pending.where(Notification.channel == "email")
    elif channel == "sms":
        client.sms_opt_out = True
        pending = pending.where(Notification.channel == "sms")
    elif channel == "waiting_notes":
        client.waiting_notes = False
        pending = pending.where(Notification.kind == "still_waiting")
    else:
        raise InvalidValue(f"Unknown channel {channel}", field="channel")
    client.updated_at = now
    db.session.execute(
        pending.values(status="cancelled", error="the client stopped these messages",
                       updated_at=now)
        .execution_options(synchronize_session=False))
    if commit:
        db.session.commit()
    return True


RESOLUTIONS = ("sent", "resend", "cancelled")


def resolve(notification_id: int, outcome: str, now: datetime) -> Notification:
    """Staff settle an ``unknown`` or ``failed`` row: it did go (``sent``), send it
    again (``resend``), or leave it (``cancelled``). Commits."""
    if outcome not in RESOLUTIONS:
        raise InvalidValue("Use sent, resend or cancelled", field="outcome")
    row = get(Notification, notification_id, "Notification")
    if row.status not in ("unknown", "failed"):
        raise InvalidTransition(f"A {row.status} message needs no decision", field="outcome")
    if outcome == "resend":
        row.status, row.due_at = "pending", now
        row.claimed_by = row.lease_until = row.sending_at = None
    elif outcome == "sent":
        row.status, row.sent_at = "sent", row.sending_at or now
    else:
        row.status = "cancelled"
    row.error = (row.error or "") + f" [resolved by staff: {outcome}]"
    row.updated_at = now
    db.session.commit()
    return row
