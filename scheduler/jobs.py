"""The background-job runner: one APScheduler (3.x, UTC, in-memory store) whose
every job is one use-case call inside an app context. Run by `flask jobs run`."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable

from flask import Flask

log = logging.getLogger("regroup.jobs")


def _jobs() -> dict[str, tuple[int, Callable]]:
    """name -> (interval seconds, callable(now, policy) -> result)."""
    from scheduler.services import cohorts, enrollments, waitlist

    return {
        "extend_horizon": (3600, cohorts.extend_horizon),
        "release_expired_holds": (300, lambda now, policy: enrollments.release_expired_holds(now)),
        "expire_offers": (60, waitlist.expire_offers),
    }


def _call(app: Flask, name: str, job: Callable):
    with app.app_context():
        from scheduler.models import db

        try:
            return job(app.config["CLOCK"](), app.config["POLICY"])
        except Exception:
            db.session.rollback()
            log.exception("job %s failed", name)
            raise
        finally:
            db.session.remove()


def run_once(app: Flask) -> dict[str, object]:
    return {name: _call(app, name, job) for name, (_, job) in _jobs().items()}


def build_scheduler(app: Flask):
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(timezone="UTC")
    for name, (seconds, job) in _jobs().items():
        scheduler.add_job(_call, "interval", seconds=seconds, args=(app, name, job), id=name,
                          max_instances=1, coalesce=True)
    return scheduler


def run_forever(app: Flask) -> None:
    scheduler = build_scheduler(app)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    run_once(app)
    scheduler.start()
    log.info("jobs running: %s", ", ".join(_jobs()))
    stop.wait()
    scheduler.shutdown()
