"""Helpers for the console's coming-back pages: a returner with history, fresh groups."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from scheduler.models import GroupSession, Track, db
from scheduler.services import enrollments, returns


def attend_until(build, cohort, client, last_day: date, status: str = "paused"):
    """Enroll from the cohort's start, attend every past session up to ``last_day``,
    then pause the enrollment."""
    enrollment = build.enroll(client, cohort, joined_on=cohort.starts_on)
    sessions = db.session.scalars(sa.select(GroupSession).where(
        GroupSession.cohort_id == cohort.id, GroupSession.status == "scheduled",
        GroupSession.ends_at <= build.clock(), GroupSession.occurs_on <= last_day)
        .order_by(GroupSession.starts_at))
    for session in list(sessions):
        enrollments.record_attendance(session.id, [{"client_id": client.id,
                                                    "status": "present"}],
                                      None, build.clock(), build.policy)
    enrollments.change_status(enrollment.id, status, build.clock(), build.policy)
    return enrollment


def ask_to_come_back(client, now, channel: str = "phone"):
    request, _ = returns.submit_return(
        {"name": client.name, "email": client.email, "phone": client.phone}, channel, now)
    return request


def returner(build, name: str = "Robin Example", cohort_name: str = "Monday Evening"):
    """Someone who attended a Mon/Wed/Thu evening group until Thu Nov 26, paused,
    and asked to come back by phone; returns (request, client, cohort)."""
    cohort = build.cohort(name=cohort_name, capacity=4)
    client = build.client(name, email=f"{name.split()[0].lower()}@example.org",
                          phone="617-555-0101")
    attend_until(build, cohort, client, date(2026, 11, 26))
    return ask_to_come_back(client, build.clock()), client, cohort


def fresh_group(build, location, n: int):
    """n new returners placed into the fresh evening group at ``location``."""
    if db.session.scalar(sa.select(Track.id)) is None:
        build.track()
    placed = []
    for i in range(n):
        client = build.client(f"Fresh Person {i}", email=f"fresh{i}.{location.id}@example.org")
        request = ask_to_come_back(client, build.clock())
        returns.record_reentry(request.id, {"dayparts": ["evening"],
                                            "location_ids": [location.id]}, None, build.clock())
        option = next(o for o in returns.options_for(request.id, build.clock(),
                                                     build.policy).options
                      if o.kind == "fresh")
        placed.append(returns.place(request.id, option.id, None, build.clock(), build.policy))
    return placed
