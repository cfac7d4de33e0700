"""Which events each feed holds, and what each event says.

Feeds: a client's own (discreet), and staff feeds per cohort, location and
facilitator (client initials only). ``build_feed`` gives the bytes; the rules
that decide titles, places and visibility are plain functions over values.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from calendars.ical import FeedEvent, calendar_bytes, event_file_bytes
from calendars.sequence import sequenced, sequenced_many
from scheduler.config import Policy
from scheduler.errors import NotFound
from scheduler.models import (
    CheckIn,
    Client,
    Cohort,
    Enrollment,
    GroupSession,
    Location,
    StaffUser,
    db,
)
from scheduler.timeutil import local_instant, local_today, to_local

DEFAULT_TITLE = "Group session"
CHECKIN_TITLES = {"in_person": "Check-in", "phone": "Check-in call",
                  "video": "Video check-in"}
STAFF_KINDS = ("cohort", "location", "facilitator")


@dataclass(frozen=True)
class Window:
    """The days a feed covers, from the local date of ``now``."""

    today: date
    first: datetime  # UTC instant: local midnight ``days_back`` ago
    last: datetime   # UTC instant: local midnight ``days_ahead`` on

    @classmethod
    def around(cls, now: datetime, policy: Policy) -> Window:
        today = local_today(now)
        return cls(today,
                   local_instant(today - timedelta(days=policy.feed_days_back), time(0)),
                   local_instant(today + timedelta(days=policy.feed_days_ahead), time(0)))


@dataclass(frozen=True)
class Span:
    """The dates a client belonged to a cohort: ``first <= day < end`` (end None: open)."""

    cohort_id: int
    first: date
    end: date | None

    def covers(self, day: date) -> bool:
        return self.first <= day and (self.end is None or day < self.end)


def uid_for(subject: str, key: bytes) -> str:
    """A stable, opaque UID: a keyed hash of "table:id" (no names, no guessable ids)."""
    digest = hmac.new(key, subject.encode("ascii"), hashlib.sha256).hexdigest()
    return f"{digest[:32]}@regroup"


def span_of(enrollment: Enrollment) -> Span:
    """Active: open-ended. Paused: through its seat hold (or the pause day if none).
    Completed, withdrawn, moved: until the day it ended."""
    if enrollment.status == "active":
        end = None
    elif enrollment.status == "paused":
        until = enrollment.hold_until or enrollment.paused_at or enrollment.updated_at
        end = to_local(until).date() + (timedelta(days=1) if enrollment.hold_until
                                        else timedelta(0))
    else:
        end = enrollment.left_on or to_local(enrollment.updated_at).date()
    return Span(enrollment.cohort_id, enrollment.joined_on, end)


def still_visible(status: str, ends_at: datetime, today: date, policy: Policy) -> bool:
    """Cancelled events stay (as CANCELLED) until ``cancelled_visible_days`` after
    the day they would have taken place, then drop out."""
    if status != "cancelled":
        return True
    return today <= to_local(ends_at).date() + timedelta(days=policy.cancelled_visible_days)


def initials(name: str) -> str:
    """'Robin Q. Example' -> 'R.Q.E.': what staff feeds show instead of names."""
    letters = [part[0].upper() for part in name.replace("-", " ").split() if part[0].isalpha()]
    return "".join(f"{c}." for c in letters[:3]) or "?"


def place(location: Location, room: str = "") -> str:
    where = location.name + (f", {location.address}" if location.address else "")
    return where + (f" ({room})" if room else "")


def client_title(client: Client) -> str:
    return (client.calendar_title or "").strip() or DEFAULT_TITLE


# -- loading ----------------------------------------------------------------------


def _sessions(cohort_ids: Iterable[int], window: Window) -> list[GroupSession]:
    ids = sorted(set(cohort_ids))
    if not ids:
        return []
    return list(db.session.scalars(sa.select(GroupSession).where(
        GroupSession.cohort_id.in_(ids), GroupSession.starts_at >= window.first,
        GroupSession.starts_at < window.last)))


def _check_ins(where, window: Window) -> list[CheckIn]:
    return list(db.session.scalars(
        sa.select(CheckIn).where(where, CheckIn.at >= window.first, CheckIn.at < window.last)))


def _status(row_status: str) -> str:
    return "CANCELLED" if row_status == "cancelled" else "CONFIRMED"


def _titled(title: str, status: str) -> str:
    # Several apps ignore STATUS in subscribed calendars; the title says it too.
    return f"Cancelled: {title}" if status == "cancelled" else title


def client_feed(client_id: int, now: datetime, policy: Policy, key: bytes,
                ) -> tuple[str, list[FeedEvent]]:
    """The client's calendar name and events: group sessions of every cohort they
    are or were in (only the days they belonged) and their check-ins.

    Discreet: their own title or "Group session", a place only if they allow it,
    no cohort, track or program names.
    """
    client = db.session.get(Client, client_id)
    if client is None:
        raise NotFound(f"Client {client_id} was not found")
    window = Window.around(now, policy)
    spans = [span_of(e) for e in db.session.scalars(
        sa.select(Enrollment).where(Enrollment.client_id == client_id))]
    title = client_title(client)
    cohorts = {c.id: c for c in db.session.scalars(
        sa.select(Cohort).where(Cohort.id.in_({s.cohort_id for s in spans})))} if spans else {}
    events = [_client_session_event(client, title, row, cohorts[row.cohort_id], key)
              for row in _sessions(cohorts, window)
              if _client_sees(spans, row, window, policy)]
    for row in _check_ins(CheckIn.client_id == client_id, window):
        if not still_visible(row.status, row.at, window.today, policy):
            continue
        location = None
        if client.show_location and row.mode == "in_person" and row.location_id:
            location = place(db.session.get(Location, row.location_id))
        events.append(_check_in_event(row, key, CHECKIN_TITLES[row.mode], location,
                                      client.alarm_minutes))
    return title if client.calendar_title else "Group sessions", events


def _client_sees(spans: Iterable[Span], row: GroupSession, window: Window,
                 policy: Policy) -> bool:
    """A group session is in a client's feed on the days they belonged to its cohort
    (and, cancelled, only for a while after)."""
    return any(s.cohort_id == row.cohort_id and s.covers(row.occurs_on) for s in spans) and (
        still_visible(row.status, row.ends_at, window.today, policy))


def _client_session_event(client: Client, title: str, row: GroupSession, cohort: Cohort,
                          key: bytes) -> FeedEvent:
    return FeedEvent(
        uid=uid_for(f"group_session:{row.id}", key), sequence=row.revision,
        modified=row.updated_at, created=row.created_at, starts_at=row.starts_at,
        ends_at=row.ends_at, summary=_titled(title, row.status), status=_status(row.status),
        location=place(cohort.location, cohort.room) if client.show_location else None,
        alarm_minutes=client.alarm_minutes, subject=f"group_session:{row.id}")


def _check_in_event(row: CheckIn, key: bytes, title: str, location: str | None,
                    alarm: int | None = None, description: str | None = None) -> FeedEvent:
    return FeedEvent(
        uid=uid_for(f"check_in:{row.id}", key), sequence=row.revision,
        modified=row.updated_at, created=row.created_at, starts_at=row.at,
        ends_at=row.at + timedelta(minutes=row.minutes), summary=_titled(title, row.status),
        status=_status(row.status), location=location, description=description,
        alarm_minutes=alarm, subject=f"check_in:{row.id}")


def staff_feed(kind: str, subject_id: int, now: datetime, policy: Policy, key: bytes,
               ) -> tuple[str, list[FeedEvent]]:
    """A cohort's, a location's or a facilitator's group sessions (and, for a
    location or facilitator, check-ins), naming clients by initials only."""
    window = Window.around(now, policy)
    if kind == "cohort":
        cohort = db.session.get(Cohort, subject_id)
        if cohort is None:
            raise NotFound(f"Cohort {subject_id} was not found")
        name, cohorts, check_in_filter = f"{cohort.name} (staff)", [cohort], None
    elif kind == "location":
        location = db.session.get(Location, subject_id)
        if location is None:
            raise NotFound(f"Location {subject_id} was not found")
        name = f"{location.name} groups (staff)"
        cohorts = list(db.session.scalars(sa.select(Cohort).where(
            Cohort.location_id == subject_id)))
        check_in_filter = CheckIn.location_id == subject_id
    elif kind == "facilitator":
        staff = db.session.get(StaffUser, subject_id)
        if staff is None:
            raise NotFound(f"Staff member {subject_id} was not found")
        name = f"{staff.name} groups (staff)"
        cohorts = list(db.session.scalars(sa.select(Cohort).where(
            Cohort.facilitator_id == subject_id)))
        check_in_filter = CheckIn.staff_id == subject_id
    else:
        raise NotFound(f"No {kind} feeds")
    by_id = {c.id: c for c in cohorts}
    roster: dict[int, list[tuple[Span, str]]] = {}
    if by_id:
        rows = db.session.execute(sa.select(Enrollment, Client.name).join(Client).where(
            Enrollment.cohort_id.in_(by_id)))
        for enrollment, client_name in rows:
            roster.setdefault(enrollment.cohort_id, []).append(
                (span_of(enrollment), initials(client_name)))
    events = []
    for row in _sessions(by_id, window):
        if not still_visible(row.status, row.ends_at, window.today, policy):
            continue
        cohort = by_id[row.cohort_id]
        present = sorted(i for span, i in roster.get(row.cohort_id, ()) if span.covers(
            row.occurs_on))
        lines = [f"Clients ({len(present)}): {', '.join(present) or 'none yet'}"]
        if cohort.facilitator is not None:
            lines.insert(0, f"Facilitator: {cohort.facilitator.name}")
        if row.status == "cancelled" and row.cancel_reason:
            lines.insert(0, f"Cancelled: {row.cancel_reason}")
        events.append(FeedEvent(
            uid=uid_for(f"group_session:{row.id}", key), sequence=row.revision,
            modified=row.updated_at, created=row.created_at, starts_at=row.starts_at,
            ends_at=row.ends_at, summary=_titled(cohort.name, row.status),
            status=_status(row.status), location=place(cohort.location, cohort.room),
            description="\n".join(lines), subject=f"group_session:{row.id}"))
    if check_in_filter is not None:
        rows = db.session.execute(sa.select(CheckIn, Client.name).join(
            Client, Client.id == CheckIn.client_id).where(
            check_in_filter, CheckIn.at >= window.first, CheckIn.at < window.last))
        for row, client_name in rows:
            if not still_visible(row.status, row.at, window.today, policy):
                continue
            location = (place(db.session.get(Location, row.location_id))
                        if row.location_id else None)
            title = f"{CHECKIN_TITLES[row.mode]}: {initials(client_name)}"
            events.append(_check_in_event(row, key, title, location))
    return name, events


def feed_events(kind: str, subject_id: int, now: datetime, policy: Policy, key: bytes,
                ) -> tuple[str, list[FeedEvent]]:
    """The feed's name and events, each with the SEQUENCE and DTSTAMP that count
    every change of what it shows (``calendars.sequence``)."""
    if kind == "client":
        name, events = client_feed(subject_id, now, policy, key)
    else:
        name, events = staff_feed(kind, subject_id, now, policy, key)
    return name, sequenced(kind, subject_id, events, now)


def build_feed(kind: str, subject_id: int, now: datetime, policy: Policy, key: bytes,
               ) -> bytes:
    """The feed's bytes: the same rows on the same local day give the same bytes."""
    return calendar_bytes(*feed_events(kind, subject_id, now, policy, key))


def feed_uid_key(config) -> bytes:
    """The key behind event UIDs, from app config ``FEED_UID_KEY``."""
    return config["FEED_UID_KEY"].encode("utf-8")


def client_session_files(pairs: Iterable[tuple[int, int]], now: datetime, policy: Policy,
                         key: bytes) -> dict[tuple[int, int], bytes]:
    """For each (client, group session) pair, that session as a file to import once,
    worded as in the client's own feed (same UID and SEQUENCE, so importing it beside
    a subscription updates rather than duplicates in apps that merge by UID); pairs
    whose feed does not hold the session are left out. A few statements for any
    number of pairs: a group of reminders is sent together."""
    pairs = sorted(set(pairs))
    if not pairs:
        return {}
    client_ids = {c for c, _ in pairs}
    clients = {c.id: c for c in db.session.scalars(
        sa.select(Client).where(Client.id.in_(client_ids)))}
    spans: dict[int, list[Span]] = {}
    for enrollment in db.session.scalars(
            sa.select(Enrollment).where(Enrollment.client_id.in_(client_ids))):
        spans.setdefault(enrollment.client_id, []).append(span_of(enrollment))
    window = Window.around(now, policy)
    sessions = {row.id: row for row in db.session.scalars(
        sa.select(GroupSession).where(
            GroupSession.id.in_({s for _, s in pairs}), GroupSession.starts_at >= window.first,
            GroupSession.starts_at < window.last)
        .options(joinedload(GroupSession.cohort).joinedload(Cohort.location)))}
    feeds: dict[int, list[FeedEvent]] = {}
    for client_id, session_id in pairs:
        client, row = clients.get(client_id), sessions.get(session_id)
        if client is None or row is None or not _client_sees(
                spans.get(client_id, ()), row, window, policy):
            continue
        feeds.setdefault(client_id, []).append(
            _client_session_event(client, client_title(client), row, row.cohort, key))
    return {(client_id, int(event.subject.partition(":")[2])): event_file_bytes([event])
            for client_id, events in sequenced_many("client", feeds, now).items()
            for event in events}


def single_event(kind: str, subject_id: int, subject: str, now: datetime,
                 policy: Policy, key: bytes) -> bytes | None:
    """One event of a feed ("group_session:<id>" or "check_in:<id>") as a file to
    import once, worded as in that feed; None when the feed does not hold it."""
    table, _, row_id = subject.partition(":")
    if kind == "client" and table == "group_session":
        return client_session_files([(subject_id, int(row_id))], now, policy, key).get(
            (subject_id, int(row_id)))
    chosen = [e for e in feed_events(kind, subject_id, now, policy, key)[1]
              if e.subject == subject]
    return event_file_bytes(chosen) if chosen else None
