"""How long the staff console's queries take on a program of realistic size.

Builds a temporary SQLite database: 2 locations, 40 running cohorts of 12 (480
enrollments) with 12 weeks of attendance (~17,000 rows), 200 waitlist entries,
and 200,000 audit events; then times each console query (median of 7 runs) and
prints figures and the ratio to the Today page. Run: .venv/bin/python bench/console_pages.py
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time as clock_time
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from scheduler.app import create_app  # noqa: E402
from scheduler.models import Attendance, AuditEvent, Enrollment, GroupSession, db  # noqa: E402
from scheduler.services import clients, cohorts, console, enrollments  # noqa: E402
from scheduler.services.waitlist import add_to_waitlist  # noqa: E402

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)


def build(policy) -> tuple[int, int]:
    rng = random.Random(3)
    track = cohorts.create_track("Evening", 36)
    cohort_ids = []
    for site in ("Boston", "Needham"):
        location = cohorts.create_location(site)
        for n in range(20):
            weekdays = rng.sample(["mon", "tue", "wed", "thu", "fri"], 3)
            cohort = cohorts.create_cohort({
                "location_id": location.id, "track_id": track.id, "name": f"{site} {n}",
                "weekdays": weekdays, "start_time": time(9 + (n % 4) * 3, 0),
                "minutes": 180, "capacity": 12, "starts_on": date(2026, 9, 7)},
                NOW, policy)
            cohort_ids.append(cohort.id)
    client_ids = []
    for cohort_id in cohort_ids:
        for _ in range(12):
            client = clients.create_client({"name": f"Client {len(client_ids)}"}, NOW)
            client_ids.append(client.id)
            enrollments.enroll(client.id, cohort_id, NOW, policy, joined_on=date(2026, 9, 7))
    marks = []
    sessions = db.session.execute(sa.select(GroupSession.id, GroupSession.cohort_id).where(
        GroupSession.starts_at < NOW)).all()
    roster = {}
    for e in db.session.scalars(sa.select(Enrollment)):
        roster.setdefault(e.cohort_id, []).append(e.client_id)
    for session_id, cohort_id in sessions:
        for client_id in roster.get(cohort_id, []):
            marks.append({"group_session_id": session_id, "client_id": client_id,
                          "status": rng.choice(["present"] * 8 + ["late", "absent"]),
                          "recorded_at": NOW})
    db.session.execute(sa.insert(Attendance), marks)
    extra = [clients.create_client({"name": f"Waiting {i}"}, NOW).id for i in range(200)]
    for i, client_id in enumerate(extra):
        add_to_waitlist(client_id, cohort_ids[i % len(cohort_ids)], NOW)
    events = [{"at": NOW - timedelta(minutes=i), "staff_id": None, "action": "read",
               "entity": "client", "entity_id": rng.choice(client_ids), "ip": "10.0.0.1",
               "detail": {}} for i in range(200_000)]
    for start in range(0, len(events), 20_000):
        db.session.execute(sa.insert(AuditEvent), events[start:start + 20_000])
    db.session.commit()
    print(f"built: {len(cohort_ids)} cohorts, {len(client_ids)} enrolled clients, "
          f"{len(marks)} attendance rows, 200 waiting, 200000 audit events")
    return cohort_ids[0], client_ids[0]


def timed(fn, runs: int = 7) -> float:
    samples = []
    for _ in range(runs):
        db.session.expire_all()
        start = clock_time.perf_counter()
        fn()
        samples.append(clock_time.perf_counter() - start)
        db.session.rollback()
    return statistics.median(samples) * 1000


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite3",
                          "CLOCK": lambda: NOW, "SECRET_KEY": "bench"})
        with app.app_context():
            upgrade()
            policy = app.config["POLICY"]
            cohort_id, client_id = build(policy)
            figures = {
                "today (rosters, marks)": timed(lambda: console.today(NOW)),
                "week grid (both sites)": timed(lambda: console.week_grid(NOW)),
                "cohort page": timed(lambda: console.cohort_page(cohort_id, NOW)),
                "client page (timeline)": timed(lambda: console.client_page(client_id, NOW)),
                "audit, newest 100 of 200k": timed(
                    lambda: console.audit_events(console.AuditFilter(), 1, 100)),
                "audit, one client's reads": timed(lambda: console.audit_events(
                    console.AuditFilter(entity="client", entity_id=client_id), 1, 100)),
            }
            base = figures["today (rosters, marks)"]
            for name, ms in figures.items():
                print(f"{name:28s} {ms:8.1f} ms   x{ms / base:5.2f} of today")
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
