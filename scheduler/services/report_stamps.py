"""Reports worked out once and reused while nothing they count has changed.

Time back to group reads every request of the last 90 days (a few hundred at ten
times the demo, 1,400 at fifty) and Returners and Director show it on every visit;
the console's badge of requests needing a check-in looks at every open request on
every page; Today and Returners look through everyone on their way back for those
who have waited too long; each roster line on Today and a cohort's page shows the
sessions the person attended since joining, counted from every mark of their group
(most of Today's database time at ten times the demo). Time back changes only when a
request, a placement decision or the name of a group, site or track changes, or as
the clock moves on; the badge only when a request or a check-in changes; progress
only when attendance, an enrollment or a group session changes; long waits only
when a request or an enrollment changes, or as the clock moves on. So:

- a random token per report (``report_stamp``) is rewritten in the same transaction
  as any such change: changes are noted after each flush and the token written once,
  just before commit (bulk UPDATE/DELETE statements on those tables count too);
  rolling back forgets what was noted;
- ``reused`` gives the report worked out earlier in this process while the token
  (and, for time back and long waits, the minute) is the same, and works it out
  again otherwise.
  The token is read before the report, so what is reused is never older than its
  token. A change is seen by the next read, even in the same instant; waits age at
  most a minute, far below the tenth of a day the pages show. A transaction reads
  every token in one statement, the first time it needs one, and keeps them until
  it ends (a page showing three reports asks once). A token is random,
  never a counter, so two databases (or a restored backup) never share one by
  chance. The migration writes the first tokens; with no row (a table emptied by
  hand) nothing is reused until the next change writes one.
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
    Attendance,
    CheckIn,
    Cohort,
    Enrollment,
    GroupSession,
    Location,
    PlacementDecision,
    ReportStamp,
    ReturnRequest,
    Track,
    db,
)

TIME_BACK = "time_back"
NEEDING_CHECK_IN = "needing_check_in"
PROGRESS = "progress"
WAITING = "waiting"
# each report, and the rows whose change it counts
REPORTS: dict[str, tuple[type, ...]] = {
    TIME_BACK: (ReturnRequest, PlacementDecision, Cohort, Location, Track),
    NEEDING_CHECK_IN: (ReturnRequest, CheckIn),
    PROGRESS: (Attendance, Enrollment, GroupSession),
    WAITING: (ReturnRequest, Enrollment),
}
CHANGED = "regroup.reports_changed"
TOKENS = "regroup.report_tokens"  # the transaction's tokens, read once

T = TypeVar("T")
_STAMP = sa.text("INSERT INTO report_stamp (name, token) VALUES (:name, :token) "
                 "ON CONFLICT (name) DO UPDATE SET token = excluded.token")
_TOKENS = sa.select(ReportStamp.name, ReportStamp.token)
_worked_out: dict[str, tuple[tuple, object]] = {}  # report -> (its key, what it gave)


def reused(name: str, now: datetime | None, work: Callable[[], T], *,
           given: tuple = ()) -> T:
    """``work()``, or what it gave before in this process while the report's token
    (and the minute of ``now``, for a report that changes with the clock, and
    ``given``: what else ``work`` depends on, such as a policy's ages) are the same.
    At most one statement when reused: the transaction's first token read."""
    token = _token(name)
    if token is None:
        return work()
    key = (token, now and now.replace(second=0, microsecond=0), given)
    found = _worked_out.get(name)
    if found is not None and found[0] == key:
        return found[1]  # type: ignore[return-value]
    value = work()
    _worked_out[name] = (key, value)
    return value


def _token(name: str) -> str | None:
    session = db.session()
    tokens = session.info.get(TOKENS)
    if tokens is None:
        tokens = session.info[TOKENS] = dict(session.execute(_TOKENS).all())
    return tokens.get(name)


def reports_counting(obj) -> set[str]:
    """The reports a change to ``obj`` (a row, or a mapped class) reaches."""
    cls = obj if isinstance(obj, type) else type(obj)
    return {name for name, models in REPORTS.items() if issubclass(cls, models)}


def _changed(session: Session, names: set[str]) -> None:
    if names:
        session.info.setdefault(CHANGED, set()).update(names)


@event.listens_for(Session, "after_flush")
def _note(session: Session, _context) -> None:
    names: set[str] = set()
    for obj in (*session.new, *session.deleted):
        names |= reports_counting(obj)
    for obj in session.dirty:
        counting = reports_counting(obj)  # asked first: is_modified looks at every attribute
        if counting and session.is_modified(obj, include_collections=False):
            names |= counting
    _changed(session, names)


@event.listens_for(Session, "do_orm_execute")
def _note_bulk(state) -> None:
    mapper = state.bind_mapper
    if (state.is_insert or state.is_update or state.is_delete) and mapper is not None:
        _changed(state.session, reports_counting(mapper.class_))


@event.listens_for(Session, "before_commit")
def _stamp(session: Session) -> None:
    session.flush()  # what is still pending is noted too (a no-op when clean)
    for name in sorted(session.info.pop(CHANGED, ())):  # one order: no deadlock
        session.execute(_STAMP, {"name": name, "token": uuid4().hex})


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(CHANGED, None)


@event.listens_for(Session, "after_transaction_end")
def _tokens_read_anew(session: Session, transaction) -> None:
    if transaction.parent is None:  # the outermost: the next transaction reads again
        session.info.pop(TOKENS, None)
