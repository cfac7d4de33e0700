"""Marshmallow schemas for the staff API: what goes in and what comes out."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from scheduler.models import (
    ATTENDANCE_STATUSES,
    COHORT_MODES,
    COHORT_STATUSES,
    DAYPARTS,
    ENROLLMENT_STATUSES,
    WEEKDAYS,
)
from scheduler.services.seats import attended_count, sessions_done
from scheduler.timeutil import to_local


class LocalDateTime(fields.DateTime):
    """An aware UTC instant shown in America/New_York with its offset."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return to_local(value).isoformat()


FIRST_YEAR, LAST_YEAR = 2000, 2099


def _within_the_program_years(value) -> None:
    """Dates and times from outside fall in years the program can hold (a typo like
    0980 or 20266 is refused, never stored)."""
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValidationError(f"Choose a date between {FIRST_YEAR} and {LAST_YEAR}")


class OutSchema(Schema):
    """Base for answers: any field a record may leave empty is documented as nullable
    (what the API sends always matches its own OpenAPI document)."""

    def on_bind_field(self, field_name, field_obj):
        field_obj.allow_none = True


class StrictSchema(Schema):
    """Base for inputs: unknown fields are refused by name (marshmallow's default); a
    whole number must be one (2.5 or "2" is refused) and a yes/no must be true or
    false (not 0, 1 or "yes")."""

    def on_bind_field(self, field_name, field_obj):
        if isinstance(field_obj, fields.Integer):
            field_obj.strict = True
        if isinstance(field_obj, fields.DateTime | fields.Date):
            field_obj.validators = [*field_obj.validators, _within_the_program_years]

    @pre_load(pass_collection=True)
    def _yes_or_no_is_true_or_false(self, data, many: bool = False, **kwargs):
        """Whatever the body is (one object, a list, or not an object at all, which
        marshmallow then refuses with 422), a yes/no in it must be true or false."""
        items = data if many and isinstance(data, list) else [data]
        for item in items:
            if not isinstance(item, dict):
                continue
            for name, field in self.load_fields.items():
                key = field.data_key or name
                value = item.get(key)
                if isinstance(field, fields.Boolean) and value is not None and not isinstance(
                        value, bool):
                    raise ValidationError("Use true or false", field_name=key)
        return data


class LocationIn(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    address = fields.String(load_default="", validate=validate.Length(max=300))
    timezone = fields.String(load_default="America/New_York",
                             validate=validate.OneOf(["America/New_York"]))
    phone = fields.String(load_default="", validate=validate.Length(max=40),
                          metadata={"description": "the number clients call (shown to them)"})
    reply_to = fields.Email(load_default="", validate=validate.Length(max=254),
                            metadata={"description": "where client emails' replies go"})


class LocationPatch(StrictSchema):
    address = fields.String(validate=validate.Length(max=300))
    phone = fields.String(validate=validate.Length(max=40))
    reply_to = fields.Email(validate=validate.Length(max=254))
    digest_hour = fields.Integer(allow_none=True, validate=validate.Range(0, 23), metadata={
        "description": "local hour (0-23) coordinators get one email with the day's new "
                       "return requests for this site; null for none"})


class LocationOut(OutSchema):
    id = fields.Integer()
    name = fields.String()
    address = fields.String()
    timezone = fields.String()
    phone = fields.String()
    reply_to = fields.String()
    digest_hour = fields.Integer(allow_none=True)


class TrackIn(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    sessions_to_complete = fields.Integer(load_default=36,
                                          validate=validate.Range(min=1, max=500))


class TrackOut(OutSchema):
    id = fields.Integer()
    name = fields.String()
    sessions_to_complete = fields.Integer()


class WeekdayList(fields.List):
    def __init__(self, **kwargs):
        super().__init__(fields.String(validate=validate.OneOf(WEEKDAYS)),
                         validate=validate.Length(min=1, max=7), **kwargs)


class CohortFields(StrictSchema):
    name = fields.String(validate=validate.Length(min=1, max=120))
    mode = fields.String(validate=validate.OneOf(COHORT_MODES))
    status = fields.String(validate=validate.OneOf(COHORT_STATUSES))
    capacity = fields.Integer(validate=validate.Range(min=0, max=200))
    weekdays = WeekdayList()
    start_time = fields.Time(format="%H:%M")
    minutes = fields.Integer(validate=validate.Range(min=15, max=600))
    starts_on = fields.Date(allow_none=True)
    ends_on = fields.Date(allow_none=True)
    facilitator_id = fields.Integer(allow_none=True)
    room = fields.String(validate=validate.Length(max=60))
    for_returners = fields.Boolean()

    @validates_schema
    def ends_after_start(self, data, **kwargs):
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
            raise ValidationError("Must be on or after starts_on.", field_name="ends_on")


class CohortIn(CohortFields):
    location_id = fields.Integer(required=True)
    track_id = fields.Integer(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    weekdays = WeekdayList(required=True)
    start_time = fields.Time(required=True, format="%H:%M")
    capacity = fields.Integer(required=True, validate=validate.Range(min=0, max=200))
    mode = fields.String(load_default="rolling", validate=validate.OneOf(COHORT_MODES))
    minutes = fields.Integer(load_default=180, validate=validate.Range(min=15, max=600))


class CohortPatch(CohortFields):
    effective_from = fields.Date(metadata={
        "description": "a pattern change (weekdays, start time, length, dates) applies to "
                       "group sessions from this date on (default and earliest: today)"})


class CohortQuery(Schema):
    location_id = fields.Integer()
    track_id = fields.Integer()
    status = fields.String(validate=validate.OneOf(COHORT_STATUSES))


class CohortOut(OutSchema):
    id = fields.Integer()
    location_id = fields.Integer()
    track_id = fields.Integer()
    name = fields.String()
    mode = fields.String()
    status = fields.String()
    capacity = fields.Integer()
    weekdays = fields.Function(lambda c: c.weekday_list)
    start_time = fields.Time(format="%H:%M")
    minutes = fields.Integer()
    starts_on = fields.Date()
    ends_on = fields.Date()
    facilitator_id = fields.Integer()
    room = fields.String()
    for_returners = fields.Boolean()


class SessionQuery(Schema):
    from_ = fields.Date(data_key="from")
    to = fields.Date()


class GroupSessionOut(OutSchema):
    id = fields.Integer()
    cohort_id = fields.Integer()
    occurs_on = fields.Date()
    starts_at = LocalDateTime()
    ends_at = LocalDateTime()
    status = fields.String()
    cancel_reason = fields.String()
    revision = fields.Integer()


class RosterEntryOut(OutSchema):
    enrollment_id = fields.Integer(attribute="id")
    client_id = fields.Integer()
    name = fields.Function(lambda e: e.client.name)
    status = fields.String()
    joined_on = fields.Date()
    hold_until = LocalDateTime()


class RosterOut(OutSchema):
    cohort_id = fields.Integer()
    capacity = fields.Integer()
    seats_left = fields.Integer()
    enrollments = fields.List(fields.Nested(RosterEntryOut))


class ClosureIn(StrictSchema):
    location_id = fields.Integer(allow_none=True, load_default=None)
    date = fields.Date(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=200))


class ClosureOut(OutSchema):
    id = fields.Integer()
    location_id = fields.Integer()
    date = fields.Date()
    reason = fields.String()
    cancelled_session_ids = fields.List(fields.Integer())


class AvailabilitySchema(Schema):
    weekdays = fields.List(fields.String(validate=validate.OneOf(WEEKDAYS)))
    dayparts = fields.List(fields.String(validate=validate.OneOf(DAYPARTS)))


class ClientFields(StrictSchema):
    name = fields.String(validate=validate.Length(min=1, max=120))
    email = fields.Email(allow_none=True)
    phone = fields.String(allow_none=True, validate=validate.Length(max=40))
    preferred_location_ids = fields.List(fields.Integer())
    availability = fields.Nested(AvailabilitySchema)
    reminder_minutes = fields.List(fields.Integer(validate=validate.Range(min=5, max=10080)),
                                   validate=validate.Length(max=4))
    reminder_channels = fields.List(fields.String(validate=validate.OneOf(["email", "sms"])))
    calendar_title = fields.String(allow_none=True, validate=validate.Length(max=80))
    show_location = fields.Boolean()
    program_words_opt_in = fields.Boolean()
    alarm_minutes = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=10080))
    email_opt_out = fields.Boolean()
    sms_opt_out = fields.Boolean()
    needs_confirmation = fields.Boolean()


class ClientIn(ClientFields):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))


class ClientOut(OutSchema):
    id = fields.Integer()
    name = fields.String()
    email = fields.String()
    phone = fields.String()
    preferred_location_ids = fields.List(fields.Integer())
    availability = fields.Dict()
    needs_confirmation = fields.Boolean()
    reminder_minutes = fields.List(fields.Integer())
    reminder_channels = fields.List(fields.String())
    calendar_title = fields.String()
    show_location = fields.Boolean()
    program_words_opt_in = fields.Boolean()
    alarm_minutes = fields.Integer()
    email_opt_out = fields.Boolean()
    sms_opt_out = fields.Boolean()


class ClientQuery(Schema):
    q = fields.String(validate=validate.Length(max=120))


class EnrollmentIn(StrictSchema):
    client_id = fields.Integer(required=True)
    cohort_id = fields.Integer(required=True)
    joined_on = fields.Date()
    credited_sessions = fields.Integer(load_default=0, validate=validate.Range(min=0, max=500))


class EnrollmentPatch(StrictSchema):
    status = fields.String(required=True, validate=validate.OneOf(ENROLLMENT_STATUSES))
    release_hold = fields.Boolean(load_default=False)
    reason = fields.String(validate=validate.Length(max=300))


class EnrollmentMoveIn(StrictSchema):
    cohort_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    reason = fields.String(validate=validate.Length(max=300))


class EnrollmentCreditIn(StrictSchema):
    credited_sessions = fields.Integer(required=True, validate=validate.Range(min=0, max=500))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=300))


class EnrollmentOut(OutSchema):
    id = fields.Integer()
    client_id = fields.Integer()
    cohort_id = fields.Integer()
    status = fields.String()
    joined_on = fields.Date()
    left_on = fields.Date()
    paused_at = LocalDateTime()
    hold_until = LocalDateTime()
    credited_sessions = fields.Integer()
    attended = fields.Function(attended_count, metadata={
        "description": "group sessions of this group attended since joining"})
    sessions_done = fields.Function(sessions_done, metadata={
        "description": "attended plus credited: progress toward the track"})


class AttendanceMark(StrictSchema):
    client_id = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(ATTENDANCE_STATUSES))


class AttendanceOut(OutSchema):
    client_id = fields.Integer()
    status = fields.String()
    recorded_at = LocalDateTime()


class GroupSessionPatch(StrictSchema):
    starts_at = fields.AwareDateTime()
    minutes = fields.Integer(validate=validate.Range(min=15, max=600))
    status = fields.String(validate=validate.OneOf(["scheduled", "cancelled"]))
    cancel_reason = fields.String(validate=validate.Length(min=1, max=200))
