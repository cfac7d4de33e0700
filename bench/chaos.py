"""Chaos: the runs that break things, and what held. Prints a table (never a test).

On a scratch PostgreSQL database (``--database``, default ``regroup_chaos``, dropped and
made anew) with the demo program:

1. burst + killed workers: 60 people enrolled at once into a group with 5 seats under
   gunicorn (4 workers) while workers are SIGKILLed; a dropped connection is retried
   once, as a client would. Holds when: at most 5 seated, every 201 names a real seat,
   nobody twice, every request answered after at most one retry.
2. killed runner: 100 emails due; `flask jobs run --once` is SIGKILLed mid-send, then
   run again. Holds when: every message sent or marked unknown, none delivered twice.
3. hung database: /healthz against a database that accepts connections and never
   answers. Holds when: 503 within the 2 s budget.
4. trickling SMTP: a server that sends a byte every 0.2 s. Holds when: the send job
   returns within its budget and every message is still there to retry.
5. huge bodies: 20 MB of JSON, plain and chunked. Holds when: 413 at once and the
   service still answers.

    .venv/bin/python bench/chaos.py
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench.load import start_gunicorn  # noqa: E402
from bench.scratch import recreate_pg  # noqa: E402
from bench.smtp_sink import start_sink  # noqa: E402
from scheduler.app import create_app  # noqa: E402
from scheduler.models import Client, Enrollment, Notification, db  # noqa: E402
from scheduler.services import cohorts, delivery, notices, outbox  # noqa: E402
from tests.contract.api_server import demo_with_admin_token  # noqa: E402
from tests.trickle import silent_server, trickling_server  # noqa: E402

SLOW_SINK = """
class Handler:
    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.02)
        for rcpt in envelope.rcpt_tos:
            print(rcpt, flush=True)
        return "250 OK"
"""

HELD = {True: "held", False: "BROKE"}


def line(name: str, held: bool, figures: str) -> bool:
    print(f"{name:<28} {HELD[held]:<6} {figures}", flush=True)
    return held


def call(base: str, method: str, path: str, token: str, body=None, timeout: float = 10.0):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"{base}{path}", data=data, method=method, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, None


# --- 1 -----------------------------------------------------------------------------------

def burst(app, env: dict, token: str) -> bool:
    with app.app_context():
        now = app.config["CLOCK"]()
        location_id = db.session.scalar(sa.text("SELECT min(id) FROM location"))
        track_id = db.session.scalar(sa.text("SELECT min(id) FROM track"))
        cohort = cohorts.create_cohort({
            "name": "Chaos Evening", "location_id": location_id, "track_id": track_id,
            "weekdays": ["mon", "wed"], "start_time": datetime(2026, 1, 1, 18).time(),
            "capacity": 5, "starts_on": now.date()}, now, app.config["POLICY"])
        cohort_id = cohort.id
        people = [c.id for c in db.session.scalars(sa.select(Client).order_by(Client.id)
                                                   .limit(60))]
        db.session.remove()
    server, port = start_gunicorn("wsgi:app", 4, env, ROOT)
    base = f"http://127.0.0.1:{port}"
    answers: dict[int, tuple[int, object, int]] = {}
    stop = threading.Event()
    killed = 0

    def killer():
        nonlocal killed
        while not stop.wait(0.3):
            workers = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True,
                                     text=True).stdout.split()
            if workers:
                os.kill(int(random.choice(workers)), signal.SIGKILL)
                killed += 1

    def enroll(client_id: int):
        for attempt in (1, 2):
            try:
                status, body = call(base, "POST", "/api/v1/enrollments", token,
                                    {"client_id": client_id, "cohort_id": cohort_id})
                answers[client_id] = (status, body, attempt)
                return
            except (OSError, http.client.HTTPException):
                time.sleep(0.5)
        answers[client_id] = (0, None, 2)

    chaos = threading.Thread(target=killer, daemon=True)
    chaos.start()
    threads = [threading.Thread(target=enroll, args=(c,)) for c in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=30)
    with app.app_context():
        seated = list(db.session.scalars(sa.select(Enrollment).where(
            Enrollment.cohort_id == cohort_id, Enrollment.status == "active")))
        db.session.remove()
    created = [b["id"] for s, b, _ in answers.values() if s == 201 and b]
    never = sum(1 for s, _, _ in answers.values() if s == 0)
    retried = sum(1 for s, _, a in answers.values() if s and a == 2)
    clients = [e.client_id for e in seated]
    held = (len(seated) <= 5 and set(created) <= {e.id for e in seated} and never == 0
            and len(clients) == len(set(clients)))
    return line("burst + killed workers", held,
                f"60 requests, {killed} workers killed: {len(seated)} of 5 seats taken, "
                f"{len(created)} answered 201, {retried} answered after a retry, "
                f"{never} never answered, {len(clients) - len(set(clients))} twice")


# --- 2 -----------------------------------------------------------------------------------

def killed_runner(app, env: dict) -> bool:
    sink, port = start_sink(SLOW_SINK)
    with app.app_context():
        now = app.config["CLOCK"]()
        # only this run's messages go out (the demo's own are set aside)
        db.session.execute(sa.update(Notification).where(Notification.status == "pending")
                           .values(status="cancelled", error="set aside for the chaos run"))
        db.session.commit()
        ids = list(db.session.scalars(sa.select(Client.id).where(Client.email.is_not(None))
                                      .order_by(Client.id).limit(100)))
        for client_id in ids:
            notices.send_calendar_link(client_id, "email", now, staff_id=None)
        due = db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
            Notification.status == "pending", Notification.kind == "calendar_link"))
        db.session.remove()
    run_env = {**env, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port),
               "OUTBOX_SEND_GROUP": "5"}
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "run", "--once",
               "--job", "send_notifications"]
    first = subprocess.Popen(command, cwd=ROOT, env=run_env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    time.sleep(1.5)
    first.kill()
    first.wait()
    with app.app_context():  # the killed runner's lease must lapse before a rerun takes over
        db.session.execute(sa.update(Notification).where(
            Notification.status == "claimed").values(lease_until=datetime(2000, 1, 1,
                                                                          tzinfo=UTC)))
        db.session.commit()
        db.session.remove()
    subprocess.run(command, cwd=ROOT, env=run_env, capture_output=True, check=False)
    sink.stdin.close()
    received = sink.stdout.read().split()
    sink.wait(timeout=10)
    with app.app_context():
        statuses = dict(db.session.execute(
            sa.select(Notification.status, sa.func.count()).where(
                Notification.kind == "calendar_link").group_by(Notification.status)).all())
        db.session.remove()
    twice = len(received) - len(set(received))
    accounted = statuses.get("sent", 0) + statuses.get("unknown", 0)
    held = twice == 0 and accounted == due
    return line("killed runner mid-send", held,
                f"{due} due, runner killed after 1.5 s and run again: "
                f"{statuses.get('sent', 0)} sent, {statuses.get('unknown', 0)} unknown "
                f"(for staff to settle), {len(set(received))} delivered, {twice} twice")


# --- 3 -----------------------------------------------------------------------------------

def hung_database(env: dict) -> bool:
    with silent_server() as hole:
        url = f"postgresql+psycopg://postgres@127.0.0.1:{hole}/hung"
        server, port = start_gunicorn("wsgi:app", 1, {**env, "DATABASE_URL": url,
                                                      "DATABASE_CONNECT_TIMEOUT": "30"}, ROOT)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/openapi.json", timeout=30):
            pass  # the worker has booted (this page needs no database)
        started = time.monotonic()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=15) as r:
                status = r.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError:
            status = 0
        elapsed = time.monotonic() - started
        server.kill()
        server.wait()
    return line("hung database", status == 503 and elapsed <= 2.5,
                f"/healthz answered {status} in {elapsed:.2f} s (budget 2 s)")


# --- 4 -----------------------------------------------------------------------------------

def trickling_smtp(app) -> bool:
    with trickling_server() as port:
        return _send_against(app, port)


def _send_against(app, port: int) -> bool:
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port,
                      SMTP_MESSAGE_SECONDS=1, OUTBOX_SEND_BUDGET_SECONDS=3,
                      OUTBOX_TRANSPORT="auto")
    with app.app_context():
        now = app.config["CLOCK"]()
        db.session.execute(sa.delete(Notification).where(Notification.status == "pending"))
        for client_id in db.session.scalars(sa.select(Client.id).where(
                Client.email.is_not(None)).order_by(Client.id.desc()).limit(6)):
            outbox.queue("calendar_link", db.session.get(Client, client_id),
                         subject_ref=f"chaos:{client_id}", occurrence="trickle", due_at=now,
                         now=now, payload={"feed_link": True})
        db.session.commit()
        started = time.monotonic()
        counts = delivery.send_due(now, app.config["POLICY"])
        elapsed = time.monotonic() - started
        kept = db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
            Notification.key.like("%:trickle"),
            Notification.status.in_(("pending", "failed"))))
        db.session.remove()
    return line("trickling SMTP", elapsed <= 3 + 1 + 0.5 and kept == 6,
                f"send job returned in {elapsed:.1f} s (budget 3 s, 1 s a message): "
                f"{counts.get('sent', 0)} sent, {kept} of 6 kept to retry")


# --- 5 -----------------------------------------------------------------------------------

def _status_of_huge_post(port: int, token: str, *, chunked: bool) -> tuple[int, float]:
    """Send the headers of a 20 MB JSON POST and its first 2.5 MB, then read the
    answer: the service should refuse before taking the rest."""
    size = 20 * 1024 * 1024
    head = (f"POST /api/v1/clients HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            + ("Transfer-Encoding: chunked\r\n" if chunked else f"Content-Length: {size}\r\n")
            + "\r\n").encode()
    piece = b"x" * 65536
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        prefix = b'{"name": "'
        conn.sendall(head + (f"{len(prefix):x}\r\n".encode() + prefix + b"\r\n"
                             if chunked else prefix))
        with contextlib.suppress(OSError):
            for _ in range(40):  # keep sending, as a real upload would, past the limit
                conn.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
                             if chunked else piece)
        try:
            first = conn.recv(64).split(b"\r\n", 1)[0].split()
            status = int(first[1]) if len(first) > 1 else 0
        except OSError:
            status = 0
    return status, time.monotonic() - started


def huge_bodies(env: dict, token: str) -> bool:
    server, port = start_gunicorn("wsgi:app", 2, env, ROOT)
    results = [_status_of_huge_post(port, token, chunked=c) for c in (False, True)]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
        alive = r.status == 200
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=30)
    held = alive and all(s == 413 for s, _ in results)
    return line("huge bodies", held,
                f"20 MB plain: {results[0][0]} in {results[0][1]:.2f} s; chunked: "
                f"{results[1][0]} in {results[1][1]:.2f} s; service still "
                f"{'answers' if alive else 'DOWN'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="regroup_chaos")
    args = parser.parse_args()
    url = recreate_pg(args.database)
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "chaos-bench",
           "REGROUP_ENV": "development", "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
           "OUTBOX_TRANSPORT": "auto"}
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "chaos-bench",
                      "OUTBOX_TRANSPORT": "auto"})
    token = demo_with_admin_token(app, "chaos")
    print(f"{'run':<28} {'':<6} what happened")
    held = [burst(app, env, token), killed_runner(app, env), hung_database(env),
            trickling_smtp(app), huge_bodies(env, token)]
    print(f"\n{sum(held)} of {len(held)} held")
    return 0 if all(held) else 1


if __name__ == "__main__":
    raise SystemExit(main())
