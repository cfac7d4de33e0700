"""Puts the staff API on an app: every route module's blueprint, with what the
OpenAPI document states (integer bounds, storable text, bearer auth). Apart from
the package's shared helpers (``blueprints.api``) because the route modules import
those."""

from __future__ import annotations

from flask_smorest import Api
from werkzeug.routing import IntegerConverter

from blueprints.api import (
    clients,
    cohorts,
    feeds,
    id_in_path,
    notifications,
    program,
    returns,
    staff,
    text_that_can_be_stored,
    waitlist,
    whole_numbers_fit_a_column,
)


def register_api(app) -> None:
    api = Api(app)
    app.extensions["regroup_api"] = api
    api.ma_plugin.converter.add_attribute_function(whole_numbers_fit_a_column)
    api.ma_plugin.converter.add_attribute_function(text_that_can_be_stored)
    api.register_converter(IntegerConverter, id_in_path)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer"})
    api.spec.options["security"] = [{"bearerAuth": []}]
    for module in (program, cohorts, clients, returns, waitlist, feeds, notifications, staff):
        api.register_blueprint(module.blp)
    api.register_blueprint(returns.public_blp)  # no token: the public door
