"""The background-job runner: one APScheduler (3.x, UTC, in-memory store) whose
every job is one use-case call inside an app context. Run by `flask jobs run`."""

from __future__ import annotations

import atexit
import logging
import os
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import click
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from flask.cli import run_command
from flask.helpers import get_debug_flag

from scheduler.models import db
from scheduler.services import (
    cohorts,
    delivery,
    disengagement,
    enrollments,
    outbox,
    outreach,
    returns,
    waitlist,
)

log = logging.getLogger("regroup.jobs")


def job_table() -> dict[str, tuple[int, Callable]]:
    """name -> (interval seconds, callable(now, policy) -> result), in the order they
    run (the simulator runs the same table on its own clock)."""
    return {
        "extend_horizon": (3600, cohorts.extend_horizon),
        "release_expired_holds": (300, enrollments.release_expired_holds),
        "expire_offers": (60, waitlist.expire_offers),
        "plan_reminders": (300, outbox.plan_reminders),
        "send_notifications": (20, delivery.send_due),
        "detect_disengagement": (900, disengagement.detect_disengagement),
        "tell_staff_of_stalled": (3600, returns.tell_staff_of_stalled),
        "weekly_waiting_notes": (3600, outreach.weekly_waiting_notes),
        "new_requests_digest": (3600, outreach.new_requests_digest),
    }


def _call(app: Flask, name: str, job: Callable):
    with app.app_context():
        try:
            return job(app.config["CLOCK"](), app.config["POLICY"])
        except Exception:
            db.session.rollback()
            log.exception("job %s failed", name)
            raise
        finally:
            db.session.remove()


def run_once(app: Flask, names: tuple[str, ...] = ()) -> dict[str, object]:
    """Run every job (or only ``names``) once, in order."""
    return {name: _call(app, name, job) for name, (_, job) in job_table().items()
            if not names or name in names}


def build_scheduler(app: Flask, *, start_in: float | None = None):
    """The scheduler with every job; ``start_in`` seconds makes each run soon after
    start instead of one interval later."""
    scheduler = BackgroundScheduler(timezone="UTC")
    first = None if start_in is None else datetime.now(UTC) + timedelta(seconds=start_in)
    for name, (seconds, job) in job_table().items():
        extra = {} if first is None else {"next_run_time": first}
        scheduler.add_job(_call, "interval", seconds=seconds, args=(app, name, job), id=name,
                          max_instances=1, coalesce=True, **extra)
    return scheduler


def console_logging() -> None:
    """Show what the jobs do (sent, expired, failed) on stderr, once per process."""
    regroup_log = logging.getLogger("regroup")
    if not regroup_log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s [%(name)s] %(message)s"))
        regroup_log.addHandler(handler)
        regroup_log.setLevel(logging.INFO)


def run_forever(app: Flask) -> None:
    console_logging()
    scheduler = build_scheduler(app)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    run_once(app)
    scheduler.start()
    log.info("jobs running: %s", ", ".join(job_table()))
    stop.wait()
    scheduler.shutdown()


_started_in_web = None


def should_run_in_web(environ, *, dev_server: bool, reloading: bool) -> bool:
    """Whether this process should run the jobs beside the web app
    (REGROUP_RUN_JOBS_IN_WEB=1, set by `make run`).

    Only the development server (`flask run`) does, and only once: under the
    reloader the watching parent never serves, so only the serving child
    (WERKZEUG_RUN_MAIN=true) runs them. gunicorn workers and other commands never do.
    """
    if not dev_server or "gunicorn" in environ.get("SERVER_SOFTWARE", ""):
        return False
    if reloading:
        return environ.get("WERKZEUG_RUN_MAIN") == "true"
    return True


def maybe_start_in_web(app: Flask):
    """Start the job scheduler inside `flask run` when should_run_in_web says so."""
    global _started_in_web
    ctx = click.get_current_context(silent=True)
    dev_server = ctx is not None and ctx.command is run_command
    reloading = ctx.params.get("reload") if ctx is not None else None
    if reloading is None:
        reloading = get_debug_flag()
    if _started_in_web is not None or not should_run_in_web(
            os.environ, dev_server=dev_server, reloading=bool(reloading)):
        return None
    console_logging()
    _started_in_web = build_scheduler(app, start_in=2)
    _started_in_web.start()
    atexit.register(lambda: _started_in_web.shutdown(wait=False))
    log.info("jobs running inside the development server (pid %s): %s", os.getpid(),
             ", ".join(job_table()))
    return _started_in_web
