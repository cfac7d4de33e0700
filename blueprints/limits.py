"""Rate limits (public forms, sign-in). Shared through Redis when REDIS_URL is set."""

from __future__ import annotations

from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(key_func=get_remote_address, default_limits=[])

# what calendar apps and probes poll all day: no limit applies there, no cookie either
POLLED = ("/feeds/", "/healthz")


@limiter.request_filter
def _polled() -> bool:
    """Skip the limiter's per-request bookkeeping where no limit applies."""
    return request.path.startswith(POLLED)


def init_limits(app) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)
