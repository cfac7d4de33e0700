"""Configuration from environment variables, with safe development defaults."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Policy:
    """Every number the program's rules use. Change them here or in app config."""

    horizon_weeks: int = 16
    attendance_days_back: int = 7  # later corrections need an admin and a reason
    resume_window_days: int = 30
    credit_window_days: int = 180
    fresh_min_size: int = 4
    fresh_max_size: int = 10
    offer_hours: int = 24
    # humane offers: a seat is for a group session at least this far off (else the
    # one after), and the person has at least this long to answer
    offer_min_notice_hours: int = 24
    offer_min_answer_hours: int = 8
    pause_hold_days: int = 14
    closed_join_until_session: int = 3
    absences_to_pause: int = 2
    auto_release_days: int = 7
    cancelled_visible_days: int = 14
    feed_days_back: int = 60
    feed_days_ahead: int = 183
    reminder_minutes: tuple[int, ...] = (1440, 120)
    quiet_start_hour: int = 21
    quiet_end_hour: int = 8
    reminder_plan_hours: int = 48
    change_notice_days: int = 14
    send_max_attempts: int = 5
    dayparts: dict[str, tuple[int, int]] = field(
        default_factory=lambda: {"morning": (5, 12), "afternoon": (12, 17), "evening": (17, 24)}
    )
    # coming back (placement.py): how many groups with seats to offer, how many full
    # groups to offer a waitlist place in, how many new fresh groups to propose (at
    # the sites asked for, in their order, else by site; six is every daypart at two
    # sites: a program of many sites is not read a new group at each),
    # how many hours' notice a fresh group of returners gets when it opens (its first
    # session is the first one at least this far away: opened in the morning, an
    # evening group meets that evening), and the weekly pattern a new fresh group
    # starts with (staff may change it before opening)
    join_options: int = 5
    waitlist_options: int = 3
    fresh_new_options: int = 6
    fresh_notice_hours: int = 6
    # self-booked check-ins: published times are offered from this many hours ahead
    self_check_in_notice_hours: int = 2
    # a fresh group ranks with the seats open now only when it would start this soon
    fresh_soon_days: int = 14
    # a forming group still short of fresh_min_size this many days after its first
    # member joined is proposed for a merge into a running group with seats, or for
    # opening smaller (with at least fresh_smallest people); staff are told. One day,
    # not two: on the near-full standard scenario it brought time back's median from
    # 3.9/3.0/3.1 to 2.9/3.0/2.3 days (seeds 1-3) with no other figure worse
    fresh_wait_days: int = 1
    fresh_smallest: int = 2
    # nobody out of sight: a person waiting to be back in a group hears from the
    # program at least every waiting_note_days (daytime, discreet, they may stop it);
    # staff see everyone who has waited longer than waiting_alert_days
    waiting_note_days: int = 7
    waiting_note_hours: tuple[int, int] = (10, 18)
    waiting_alert_days: int = 7
    fresh_patterns: dict[str, tuple[str, str]] = field(
        default_factory=lambda: {"morning": ("mon,wed,fri", "09:30"),
                                 "afternoon": ("mon,wed,fri", "13:00"),
                                 "evening": ("mon,wed,thu", "18:00")}
    )


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _instance_key(folder: Path) -> str:
    """A development secret kept in the instance folder (made once, readable only by
    its owner)."""
    path = folder / "secret_key"
    if path.exists():
        return path.read_text().strip()
    folder.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.touch(mode=0o600)
    path.write_text(key)
    return key


def from_environment(instance_path: str) -> dict:
    env = os.environ
    sqlite_path = Path(instance_path) / "regroup.sqlite3"
    production = env.get("REGROUP_ENV", "development") == "production"
    secret = env.get("SECRET_KEY")
    if production and not secret:
        raise RuntimeError("SECRET_KEY must be set when REGROUP_ENV=production")
    if production and not env.get("REDIS_URL") and not _bool(env.get("REGROUP_SINGLE_WORKER")):
        raise RuntimeError(
            "REDIS_URL must be set when REGROUP_ENV=production: without it each web worker "
            "counts sign-in and form attempts on its own, so the limits multiply by the "
            "number of workers. Running exactly one worker? Set REGROUP_SINGLE_WORKER=1.")
    return {
        "REGROUP_ENV": "production" if production else "development",
        # development keeps one key in the instance folder, so links already sent
        # (offers, unsubscribe, check-in) still work after a restart
        "SECRET_KEY": secret or _instance_key(Path(instance_path)),
        # the largest request body, chunked ones included (413 beyond it)
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH", str(1024 * 1024))),
        # PostgreSQL: seconds to connect, and the longest a statement may run
        "DATABASE_CONNECT_TIMEOUT": int(env.get("DATABASE_CONNECT_TIMEOUT", "5")),
        "DATABASE_STATEMENT_TIMEOUT_MS": int(env.get("DATABASE_STATEMENT_TIMEOUT_MS",
                                                     "60000")),
        # PostgreSQL: the planner's cost of reading a page at random, against 1 for the
        # next page in order; 1.1 suits SSD storage (the server's default of 4 assumes
        # spinning disks); empty leaves the server's own setting
        "DATABASE_RANDOM_PAGE_COST": env.get("DATABASE_RANDOM_PAGE_COST", "1.1"),
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL") or f"sqlite:///{sqlite_path}",
        "PUBLIC_BASE_URL": env.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "SMTP_HOST": env.get("SMTP_HOST"),
        "SMTP_PORT": int(env.get("SMTP_PORT", "25")),
        "SMTP_USERNAME": env.get("SMTP_USERNAME"),
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD"),
        "SMTP_STARTTLS": _bool(env.get("SMTP_STARTTLS")),
        "MAIL_FROM": env.get("MAIL_FROM", "Group schedule <no-reply@localhost>"),
        "SMS_GATEWAY_URL": env.get("SMS_GATEWAY_URL"),
        "SMS_GATEWAY_KEY": env.get("SMS_GATEWAY_KEY"),
        # outbox: "auto" sends email by SMTP when SMTP_HOST is set and SMS through the
        # gateway when SMS_GATEWAY_URL is set, else writes to OUTBOX_DIR (development);
        # "file" always writes there; "null" discards (benchmarks)
        "OUTBOX_TRANSPORT": env.get("OUTBOX_TRANSPORT", "auto"),
        "OUTBOX_DIR": env.get("OUTBOX_DIR") or str(Path(instance_path) / "outbox"),
        "OUTBOX_LEASE_SECONDS": int(env.get("OUTBOX_LEASE_SECONDS", "300")),
        # rows sharing each pair of commits: a runner killed mid-group leaves at most
        # this many "unknown" (never sent twice); 1 makes that exact, at a tenth the pace
        "OUTBOX_SEND_GROUP": int(env.get("OUTBOX_SEND_GROUP", "20")),
        # one sending run stops claiming after this long, so other jobs get their turn
        "OUTBOX_SEND_BUDGET_SECONDS": float(env.get("OUTBOX_SEND_BUDGET_SECONDS", "60")),
        "SMTP_TIMEOUT": float(env.get("SMTP_TIMEOUT", "10")),
        "SMTP_MESSAGE_SECONDS": float(env.get("SMTP_MESSAGE_SECONDS", "60")),
        "REDIS_URL": env.get("REDIS_URL"),
        # keys the hash behind calendar event UIDs: changing it changes every UID
        "FEED_UID_KEY": env.get("FEED_UID_KEY") or secret or "regroup-development-feed-uids",
        "RUN_JOBS_IN_WEB": _bool(env.get("REGROUP_RUN_JOBS_IN_WEB")),
        "SESSION_COOKIE_SECURE": production,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
    }


def policy_from_environment(environ: dict[str, str] | None = None) -> Policy:
    """Policy with any whole-number field overridden by ``REGROUP_POLICY_<FIELD>``,
    e.g. ``REGROUP_POLICY_RESUME_WINDOW_DAYS=45``."""
    environ = os.environ if environ is None else environ
    overrides = {}
    for name, spec in Policy.__dataclass_fields__.items():
        raw = environ.get(f"REGROUP_POLICY_{name.upper()}")
        if raw is not None and spec.type in ("int", int):
            try:
                overrides[name] = int(raw)
            except ValueError as exc:
                raise RuntimeError(f"REGROUP_POLICY_{name.upper()} must be a whole number"
                                   ) from exc
    return Policy(**overrides)
