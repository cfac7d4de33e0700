"""Calendar subscription URLs: `/feeds/<token>.ics` and single-event downloads.

Calendar apps cannot send headers, so the token in the path is the only key.
Unknown and revoked tokens get the same 404; the token never reaches a log line
(see ``blueprints.logmask``).
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from blueprints.api import now, policy
from calendars import tokens
from calendars.build import feed_uid_key, single_event
from calendars.cache import FeedCache, Rendered, etag_of, rendered_feed
from calendars.subscription import fetched_by_calendar_app
from calendars.watch import RevisionWatch
from scheduler import reads
from scheduler.models import db
from scheduler.security import token_hash
from scheduler.services import feed_tokens

bp = Blueprint("feeds", __name__)

CONTENT_TYPE = "text/calendar; charset=utf-8"
CACHE_CONTROL = "private, no-cache"
def init_app(app) -> None:
    app.extensions.setdefault("feed_cache", FeedCache())
    app.extensions.setdefault("feed_watch", RevisionWatch(reads.listening_connection))
    app.register_blueprint(bp)


def feed_cache() -> FeedCache:
    return current_app.extensions["feed_cache"]


def feed_watch() -> RevisionWatch:
    return current_app.extensions["feed_watch"]


def uid_key() -> bytes:
    """Keys the hash behind event UIDs (config FEED_UID_KEY, see scheduler/config.py)."""
    return feed_uid_key(current_app.config)


def resolve(token: str) -> tokens.TokenInfo | None:
    """A live token's facts (remembered per worker; liveness is rechecked by the
    feed's version query on every request)."""
    digest = token_hash(token)
    cache = feed_cache()
    info = cache.token(digest)
    if info is None:
        info = tokens.lookup(token)
        if info is not None:
            cache.remember_token(digest, info)
    return info


def not_found() -> Response:
    return Response("Not found\n", 404, content_type="text/plain; charset=utf-8",
                    headers={"Cache-Control": "no-store"})


def _wants_gzip() -> bool:
    return request.accept_encodings["gzip"] > 0


def calendar_response(rendered: Rendered, *, download: str | None = None) -> Response:
    """200 or 304 with a strong ETag per representation; gzip only when asked."""
    gz = _wants_gzip()
    etag = rendered.etag[:-1] + '-gz"' if gz else rendered.etag
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL, "Vary": "Accept-Encoding",
               "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
    if request.if_none_match.contains_weak(etag.strip('"')):
        return Response(status=304, headers=headers)
    if download:
        headers["Content-Disposition"] = f'attachment; filename="{download}"'
    if gz:
        headers["Content-Encoding"] = "gzip"
    body = rendered.gzipped if gz else rendered.body
    return Response(body, 200, content_type=CONTENT_TYPE, headers=headers)


@bp.route("/feeds/<token>.ics", methods=["GET", "HEAD"])
def feed(token: str):
    info = resolve(token)
    if info is None:
        return not_found()
    rendered = rendered_feed(info, now(), policy(), uid_key(), feed_cache(), feed_watch())
    # End the transaction at once (a build records what its events showed; on SQLite
    # every transaction holds the write lock, and a poll must not keep others waiting).
    # A poll served from what the worker knows began none.
    if db.session().in_transaction():
        db.session.commit()
    if rendered is None:
        feed_cache().forget_token(token_hash(token))
        return not_found()
    download = "calendar.ics" if request.args.get("download") else None
    if not info.subscribed and fetched_by_calendar_app(request.user_agent.string,
                                                       bool(download)):
        feed_cache().remember_token(token_hash(token), tokens.mark_subscribed(info, now()))
        db.session.commit()
    return calendar_response(rendered, download=download)


def _single(token: str, subject: str, filename: str):
    info = resolve(token)
    if info is None or tokens.lookup(token) is None:
        return not_found()
    body = single_event(info.kind, info.subject_id, subject, now(), policy(), uid_key())
    db.session.commit()  # what the event showed is recorded (calendars.sequence)
    if body is None:
        return not_found()
    return calendar_response(Rendered(body, etag_of(body)), download=filename)


@bp.route("/feeds/<token>/group-sessions/<int:session_id>.ics", methods=["GET", "HEAD"])
def group_session_download(token: str, session_id: int):
    return _single(token, f"group_session:{session_id}", "group-session.ics")


@bp.route("/feeds/<token>/check-ins/<int:check_in_id>.ics", methods=["GET", "HEAD"])
def check_in_download(token: str, check_in_id: int):
    return _single(token, f"check_in:{check_in_id}", "check-in.ics")


def feed_urls(token: str) -> dict[str, str]:
    """The subscription links for a token (https, webcal) and the client's page."""
    return feed_tokens.urls(current_app.config["PUBLIC_BASE_URL"], token)
