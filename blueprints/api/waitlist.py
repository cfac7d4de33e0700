"""Waitlists and seat offers: join a line, see it in order, move up, remove, and see
who holds each offered seat and until when."""

from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from blueprints.api import Blueprint, current_staff, now, paginate_list
from blueprints.api.schemas import EnrollmentOut, LocalDateTime, OutSchema, StrictSchema
from scheduler.models import OFFER_STATUSES, Client, GroupSession, db
from scheduler.services import waitlist as service
from scheduler.timeutil import to_local

blp = Blueprint("waitlist", __name__, description="Waitlists and seat offers")


class WaitlistIn(StrictSchema):
    client_id = fields.Integer(required=True)
    cohort_id = fields.Integer(required=True)
    priority = fields.Integer(load_default=0, validate=validate.Range(min=0, max=100))


class MoveUpIn(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=300))
    priority = fields.Integer(validate=validate.Range(min=1, max=100),
                              metadata={"description": "omit to move to the front"})


class RemoveIn(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=300))


class OfferQuery(Schema):
    status = fields.String(load_default="open",
                           validate=validate.OneOf((*OFFER_STATUSES, "all")))


class OfferBrief(OutSchema):
    id = fields.Integer()
    status = fields.String()
    offered_at = LocalDateTime()
    expires_at = LocalDateTime()


class PlaceOut(OutSchema):
    """One place in line (a ``PlaceInLine``); ``position`` is 0 once out of line."""

    id = fields.Integer(attribute="entry.id")
    client_id = fields.Integer(attribute="entry.client_id")
    name = fields.String(attribute="entry.client.name")
    cohort_id = fields.Integer(attribute="entry.cohort_id")
    position = fields.Integer()
    priority = fields.Integer(attribute="entry.priority")
    status = fields.String(attribute="entry.status")
    requested_at = LocalDateTime(attribute="entry.requested_at")
    moved_up_reason = fields.String(attribute="entry.moved_up_reason")
    removed_reason = fields.String(attribute="entry.removed_reason")
    offer = fields.Nested(OfferBrief, allow_none=True)


class SeatOfferOut(OutSchema):
    id = fields.Integer()
    cohort_id = fields.Integer()
    client_id = fields.Integer()
    name = fields.Function(lambda offer: db.session.get(Client, offer.client_id).name)
    waitlist_entry_id = fields.Integer()
    status = fields.String()
    offered_at = LocalDateTime()
    expires_at = LocalDateTime()
    responded_at = LocalDateTime()
    group_session_id = fields.Integer()
    group_session_starts_at = fields.Method("_starts_at")
    enrollment_id = fields.Integer()

    def _starts_at(self, offer):
        if offer.group_session_id is None:
            return None
        return to_local(db.session.get(GroupSession, offer.group_session_id).starts_at
                        ).isoformat()


@blp.route("/waitlist")
class Waitlist(MethodView):
    @blp.arguments(WaitlistIn)
    @blp.response(201, PlaceOut)
    @blp.alt_response(409, description="Already waiting for, or already in, this group")
    def post(self, data):
        entry = service.add_to_waitlist(data["client_id"], data["cohort_id"], now(),
                                        priority=data["priority"])
        return service.place_of(entry.id)


@blp.route("/waitlist/<int:entry_id>")
class WaitlistEntryById(MethodView):
    @blp.response(200, PlaceOut)
    def get(self, entry_id):
        return service.place_of(entry_id)


@blp.route("/waitlist/<int:entry_id>/move-up")
class MoveUp(MethodView):
    @blp.arguments(MoveUpIn)
    @blp.response(200, PlaceOut)
    @blp.alt_response(409, description="No longer in line, or already first")
    def post(self, data, entry_id):
        """Move an entry up (to the front, or to a higher priority); the reason is kept."""
        return service.move_up(entry_id, data["reason"], now(), staff_id=current_staff().id,
                               priority=data.get("priority"))


@blp.route("/waitlist/<int:entry_id>/remove")
class Remove(MethodView):
    @blp.arguments(RemoveIn)
    @blp.response(200, PlaceOut)
    @blp.alt_response(409, description="No longer in line")
    def post(self, data, entry_id):
        """Take an entry out of line; a seat it was offered goes to the next in line."""
        entry = service.remove_entry(entry_id, data["reason"], now(),
                                     staff_id=current_staff().id)
        return service.PlaceInLine(entry, 0, None)


@blp.route("/cohorts/<int:cohort_id>/waitlist")
class CohortWaitlist(MethodView):
    @blp.response(200, PlaceOut(many=True))
    @blp.paginate()
    def get(self, cohort_id, pagination_parameters):
        """Everyone in line, in order, each with their open offer (or null)."""
        return paginate_list(service.waitlist_for(cohort_id), pagination_parameters)


@blp.route("/cohorts/<int:cohort_id>/offers")
class CohortOffers(MethodView):
    @blp.arguments(OfferQuery, location="query")
    @blp.response(200, SeatOfferOut(many=True))
    @blp.paginate()
    def get(self, query, cohort_id, pagination_parameters):
        """Who holds an offered seat and until when (open offers unless ``status``)."""
        status = None if query["status"] == "all" else query["status"]
        return paginate_list(service.offers_for(cohort_id, status=status), pagination_parameters)


@blp.route("/offers/<int:offer_id>/accept")
class AcceptForClient(MethodView):
    @blp.response(200, EnrollmentOut)
    @blp.alt_response(409, description="The offer ended or was already answered")
    def post(self, offer_id):
        """Record a client's yes given by phone or in person: they are enrolled."""
        return service.answer_for_client(offer_id, "accept", now(),
                                         staff_id=current_staff().id)


@blp.route("/offers/<int:offer_id>/decline")
class DeclineForClient(MethodView):
    @blp.response(200, SeatOfferOut)
    @blp.alt_response(409, description="The offer ended or was already answered")
    def post(self, offer_id):
        """Record a client's no: the seat goes to the next in line."""
        return service.answer_for_client(offer_id, "decline", now(),
                                         staff_id=current_staff().id)
