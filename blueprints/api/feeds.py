"""Feed tokens for staff to hand out: a client's subscription (and page) link, and
staff feeds per cohort, location and facilitator. Each link is shown once."""

from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields

from blueprints.api import Blueprint, current_staff, now, roles
from blueprints.feeds import feed_urls
from calendars import tokens
from scheduler.models import AuditEvent, db

blp = Blueprint("feed_links", __name__, description="Calendar feed links (shown once)")


class FeedLinks(Schema):
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
    from scheduler.services.common import get

    get(model, subject_id, what)
    tokens.revoke(kind, subject_id, now(), commit=False)
    _audit("feed_token.revoke", kind, subject_id)
    db.session.commit()


def _audit(action: str, kind: str, subject_id: int) -> None:
    db.session.add(AuditEvent(at=now(), staff_id=current_staff().id, action=action,
                              entity=f"{kind}_feed", entity_id=subject_id, detail={}))


@blp.route("/clients/<int:client_id>/feed")
class ClientFeed(MethodView):
    @blp.response(201, FeedLinks)
    def post(self, client_id):
        """Issue (or rotate) the client's feed link; the old one stops working."""
        return _issue("client", client_id)

    @blp.response(204)
    def delete(self, client_id):
        """Turn the client's feed link off (they asked, or they left)."""
        _revoke("client", client_id)


def _staff_feed(path: str, kind: str, name: str):
    @blp.route(path, endpoint=f"{kind}_feed")
    class StaffFeed(MethodView):
        @roles("admin", "coordinator", "clinician")
        @blp.response(201, FeedLinks)
        def post(self, subject_id):
            return _issue(kind, subject_id)

        @blp.response(204)
        def delete(self, subject_id):
            _revoke(kind, subject_id)

    StaffFeed.__name__ = name
    StaffFeed.post.__doc__ = f"Issue (or rotate) the staff {kind} feed link (initials only)."
    StaffFeed.delete.__doc__ = f"Turn the staff {kind} feed link off."
    return StaffFeed


CohortFeed = _staff_feed("/cohorts/<int:subject_id>/feed", "cohort", "CohortFeed")
LocationFeed = _staff_feed("/locations/<int:subject_id>/feed", "location", "LocationFeed")
FacilitatorFeed = _staff_feed("/staff/<int:subject_id>/feed", "facilitator",
                              "FacilitatorFeed")
