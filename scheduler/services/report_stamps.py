"""Reports worked out once and reused while nothing they count has changed.

Time back to group reads every request of the last 90 days (a few hundred at ten
times the demo, 1,400 at fifty) and Returners and Director show it on every visit.
It changes only when a request, a placement decision or the name of a group, site
or track changes, or as the clock moves on. So:

- a random token per report (``report_stamp``) is rewritten in the same transaction
  as any such change: changes are noted after each flush and the token written once,
  just before commit (bulk UPDATE/DELETE statements on those tables count too);
  rolling back forgets what was noted;
- ``reused`` gives the report worked out earlier in this process while the token
  and the minute are the same, and works it out again otherwise. A change is seen
  by the next read, even in the same instant; waits age at most a minute, far
  below the tenth of a day the pages show. A token is random, never a counter, so
  two databases (or a restored backup) never share one by chance. The migration
  writes the first token; with no row (a table emptied by hand) nothing is reused
  until the next change writes one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar
from uuid import uuid4

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from scheduler.models import (
    Cohort,
    Location,
    PlacementDecision,
    ReportStamp,
    ReturnRequest,
    Track,
    db,
)

TIME_BACK = "time_back"
CHANGED = "regroup.time_back_changed"
COUNTED = (ReturnRequest, PlacementDecision, Cohort, Location, Track)

T = TypeVar("T")
_STAMP = sa.text("INSERT INTO report_stamp (name, token) VALUES (:name, :token) "
                 "ON CONFLICT (name) DO UPDATE SET token = excluded.token")
_TOKEN = sa.select(ReportStamp.token).where(ReportStamp.name == sa.bindparam("name"))
_worked_out: dict[str, tuple[tuple, object]] = {}  # report -> (its key, what it gave)


def reused(name: str, now: datetime, work: Callable[[], T]) -> T:
    """``work()``, or what it gave before in this process while the report's token and
    the minute of ``now`` are the same. One statement when reused."""
    token = db.session.scalar(_TOKEN, {"name": name})
    if token is None:
        return work()
    key = (token, now.replace(second=0, microsecond=0))
    found = _worked_out.get(name)
    if found is not None and found[0] == key:
        return found[1]  # type: ignore[return-value]
    value = work()
    _worked_out[name] = (key, value)
    return value


def _changed(session: Session) -> None:
    session.info[CHANGED] = True


@event.listens_for(Session, "after_flush")
def _note(session: Session, _context) -> None:
    if session.info.get(CHANGED):
        return
    if any(isinstance(obj, COUNTED) for obj in (*session.new, *session.deleted)) or any(
            isinstance(obj, COUNTED) and session.is_modified(obj, include_collections=False)
            for obj in session.dirty):
        _changed(session)


@event.listens_for(Session, "do_orm_execute")
def _note_bulk(state) -> None:
    mapper = state.bind_mapper
    if (state.is_update or state.is_delete) and mapper is not None and issubclass(
            mapper.class_, COUNTED):
        _changed(state.session)


@event.listens_for(Session, "before_commit")
def _stamp(session: Session) -> None:
    session.flush()  # what is still pending is noted too (a no-op when clean)
    if session.info.pop(CHANGED, False):
        session.execute(_STAMP, {"name": TIME_BACK, "token": uuid4().hex})


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(CHANGED, None)
