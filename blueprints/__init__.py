"""HTTP only: schema in, one service call, schema out."""

from __future__ import annotations

from flask import request

from scheduler import text
from scheduler.errors import InvalidValue

# staff ways in: text is refused with a message naming the field (422); the client's
# own forms clean what they receive instead (scheduler.text.clean), never asking again
CHECKED_BLUEPRINTS = ("web",)


def refuse_control_characters() -> None:
    """Before any staff write: no control characters in a JSON body, a form or a query."""
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



def register_blueprints(app) -> None:
    from blueprints import checkin, comeback, errors, feeds, health, me, messages, offers
    from blueprints.api import register_api
    from blueprints.limits import init_limits
    from blueprints.web import exempt_from_csrf, init_web

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
    app.before_request(refuse_control_characters)
