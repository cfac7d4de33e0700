"""The staff JSON API (`/api/v1`): bearer-token auth, roles, pagination helpers.

Every route here stays thin: schema in, one service call, schema out.
Reads are open to every role; writes need coordinator or admin unless a view
says otherwise with ``@roles(...)``. Anything not marked is safe by default.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import sqlalchemy as sa
from flask import current_app, g, request
from flask_smorest import Blueprint as SmorestBlueprint
from flask_smorest import abort
from marshmallow import fields as ma_fields

from blueprints.api.schemas import OutSchema
from scheduler import bounds, text
from scheduler.config import Policy
from scheduler.models import StaffUser, db
from scheduler.services import audit
from scheduler.services.staff import staff_for_token

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
    if request.method not in READ_METHODS and request.url_rule is not None:
        _stage_write_audit(staff)


def _stage_write_audit(staff: StaffUser) -> None:
    """A write's audit row rides on the use case's own commit (``audit.stage``), so
    a change is never committed without its record."""
    entity, entity_id = _entity_of(request.url_rule.rule, request.view_args, None)
    g.audit_item = audit.stage(
        ACTION_OF_METHOD.get(request.method, request.method.lower()), entity, entity_id,
        staff_id=staff.id, ip=request.remote_addr, now=now(),
        detail={"via": "api", "method": request.method, "path": request.path})


class Blueprint(SmorestBlueprint):
    """A smorest blueprint whose every route requires a staff token."""

    DEFAULT_PAGINATION_PARAMETERS = {"page": 1, "page_size": 50, "max_page_size": 500}

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("url_prefix", "/api/v1")
        super().__init__(*args, **kwargs)
        self.before_request(authenticate)
        self.after_request(audit_api_call)

    def _document_pagination_metadata(self, spec, resp_doc):
        """The header is a JSON text (an object like PaginationMetadata): documented
        as the string it is, so what we send matches what we say."""
        resp_doc.setdefault("headers", {})[self.PAGINATION_HEADER_NAME] = {
            "description": "Pagination metadata as JSON: total, total_pages, first_page, "
                           "last_page, page, previous_page, next_page",
            "schema": {"type": "string"}}


# Reads of these routes show client records, so each one is audited. Later areas
# (returns, waitlists, feeds) fall under these words too; a view can also say so
# itself with ``@reads_client_record``.
CLIENT_RECORD_WORDS = ("/clients", "/roster", "/waitlist", "/attendance", "/returns",
                       "/enrollments", "/offers", "/feed", "/notifications",
                       "/forming-cohorts")
ENTITY_OF_ARG = {"session_id": "group_session", "return_id": "return_request"}
ENTITY_OF_COLLECTION = {"returns": "return_request", "waitlist": "waitlist_entry",
                        "group-sessions": "group_session", "closures": "closure"}
ACTION_OF_METHOD = {"POST": "create", "PUT": "update", "PATCH": "update",
                    "DELETE": "delete"}


def reads_client_record(view):
    """Mark a GET view whose answer shows client records (it is audited)."""
    view._reads_client_record = True
    return view


def _view_target():
    view = current_app.view_functions.get(request.endpoint)
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        return getattr(view_class, request.method.lower(), None) or view
    return view


def _entity_of(rule: str, view_args: dict, response) -> tuple[str, int | None]:
    """The record a call is about: the first id in its path, else the collection's
    singular name with the id of what was made (``/clients`` POST -> client 7)."""
    for name, value in (view_args or {}).items():
        if name.endswith("_id") or name in ENTITY_OF_ARG:
            return ENTITY_OF_ARG.get(name, name.removesuffix("_id")), value
    collection = rule.removeprefix("/api/v1/").split("/")[0]
    entity = ENTITY_OF_COLLECTION.get(collection, collection.removesuffix("s")
                                      ).replace("-", "_")
    made = response.get_json(silent=True) if response is not None and response.is_json else None
    return entity, made.get("id") if isinstance(made, dict) else None


def audit_api_call(response):
    """After every authenticated API call: writes (2xx or 409) and reads of client
    records append one AuditEvent each."""
    staff = g.get("staff")
    if staff is None or request.url_rule is None:
        return response
    rule, method, status = request.url_rule.rule, request.method, response.status_code
    if method in READ_METHODS:
        wanted = method == "GET" and 200 <= status < 300 and (
            any(word in rule for word in CLIENT_RECORD_WORDS)
            or getattr(_view_target(), "_reads_client_record", False))
        action = "read"
    else:
        staged = g.get("audit_item")
        audit.unstage()  # a write refused before its use case committed leaves nothing
        if staged is not None and staged["written"]:
            return response  # it committed with the change it records
        wanted = 200 <= status < 300 or status == 409
        action = ACTION_OF_METHOD.get(method, method.lower())
    if not wanted:
        return response
    entity, entity_id = _entity_of(rule, request.view_args, response)
    detail = {"via": "api", "method": method, "path": request.path, "status": status}
    if method == "GET" and request.query_string:
        detail["query"] = request.query_string.decode("utf-8", "replace")[:200]
    audit.stage(action, entity, entity_id, staff_id=staff.id, ip=request.remote_addr,
                now=now(), detail=detail)
    audit.commit_staged()
    return response


def paginate(query, pagination_parameters):
    """Apply smorest's page/page_size to a SQLAlchemy select and report the total."""
    total = db.session.scalar(sa.select(sa.func.count()).select_from(
        query.order_by(None).subquery()))
    pagination_parameters.item_count = total
    return list(db.session.scalars(
        query.limit(pagination_parameters.page_size)
        .offset(pagination_parameters.first_item)))


def paginate_list(items: Sequence, pagination_parameters) -> list:
    """``paginate`` for a list worked out whole (ranked, merged or computed in
    Python): its total reported, and a page past the end empty, as smorest's header
    says (``common.page_of``, for the console, keeps a page within range instead)."""
    pagination_parameters.item_count = len(items)
    first = pagination_parameters.first_item
    return list(items[first:first + pagination_parameters.page_size])


def text_that_can_be_stored(self, field, ret=None, **kwargs) -> dict:
    """Document ``scheduler.text``'s rule on every string the API reads: no control
    characters, and no line breaks outside notes, messages, reasons and addresses."""
    if not isinstance(field, ma_fields.String) or "pattern" in (ret or {}):
        return {}
    if isinstance(field.parent, OutSchema) or field.name in text.UNCHECKED:
        return {}
    return {"pattern": text.pattern(multiline=field.name in text.MULTILINE)}


def whole_numbers_fit_a_column(self, field, ret=None, **kwargs) -> dict:
    """Document what ``scheduler.bounds`` enforces: every integer field fits a 32-bit
    column (a larger number is refused with 422 naming the field)."""
    if not isinstance(field, ma_fields.Integer):
        return {}
    out = {}
    if "maximum" not in (ret or {}):
        out["maximum"] = bounds.INT_MAX
    if "minimum" not in (ret or {}):
        out["minimum"] = bounds.INT_MIN
    return out


def id_in_path(converter) -> dict:
    """An id in an address: a whole number that fits a column (404 beyond)."""
    return {"type": "integer", "minimum": 0, "maximum": bounds.INT_MAX}
