"""HTTP only: schema in, one service call, schema out."""

from __future__ import annotations

from flask import current_app, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.exceptions import RequestEntityTooLarge

from blueprints import (
    checkin,
    comeback,
    errors,
    feeds,
    health,
    logmask,
    me,
    messages,
    offers,
)
from blueprints.api.registry import register_api
from blueprints.limits import POLLED, init_limits
from blueprints.web import exempt_from_csrf, init_web
from scheduler import bounds, text
from scheduler.errors import InvalidValue, NotFound

# staff ways in: text is refused with a message naming the field (422); the client's
# own forms clean what they receive instead (scheduler.text.clean), never asking again
CHECKED_BLUEPRINTS = ("web",)


def refuse_large_bodies() -> None:
    """MAX_CONTENT_LENGTH for every body. A chunked one (no Content-Length; the
    server marks it ``wsgi.input_terminated``) is read up to the limit and refused
    if anything is left, instead of being cut short where the limit falls."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if not limit or request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if (request.content_length or 0) > limit:
        raise RequestEntityTooLarge()
    if request.environ.get("wsgi.input_terminated"):
        request.get_data(cache=True)  # at most ``limit`` bytes, kept for the view
        if request.environ["wsgi.input"].read(1):
            raise RequestEntityTooLarge()


def refuse_control_characters() -> None:
    """Before any staff call: no control characters in a JSON body, a form or a query,
    and no whole number (in the path or the body) beyond what a column holds."""
    if not (request.path.startswith("/api/") or request.blueprint in CHECKED_BLUEPRINTS):
        return
    sources = [request.args.to_dict(flat=False)]
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        sources.append(request.form.to_dict(flat=False))
        if request.is_json:
            sources.append(request.get_json(silent=True))
    for data in sources:
        found = text.first_refusal(data)
        if found:
            field, message = found
            raise InvalidValue(f"{message} (in “{field.replace('_', ' ')}”)", field=field)
    field = bounds.first_out_of_range(bounds.whole_numbers(request.args))
    if field:
        raise InvalidValue(f"{bounds.MESSAGE} (in “{field.replace('_', ' ')}”)", field=field)
    field = bounds.first_out_of_range(request.view_args)
    if field:  # no row has an id that large: the address names nothing
        raise NotFound(f"No {field.replace('_id', '').replace('_', ' ')} has that number",
                       field=field)
    for data in sources[1:]:
        field = bounds.first_out_of_range(data)
        if field:
            raise InvalidValue(f"{bounds.MESSAGE} (in “{field.replace('_', ' ')}”)",
                               field=field)



# No inline script anywhere (console.js and client.js are files); inline styles only
# for the seat bars' widths and the API docs page.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'")


def security_headers(response):
    """On every answer: a CSP without inline script, no framing, no sniffing, HSTS
    over HTTPS, and no Referer at all from pages whose address holds a secret."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    if request.view_args and "token" in request.view_args:
        headers["Referrer-Policy"] = "no-referrer"
    else:
        headers.setdefault("Referrer-Policy", "same-origin")
    if request.is_secure or current_app.config.get("REGROUP_ENV") == "production":
        headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
    return response


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with two savings for the addresses polled all
    day: calendar feeds and the health check neither read nor set a cookie (a null
    session), and the signer is made once per secret instead of on every request."""

    def __init__(self):
        self._signer: tuple | None = None

    def open_session(self, app, request):
        if request.path.startswith(POLLED):
            return None  # Flask's null session: never saved, refuses writes
        return super().open_session(app, request)

    def get_signing_serializer(self, app):
        secrets = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        if self._signer is None or self._signer[0] != secrets:
            self._signer = (secrets, super().get_signing_serializer(app))
        return self._signer[1]


def register_blueprints(app) -> None:
    app.session_interface = CookieSessions()
    init_limits(app)
    register_api(app)
    init_web(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(comeback.bp)
    app.register_blueprint(offers.bp)
    app.register_blueprint(checkin.bp)
    feeds.init_app(app)
    app.register_blueprint(me.bp)
    app.register_blueprint(messages.bp)
    exempt_from_csrf(messages.bp)  # one-click unsubscribe and the SMS gateway's webhook
    errors.register(app)
    app.before_request(refuse_large_bodies)
    app.before_request(refuse_control_characters)
    app.after_request(security_headers)
    logmask.install(app)  # after every route is known
