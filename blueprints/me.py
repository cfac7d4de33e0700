"""The client's own page, `/me/<token>`: what's coming up, calendar links, and
their reminder and message choices. The token is their feed token, so one
secret link serves both the page and the calendar subscription."""

from __future__ import annotations

import segno
from flask import Blueprint, redirect, render_template, request, url_for
from markupsafe import Markup

from blueprints.api import now, policy
from blueprints.feeds import feed_urls, uid_key
from calendars import tokens
from calendars.build import client_feed, place
from scheduler import text
from scheduler.errors import InvalidValue
from scheduler.messages import contact_for
from scheduler.models import (
    LIVE_ENROLLMENT,
    CheckIn,
    Client,
    Enrollment,
    GroupSession,
    Location,
    db,
)
from scheduler.services.clients import update_client
from scheduler.timeutil import as_utc, human_when

bp = Blueprint("me", __name__)

REMINDER_CHOICES = ((1440, "The day before"), (120, "2 hours before"), (60, "1 hour before"))
CHANNEL_CHOICES = (("email", "Email"), ("sms", "Text message"))
ALARM_CHOICES = ((None, "No alert"), (15, "15 minutes before"), (30, "30 minutes before"),
                 (60, "1 hour before"), (120, "2 hours before"), (1440, "1 day before"))
UPCOMING = 8


@bp.after_request
def _private(response):
    """The page's address is its key: keep it out of Referer headers and caches."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def _client(token: str) -> Client | None:
    info = tokens.lookup(token)
    if info is None or info.kind != "client":
        return None
    return db.session.get(Client, info.subject_id)


def _gone():
    return render_template("me_gone.html"), 404


def preferences_from_form(form) -> dict:
    """Reminder and calendar choices from the page's form; InvalidValue names the field."""
    try:
        minutes = sorted({int(v) for v in form.getlist("reminder_minutes")}, reverse=True)
    except ValueError:
        raise InvalidValue("Choose from the listed reminder times",
                           field="reminder_minutes") from None
    if not set(minutes) <= {m for m, _ in REMINDER_CHOICES}:
        raise InvalidValue("Choose from the listed reminder times", field="reminder_minutes")
    channels = [c for c, _ in CHANNEL_CHOICES if c in form.getlist("reminder_channels")]
    if len(channels) != len(set(form.getlist("reminder_channels"))):
        raise InvalidValue("Choose email, text message, or both", field="reminder_channels")
    title = text.clean(form.get("calendar_title") or "", multiline=False).strip()
    if len(title) > 80:
        raise InvalidValue("Keep the calendar name to 80 characters or fewer",
                           field="calendar_title")
    raw_alarm = form.get("alarm_minutes") or ""
    alarm = None
    if raw_alarm:
        try:
            alarm = int(raw_alarm)
        except ValueError:
            alarm = -1
        if alarm not in {m for m, _ in ALARM_CHOICES if m}:
            raise InvalidValue("Choose one of the listed alerts", field="alarm_minutes")
    return {"reminder_minutes": minutes, "reminder_channels": channels,
            "calendar_title": title or None, "show_location": form.get("show_location") == "on",
            "alarm_minutes": alarm}


def where_for(kind: str, row_id: int) -> str:
    """Where to go, for the client's own page (their calendar shows it only if they
    chose to): the site and room, or how a check-in happens."""
    if kind == "group_session":
        cohort = db.session.get(GroupSession, row_id).cohort
        return place(cohort.location, cohort.room)
    row = db.session.get(CheckIn, row_id)
    if row.mode == "in_person" and row.location_id:
        return place(db.session.get(Location, row.location_id))
    return {"phone": "By phone", "video": "By video"}.get(row.mode, "")


def _page(token: str, client: Client, *, status: int = 200, error: InvalidValue | None = None):
    links = feed_urls(token)
    _, events = client_feed(client.id, now(), policy(), uid_key())
    current = now()
    upcoming = []
    for event in sorted(events, key=lambda e: e.starts_at):
        if as_utc(event.ends_at) < current:
            continue
        kind, _, row_id = event.subject.partition(":")
        if kind != "group_session" and event.status == "CANCELLED":
            continue  # a check-in no longer needed is not news (the feed still says so)
        path = "group-sessions" if kind == "group_session" else "check-ins"
        upcoming.append({
            "when": human_when(event.starts_at),
            "title": event.summary.removeprefix("Cancelled: "),
            "cancelled": event.status == "CANCELLED",
            "where": where_for(kind, int(row_id)),
            "download": f"/feeds/{token}/{path}/{row_id}.ics",
        })
        if len(upcoming) == UPCOMING:
            break
    qr = segno.make(links["https_url"], error="m")
    svg = Markup(qr.svg_inline(scale=4, dark="#1f2933", light="#ffffff",
                               title="QR code of your calendar link"))
    info = tokens.lookup(token)
    return render_template(
        "me.html", client=client, token=token, links=links, qr_svg=svg,
        subscribed=bool(info and info.subscribed),
        upcoming=upcoming, saved=request.args.get("saved"), error=error,
        reminder_choices=REMINDER_CHOICES, channel_choices=CHANNEL_CHOICES,
        alarm_choices=ALARM_CHOICES, contact=contact_for(_site_of(client))), status


def _site_of(client: Client) -> Location | None:
    """The site of the client's current group, for who to contact."""
    enrollment = db.session.scalars(db.select(Enrollment).where(
        Enrollment.client_id == client.id, Enrollment.status.in_(LIVE_ENROLLMENT))
        .order_by(Enrollment.id.desc()).limit(1)).first()
    return enrollment.cohort.location if enrollment else None


@bp.get("/me/<token>")
def page(token: str):
    client = _client(token)
    if client is None:
        return _gone()
    return _page(token, client)


@bp.post("/me/<token>/preferences")
def preferences(token: str):
    client = _client(token)
    if client is None:
        return _gone()
    try:
        update_client(client.id, preferences_from_form(request.form), now())
    except InvalidValue as error:
        db.session.rollback()
        return _page(token, client, status=422, error=error)
    return redirect(url_for("me.page", token=token, saved="preferences"), 303)


@bp.post("/me/<token>/messages")
def messages(token: str):
    client = _client(token)
    if client is None:
        return _gone()
    update_client(client.id, {"email_opt_out": request.form.get("email_opt_out") == "on",
                              "sms_opt_out": request.form.get("sms_opt_out") == "on"}, now())
    return redirect(url_for("me.page", token=token, saved="messages"), 303)


@bp.post("/me/<token>/turn-off")
def turn_off(token: str):
    """The client asks for their link to stop working (calendar and this page)."""
    client = _client(token)
    if client is None:
        return _gone()
    tokens.revoke("client", client.id, now())
    return render_template("me_off.html")
