"""One mask for every secret in a URL path: access logs (werkzeug's, gunicorn's) and
our own log lines print whole paths, so every route with a ``<token>`` in it has
that part replaced by ``[token]``. The routes come from the app's URL map, so a route
added later is masked without anyone remembering to."""

from __future__ import annotations

import logging
import re

LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error", "regroup")
_pattern: list[re.Pattern] = []


def secret_prefixes(app) -> list[str]:
    """The static part of each route before its ``<token>`` (e.g. "/feeds/")."""
    prefixes = set()
    for rule in app.url_map.iter_rules():
        if "token" in rule.arguments:
            prefixes.add(rule.rule.split("<", 1)[0])
    return sorted(prefixes, key=len, reverse=True)


def mask(message: str) -> str:
    return _pattern[0].sub(r"\1[token]", message) if _pattern else message


class TokenMask(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def install(app) -> None:
    prefixes = secret_prefixes(app)
    if prefixes:
        alternatives = "|".join(re.escape(p) for p in prefixes)
        # a token is URL-safe base64, possibly in dot-joined parts (signed links);
        # a trailing ".ics" stays, so the log still says what was fetched
        token = r"[A-Za-z0-9_\-]+(?:\.(?!ics\b)[A-Za-z0-9_\-]+)*"
        _pattern[:] = [re.compile(rf"({alternatives}){token}")]
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, TokenMask) for f in logger.filters):
            logger.addFilter(TokenMask())
