"""Text-only changes raise SEQUENCE: each feed remembers, per event, a digest of the
words it showed (title, place, description, alarm). When a build finds different
words, that event's count of changes rises and its DTSTAMP/LAST-MODIFIED move to
the build's ``now``; events whose words stayed the same keep theirs. So a renamed
group, a new room, a roster change or a client's own title choice reaches sync
tools that skip events whose SEQUENCE and DTSTAMP did not move, and only on the
events that show it, in only the feeds that show it.

SEQUENCE is the row's revision (times and status) plus this count: both only rise.
Two workers building the same feed at once agree: the first insert wins, and a
change is counted by the one UPDATE whose old digest still matches.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from calendars.ical import FeedEvent
from scheduler.models import FeedEventState, db
from scheduler.timeutil import as_utc


def digest(event: FeedEvent) -> str:
    """What a person reads in the event besides its time and status."""
    words = "\x1f".join((event.summary, event.location or "", event.description or "",
                         str(event.alarm_minutes or "")))
    return hashlib.sha256(words.encode("utf-8")).hexdigest()[:32]


def _insert():
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(FeedEventState)


def _states(kind: str, wanted: dict[int, list[str]]) -> dict[tuple[int, str], FeedEventState]:
    """The stored states of these events, by (feed subject, uid)."""
    uids = {uid for uids in wanted.values() for uid in uids}
    rows = db.session.scalars(
        sa.select(FeedEventState).where(FeedEventState.feed_kind == kind,
                                        FeedEventState.feed_subject_id.in_(wanted),
                                        FeedEventState.uid.in_(uids))
        .execution_options(populate_existing=True))
    return {(s.feed_subject_id, s.uid): s for s in rows
            if s.uid in wanted.get(s.feed_subject_id, ())}


def sequenced(kind: str, subject_id: int, events: list[FeedEvent], now: datetime,
              ) -> list[FeedEvent]:
    """The events with SEQUENCE and DTSTAMP that count every change of their words.
    Writes in the caller's transaction (the caller commits)."""
    return sequenced_many(kind, {subject_id: events}, now)[subject_id]


def sequenced_many(kind: str, feeds: dict[int, list[FeedEvent]], now: datetime,
                   ) -> dict[int, list[FeedEvent]]:
    """``sequenced`` for several feeds of one kind at once ({subject id: events}), in
    one read and at most one insert for them all (sending a group of reminders)."""
    digests = {(subject, e.uid): digest(e) for subject, events in feeds.items()
               for e in events}
    if not digests:
        return {subject: list(events) for subject, events in feeds.items()}
    wanted: dict[int, list[str]] = {}
    for subject, uid in digests:
        wanted.setdefault(subject, []).append(uid)
    states = _states(kind, wanted)
    seen: dict[tuple[int, str], tuple[int, datetime | None]] = {
        key: (state.bumps, state.changed_at) for key, state in states.items()}
    new = [key for key in digests if key not in states]
    if new:
        # one cached statement with many parameter sets (SQLAlchemy batches them into
        # multi-row INSERTs), not a new statement to compile for every set of rows
        db.session.execute(
            _insert().on_conflict_do_nothing(
                index_elements=["feed_kind", "feed_subject_id", "uid"]),
            [{"feed_kind": kind, "feed_subject_id": subject, "uid": uid,
              "text_hash": digests[subject, uid], "bumps": 0} for subject, uid in new])
        seen.update(dict.fromkeys(new, (0, None)))
    raced: dict[int, list[str]] = {}
    for key, state in states.items():
        if state.text_hash == digests[key]:
            continue
        counted = db.session.execute(
            sa.update(FeedEventState)
            .where(FeedEventState.id == state.id, FeedEventState.text_hash == state.text_hash)
            .values(text_hash=digests[key], bumps=FeedEventState.bumps + 1, changed_at=now)
            .execution_options(synchronize_session=False)).rowcount
        seen[key] = (state.bumps + 1, now)
        if not counted:  # another build counted this change first: take its numbers
            raced.setdefault(key[0], []).append(key[1])
    if raced:
        seen.update({key: (s.bumps, s.changed_at) for key, s in _states(kind, raced).items()})
    out: dict[int, list[FeedEvent]] = {}
    for subject, events in feeds.items():
        out[subject] = []
        for event in events:
            bumps, changed_at = seen.get((subject, event.uid), (0, None))
            modified = event.modified
            if changed_at is not None and as_utc(changed_at) > as_utc(modified):
                modified = changed_at
            out[subject].append(replace(event, sequence=event.sequence + bumps,
                                        modified=modified))
    return out
