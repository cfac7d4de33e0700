"""Benchmark: ranked placement options for one returner against 200 cohorts and
5,000 clients of history, through the Flask test client.

Prints the median milliseconds per ``GET /api/v1/returns/{id}/options`` (and the
explained variant), the median for a trivial JSON route (``/healthz``) measured in
the same run, their ratio, and how many SQL statements one options request runs.

    .venv/bin/python bench/placement.py                  # a fresh SQLite file
    BENCH_DATABASE_URL=postgresql+psycopg://... .venv/bin/python bench/placement.py
    (the PostgreSQL database's public schema is DROPPED and recreated: use your own)
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time as timer
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

COHORTS = 200
CLIENTS = 5000
ATTENDED_EACH = 12
REPEAT = int(os.environ.get("BENCH_REPEAT", "40"))
NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)


def build(db, policy):
    from scheduler.models import Attendance, Client, Cohort, Enrollment, GroupSession
    from scheduler.services import cohorts as cohort_service
    from scheduler.services.clients import email_key, phone_key

    rng = random.Random(3)
    boston = cohort_service.create_location("Boston")
    needham = cohort_service.create_location("Needham")
    evening = cohort_service.create_track("IOP Evening")
    day = cohort_service.create_track("IOP Day")
    patterns = [("mon,wed,thu", time(18)), ("tue,wed,fri", time(17, 30)),
                ("mon,wed,fri", time(9, 30)), ("mon,tue,thu", time(13))]
    cohorts = []
    for i in range(COHORTS):
        weekdays, start = patterns[i % len(patterns)]
        cohorts.append(Cohort(
            location_id=(boston if i % 2 else needham).id,
            track_id=(evening if start.hour >= 17 else day).id, name=f"Group {i}",
            mode="rolling" if i % 5 else "closed", status="ended" if i % 17 == 0 else "running",
            weekdays=weekdays, start_time=start, minutes=180, capacity=30,
            starts_on=date(2026, 9, 7) + timedelta(weeks=i % 8), opened_at=NOW))
    db.session.add_all(cohorts)
    db.session.flush()
    for cohort in cohorts:
        status, cohort.status = cohort.status, "running"
        cohort_service.materialise(cohort, NOW, policy)
        cohort.status = status
    db.session.commit()
    past = {}
    for cid, sid, starts_at, occurs_on in db.session.execute(
            sa.select(GroupSession.cohort_id, GroupSession.id, GroupSession.starts_at,
                      GroupSession.occurs_on).where(GroupSession.starts_at < NOW)):
        past.setdefault(cid, []).append((starts_at, sid, occurs_on))
    clients = [{"name": f"Person {i}", "email": f"p{i}@example.org",
                "email_key": email_key(f"p{i}@example.org"),
                "phone": f"617-555-{i:04d}", "phone_key": phone_key(f"617-555-{i:04d}"),
                "preferred_location_ids": [], "availability": {}, "needs_confirmation": False,
                "reminder_minutes": [1440, 120], "reminder_channels": ["email"],
                "email_opt_out": False, "sms_opt_out": False, "show_location": False,
                "program_words_opt_in": False, "created_at": NOW, "updated_at": NOW}
               for i in range(CLIENTS)]
    db.session.execute(sa.insert(Client), clients)
    client_ids = list(db.session.scalars(sa.select(Client.id).order_by(Client.id)))
    enrollments, attendance = [], []
    for index, client_id in enumerate(client_ids):
        cohort = cohorts[index % COHORTS]
        sessions = sorted(past.get(cohort.id, []))
        status = "active" if index % 3 else rng.choice(["paused", "withdrawn", "completed"])
        if cohort.status == "ended":
            status = "completed"
        enrollments.append({"client_id": client_id, "cohort_id": cohort.id, "status": status,
                            "joined_on": cohort.starts_on, "credited_sessions": 0,
                            "created_at": NOW, "updated_at": NOW})
        for starts_at, sid, _ in sessions[:ATTENDED_EACH]:
            attendance.append({"group_session_id": sid, "client_id": client_id,
                               "status": "present" if rng.random() < .9 else "late",
                               "recorded_at": starts_at})
    db.session.execute(sa.insert(Enrollment), enrollments)
    db.session.execute(sa.insert(Attendance), attendance)
    db.session.commit()
    return client_ids[1], len(attendance)


def median_ms(http, path, headers, repeat=REPEAT) -> float:
    http.get(path, headers=headers)  # warm
    samples = []
    for _ in range(repeat):
        started = timer.perf_counter()
        response = http.get(path, headers=headers)
        samples.append((timer.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return statistics.median(samples)


def main() -> None:
    from flask_migrate import upgrade

    from scheduler.app import create_app
    from scheduler.models import db
    from scheduler.services import returns
    from scheduler.services.staff import create_staff

    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
    else:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='regroup-bench-')}/bench.sqlite3"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "CLOCK": lambda: NOW,
                      "SECRET_KEY": "bench", "TESTING": True})
    with app.app_context():
        upgrade()
        started = timer.perf_counter()
        client_id, attended = build(db, app.config["POLICY"])
        from scheduler.models import Client

        client = db.session.get(Client, client_id)
        request, _ = returns.submit_return({"name": client.name, "email": client.email},
                                           "phone", NOW)
        returns.record_reentry(request.id, {"dayparts": ["evening"]}, None, NOW)
        _, token = create_staff("bench@staff.test", "coordinator", NOW)
        rid = request.id
        print(f"database: {db.engine.dialect.name}; built {COHORTS} cohorts, {CLIENTS} "
              f"clients, {attended} attendance rows in {timer.perf_counter() - started:.1f} s")
        statements = []

        def count(*_args):
            statements.append(1)

        sa.event.listen(db.engine, "before_cursor_execute", count)
        ranking = returns.options_for(rid, NOW, app.config["POLICY"])
        sa.event.remove(db.engine, "before_cursor_execute", count)
        print(f"options for one returner: {len(ranking.options)} offered, "
              f"{len(ranking.not_offered)} explained; {len(statements)} SQL statements")
        db.session.remove()

    http = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    health = median_ms(http, "/healthz", {})
    options = median_ms(http, f"/api/v1/returns/{rid}/options", headers)
    explained = median_ms(http, f"/api/v1/returns/{rid}/options/explained", headers)
    print(f"median over {REPEAT} requests:")
    print(f"  GET /healthz                          {health:8.2f} ms")
    print(f"  GET /api/v1/returns/{{id}}/options      {options:8.2f} ms"
          f"   ratio to /healthz {options / health:6.1f}x")
    print(f"  GET /api/v1/returns/{{id}}/options/explained {explained:8.2f} ms"
          f"   ratio {explained / health:6.1f}x")


if __name__ == "__main__":
    main()
