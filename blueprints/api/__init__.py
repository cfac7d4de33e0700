"""The staff JSON API (`/api/v1`): bearer-token auth, roles, pagination helpers.

Every route here stays thin: schema in, one service call, schema out.
Reads are open to every role; writes need coordinator or admin unless a view
says otherwise with ``@roles(...)``. Anything not marked is safe by default.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import current_app, g, request
from flask_smorest import Api, abort
from flask_smorest import Blueprint as SmorestBlueprint

from scheduler.config import Policy
from scheduler.models import StaffUser

READ_METHODS = {"GET", "HEAD", "OPTIONS"}
WRITERS = ("admin", "coordinator")


def roles(*names: str) -> Callable:
    """Allow only these roles to call the decorated view method."""

    def mark(view):
        view._roles = names
        return view

    return mark


def now() -> datetime:
    return current_app.config["CLOCK"]()


def policy() -> Policy:
    return current_app.config["POLICY"]


def current_staff() -> StaffUser:
    return g.staff


def _allowed_roles() -> tuple[str, ...]:
    view = current_app.view_functions.get(request.endpoint)
    target = view
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        target = getattr(view_class, request.method.lower(), None)
        if target is None and request.method == "HEAD":
            target = getattr(view_class, "get", None)
    explicit = getattr(target, "_roles", None)
    if explicit is not None:
        return explicit
    return ("admin", "coordinator", "clinician", "viewer") if (
        request.method in READ_METHODS) else WRITERS


def authenticate() -> None:
    """Runs before every API view: a valid bearer token and a role that may act."""
    from scheduler.services.staff import staff_for_token

    if request.method == "OPTIONS":
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        abort(401, message="Send a staff API token as 'Authorization: Bearer <token>'")
    staff = staff_for_token(token.strip(), now())
    if staff is None:
        abort(401, message="This API token is not valid")
    g.staff = staff
    if staff.role not in _allowed_roles():
        abort(403, message=f"The {staff.role} role cannot do this")


class Blueprint(SmorestBlueprint):
    """A smorest blueprint whose every route requires a staff token."""

    DEFAULT_PAGINATION_PARAMETERS = {"page": 1, "page_size": 50, "max_page_size": 500}

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("url_prefix", "/api/v1")
        super().__init__(*args, **kwargs)
        self.before_request(authenticate)


def paginate(query, pagination_parameters):
    """Apply smorest's page/page_size to a SQLAlchemy select and report the total."""
    from sqlalchemy import func, select

    from scheduler.models import db

    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    pagination_parameters.item_count = total
    return list(db.session.scalars(
        query.limit(pagination_parameters.page_size)
        .offset(pagination_parameters.first_item)))


def register_api(app) -> None:
    from blueprints.api import clients, cohorts, notifications, program

    api = Api(app)
    app.extensions["regroup_api"] = api
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer"})
    api.spec.options["security"] = [{"bearerAuth": []}]
    for module in (program, cohorts, clients, notifications):
        api.register_blueprint(module.blp)
