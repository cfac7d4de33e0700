"""Small helpers the console pages share: the clock, the policy, auditing."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import current_app, request
from flask_login import current_user

from scheduler.config import Policy
from scheduler.services import audit


def now() -> datetime:
    return current_app.config["CLOCK"]()


def policy() -> Policy:
    return current_app.config["POLICY"]


def audited(action: str, entity: str, entity_id: int | None, **detail: Any) -> None:
    """Audit the signed-in staff user's console request. The row rides on the next
    commit (called before a use case, it commits with that change); whatever is
    still staged when the request ends is committed then (``flush_audit``)."""
    staff_id = current_user.id if current_user.is_authenticated else None
    audit.stage(action, entity, entity_id, staff_id=staff_id, ip=request.remote_addr,
                 now=now(), detail={"via": "console", "method": request.method,
                                    "path": request.path, **detail})


def int_arg(name: str) -> int | None:
    value = (request.values.get(name) or "").strip()
    return int(value) if value.isdigit() else None


def date_arg(name: str) -> date | None:
    value = (request.values.get(name) or "").strip()
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def flush_audit(response):
    """After each console request: commit audit rows no use case carried."""
    audit.commit_staged()
    return response
