"""Benchmark: plan reminders for many enrollments and drain them to a null channel,
against scheduling one APScheduler job per reminder in a SQLAlchemy job store.

    .venv/bin/python bench/reminders.py                     # 10,000 x 36, SQLite and PostgreSQL
    .venv/bin/python bench/reminders.py --fraction 0.1      # a tenth of the clients
    .venv/bin/python bench/reminders.py --database-url postgresql+psycopg://...
    .venv/bin/python bench/reminders.py --group 1 --exact-sample 0 --drain-limit 5000

By default it runs on a scratch SQLite file and a scratch PostgreSQL database
(BENCH_PG, --pg-database) and prints both side by side, then sends
--smtp-messages reminders to a local SMTP server beside a bare smtplib loop
delivering the same bytes (the ceiling; see bench/sending.py).

Planning is ``outbox.plan_reminders`` over a horizon covering every session.
Draining is ``delivery.send_due`` (claim, check, render, mark sending, hand to a
null transport, mark sent): to drain everything at one ``now`` the bench first
moves every row's due time to that instant. A sample is drained with groups of
one (two commits per message, the default), the rest with ``--group`` rows per
pair of commits. APScheduler is measured on a sample
(``--aps-sample``) and its per-item rate extrapolated. Prints figures, not verdicts.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import sending  # noqa: E402  (bench/sending.py: the SMTP server and the smtplib ceiling)
from scratch import recreate_pg  # noqa: E402

from scheduler.app import create_app  # noqa: E402
from scheduler.models import (  # noqa: E402
    Client,
    Cohort,
    Enrollment,
    GroupSession,
    Location,
    Notification,
    Track,
    db,
)
from scheduler.timeutil import local_instant  # noqa: E402

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
FIRST_DAY = date(2026, 12, 7)  # a Monday


def aps_target(notification_key: str) -> None:  # what each APScheduler job would call
    return None


def session_days(count: int) -> list[date]:
    days, day = [], FIRST_DAY
    while len(days) < count:
        if day.weekday() in (0, 2, 3):
            days.append(day)
        day += timedelta(days=1)
    return days


def build_program(enrollments: int, sessions: int, per_cohort: int) -> None:
    location = Location(name="Bench site", timezone="America/New_York")
    track = Track(name="Bench track", sessions_to_complete=sessions)
    db.session.add_all([location, track])
    db.session.flush()
    cohort_count = -(-enrollments // per_cohort)
    db.session.execute(sa.insert(Cohort), [dict(
        location_id=location.id, track_id=track.id, name=f"Group {i}", mode="rolling",
        status="running", weekdays="mon,wed,thu", start_time=clock_time(18, 0), minutes=180,
        capacity=per_cohort, starts_on=FIRST_DAY, room="", for_returners=False)
        for i in range(cohort_count)])
    cohort_ids = list(db.session.scalars(sa.select(Cohort.id).order_by(Cohort.id)))
    days = session_days(sessions)
    rows = []
    for cid in cohort_ids:
        for day in days:
            start = local_instant(day, clock_time(18, 0), location_tz())
            rows.append(dict(cohort_id=cid, occurs_on=day, starts_at=start,
                             ends_at=start + timedelta(hours=3), status="scheduled",
                             revision=0, pinned=False, created_at=NOW, updated_at=NOW))
    db.session.execute(sa.insert(GroupSession), rows)
    db.session.execute(sa.insert(Client), [dict(
        name=f"Client {i}", email=f"c{i}@example.test", email_key=f"c{i}@example.test",
        preferred_location_ids=[], availability={}, needs_confirmation=False,
        reminder_minutes=LEADS, reminder_channels=["email"], email_opt_out=False,
        sms_opt_out=False, show_location=False, program_words_opt_in=False)
        for i in range(enrollments)])
    client_ids = list(db.session.scalars(sa.select(Client.id).order_by(Client.id)))
    db.session.execute(sa.insert(Enrollment), [dict(
        client_id=cid, cohort_id=cohort_ids[i // per_cohort], status="active",
        joined_on=date(2026, 11, 2), credited_sessions=0) for i, cid in enumerate(client_ids)])
    db.session.commit()


def location_tz():
    from zoneinfo import ZoneInfo

    return ZoneInfo("America/New_York")


def measure_apscheduler(sample: int, url: str) -> float:
    """Per-second rate of adding one date-triggered job per reminder to a
    SQLAlchemyJobStore (a started, paused BackgroundScheduler, so each add is stored)."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    store = SQLAlchemyJobStore(url=url)
    scheduler = BackgroundScheduler(jobstores={"default": store}, timezone="UTC")
    scheduler.start(paused=True)
    due = NOW + timedelta(days=30)
    started = time.perf_counter()
    for i in range(sample):
        scheduler.add_job(aps_target, "date", run_date=due + timedelta(seconds=i),
                          args=(f"reminder:{i}",), id=f"reminder-{i}")
    elapsed = time.perf_counter() - started
    scheduler.shutdown(wait=False)
    return sample / elapsed


LEADS: list[int] = [1440]


def main() -> None:
    global LEADS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enrollments", type=int, default=10_000)
    parser.add_argument("--sessions", type=int, default=36)
    parser.add_argument("--fraction", type=float, default=1.0,
                        help="measure this fraction of the enrollments")
    parser.add_argument("--leads", default="1440", help="minutes, comma-separated")
    parser.add_argument("--per-cohort", type=int, default=100)
    parser.add_argument("--aps-sample", type=int, default=2000)
    parser.add_argument("--group", type=int, default=100,
                        help="rows per pair of commits when draining (OUTBOX_SEND_GROUP)")
    parser.add_argument("--exact-sample", type=int, default=2000,
                        help="first drain this many with groups of one")
    parser.add_argument("--drain-limit", type=int, default=None,
                        help="drain at most this many rows (extrapolate the rest)")
    parser.add_argument("--databases", default="sqlite,postgresql",
                        help="run on these, side by side (PostgreSQL: BENCH_PG, a scratch "
                             "database --pg-database dropped and made anew)")
    parser.add_argument("--pg-database", default="regroup_bench")
    parser.add_argument("--database-url", default=None,
                        help="instead: one EMPTY database to use")
    parser.add_argument("--smtp-messages", type=int, default=2000,
                        help="then send this many to a local SMTP server beside a bare "
                             "smtplib loop (0: skip)")
    args = parser.parse_args()
    LEADS = [int(m) for m in args.leads.split(",")]
    targets = ([("given", args.database_url)] if args.database_url else
               [(name, None) for name in args.databases.split(",")])
    results = {}
    for name, url in targets:
        if url is None:
            url = (f"sqlite:///{Path(tempfile.mkdtemp(prefix='regroup-bench-')) / 'b.db'}"
                   if name == "sqlite" else recreate_pg(args.pg_database))
        aps_url = url if not url.startswith("sqlite") else (
            f"sqlite:///{Path(tempfile.mkdtemp(prefix='regroup-aps-')) / 'aps.db'}")
        print(f"\n== {name}")
        results[name] = run(url, aps_url, args)
    print(f"\n{'database':<11} {'planned/s':>11} {'APS jobs/s':>11} {'ratio':>7} "
          f"{'sent/s (group)':>15} {'sent/s (1)':>11}")
    for name, r in results.items():
        print(f"{name:<11} {r['plan']:>11,.0f} {r['aps']:>11,.0f} {r['plan'] / r['aps']:>7.1f} "
              f"{r['sent']:>15,.0f} {r['exact'] or 0:>11,.0f}")
    if args.smtp_messages:
        print("\nto a real SMTP server (bench/sending.py):")
        sink, port = sending.start_sink()
        try:
            print(f"{'database':<11} {'messages':>8} {'smtplib/s':>12} {'Regroup/s':>12} "
                  f"{'ratio':>7} {'group 1/s':>12} {'ratio':>7}")
            for name, _ in targets:
                url = (f"sqlite:///{Path(tempfile.mkdtemp(prefix='regroup-send-')) / 'b.db'}"
                       if name == "sqlite" else recreate_pg(args.pg_database))
                sending.run(name, url, port, args.smtp_messages)
        finally:
            sink.stdin.close()
            sink.wait(timeout=10)


def run(url: str, aps_url: str, args) -> dict:
    enrollments = max(1, int(args.enrollments * args.fraction))
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                      "OUTBOX_TRANSPORT": "null", "CLOCK": lambda: NOW,
                      "OUTBOX_SEND_BUDGET_SECONDS": 1e9,
                      "PUBLIC_BASE_URL": "https://regroup.test"})
    with app.app_context():
        from scheduler.services import delivery, outbox

        db.create_all()
        policy = app.config["POLICY"]
        print(f"database: {db.engine.dialect.name}; {enrollments:,} enrollments x "
              f"{args.sessions} sessions x leads {LEADS}"
              + (f" (fraction {args.fraction} of {args.enrollments:,})"
                 if args.fraction != 1 else ""))
        started = time.perf_counter()
        build_program(enrollments, args.sessions, args.per_cohort)
        print(f"setup: {time.perf_counter() - started:.1f} s")

        started = time.perf_counter()
        planned = outbox.plan_reminders(NOW, policy, horizon=timedelta(weeks=15))
        plan_s = time.perf_counter() - started
        plan_rate = planned / plan_s
        print(f"planned: {planned:,} notifications in {plan_s:.1f} s = {plan_rate:,.0f}/s")
        started = time.perf_counter()
        again = outbox.plan_reminders(NOW, policy, horizon=timedelta(weeks=15))
        print(f"re-planning (idempotent): {again} new in {time.perf_counter() - started:.1f} s")

        db.session.execute(sa.update(Notification).values(due_at=NOW))
        db.session.commit()
        exact_rate = None
        if args.exact_sample:
            started = time.perf_counter()
            outcome = delivery.send_due(NOW, policy, batch=500, max_rows=args.exact_sample,
                                         group=1)
            exact_s = time.perf_counter() - started
            exact_rate = outcome.get("sent", 0) / exact_s
            print(f"sent (group 1, sample): {outcome.get('sent', 0):,} in {exact_s:.1f} s = "
                  f"{exact_rate:,.0f}/s")
        started = time.perf_counter()
        outcome = delivery.send_due(NOW, policy, batch=500, max_rows=args.drain_limit,
                                     group=args.group)
        send_s = time.perf_counter() - started
        sent = outcome.get("sent", 0)
        send_rate = sent / send_s
        print(f"sent (group {args.group}): {sent:,} to the null channel in {send_s:.1f} s = "
              f"{send_rate:,.0f}/s (outcomes {outcome})")
        aps_rate = measure_apscheduler(args.aps_sample, aps_url)
        print(f"APScheduler SQLAlchemyJobStore add_job: {aps_rate:,.0f}/s "
              f"(sample {args.aps_sample:,}; {planned:,} would take "
              f"{planned / aps_rate:,.0f} s)")
        print(f"ratio planned/s to APScheduler jobs/s: {plan_rate / aps_rate:,.1f}x")
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()
    return {"plan": plan_rate, "aps": aps_rate, "sent": send_rate, "exact": exact_rate}


if __name__ == "__main__":
    main()
