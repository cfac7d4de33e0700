"""Benchmark: 1,000 seats freed across 200 cohorts with 5,000 people waiting.

Each freed seat is one withdrawal (its own transaction, as a coordinator would
make it) that offers the seat to the next in line and queues the offer message.
Prints offers created per second and the longest time any one promotion took,
then the expiry job passing all 1,000 offers on.

    .venv/bin/python bench/waitlist.py                      # SQLite in a temp dir
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/SCRATCH \\
        .venv/bin/python bench/waitlist.py                  # WIPES that database
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scheduler.app import create_app  # noqa: E402
from scheduler.models import (  # noqa: E402
    Client,
    Cohort,
    Enrollment,
    Location,
    SeatOffer,
    Track,
    WaitlistEntry,
    db,
)
from scheduler.services import enrollments, waitlist  # noqa: E402
from scheduler.services.cohorts import materialise  # noqa: E402

# 200 cohorts x 5 seats = 1,000 seats; x 25 in line = 5,000 waiting
COHORTS = int(os.environ.get("BENCH_COHORTS", 200))
SEATS_EACH, WAITING_EACH = 5, 25
NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)


def fresh_database() -> str:
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        return f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    return url


def build(policy) -> list[int]:
    """Full cohorts and their lines, inserted in bulk (setup is not measured)."""
    location = Location(name="Boston", address="1 Example St")
    track = Track(name="Evening")
    db.session.add_all([location, track])
    db.session.flush()
    weekdays = ["mon,wed,thu", "tue,wed,fri", "mon,tue,thu"]
    cohorts = [Cohort(location_id=location.id, track_id=track.id, name=f"Group {n}",
                      mode="rolling", status="running", weekdays=weekdays[n % 3],
                      start_time=clock_time(18, 0), minutes=180, capacity=SEATS_EACH,
                      starts_on=date(2026, 11, 2), opened_at=NOW)
               for n in range(COHORTS)]
    db.session.add_all(cohorts)
    db.session.flush()
    for cohort in cohorts:
        materialise(cohort, NOW, policy)
    people = [Client(name=f"Person {n}", email=f"p{n}@example.org", email_key=f"p{n}@example.org",
                     created_at=NOW, updated_at=NOW)
              for n in range(COHORTS * (SEATS_EACH + WAITING_EACH))]
    db.session.add_all(people)
    db.session.flush()
    ids = iter(p.id for p in people)
    seated = []
    for cohort in cohorts:
        for _ in range(SEATS_EACH):
            row = Enrollment(client_id=next(ids), cohort_id=cohort.id, status="active",
                             joined_on=date(2026, 11, 2), created_at=NOW, updated_at=NOW)
            db.session.add(row)
            seated.append(row)
        for n in range(WAITING_EACH):
            db.session.add(WaitlistEntry(client_id=next(ids), cohort_id=cohort.id,
                                         priority=n % 2, status="waiting",
                                         requested_at=NOW - timedelta(minutes=n),
                                         created_at=NOW, updated_at=NOW))
    db.session.commit()
    return [e.id for e in seated]


def main() -> None:
    url = fresh_database()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                      "CLOCK": lambda: NOW})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        policy = app.config["POLICY"]
        seated = build(policy)
        random.Random(4).shuffle(seated)
        waiting = db.session.scalar(sa.select(sa.func.count()).select_from(WaitlistEntry))
        print(f"database: {db.engine.dialect.name}; {COHORTS} cohorts, {len(seated)} seats "
              f"taken, {waiting} waiting")

        took = []
        started = time.perf_counter()
        for enrollment_id in seated:  # each withdrawal is one transaction
            t0 = time.perf_counter()
            enrollments.change_status(enrollment_id, "withdrawn", NOW, policy)
            took.append(time.perf_counter() - t0)
        total = time.perf_counter() - started
        offers = db.session.scalar(sa.select(sa.func.count()).select_from(SeatOffer).where(
            SeatOffer.status == "open"))
        assert offers == len(seated), f"{offers} offers for {len(seated)} freed seats"
        ms = sorted(t * 1000 for t in took)
        print(f"seats freed: {len(seated)}  offers created: {offers}  in {total:.2f} s")
        print(f"offers created per second: {offers / total:.0f}")
        print(f"promotion time: median {statistics.median(ms):.2f} ms, "
              f"p95 {ms[int(len(ms) * 0.95)]:.2f} ms, longest {ms[-1]:.2f} ms")

        later = NOW + timedelta(hours=policy.offer_hours + 1)
        t0 = time.perf_counter()
        expired = waitlist.expire_offers(later, policy)
        job = time.perf_counter() - t0
        passed_on = db.session.scalar(sa.select(sa.func.count()).select_from(SeatOffer).where(
            SeatOffer.status == "open"))
        print(f"expiry job: {expired} offers expired and {passed_on} passed on in {job:.2f} s "
              f"({expired / job:.0f} per second); a second run expired "
              f"{waitlist.expire_offers(later, policy)}")


if __name__ == "__main__":
    main()
