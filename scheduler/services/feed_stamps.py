"""Feed versions stamped on write: every live feed token carries a ``revision``
that rises in the same transaction as any change its feed would show.

A calendar app's poll then costs one indexed lookup (``feed_token`` by primary
key) instead of aggregates over the rows the feed reads. The rule of *which*
feeds a change reaches lives here, once, and nowhere else:

- a group session or a group's own details (name, room, place, facilitator)
  reach everyone enrolled in the group (any status: a feed keeps cancelled and
  past sessions for a while) and the group's staff feeds (its cohort feed, its
  location's and its facilitator's; old and new place and facilitator both);
- an enrollment reaches its client and the group's staff feeds (the roster);
- a check-in reaches its client, its location's and its staff member's feeds;
- a location reaches every feed that shows a group or check-in there;
- a client's own record (calendar choices, name for initials) reaches their
  feed and the staff feeds that name them;
- a staff member reaches their facilitator feed and the staff feeds of their groups.

Changes are collected after each flush (the ORM's history still has old and new
values then) and applied once, just before commit, by one UPDATE, so the row
locks are taken last and held only through COMMIT. Bulk UPDATE/DELETE statements
on these tables carry no per-row history: they raise every live feed (rare:
linking a request to a client). Rolling back forgets what was collected.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from scheduler.models import (
    CheckIn,
    Client,
    Cohort,
    Enrollment,
    FeedToken,
    GroupSession,
    Location,
    StaffUser,
)

TOUCHED = "regroup.feed_touches"
FEED_MODELS = (GroupSession, Enrollment, Cohort, Location, Client, StaffUser, CheckIn)


@dataclass
class Touches:
    """What changed, by what it is (ids; old and new values of foreign keys)."""

    cohorts: set[int] = field(default_factory=set)      # sessions or details
    rosters: set[int] = field(default_factory=set)      # who is enrolled
    locations: set[int] = field(default_factory=set)
    clients: set[int] = field(default_factory=set)
    staff: set[int] = field(default_factory=set)
    client_feeds: set[int] = field(default_factory=set)
    location_feeds: set[int] = field(default_factory=set)
    facilitator_feeds: set[int] = field(default_factory=set)
    everything: bool = False

    def __bool__(self) -> bool:
        return self.everything or any(
            (self.cohorts, self.rosters, self.locations, self.clients, self.staff,
             self.client_feeds, self.location_feeds, self.facilitator_feeds))


def _values(obj, attr: str) -> set[int]:
    """Every value ``attr`` had in this flush: new, old and unchanged."""
    history = sa.inspect(obj).attrs[attr].history
    found = set(history.added or ()) | set(history.deleted or ()) | set(history.unchanged or ())
    return {value for value in found if value is not None}


def note(touches: Touches, obj) -> None:
    """Record one changed row (the mapping from a row to what it touches)."""
    if isinstance(obj, GroupSession):
        touches.cohorts |= _values(obj, "cohort_id")
    elif isinstance(obj, Enrollment):
        touches.client_feeds |= _values(obj, "client_id")
        touches.rosters |= _values(obj, "cohort_id")
    elif isinstance(obj, Cohort):
        touches.cohorts.add(obj.id)
        touches.location_feeds |= _values(obj, "location_id")
        touches.facilitator_feeds |= _values(obj, "facilitator_id")
    elif isinstance(obj, Location):
        touches.locations.add(obj.id)
    elif isinstance(obj, Client):
        touches.clients.add(obj.id)
    elif isinstance(obj, StaffUser):
        touches.staff.add(obj.id)
    elif isinstance(obj, CheckIn):
        touches.client_feeds |= _values(obj, "client_id")
        touches.location_feeds |= _values(obj, "location_id")
        touches.facilitator_feeds |= _values(obj, "staff_id")


# Which live tokens a set of touches reaches. Plain SQL, the same on SQLite and
# PostgreSQL; every list is an expanding parameter (an empty one matches nothing).
_REACHED = """
SELECT id FROM feed_token WHERE revoked_at IS NULL AND (
 (kind = 'client' AND (
    subject_id IN :clients OR subject_id IN :client_feeds
    OR subject_id IN (SELECT client_id FROM enrollment WHERE cohort_id IN :cohorts
        OR cohort_id IN (SELECT id FROM cohort WHERE location_id IN :locations))
    OR subject_id IN (SELECT client_id FROM check_in WHERE location_id IN :locations)))
 OR (kind = 'cohort' AND (
    subject_id IN :cohorts OR subject_id IN :rosters
    OR subject_id IN (SELECT id FROM cohort WHERE location_id IN :locations
                      OR facilitator_id IN :staff)
    OR subject_id IN (SELECT cohort_id FROM enrollment WHERE client_id IN :clients)))
 OR (kind = 'location' AND (
    subject_id IN :locations OR subject_id IN :location_feeds
    OR subject_id IN (SELECT location_id FROM cohort WHERE id IN :cohorts OR id IN :rosters
        OR facilitator_id IN :staff
        OR id IN (SELECT cohort_id FROM enrollment WHERE client_id IN :clients))
    OR subject_id IN (SELECT location_id FROM check_in WHERE client_id IN :clients
                      OR staff_id IN :staff)))
 OR (kind = 'facilitator' AND (
    subject_id IN :staff OR subject_id IN :facilitator_feeds
    OR subject_id IN (SELECT facilitator_id FROM cohort WHERE id IN :cohorts
        OR id IN :rosters OR location_id IN :locations
        OR id IN (SELECT cohort_id FROM enrollment WHERE client_id IN :clients))
    OR subject_id IN (SELECT staff_id FROM check_in WHERE client_id IN :clients
                      OR location_id IN :locations)))
)"""
_LISTS = ("clients", "client_feeds", "cohorts", "rosters", "locations", "location_feeds",
          "staff", "facilitator_feeds")
_BUMP = sa.text(f"UPDATE feed_token SET revision = revision + 1 WHERE id IN ({_REACHED})"
                ).bindparams(*(sa.bindparam(name, expanding=True) for name in _LISTS))
_BUMP_ALL = sa.update(FeedToken).where(FeedToken.revoked_at.is_(None)).values(
    revision=FeedToken.revision + 1).execution_options(synchronize_session=False)


def reached(session: Session, touches: Touches) -> list[int]:
    """The ids of the live tokens these touches reach (for tests and tools)."""
    statement = sa.text(_REACHED).bindparams(
        *(sa.bindparam(name, expanding=True) for name in _LISTS))
    return sorted(session.scalars(statement, _params(touches)))


def _params(touches: Touches) -> dict[str, list[int]]:
    return {name: sorted(getattr(touches, name)) for name in _LISTS}


def stamp(session: Session, touches: Touches) -> None:
    """Raise the revision of every live feed the touches reach (one statement)."""
    if touches.everything:
        session.execute(_BUMP_ALL)
    elif touches:
        session.execute(_BUMP, _params(touches))


def _touches(session: Session) -> Touches:
    return session.info.setdefault(TOUCHED, Touches())


@event.listens_for(Session, "after_flush")
def _collect(session: Session, _context) -> None:
    touches = None
    for obj in (*session.new, *session.deleted):
        if isinstance(obj, FEED_MODELS):
            note(touches := touches or _touches(session), obj)
    for obj in session.dirty:
        if isinstance(obj, FEED_MODELS) and session.is_modified(obj,
                                                                include_collections=False):
            note(touches := touches or _touches(session), obj)


@event.listens_for(Session, "do_orm_execute")
def _bulk_reaches_everything(state) -> None:
    if not (state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    if mapper is not None and issubclass(mapper.class_, FEED_MODELS):
        _touches(state.session).everything = True


@event.listens_for(Session, "before_commit")
def _apply(session: Session) -> None:
    session.flush()  # what is still pending is collected too (a no-op when clean)
    touches = session.info.pop(TOUCHED, None)
    if touches is not None:
        stamp(session, touches)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(TOUCHED, None)
