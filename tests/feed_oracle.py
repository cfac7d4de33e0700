"""The feed version as it was computed before versions were stamped on write:
aggregates over exactly the rows each kind of feed reads. Kept here as the oracle
that the stamps are checked against (tests/integration/test_feed_stamps.py):
whenever this version moves, the token's revision must have moved too."""

from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa

from calendars.build import Window
from scheduler.models import db
from scheduler.timeutil import UTCDateTime

_WINDOWED_SESSIONS = ("FROM group_session WHERE cohort_id IN ({cohorts}) "
                      "AND starts_at >= :first AND starts_at < :last")
_WINDOWED_CHECK_INS = "FROM check_in WHERE {where} AND at >= :first AND at < :last"
_COUNT_MAX = "count(*) AS n, max(updated_at) AS m"
# Status and revision sums catch changes made within one clock tick (tests hold the
# clock still), where max(updated_at) alone would not move.
_SESSIONS = (f"{_COUNT_MAX}, sum(revision) AS r, "
             "sum(CASE status WHEN 'scheduled' THEN id ELSE 0 END) AS x")
_CHECK_INS = (f"{_COUNT_MAX}, sum(revision) AS r, "
              "sum(CASE status WHEN 'booked' THEN 1 WHEN 'done' THEN 2 ELSE 3 END * id) AS x")
_ENROLLMENTS = (f"{_COUNT_MAX}, sum(CASE status WHEN 'active' THEN 1 WHEN 'paused' THEN 2 "
                "WHEN 'completed' THEN 3 WHEN 'withdrawn' THEN 4 ELSE 5 END * id) AS x")
# The client's own calendar choices are read as values, not only through updated_at.
_CLIENT_CHOICES = ("max(updated_at) AS m, max(calendar_title) AS t, "
                   "max(CASE WHEN show_location THEN 1 ELSE 0 END) AS s, "
                   "max(alarm_minutes) AS a FROM client WHERE id = :subject")
_STAFF_SUBJECTS = {"cohort": ("cohort", "id = :subject", None),
                   "location": ("location", "location_id = :subject", "location_id = :subject"),
                   "facilitator": ("staff_user", "facilitator_id = :subject",
                                   "staff_id = :subject")}


def version_sql(kind: str) -> str:
    """One statement: is the token live, and the aggregates whose values change
    exactly when this kind of feed's bytes may. Written as SQL text (the same on
    SQLite and PostgreSQL) because building it as an expression on every poll
    cost more than running it."""
    parts = [("t", "count(*) AS n FROM feed_token WHERE id = :token AND revoked_at IS NULL")]
    if kind == "client":
        cohorts = "SELECT cohort_id FROM enrollment WHERE client_id = :subject"
        parts += [
            ("p", _CLIENT_CHOICES),
            ("e", f"{_ENROLLMENTS} FROM enrollment WHERE client_id = :subject"),
            ("g", f"{_SESSIONS} " + _WINDOWED_SESSIONS.format(cohorts=cohorts)),
            ("k", f"{_CHECK_INS} " + _WINDOWED_CHECK_INS.format(where="client_id = :subject")),
            ("h", f"{_COUNT_MAX} FROM cohort WHERE id IN ({cohorts})"),
            ("l", f"{_COUNT_MAX} FROM location WHERE id IN (SELECT location_id FROM cohort "
                  f"WHERE id IN ({cohorts})) OR id IN (SELECT location_id FROM check_in "
                  "WHERE client_id = :subject)"),
        ]
    else:
        table, chosen, check_ins = _STAFF_SUBJECTS[kind]
        cohorts = f"SELECT id FROM cohort WHERE {chosen}"
        clients = f"SELECT client_id FROM enrollment WHERE cohort_id IN ({cohorts})"
        parts += [
            ("s", f"max(updated_at) AS m FROM {table} WHERE id = :subject"),
            ("h", f"{_COUNT_MAX} FROM cohort WHERE {chosen}"),
            ("g", f"{_SESSIONS} " + _WINDOWED_SESSIONS.format(cohorts=cohorts)),
            ("e", f"{_ENROLLMENTS} FROM enrollment WHERE cohort_id IN ({cohorts})"),
            ("f", f"{_COUNT_MAX} FROM staff_user WHERE id IN "
                  f"(SELECT facilitator_id FROM cohort WHERE {chosen})"),
        ]
        locations = f"SELECT location_id FROM cohort WHERE {chosen}"
        if check_ins:
            windowed = _WINDOWED_CHECK_INS.format(where=check_ins)
            parts.append(("k", f"{_CHECK_INS} {windowed}"))
            clients += f" UNION SELECT client_id {windowed}"
            locations += f" UNION SELECT location_id {windowed}"
        parts.append(("l", f"{_COUNT_MAX} FROM location WHERE id IN ({locations})"))
        parts.append(("c", f"{_COUNT_MAX} FROM client WHERE id IN ({clients})"))
    columns = ", ".join(f"{alias}.{name}" for alias, sql in parts
                        for name in re.findall(r" AS (\w+)", sql))
    tables = ", ".join(f"(SELECT {sql}) {alias}" for alias, sql in parts)
    return f"SELECT {columns} FROM {tables}"



def oracle_version(kind: str, token_id: int, subject_id: int, now: datetime, policy) -> tuple:
    window = Window.around(now, policy)
    statement = sa.text(version_sql(kind)).bindparams(
        sa.bindparam("first", type_=UTCDateTime()), sa.bindparam("last", type_=UTCDateTime()))
    row = db.session.execute(statement, {"token": token_id, "subject": subject_id,
                                         "first": window.first, "last": window.last}).one()
    return (window.today, *row)
