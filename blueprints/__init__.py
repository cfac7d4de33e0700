"""HTTP only: schema in, one service call, schema out."""

from __future__ import annotations


def register_blueprints(app) -> None:
    from blueprints import errors, health, messages
    from blueprints.api import register_api
    from blueprints.limits import init_limits

    init_limits(app)
    register_api(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(messages.bp)
    errors.register(app)
