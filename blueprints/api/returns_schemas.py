"""Schemas for coming back: return requests, check-ins, re-entry, options, placing,
forming cohorts and time back to group."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from blueprints.api.schemas import CohortOut, EnrollmentOut, LocalDateTime, OutSchema, StrictSchema
from scheduler.models import (
    CHECKIN_MODES,
    DAYPARTS,
    PREFERENCES,
    RETURN_CHANNELS,
    RETURN_STATUSES,
    USING_AGAIN,
    WEEKDAYS,
)
from scheduler.timeutil import PROGRAM_TZ


class ReturnIn(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    email = fields.String(allow_none=True, validate=validate.Length(max=254))
    phone = fields.String(allow_none=True, validate=validate.Length(max=40))
    message = fields.String(allow_none=True, validate=validate.Length(max=5000))
    channel = fields.String(required=True,
                            validate=validate.OneOf([c for c in RETURN_CHANNELS]))


class ReturnQuery(Schema):
    status = fields.String(validate=validate.OneOf(RETURN_STATUSES))
    client_id = fields.Integer()


class ReturnOut(OutSchema):
    id = fields.Integer()
    client_id = fields.Integer()
    client_needs_confirmation = fields.Function(lambda r: r.client.needs_confirmation)
    name = fields.String()
    email = fields.String()
    phone = fields.String()
    message = fields.String()
    channel = fields.String()
    status = fields.String()
    contacts = fields.Integer()
    entered_by = fields.Integer()
    requested_at = LocalDateTime()
    last_contact_at = LocalDateTime()
    checked_in_at = LocalDateTime()
    placed_at = LocalDateTime()
    first_attended_at = LocalDateTime()
    closed_at = LocalDateTime()


class ReturnCreatedOut(ReturnOut):
    joined_open_request = fields.Boolean()


class CheckInIn(StrictSchema):
    """``at`` and ``mode`` are needed to book or move; ``status: cancelled`` needs neither."""

    at = fields.AwareDateTime(default_timezone=PROGRAM_TZ)
    mode = fields.String(validate=validate.OneOf(CHECKIN_MODES))
    staff_id = fields.Integer(allow_none=True, load_default=None)
    location_id = fields.Integer(allow_none=True, load_default=None)
    minutes = fields.Integer(allow_none=True, load_default=None,
                             validate=validate.Range(min=5, max=240))
    status = fields.String(load_default="booked",
                           validate=validate.OneOf(["booked", "done", "cancelled"]))


    @validates_schema
    def at_and_mode_to_book(self, data, **kwargs):
        if data.get("status") != "cancelled":
            missing = {name: ["Missing data for required field."]
                       for name in ("at", "mode") if data.get(name) is None}
            if missing:
                raise ValidationError(missing)


class CheckInOut(OutSchema):
    id = fields.Integer()
    return_request_id = fields.Integer()
    client_id = fields.Integer()
    at = LocalDateTime()
    minutes = fields.Integer()
    mode = fields.String()
    staff_id = fields.Integer()
    location_id = fields.Integer()
    status = fields.String()
    revision = fields.Integer()
    updated_at = LocalDateTime()


class SlotIn(StrictSchema):
    starts_at = fields.AwareDateTime(required=True, default_timezone=PROGRAM_TZ)
    mode = fields.String(required=True, validate=validate.OneOf(CHECKIN_MODES))
    minutes = fields.Integer(load_default=30, validate=validate.Range(min=10, max=240))
    places = fields.Integer(load_default=1, validate=validate.Range(min=1, max=50))
    location_id = fields.Integer(allow_none=True, load_default=None,
                                 validate=validate.Range(min=1, max=2**31 - 1))


class SlotOut(OutSchema):
    id = fields.Integer(attribute="slot.id")
    starts_at = LocalDateTime(attribute="slot.starts_at")
    minutes = fields.Integer(attribute="slot.minutes")
    mode = fields.String(attribute="slot.mode")
    places = fields.Integer(attribute="slot.places")
    places_left = fields.Integer()
    location_id = fields.Integer(attribute="slot.location_id", allow_none=True)


class ReentryIn(StrictSchema):
    using_again = fields.String(allow_none=True, load_default=None,
                                validate=validate.OneOf(USING_AGAIN))
    preference = fields.String(load_default="no_preference",
                               validate=validate.OneOf(PREFERENCES))
    weekdays = fields.List(fields.String(validate=validate.OneOf(WEEKDAYS)),
                           load_default=list, validate=validate.Length(max=7))
    dayparts = fields.List(fields.String(validate=validate.OneOf(DAYPARTS)),
                           load_default=list, validate=validate.Length(max=3))
    location_ids = fields.List(fields.Integer(), load_default=list,
                               validate=validate.Length(max=20))
    notes = fields.String(allow_none=True, load_default=None,
                          validate=validate.Length(max=5000))


class ReentryOut(OutSchema):
    return_request_id = fields.Integer()
    last_attended_session_id = fields.Integer()
    days_away = fields.Integer()
    using_again = fields.String()
    clinical_review = fields.Boolean()
    preference = fields.String()
    weekdays = fields.List(fields.String())
    dayparts = fields.List(fields.String())
    location_ids = fields.List(fields.Integer())
    notes = fields.String()
    recorded_by = fields.Integer()
    updated_at = LocalDateTime()


class ReturnDetailOut(ReturnOut):
    check_in = fields.Nested(CheckInOut, allow_none=True)
    reentry = fields.Nested(ReentryOut, allow_none=True)


class ProgressOut(OutSchema):
    credited = fields.Integer()
    total = fields.Integer()
    remaining = fields.Integer()
    beyond_window = fields.Integer()


class OptionOut(OutSchema):
    id = fields.String()
    kind = fields.String()
    cohort_id = fields.Integer(allow_none=True)
    first_session_at = LocalDateTime(allow_none=True)
    seats_left = fields.Integer(allow_none=True)
    progress = fields.Nested(ProgressOut)
    reasons = fields.List(fields.String())
    location_id = fields.Integer()
    track_id = fields.Integer()
    daypart = fields.String()
    previous_group = fields.Boolean(metadata={"description": "the group they were in"})


class NotOfferedOut(OutSchema):
    cohort_id = fields.Integer()
    reason = fields.String()


class OptionsExplainedOut(OutSchema):
    options = fields.List(fields.Nested(OptionOut))
    not_offered = fields.List(fields.Nested(NotOfferedOut))
    days_away = fields.Integer(allow_none=True)
    progress = fields.Nested(ProgressOut)
    clinical_review = fields.Boolean(metadata={
        "description": "the re-entry answers ask for a clinical review; only for roles "
                       "that read clinical answers (absent for viewers)"})


class LinkIn(StrictSchema):
    client_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1),
                               metadata={"description": "the person's own record"})


class PlacementIn(StrictSchema):
    option_id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    credited_sessions = fields.Integer(allow_none=True, load_default=None,
                                       validate=validate.Range(min=0, max=500))


class WaitlistEntryOut(OutSchema):
    id = fields.Integer()
    cohort_id = fields.Integer()
    client_id = fields.Integer()
    status = fields.String()
    priority = fields.Integer()
    requested_at = LocalDateTime()


class FormingPlaceOut(OutSchema):
    id = fields.Integer()
    cohort_id = fields.Integer()
    client_id = fields.Integer()
    status = fields.String()
    credited_sessions = fields.Integer()
    joined_at = LocalDateTime()


class PlacementOut(OutSchema):
    decision_id = fields.Function(lambda p: p.decision.id)
    option_id = fields.Function(lambda p: p.option.id)
    kind = fields.Function(lambda p: p.option.kind)
    cohort_id = fields.Function(lambda p: p.decision.cohort_id)
    enrollment = fields.Nested(EnrollmentOut, allow_none=True)
    waitlist_entry = fields.Nested(WaitlistEntryOut, allow_none=True)
    forming_place = fields.Nested(FormingPlaceOut, attribute="forming_member",
                                  allow_none=True)


class FormingQuery(Schema):
    ready = fields.Boolean(load_default=False)


class FormingMemberOut(OutSchema):
    client_id = fields.Integer()
    name = fields.Function(lambda m: m.client.name)
    return_request_id = fields.Integer()
    credited_sessions = fields.Integer()
    joined_at = LocalDateTime()


class FormingOut(OutSchema):
    cohort = fields.Nested(CohortOut)
    members = fields.List(fields.Nested(FormingMemberOut))
    size = fields.Function(lambda v: len(v.members))
    ready = fields.Boolean()
    estimated_start = LocalDateTime()


class OpenIn(StrictSchema):
    early = fields.Boolean(load_default=False)


class MergeIn(StrictSchema):
    cohort_id = fields.Integer(required=True)


class OpenedOut(OutSchema):
    cohort = fields.Nested(CohortOut)
    enrollments = fields.List(fields.Nested(EnrollmentOut))


class TimeBackQuery(Schema):
    client_id = fields.Integer()
    from_ = fields.AwareDateTime(data_key="from", default_timezone=PROGRAM_TZ)
    to = fields.AwareDateTime(default_timezone=PROGRAM_TZ)


class TimeBackItemOut(OutSchema):
    return_request_id = fields.Integer()
    client_id = fields.Integer()
    status = fields.String()
    stage = fields.String(metadata={"description": "requested, checked in, placed, "
                                                   "seated or closed"})
    location = fields.String(allow_none=True)
    track = fields.String(allow_none=True)
    option = fields.String(allow_none=True, metadata={"description": "resume, join, "
                                                      "waitlist or fresh, once placed"})
    requested_at = LocalDateTime()
    checked_in_at = LocalDateTime()
    placed_at = LocalDateTime()
    first_attended_at = LocalDateTime()
    days_to_check_in = fields.Float(allow_none=True)
    days_to_placed = fields.Float(allow_none=True)
    days_to_group = fields.Float(allow_none=True)
    waiting_days = fields.Float(allow_none=True, metadata={
        "description": "not back in a group yet: days waited so far"})


class TimeBackGroupOut(OutSchema):
    name = fields.String()
    requests = fields.Integer()
    back_in_group = fields.Integer()
    never_seated = fields.Integer()
    median_days = fields.Float(allow_none=True)
    p90_days = fields.Float(allow_none=True)


class TimeBackOut(OutSchema):
    requests = fields.Integer()
    back_in_group = fields.Integer()
    never_seated = fields.Integer(metadata={"description": "not (yet) at a group session"})
    still_open = fields.Integer()
    still_waiting = fields.Integer(metadata={
        "description": "open or placed and not yet at a group session, of any age"})
    median_days = fields.Float(allow_none=True, metadata={
        "description": "everyone counted: those not back yet at their wait so far"})
    p90_days = fields.Float(allow_none=True)
    mean_days = fields.Float(allow_none=True)
    median_seated_days = fields.Float(allow_none=True, metadata={
        "description": "over those back in a group only"})
    median_days_to_check_in = fields.Float(allow_none=True)
    median_days_to_placed = fields.Float(allow_none=True)
    waiting_days = fields.List(fields.Float(), metadata={
        "description": "days waited so far by each person not back yet, longest first"})
    by_location = fields.List(fields.Nested(TimeBackGroupOut))
    by_track = fields.List(fields.Nested(TimeBackGroupOut))
    by_option = fields.List(fields.Nested(TimeBackGroupOut))
    items = fields.List(fields.Nested(TimeBackItemOut))
