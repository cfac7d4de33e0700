"""Coming back: return requests, check-ins, re-entry, ranked options, placing,
forming cohorts of returners and time back to group.

``blp`` is the staff API (bearer token). ``public_blp`` is the public JSON door
``POST /api/v1/public/returns``: no token, rate-limited per client address and
per submitted email/phone, and it answers everyone with the same warm words.
"""

from __future__ import annotations

import logging

from flask import jsonify, request
from flask.views import MethodView
from flask_smorest import Blueprint as PlainBlueprint

from blueprints.api import Blueprint, current_staff, now, paginate, paginate_list, policy, roles
from blueprints.api.returns_schemas import (
    CheckInIn,
    CheckInOut,
    FormingOut,
    FormingQuery,
    LinkIn,
    MergeIn,
    OpenedOut,
    OpenIn,
    OptionOut,
    OptionsExplainedOut,
    PlacementIn,
    PlacementOut,
    ReentryIn,
    ReentryOut,
    ReturnCreatedOut,
    ReturnDetailOut,
    ReturnIn,
    ReturnOut,
    ReturnQuery,
    SlotIn,
    SlotOut,
    TimeBackOut,
    TimeBackQuery,
)
from blueprints.comeback import (
    ACKNOWLEDGEMENT,
    NEXT_STEPS,
    address_key,
    address_limit,
    ip_limit,
    steady,
)
from blueprints.limits import limiter
from scheduler.errors import DomainError, NotFound
from scheduler.models import ReturnRequest, db
from scheduler.security import CLINICAL_READERS, may_read_clinical
from scheduler.services import checkins, reports
from scheduler.services import returns as service
from scheduler.services.common import get
from scheduler.timeutil import as_utc

log = logging.getLogger("regroup.returns")
# a name, two addresses and a 5,000-character message fit many times over
PUBLIC_MAX_BYTES = 64 * 1024

blp = Blueprint("returns", __name__, description="Coming back: requests, check-ins, "
                "re-entry, placement options, fresh cohorts, time back to group")


@blp.route("/returns")
class Returns(MethodView):
    @blp.arguments(ReturnQuery, location="query")
    @blp.response(200, ReturnOut(many=True))
    @blp.paginate()
    def get(self, filters, pagination_parameters):
        return paginate(service.list_returns(**filters), pagination_parameters)

    @blp.arguments(ReturnIn)
    @blp.response(201, ReturnCreatedOut)
    @blp.alt_response(200, schema=ReturnCreatedOut,
                      description="Joined the person's request that is still open")
    def post(self, data):
        channel = data.pop("channel")
        row, joined = service.submit_return(data, channel, now(), staff_id=current_staff().id)
        row.joined_open_request = joined
        return (row, 200) if joined else row


def _detail(row: ReturnRequest) -> ReturnRequest:
    row.check_in = service.current_check_in(row.id)
    row.reentry = (service.reentry_for(row.id)
                   if may_read_clinical(current_staff().role) else None)
    return row


@blp.route("/returns/<int:return_id>")
class ReturnById(MethodView):
    @blp.response(200, ReturnDetailOut)
    def get(self, return_id):
        return _detail(get(ReturnRequest, return_id, "Return request"))


@blp.route("/returns/<int:return_id>/link")
class ReturnLink(MethodView):
    @blp.arguments(LinkIn)
    @blp.response(200, ReturnOut)
    @blp.alt_response(409, description="Already linked there, or already placed")
    def post(self, data, return_id):
        """Link the request to the person's existing record (their history and
        progress then count); the new contact details move onto it."""
        return service.link_to_client(return_id, data["client_id"], current_staff().id,
                                      now())


@blp.route("/check-in-slots")
class CheckInSlots(MethodView):
    @blp.response(200, SlotOut(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        """Published check-in times still ahead, soonest first, with places left."""
        return paginate_list(checkins.open_slots(now(), policy(), limit=200, include_full=True),
                       pagination_parameters)

    @blp.arguments(SlotIn)
    @blp.response(201, SlotOut)
    def post(self, data):
        """Publish a check-in time people coming back can pick themselves."""
        slot = checkins.publish_slot(data, now(), staff_id=current_staff().id)
        return checkins.SlotView(slot, None, slot.places)


@blp.route("/check-in-slots/<int:slot_id>")
class CheckInSlotById(MethodView):
    @blp.response(204)
    @blp.alt_response(409, description="Someone picked this time")
    def delete(self, slot_id):
        """Take a published time down (refused once someone picked it)."""
        checkins.withdraw_slot(slot_id, now(), staff_id=current_staff().id)


@blp.route("/returns/<int:return_id>/close")
class ReturnClose(MethodView):
    @blp.response(200, ReturnOut)
    def post(self, return_id):
        return service.close_return(return_id, now())


@blp.route("/returns/<int:return_id>/check-in")
class ReturnCheckIn(MethodView):
    @blp.response(200, CheckInOut)
    def get(self, return_id):
        get(ReturnRequest, return_id, "Return request")
        row = service.current_check_in(return_id)
        if row is None:
            raise NotFound("No check-in is booked for this request")
        return row

    @blp.arguments(CheckInIn, required=False)  # every field optional
    @blp.response(200, CheckInOut)
    def put(self, data, return_id):
        """Book the check-in, move it (same row, revision rises), mark it done, or
        cancel it with ``status: cancelled``."""
        if data["status"] == "cancelled":
            return service.cancel_check_in(return_id, now())
        return service.book_check_in(
            return_id, as_utc(data["at"]), data["mode"], now(), staff_id=data["staff_id"],
            minutes=data["minutes"], location_id=data["location_id"], status=data["status"])

    @blp.response(200, CheckInOut)
    def delete(self, return_id):
        return service.cancel_check_in(return_id, now())


@blp.route("/returns/<int:return_id>/reentry")
class ReturnReentry(MethodView):
    @roles(*CLINICAL_READERS)
    @blp.response(200, ReentryOut)
    def get(self, return_id):
        get(ReturnRequest, return_id, "Return request")
        row = service.reentry_for(return_id)
        if row is None:
            raise NotFound("No re-entry answers are recorded yet")
        return row

    @blp.arguments(ReentryIn, required=False)  # every field optional
    @blp.response(200, ReentryOut)
    def put(self, data, return_id):
        return service.record_reentry(return_id, data, current_staff().id, now())


@blp.route("/returns/<int:return_id>/options")
class ReturnOptions(MethodView):
    @blp.response(200, OptionOut(many=True))
    @blp.paginate()
    def get(self, return_id, pagination_parameters):
        """Ranked, best first, a page at a time (ranking needs every group; only the
        page is written out). ``/options/explained`` adds what was not offered and why."""
        return paginate_list(service.options_for(return_id, now(), policy()).options,
                       pagination_parameters)


@blp.route("/returns/<int:return_id>/options/explained")
class ReturnOptionsExplained(MethodView):
    @blp.response(200, OptionsExplainedOut)
    def get(self, return_id):
        ranking = service.options_for(return_id, now(), policy())
        explained = {"options": ranking.options, "not_offered": ranking.not_offered,
                     "days_away": ranking.days_away, "progress": ranking.progress}
        if may_read_clinical(current_staff().role):  # absent for everyone else
            reentry = service.reentry_for(return_id)
            explained["clinical_review"] = bool(reentry and reentry.clinical_review)
        return explained


@blp.route("/returns/<int:return_id>/placement")
class ReturnPlacement(MethodView):
    @blp.arguments(PlacementIn)
    @blp.response(201, PlacementOut)
    @blp.alt_response(409, description="Option no longer available, or no seat left")
    def post(self, data, return_id):
        return service.place(return_id, data["option_id"], current_staff().id, now(),
                             policy(), credited_sessions=data["credited_sessions"])


@blp.route("/returns/time-back")
class TimeBack(MethodView):
    @blp.arguments(TimeBackQuery, location="query")
    @blp.response(200, TimeBackOut)
    def get(self, query):
        """Request -> check-in -> placed -> first group session attended, per request;
        the median and p90 days back to group over everyone (those not back yet count
        with their wait so far), and the same by location, track and option kind."""
        return reports.time_back(
            now(), None, client_id=query.get("client_id"),
            since=as_utc(query["from_"]) if query.get("from_") else None,
            until=as_utc(query["to"]) if query.get("to") else None)


@blp.route("/clients/<int:client_id>/time-back")
class ClientTimeBack(MethodView):
    @blp.response(200, TimeBackOut)
    def get(self, client_id):
        return reports.time_back(now(), None, client_id=client_id)


@blp.route("/forming-cohorts")
class FormingCohorts(MethodView):
    @blp.arguments(FormingQuery, location="query")
    @blp.response(200, FormingOut(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """Forming cohorts of returners; ``?ready=true`` lists those ready to open."""
        return paginate_list(service.forming_cohorts(now(), policy(), ready_only=query["ready"]),
                       pagination_parameters)


@blp.route("/forming-cohorts/<int:cohort_id>/open")
class FormingOpen(MethodView):
    @blp.arguments(OpenIn, required=False)  # every field optional
    @blp.response(200, OpenedOut)
    @blp.alt_response(409, description="Not ready (pass early=true), or not forming")
    def post(self, data, cohort_id):
        cohort, made = service.open_forming(cohort_id, current_staff().id, now(), policy(),
                                            early=data["early"])
        return {"cohort": cohort, "enrollments": made}


@blp.route("/forming-cohorts/<int:cohort_id>/merge")
class FormingMerge(MethodView):
    @blp.arguments(MergeIn)
    @blp.response(200, OpenedOut)
    @blp.alt_response(409, description="Not enough seats in the running cohort")
    def post(self, data, cohort_id):
        cohort, made = service.merge_forming(cohort_id, data["cohort_id"], current_staff().id,
                                             now(), policy())
        return {"cohort": cohort, "enrollments": made}


# --- the public door -------------------------------------------------------------

public_blp = PlainBlueprint("public_returns", __name__, url_prefix="/api/v1/public",
                            description="The public 'I'd like to come back' door (no token)")


def _too_many(_limit):
    response = jsonify(message="Thank you for your patience. We have your message already, "
                               "or we are getting a lot of them right now. Please try again "
                               "in a little while, or call us.")
    response.status_code = 429
    return response


@public_blp.errorhandler(429)
def _rate_limited(_exc):
    # smorest's app-wide HTTP error handler would answer a bare {"code": 429}
    return _too_many(None)


def _kind_error(status: int, message: str, field: str | None = None):
    body = {"code": status, "message": message}
    if field:
        body["errors"] = {"json": {field: [message]}}
    response = jsonify(body)
    response.status_code = status
    return response


@public_blp.route("/returns", methods=["POST"])
@public_blp.doc(security=[], summary="Ask to come back (no token needed)")
@limiter.limit(ip_limit, on_breach=_too_many)
@limiter.limit(address_limit, key_func=address_key, on_breach=_too_many)
@steady
def public_return():
    """Only a name and one way to reach the person are needed; a message is optional.

    The answer is the same whether or not the person is known to the program.
    """
    if (request.content_length or 0) > PUBLIC_MAX_BYTES:
        return _kind_error(413, "That is more than we can take in one message. A few "
                                "words are plenty.")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return _kind_error(400, "Please send your name and a phone number or email address.")
    unknown = sorted(set(data) - {"name", "email", "phone", "message"})
    if unknown:
        return _kind_error(422, "We only need a name, a way to reach you and, if you like, "
                                "a message.", field=str(unknown[0])[:60])
    try:
        service.submit_return(data, "web", now())
    except DomainError as exc:
        db.session.rollback()
        return _kind_error(exc.status if exc.status == 422 else 409, exc.message, exc.field)
    except Exception:
        db.session.rollback()
        log.exception("could not record a public return request")
        return _kind_error(503, "We could not save your message just now. Please try again "
                                "in a few minutes, or call us.")
    return jsonify(message=ACKNOWLEDGEMENT, next_steps=NEXT_STEPS), 202
