"""Feed tokens for staff to hand out: a client's subscription (and page) link, and
staff feeds per cohort, location and facilitator. A live link can be shown and sent
again; making a new one stops the old one."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import abort
from marshmallow import fields, validate

from blueprints.api import Blueprint, current_staff, now, roles
from blueprints.api.schemas import OutSchema, StrictSchema
from blueprints.feeds import feed_urls
from calendars import tokens
from scheduler.models import AuditEvent, Client, db
from scheduler.security import may_manage_staff_feed
from scheduler.services import notices
from scheduler.services.common import get

blp = Blueprint("feed_links", __name__, description="Calendar feed links")


class FeedLinks(OutSchema):
    https_url = fields.String(metadata={"description": "the feed over https"})
    webcal_url = fields.String(metadata={"description": "the same feed as webcal://"})
    page_url = fields.String(metadata={"description": "the client's own page (client feeds)"})


def _issue(kind: str, subject_id: int) -> dict:
    token = tokens.issue(kind, subject_id, now(), commit=False)
    _audit("feed_token.issue", kind, subject_id)
    db.session.commit()
    links = feed_urls(token)
    if kind != "client":
        links.pop("page_url")
    return links


def _revoke(kind: str, subject_id: int) -> None:
    model, what = tokens.SUBJECTS[kind]
    get(model, subject_id, what)
    tokens.revoke(kind, subject_id, now(), commit=False)
    _audit("feed_token.revoke", kind, subject_id)
    db.session.commit()


def _audit(action: str, kind: str, subject_id: int) -> None:
    db.session.add(AuditEvent(at=now(), staff_id=current_staff().id, action=action,
                              entity=f"{kind}_feed", entity_id=subject_id, detail={}))


class SendIn(StrictSchema):
    channel = fields.String(required=True, validate=validate.OneOf(["email", "sms"]))


class SentOut(OutSchema):
    notification_id = fields.Integer(attribute="id")
    channel = fields.String()
    recipient = fields.String()


@blp.route("/clients/<int:client_id>/feed")
class ClientFeed(MethodView):
    @blp.response(200, FeedLinks)
    def get(self, client_id):
        """The client's live feed link, shown again (404 when there is none to show)."""
        get(Client, client_id, "Client")
        token = tokens.current("client", client_id)
        if token is None:
            abort(404, message="This client has no calendar link to show; make one")
        return feed_urls(token)

    @blp.response(201, FeedLinks)
    def post(self, client_id):
        """Issue (or rotate) the client's feed link; the old one stops working."""
        return _issue("client", client_id)

    @blp.response(204)
    def delete(self, client_id):
        """Turn the client's feed link off (they asked, or they left)."""
        _revoke("client", client_id)


@blp.route("/clients/<int:client_id>/feed/send")
class ClientFeedSend(MethodView):
    @blp.arguments(SendIn)
    @blp.response(202, SentOut)
    def post(self, data, client_id):
        """Send the client their calendar link (the same one) by email or SMS."""
        return notices.send_calendar_link(client_id, data["channel"], now(),
                                          staff_id=current_staff().id)


STAFF_ROLES = ("admin", "coordinator", "clinician")


@blp.route("/cohorts/<int:cohort_id>/feed")
class CohortFeed(MethodView):
    @roles(*STAFF_ROLES)
    @blp.response(201, FeedLinks)
    def post(self, cohort_id):
        """Issue (or rotate) the staff feed of one cohort (clients by initials only)."""
        return _issue("cohort", cohort_id)

    @blp.response(204)
    def delete(self, cohort_id):
        """Turn the cohort's staff feed link off."""
        _revoke("cohort", cohort_id)


@blp.route("/locations/<int:location_id>/feed")
class LocationFeed(MethodView):
    @roles(*STAFF_ROLES)
    @blp.response(201, FeedLinks)
    def post(self, location_id):
        """Issue (or rotate) the staff feed of a site: its groups and check-ins."""
        return _issue("location", location_id)

    @blp.response(204)
    def delete(self, location_id):
        """Turn the location's staff feed link off."""
        _revoke("location", location_id)


@blp.route("/staff/<int:staff_id>/feed")
class FacilitatorFeed(MethodView):
    @roles(*STAFF_ROLES)
    @blp.response(201, FeedLinks)
    @blp.alt_response(403, description="A clinician manages only their own feed")
    def post(self, staff_id):
        """Issue (or rotate) a facilitator's feed: the groups they run, their check-ins.
        A clinician may do this only for themselves."""
        _only_own_feed(staff_id)
        return _issue("facilitator", staff_id)

    @roles(*STAFF_ROLES)
    @blp.response(204)
    @blp.alt_response(403, description="A clinician manages only their own feed")
    def delete(self, staff_id):
        """Turn the facilitator's feed link off (a clinician: only their own)."""
        _only_own_feed(staff_id)
        _revoke("facilitator", staff_id)


def _only_own_feed(staff_id: int) -> None:
    me = current_staff()
    if not may_manage_staff_feed(me.role, me.id, staff_id):
        abort(403, message="A clinician can manage only their own calendar feed")
