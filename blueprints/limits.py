"""Rate limits (public forms, sign-in). Shared through Redis when REDIS_URL is set."""

from __future__ import annotations

from functools import partial, wraps

from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(key_func=get_remote_address, default_limits=[])

# what calendar apps and probes poll all day: no limit applies there, no cookie either
POLLED = ("/feeds/", "/healthz")


def init_limits(app) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)
    # its request filter is asked only after the limits are gathered (a tenth of a
    # millisecond a request): on polled addresses its hooks are not run at all
    for hooks in (app.before_request_funcs, app.after_request_funcs):
        hooks[None] = [_unless_polled(hook) if _is_limiters(hook) else hook
                       for hook in hooks.get(None, [])]


def _is_limiters(hook) -> bool:
    owner = getattr(hook, "__self__", None) or (
        hook.args[0] if isinstance(hook, partial) and hook.args else None)
    return owner is limiter


def _unless_polled(hook):
    """The limiter's hook, skipped where no limit applies (before_request hooks take
    nothing, after_request hooks take and give back the response)."""

    @wraps(hook)
    def skipping(*response):
        if request.path.startswith(POLLED):
            return response[0] if response else None
        return hook(*response)

    return skipping
