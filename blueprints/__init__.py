"""HTTP only: schema in, one service call, schema out."""

from __future__ import annotations


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
