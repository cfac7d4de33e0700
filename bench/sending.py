"""Sending the outbox to a real local SMTP server, beside a bare ``smtplib`` loop that
delivers the same messages to the same server (the ceiling): figures and the ratio,
on SQLite and on PostgreSQL in one run. Never a test.

The SMTP server runs in a process of its own (aiosmtpd, accepting and discarding),
so neither side shares its interpreter with it. The bare loop sends the very bytes
Regroup renders, over one connection, with no database at all. Regroup runs
``delivery.send_due`` as the jobs runner does (claim, check, render, mark sending,
send, mark sent) with the configured group size (OUTBOX_SEND_GROUP), then with
groups of one for comparison.

    .venv/bin/python bench/sending.py                       # 2,000 messages, both databases
    .venv/bin/python bench/sending.py --messages 500 --databases sqlite
BENCH_PG (default postgresql+psycopg://postgres@127.0.0.1:5432) names the PostgreSQL
server; the database --pg-database (default regroup_bench) is dropped and made anew.
"""

from __future__ import annotations

import argparse
import smtplib
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import reminders as program  # noqa: E402  (bench/reminders.py builds the program)
from scratch import recreate_pg  # noqa: E402
from smtp_sink import start_sink  # noqa: E402

from scheduler.app import create_app  # noqa: E402
from scheduler.channels import email_bytes  # noqa: E402
from scheduler.messages import render  # noqa: E402
from scheduler.models import Notification, db  # noqa: E402


def prepare(app, messages: int) -> None:
    """A program whose next reminders number ``messages``, all due now."""
    from scheduler.services import outbox

    program.LEADS = [1440]
    db.create_all()
    program.build_program(messages, 1, 100)
    planned = outbox.plan_reminders(program.NOW, app.config["POLICY"],
                                    horizon=timedelta(weeks=2))
    db.session.execute(sa.update(Notification).values(due_at=program.NOW))
    db.session.commit()
    assert planned == messages, planned


def rendered_bytes(app) -> list[tuple[str, list[str], bytes]]:
    """What Regroup would put on the wire for each due row (not timed)."""
    out = []
    for n in db.session.scalars(sa.select(Notification).order_by(Notification.id)):
        message = render(n, app.jinja_env, app.config)
        data, _ = email_bytes(message, app.config["MAIL_FROM"])
        out.append((app.config["MAIL_FROM"], [message.to], data))
    db.session.rollback()
    return out


def bare_loop(port: int, wire: list) -> float:
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        for sender, to, data in wire:
            smtp.sendmail(sender, to, data)
    return len(wire) / (time.perf_counter() - started)


def regroup(app, group: int) -> tuple[float, dict]:
    from scheduler.services import delivery

    started = time.perf_counter()
    outcome = delivery.send_due(program.NOW, app.config["POLICY"], group=group)
    return outcome.get("sent", 0) / (time.perf_counter() - started), outcome


def reset() -> None:
    db.session.execute(sa.update(Notification).values(
        status="pending", sent_at=None, sending_at=None, claimed_by=None, lease_until=None,
        attempts=0))
    db.session.commit()


def run(name: str, url: str, port: int, messages: int) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                      "CLOCK": lambda: program.NOW, "PUBLIC_BASE_URL": "https://regroup.test",
                      "OUTBOX_TRANSPORT": "auto", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port,
                      "SMTP_STARTTLS": False, "MAIL_FROM": "Group schedule <hello@regroup.test>",
                      "OUTBOX_SEND_BUDGET_SECONDS": 1e9})
    with app.app_context():
        prepare(app, messages)
        wire = rendered_bytes(app)
        ceiling = bare_loop(port, wire)
        group = int(app.config["OUTBOX_SEND_GROUP"])
        rate, outcome = regroup(app, group)
        reset()
        single, _ = regroup(app, 1)
        print(f"{name:<11} {messages:>8,} {ceiling:>12,.0f} {rate:>12,.0f} {rate / ceiling:>7.2f}"
              f" {single:>12,.0f} {single / ceiling:>7.2f}   (group {group}; {outcome})")
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--pg-database", default="regroup_bench")
    args = parser.parse_args()
    sink, port = start_sink()
    try:
        print(f"{'database':<11} {'messages':>8} {'smtplib/s':>12} {'Regroup/s':>12} {'ratio':>7}"
              f" {'group 1/s':>12} {'ratio':>7}")
        for name in args.databases.split(","):
            if name == "sqlite":
                url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='regroup-send-')) / 'b.db'}"
            else:
                url = recreate_pg(args.pg_database)
            run(name, url, port, args.messages)
    finally:
        sink.stdin.close()
        sink.wait(timeout=10)


if __name__ == "__main__":
    main()
