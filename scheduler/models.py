"""SQLAlchemy 2 typed models: the program's records.

Rules live elsewhere (schedule.py, placement.py, waitlist.py, reminders.py); these
classes only describe what is stored and the constraints the database enforces.
Clinical records are never hard-deleted: statuses change instead.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry, relationship

from scheduler.timeutil import UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    registry = registry(
        metadata=sa.MetaData(naming_convention=NAMING),
        type_annotation_map={datetime: UTCDateTime(), dict[str, Any]: sa.JSON, list: sa.JSON},
    )


db = SQLAlchemy(model_class=Base)

ROLES = ("admin", "coordinator", "clinician", "viewer")
CHECK_IN_HOLDERS = ("admin", "coordinator", "clinician")  # who can hold a check-in
COHORT_MODES = ("rolling", "closed")
COHORT_STATUSES = ("forming", "running", "ended")
SESSION_STATUSES = ("scheduled", "cancelled")
ENROLLMENT_STATUSES = ("active", "paused", "completed", "withdrawn", "moved")
ATTENDANCE_STATUSES = ("present", "late", "excused", "absent")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAYPARTS = ("morning", "afternoon", "evening")
RETURN_CHANNELS = ("web", "phone", "email", "in_person")
RETURN_STATUSES = ("open", "placed", "closed")
CHECKIN_MODES = ("in_person", "phone", "video")
CHECKIN_STATUSES = ("booked", "cancelled", "done")
USING_AGAIN = ("yes", "no", "prefer_not_to_say")
PREFERENCES = ("same_group", "fresh_group", "no_preference")
WAITLIST_STATUSES = ("waiting", "offered", "enrolled", "removed")
OFFER_STATUSES = ("open", "accepted", "declined", "expired", "withdrawn")
NOTIFICATION_STATUSES = (
    "pending", "claimed", "sent", "failed", "expired", "cancelled", "unknown",
)
CHANNELS = ("email", "sms", "console")
FEED_KINDS = ("client", "cohort", "location", "facilitator")


# status -> the statuses it may move to: the one place each life cycle is written
ENROLLMENT_TRANSITIONS = {
    "active": frozenset({"paused", "completed", "withdrawn", "moved"}),
    "paused": frozenset({"active", "completed", "withdrawn", "moved"}),
    "completed": frozenset(),
    "withdrawn": frozenset(),
    "moved": frozenset(),
}
LIVE_ENROLLMENT = ("active", "paused")
WAITLIST_TRANSITIONS = {
    "waiting": frozenset({"offered", "enrolled", "removed"}),
    "offered": frozenset({"waiting", "enrolled", "removed"}),
    "enrolled": frozenset(),
    "removed": frozenset(),
}
LIVE_WAITLIST = ("waiting", "offered")
OFFER_TRANSITIONS = {
    "open": frozenset({"accepted", "declined", "expired", "withdrawn"}),
    "accepted": frozenset(),
    "declined": frozenset(),
    "expired": frozenset(),
    "withdrawn": frozenset(),
}


class StatusChangeRefused(ValueError):
    """A status change its life cycle does not allow (the service maps it to 409)."""

    def __init__(self, what: str, old: str, new: str):
        super().__init__(f"A {what} that is {old} cannot become {new}")
        self.what, self.old, self.new = what, old, new


class StatusMixin:
    """``move_to`` is the only way a status changes; TRANSITIONS says which moves exist."""

    TRANSITIONS: dict[str, frozenset[str]] = {}
    WHAT = "record"

    def may_become(self, status: str) -> bool:
        return status in self.TRANSITIONS.get(self.status, frozenset())

    def move_to(self, status: str, now: datetime) -> None:
        if status == self.status:
            return
        if not self.may_become(status):
            raise StatusChangeRefused(self.WHAT, self.status, status)
        self.status = status
        self.updated_at = now


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Location(TimestampMixin, db.Model):
    __tablename__ = "location"
    __table_args__ = (sa.CheckConstraint("digest_hour >= 0 AND digest_hour <= 23",
                                         name="digest_hour_in_day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    address: Mapped[str] = mapped_column(sa.String(300), default="")
    timezone: Mapped[str] = mapped_column(sa.String(64), default="America/New_York")
    # how clients reach this site: shown on client pages and in every message
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    reply_to: Mapped[str] = mapped_column(sa.String(254), default="")
    # coordinators get one email a day listing new return requests, at this local hour
    digest_hour: Mapped[int | None]


class Track(TimestampMixin, db.Model):
    __tablename__ = "track"
    __table_args__ = (sa.CheckConstraint("sessions_to_complete > 0", name="sessions_positive"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    sessions_to_complete: Mapped[int] = mapped_column(default=36)


class StaffUser(TimestampMixin, db.Model):
    __tablename__ = "staff_user"
    __table_args__ = (sa.CheckConstraint(_in("role", ROLES), name="role_known"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120), default="")
    role: Mapped[str] = mapped_column(sa.String(20))
    password_hash: Mapped[str | None] = mapped_column(sa.String(300))
    active: Mapped[bool] = mapped_column(default=True)
    # part of the console session's id: raising it (sign-out, new password, disabled)
    # ends every session this person has, on every device
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # the site they work at: Today, Cohorts and Director's capacity show it (None: all)
    location_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("location.id", ondelete="SET NULL"))
    tokens: Mapped[list[ApiToken]] = relationship(back_populates="staff")

    # Flask-Login protocol, kept here so the console needs no wrapper object.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"


class ApiToken(db.Model):
    """A bearer token for the staff API; only its SHA-256 is stored."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    label: Mapped[str] = mapped_column(sa.String(120), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]  # None: until revoked (older tokens)
    staff: Mapped[StaffUser] = relationship(back_populates="tokens")


class Cohort(TimestampMixin, db.Model):
    """One therapy group and its weekly pattern.

    ``weekdays`` is a comma-separated list of WEEKDAYS ("mon,wed,fri"); ``start_time``
    is local wall-clock time at the cohort's location.
    """

    __tablename__ = "cohort"
    __table_args__ = (
        sa.CheckConstraint("capacity >= 0", name="capacity_not_negative"),
        sa.CheckConstraint("minutes > 0", name="minutes_positive"),
        sa.CheckConstraint(_in("mode", COHORT_MODES), name="mode_known"),
        sa.CheckConstraint(_in("status", COHORT_STATUSES), name="status_known"),
        sa.CheckConstraint("ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on",
                           name="ends_after_start"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("location.id"), index=True)
    track_id: Mapped[int] = mapped_column(sa.ForeignKey("track.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    mode: Mapped[str] = mapped_column(sa.String(10), default="rolling")
    status: Mapped[str] = mapped_column(sa.String(10), default="running")
    weekdays: Mapped[str] = mapped_column(sa.String(40))
    start_time: Mapped[time] = mapped_column(sa.Time)
    minutes: Mapped[int] = mapped_column(default=180)
    capacity: Mapped[int] = mapped_column(default=12)
    starts_on: Mapped[date | None] = mapped_column(sa.Date)
    ends_on: Mapped[date | None] = mapped_column(sa.Date)
    facilitator_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id"))
    room: Mapped[str] = mapped_column(sa.String(60), default="")
    for_returners: Mapped[bool] = mapped_column(default=False)
    opened_at: Mapped[datetime | None]
    # a pattern change that takes effect later: sessions before this day keep their times
    pattern_from: Mapped[date | None] = mapped_column(sa.Date)
    location: Mapped[Location] = relationship()
    track: Mapped[Track] = relationship()
    facilitator: Mapped[StaffUser | None] = relationship()

    @property
    def weekday_list(self) -> list[str]:
        return [d for d in self.weekdays.split(",") if d]


class GroupSession(TimestampMixin, db.Model):
    """One meeting of a cohort. ``occurs_on`` is the pattern date it stands for;
    a moved meeting keeps it, so the row (and its feed UID) stays the same."""

    __tablename__ = "group_session"
    __table_args__ = (
        sa.UniqueConstraint("cohort_id", "occurs_on", name="uq_group_session_cohort_day"),
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        sa.CheckConstraint(_in("status", SESSION_STATUSES), name="status_known"),
        sa.Index("ix_group_session_starts_at", "starts_at"),
        sa.Index("ix_group_session_cohort_starts", "cohort_id", "starts_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(sa.ForeignKey("cohort.id"), index=True)
    occurs_on: Mapped[date] = mapped_column(sa.Date)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(sa.String(10), default="scheduled")
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(200))
    revision: Mapped[int] = mapped_column(default=0)
    # set when staff moved or cancelled this one meeting by hand: pattern changes
    # then leave it alone (closures still cancel it)
    pinned: Mapped[bool] = mapped_column(default=False)
    cohort: Mapped[Cohort] = relationship()


class Closure(TimestampMixin, db.Model):
    """A day a location (or, with no location, every location) is closed."""

    __tablename__ = "closure"
    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int | None] = mapped_column(sa.ForeignKey("location.id"))
    date: Mapped[date] = mapped_column(sa.Date, index=True)
    reason: Mapped[str] = mapped_column(sa.String(200))


class Client(TimestampMixin, db.Model):
    __tablename__ = "client"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    email_key: Mapped[str | None] = mapped_column(sa.String(254), index=True)
    phone_key: Mapped[str | None] = mapped_column(sa.String(20), index=True)
    preferred_location_ids: Mapped[list] = mapped_column(default=list)
    availability: Mapped[dict[str, Any]] = mapped_column(default=dict)
    needs_confirmation: Mapped[bool] = mapped_column(default=False)
    # reminder and privacy preferences (discreet by default)
    reminder_minutes: Mapped[list] = mapped_column(default=lambda: [1440, 120])
    reminder_channels: Mapped[list] = mapped_column(default=lambda: ["email"])
    email_opt_out: Mapped[bool] = mapped_column(default=False)
    sms_opt_out: Mapped[bool] = mapped_column(default=False)
    calendar_title: Mapped[str | None] = mapped_column(sa.String(80))
    show_location: Mapped[bool] = mapped_column(default=False)
    program_words_opt_in: Mapped[bool] = mapped_column(default=False)
    alarm_minutes: Mapped[int | None]
    # a weekly note while they wait to be back in a group (they may stop it)
    waiting_notes: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    # contact details replaced when a request was linked to this record:
    # [{"kind": "email"|"phone", "value": ..., "until": ISO instant}], newest last
    former_contacts: Mapped[list] = mapped_column(default=list)
    # a record made for a request before staff linked it to the person's own record
    merged_into_id: Mapped[int | None] = mapped_column(sa.ForeignKey("client.id"))


class Enrollment(StatusMixin, TimestampMixin, db.Model):
    """A client in a cohort. At most one live (active or paused) per client and
    cohort: coming back reuses it, so progress is never split or lost."""

    __tablename__ = "enrollment"
    __table_args__ = (
        sa.CheckConstraint(_in("status", ENROLLMENT_STATUSES), name="status_known"),
        sa.CheckConstraint("credited_sessions >= 0", name="credit_not_negative"),
        sa.Index(
            "uq_enrollment_one_live", "client_id", "cohort_id", unique=True,
            sqlite_where=sa.text("status IN ('active', 'paused')"),
            postgresql_where=sa.text("status IN ('active', 'paused')"),
        ),
    )
    TRANSITIONS = ENROLLMENT_TRANSITIONS
    WHAT = "enrollment"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("client.id"), index=True)
    cohort_id: Mapped[int] = mapped_column(sa.ForeignKey("cohort.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(10), default="active")
    joined_on: Mapped[date] = mapped_column(sa.Date)
    left_on: Mapped[date | None] = mapped_column(sa.Date)
    paused_at: Mapped[datetime | None]
    hold_until: Mapped[datetime | None]
    credited_sessions: Mapped[int] = mapped_column(default=0)
    return_request_id: Mapped[int | None] = mapped_column(sa.ForeignKey("return_request.id"))
    client: Mapped[Client] = relationship()
    cohort: Mapped[Cohort] = relationship()


class Attendance(db.Model):
    __tablename__ = "attendance"
    __table_args__ = (
        sa.UniqueConstraint("group_session_id", "client_id", name="uq_attendance_once"),
        sa.CheckConstraint(_in("status", ATTENDANCE_STATUSES), name="status_known"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    group_session_id: Mapped[int] = mapped_column(sa.ForeignKey("group_session.id"), index=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("client.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(10))
    recorded_by: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    group_session: Mapped[GroupSession] = relationship()


# requests that may still be waiting to be back in a group (``outreach._waiting_rows``)
WAITING_WHERE = "status IN ('open', 'placed') AND first_attended_at IS NULL"


class ReturnRequest(TimestampMixin, db.Model):
    """"I'd like to come back". Its timestamps measure time back to group."""

    __tablename__ = "return_request"
    __table_args__ = (
        sa.CheckConstraint(_in("channel", RETURN_CHANNELS), name="channel_known"),
        sa.CheckConstraint(_in("status", RETURN_STATUSES), name="status_known"),
        # the console reads the few requests still in play on every page (the badge,
        # Returners, long waits) and recent ones; every request ever made stays
        sa.Index("ix_return_request_open", "requested_at", "id",
                 sqlite_where=sa.text("status = 'open'"),
                 postgresql_where=sa.text("status = 'open'")),
        sa.Index("ix_return_request_waiting", "requested_at", "id",
                 sqlite_where=sa.text(WAITING_WHERE), postgresql_where=sa.text(WAITING_WHERE)),
        sa.Index("ix_return_request_requested_at", "requested_at"),
        sa.Index("ix_return_request_updated_at", "updated_at", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("client.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    message: Mapped[str | None] = mapped_column(sa.Text)
    channel: Mapped[str] = mapped_column(sa.String(10))
    status: Mapped[str] = mapped_column(sa.String(10), default="open")
    contacts: Mapped[int] = mapped_column(default=1)
    entered_by: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_contact_at: Mapped[datetime] = mapped_column(default=utcnow)
    checked_in_at: Mapped[datetime | None]
    placed_at: Mapped[datetime | None]
    first_attended_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    client: Mapped[Client] = relationship()


class CheckIn(TimestampMixin, db.Model):
    __tablename__ = "check_in"
    __table_args__ = (
        sa.CheckConstraint(_in("mode", CHECKIN_MODES), name="mode_known"),
        sa.CheckConstraint(_in("status", CHECKIN_STATUSES), name="status_known"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    return_request_id: Mapped[int] = mapped_column(sa.ForeignKey("return_request.id"),
                                                   index=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("client.id"), index=True)
    at: Mapped[datetime]
    minutes: Mapped[int] = mapped_column(default=30)
    mode: Mapped[str] = mapped_column(sa.String(10))
    staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id"))
    location_id: Mapped[int | None] = mapped_column(sa.ForeignKey("location.id"))
    status: Mapped[str] = mapped_column(sa.String(10), default="booked")
    revision: Mapped[int] = mapped_column(default=0)
    # a time the person picked themselves from those staff published
    slot_id: Mapped[int | None] = mapped_column(sa.ForeignKey("check_in_slot.id"), index=True)


class CheckInSlot(TimestampMixin, db.Model):
    """A check-in time staff publish; people coming back pick one themselves.
    ``places`` check-ins fit in it (one by default)."""

    __tablename__ = "check_in_slot"
    __table_args__ = (
        sa.CheckConstraint(_in("mode", CHECKIN_MODES), name="mode_known"),
        sa.CheckConstraint("places > 0", name="places_positive"),
        sa.CheckConstraint("minutes > 0", name="minutes_positive"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int | None] = mapped_column(sa.ForeignKey("location.id"))
    starts_at: Mapped[datetime] = mapped_column(index=True)
    minutes: Mapped[int] = mapped_column(default=30)
    mode: Mapped[str] = mapped_column(sa.String(10))
    places: Mapped[int] = mapped_column(default=1)
    staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id"))
    withdrawn_at: Mapped[datetime | None]


class Reentry(TimestampMixin, db.Model):
    """What the check-in learned. ``using_again`` is optional and never ranks anyone."""

    __tablename__ = "reentry"
    id: Mapped[int] = mapped_column(primary_key=True)
    return_request_id: Mapped[int] = mapped_column(sa.ForeignKey("return_request.id"),
                                                   unique=True)
    last_attended_session_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("group_session.id"))
    days_away: Mapped[int | None]
    using_again: Mapped[str | None] = mapped_column(sa.String(20))
    clinical_review: Mapped[bool] = mapped_column(default=False)
    preference: Mapped[str] = mapped_column(sa.String(20), default="no_preference")
    weekdays: Mapped[list] = mapped_column(default=list)
    dayparts: Mapped[list] = mapped_column(default=list)
    location_ids: Mapped[list] = mapped_column(default=list)
    notes: Mapped[str | None] = mapped_column(sa.Text)
    recorded_by: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id"))


class PlacementDecision(db.Model):
    """The option staff chose, who chose it, and every option offered then."""

    __tablename__ = "placement_decision"
    id: Mapped[int] = mapped_column(primary_key=True)
    return_request_id: Mapped[int] = mapped_column(sa.ForeignKey("return_request.id"),
                                                   index=True)
    kind: Mapped[str] = mapped_column(sa.String(10))
    cohort_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cohort.id"))
    chosen: Mapped[dict[str, Any]] = mapped_column(default=dict)
    offered: Mapped[list] = mapped_column(default=list)
    decided_by: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id"))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    enrollment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("enrollment.id"))
    waitlist_entry_id: Mapped[int | None] = mapped_column(sa.ForeignKey("waitlist_entry.id"))


class WaitlistEntry(StatusMixin, TimestampMixin, db.Model):
    """A place in line. Order: ``priority`` (higher first), then ``requested_at``.

    ``credited_sessions`` is the progress agreed when a returner was placed in line;
    it is carried onto the enrollment the seat becomes. ``not_before`` keeps the
    person's place while skipping seats for group sessions before it (they said
    "not this time", or an offer went unanswered)."""

    __tablename__ = "waitlist_entry"
    __table_args__ = (
        sa.CheckConstraint(_in("status", WAITLIST_STATUSES), name="status_known"),
        sa.Index(
            "uq_waitlist_one_live", "client_id", "cohort_id", unique=True,
            sqlite_where=sa.text("status IN ('waiting', 'offered')"),
            postgresql_where=sa.text("status IN ('waiting', 'offered')"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(sa.ForeignKey("cohort.id"), index=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("client.id"), index=True)
    priority: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(sa.String(10), default="waiting")
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    moved_up_reason: Mapped[str | None] = mapped_column(sa.String(300))
    removed_reason: Mapped[str | None] = mapped_column(sa.String(300))
    return_request_id: Mapped[int | None] = mapped_column(sa.ForeignKey("return_request.id"))
    credited_sessions: Mapped[int] = mapped_column(default=0)
    not_before: Mapped[datetime | None]
    client: Mapped[Client] = relationship()
    TRANSITIONS = WAITLIST_TRANSITIONS
    WHAT = "place in line"


class SeatOffer(StatusMixin, TimestampMixin, db.Model):
    __tablename__ = "seat_offer"
    __table_args__ = (
        sa.CheckConstraint(_in("status", OFFER_STATUSES), name="status_known"),
        sa.Index(
            "uq_seat_offer_one_open", "client_id", "cohort_id", unique=True,
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(sa.ForeignKey("cohort.id"), index=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("client.id"), index=True)
    waitlist_entry_id: Mapped[int] = mapped_column(sa.ForeignKey("waitlist_entry.id"),
                                                   index=True)
    group_session_id: Mapped[int | None] = mapped_column(sa.ForeignKey("group_session.id"))
    status: Mapped[str] = mapped_column(sa.String(10), default="open")
    offered_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    responded_at: Mapped[datetime | None]
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    enrollment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("enrollment.id"))
    TRANSITIONS = OFFER_TRANSITIONS
    WHAT = "seat offer"


class Notification(TimestampMixin, db.Model):
    """One message to send (the outbox). ``key`` makes planning idempotent."""

    __tablename__ = "notification"
    __table_args__ = (
        sa.CheckConstraint(_in("status", NOTIFICATION_STATUSES), name="status_known"),
        sa.Index("ix_notification_due", "status", "due_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(30))
    client_id: Mapped[int | None] = mapped_column(sa.ForeignKey("client.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id"))
    channel: Mapped[str] = mapped_column(sa.String(10))
    recipient: Mapped[str] = mapped_column(sa.String(254))
    subject_ref: Mapped[str | None] = mapped_column(sa.String(60), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    due_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(sa.String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(sa.String(80))
    lease_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    # set (and committed) just before the hand-over to the provider: a claimed row
    # whose lease ran out with this set may have gone out, so it becomes "unknown"
    sending_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(sa.Text)


class FeedToken(db.Model):
    """The secret behind a calendar subscription URL; only its SHA-256 is stored.

    The token itself is an HMAC of ``nonce`` under the server's feed key, so staff
    can show or send the same link again; rotating makes a new row and nonce."""

    __tablename__ = "feed_token"
    __table_args__ = (sa.CheckConstraint(_in("kind", FEED_KINDS), name="kind_known"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(12))
    subject_id: Mapped[int] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    nonce: Mapped[str | None] = mapped_column(sa.String(64))
    # Raised with any change the feed would show (scheduler/services/feed_stamps.py)
    revision: Mapped[int] = mapped_column(default=0, server_default="0")
    # first fetched by a calendar app: the person is subscribed (calendars/subscription.py)
    subscribed_at: Mapped[datetime | None]


class ReportStamp(db.Model):
    """A random token rewritten with every change a report counts (one row per
    report: ``time_back``, ``needing_check_in``, ``progress``), so a worked-out
    report is reused only while it is true (scheduler/services/report_stamps.py).
    No row: nothing to reuse until the next change writes one."""

    __tablename__ = "report_stamp"
    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(32))


class FeedEventState(db.Model):
    """What one feed last showed for one event: a digest of its words (title, place,
    description, alarm) and how many times they changed. The feed adds ``bumps`` to
    the event's SEQUENCE and moves DTSTAMP to ``changed_at``, so a text-only change
    reaches sync tools too (calendars/sequence.py)."""

    __tablename__ = "feed_event_state"
    __table_args__ = (sa.UniqueConstraint("feed_kind", "feed_subject_id", "uid",
                                          name="uq_feed_event_state"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    feed_kind: Mapped[str] = mapped_column(sa.String(12))
    feed_subject_id: Mapped[int]
    uid: Mapped[str] = mapped_column(sa.String(64))
    text_hash: Mapped[str] = mapped_column(sa.String(32))
    bumps: Mapped[int] = mapped_column(default=0)
    changed_at: Mapped[datetime | None]


class FollowUp(TimestampMixin, db.Model):
    """An item on staff's list: reach out after a pause, confirm a new client, ..."""

    __tablename__ = "follow_up"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(30))
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("client.id"), index=True)
    enrollment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("enrollment.id"))
    note: Mapped[str] = mapped_column(sa.String(300), default="")
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id"))


class AuditEvent(db.Model):
    """Append-only: who read or changed what, when, from where. Never updated."""

    __tablename__ = "audit_event"
    __table_args__ = (sa.Index("ix_audit_event_entity", "entity", "entity_id"),
                      # newest first, as the Audit page lists them (migration 0022)
                      sa.Index("ix_audit_event_at_id", "at", "id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id"), index=True)
    action: Mapped[str] = mapped_column(sa.String(40))
    entity: Mapped[str] = mapped_column(sa.String(40))
    entity_id: Mapped[int | None]
    ip: Mapped[str | None] = mapped_column(sa.String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


FORMING_MEMBER_STATUSES = ("waiting", "enrolled", "left")


class FormingMember(TimestampMixin, db.Model):
    """A returner's place in a forming cohort (no group sessions exist yet).

    When the cohort opens (or is merged into a running one) each waiting member
    becomes an enrollment and the row records which one; ``credited_sessions`` is
    the progress staff agreed at placement, carried onto that enrollment.
    """

    __tablename__ = "forming_member"
    __table_args__ = (
        sa.CheckConstraint(_in("status", FORMING_MEMBER_STATUSES), name="status_known"),
        sa.UniqueConstraint("cohort_id", "client_id", name="uq_forming_member_once"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(sa.ForeignKey("cohort.id"), index=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("client.id"), index=True)
    return_request_id: Mapped[int | None] = mapped_column(sa.ForeignKey("return_request.id"))
    credited_sessions: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(sa.String(10), default="waiting")
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    enrollment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("enrollment.id"))
    client: Mapped[Client] = relationship()
