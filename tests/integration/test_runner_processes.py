"""Real runner processes: killed mid-send, restarted, or three at once.

Every due message is delivered once or marked ``unknown`` for staff; none twice.
"""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from scheduler.models import Notification
from scheduler.services.outbox import insert_new
from scheduler.timeutil import utcnow

ROOT = Path(__file__).resolve().parents[2]
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "run", "--once",
         "--job", "send_notifications"]


def _env(database_url: str, outdir: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("REGROUP_OUTBOX", "REGROUP_RUN_JOBS", "WERKZEUG", "FLASK_"))}
    env.update(DATABASE_URL=database_url, OUTBOX_TRANSPORT="file", OUTBOX_DIR=str(outdir),
               OUTBOX_LEASE_SECONDS="1", SECRET_KEY="test-secret")
    env.update(extra)
    return env


def _due(db, build, count: int) -> None:
    now = utcnow()
    clients = [build.client(email=f"c{i}@example.test") for i in range(min(count, 5))]
    insert_new([dict(key=f"welcome_back:return_request:{i}:email:1", kind="welcome_back",
                     client_id=clients[i % len(clients)].id, staff_id=None, channel="email",
                     recipient=f"c{i}@example.test", subject_ref=f"return_request:{i}",
                     payload={}, due_at=now - timedelta(minutes=1), expires_at=None)
                for i in range(count)], now)
    db.session.commit()


def _deliveries(outdir: Path) -> dict[int, int]:
    counts: dict[int, int] = {}
    for path in outdir.glob("*.eml"):
        nid = int(path.name.split("-")[0])
        counts[nid] = counts.get(nid, 0) + 1
    return counts


def _statuses(db) -> dict[int, str]:
    db.session.expire_all()
    return dict(db.session.execute(sa.select(Notification.id, Notification.status)).all())


@pytest.mark.parametrize("point, group, unknown", [
    ("after_claim", 1, 0), ("before_send", 1, 1), ("after_send", 1, 1), ("after_mark", 1, 0),
    ("after_send", 3, 3)])
def test_a_runner_killed_mid_send_loses_nothing_and_doubles_nothing(
        db, build, database_url, tmp_path, point, group, unknown):
    _due(db, build, 3)
    outdir, marker = tmp_path / "out", tmp_path / "paused"
    runner = subprocess.Popen(FLASK, cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, env=_env(
                                  database_url, outdir, REGROUP_OUTBOX_PAUSE_AT=point,
                                  REGROUP_OUTBOX_PAUSE_FILE=str(marker),
                                  OUTBOX_SEND_GROUP=str(group)))
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert runner.poll() is None, "the runner ended before reaching the point"
            assert time.monotonic() < deadline, "the runner never reached the point"
            time.sleep(0.05)
    finally:
        runner.send_signal(signal.SIGKILL)
        runner.wait()
    time.sleep(1.2)  # let the lease run out
    subprocess.run(FLASK, cwd=ROOT, env=_env(database_url, outdir), check=True,
                   capture_output=True)
    statuses, delivered = _statuses(db), _deliveries(outdir)
    assert all(n <= 1 for n in delivered.values())
    assert all(delivered.get(nid) == 1 for nid, s in statuses.items() if s == "sent")
    assert sorted(statuses.values()) == sorted(["sent"] * (3 - unknown) + ["unknown"] * unknown)


def test_three_runners_at_once_send_five_hundred_messages_exactly_once(
        db, build, database_url, tmp_path):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row claiming with SKIP LOCKED is checked on PostgreSQL")
    _due(db, build, 500)
    outdir = tmp_path / "out"
    runners = [subprocess.Popen(FLASK, cwd=ROOT,
                                env=_env(database_url, outdir, OUTBOX_LEASE_SECONDS="60"),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
               for _ in range(3)]
    for runner in runners:
        assert runner.wait(timeout=300) == 0, runner.stderr.read()
        runner.stderr.close()
    delivered = _deliveries(outdir)
    assert sum(delivered.values()) == 500 and len(delivered) == 500
    assert set(_statuses(db).values()) == {"sent"}


def test_the_development_server_under_the_reloader_runs_the_jobs_once(database_url, tmp_path):
    port = _free_port()
    log = tmp_path / "server.log"
    with open(log, "w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--debug", "--port",
             str(port)], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            env=_env(database_url, tmp_path / "out", REGROUP_RUN_JOBS_IN_WEB="1"),
            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while "Debugger is active" not in log.read_text():
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        while log.read_text().count("jobs running inside") < 1:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        time.sleep(1)  # room for a second (wrong) start to show itself
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    assert log.read_text().count("jobs running inside the development server") == 1


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
