"""Clients: search, one client's timeline, and their reminder preferences."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from blueprints.feeds import feed_urls
from blueprints.web import bp
from blueprints.web.helpers import audited, now
from calendars import tokens
from scheduler.errors import DomainError
from scheduler.models import db
from scheduler.services import clients as client_service
from scheduler.services import console, notices, waitlist

REMINDER_CHOICES = ((2880, "2 days before"), (1440, "1 day before"),
                    (120, "2 hours before"), (60, "1 hour before"))
CHANNEL_CHOICES = (("email", "Email"), ("sms", "Text message"))


@bp.get("/clients")
def clients():
    q = (request.args.get("q") or "").strip()
    rows = console.search_clients(q)
    audited("read", "client", None, search=q[:100], shown=len(rows))
    return render_template("console/clients.html", rows=rows, q=q)


def _feed_since(client_id: int):
    """When the client's live feed link was issued (None when there is none)."""
    return tokens.live("client", client_id)[1]


def _client_page(client_id: int, *, errors: dict | None = None, status: int = 200):
    page = console.client_page(client_id, now())
    token, since = tokens.live("client", client_id)
    return render_template("console/client.html", page=page,
                           reminder_choices=REMINDER_CHOICES,
                           channel_choices=CHANNEL_CHOICES, errors=errors or {},
                           feed_since=since, feed_links=feed_urls(token) if token else None,
                           waiting=waitlist.waiting_of(client_id),
                           returns=page.requests), status


@bp.get("/clients/<int:client_id>")
def client(client_id: int):
    result = _client_page(client_id)
    audited("read", "client", client_id)
    return result


@bp.post("/clients/<int:client_id>/feed")
def client_feed_issue(client_id: int):
    """Issue (or rotate) the client's calendar and page link; the page shows it."""
    console.client_page(client_id, now(), limit=1)  # 404 for an unknown client
    rotated = _feed_since(client_id) is not None
    audited("update", "client", client_id, what="feed_link_rotated" if rotated
            else "feed_link_issued")
    tokens.issue("client", client_id, now())
    flash("New link made; the old one no longer works." if rotated else "Link made.")
    return redirect(url_for("web.client", client_id=client_id, _anchor="feed"))


@bp.post("/clients/<int:client_id>/feed/send")
def client_feed_send(client_id: int):
    """Send the client their calendar link by email or text message."""
    channel = request.form.get("channel", "")
    try:
        notices.send_calendar_link(client_id, channel, now(), staff_id=current_user.id)
    except DomainError as exc:
        db.session.rollback()
        if exc.status == 404:
            raise
        flash(exc.message)
    else:
        flash("The calendar link is on its way by "
              f"{'email' if channel == 'email' else 'text message'}.")
    return redirect(url_for("web.client", client_id=client_id, _anchor="feed"))


@bp.post("/clients/<int:client_id>/feed/revoke")
def client_feed_revoke(client_id: int):
    console.client_page(client_id, now(), limit=1)  # 404 for an unknown client
    count = tokens.revoke("client", client_id, now(), commit=False)
    audited("update", "client", client_id, what="feed_link_revoked", revoked=count)
    flash("The calendar link is turned off." if count else "There was no link to turn off.")
    return redirect(url_for("web.client", client_id=client_id, _anchor="feed"))


@bp.post("/clients/<int:client_id>/preferences")
def client_preferences(client_id: int):
    form = request.form
    alarm = (form.get("alarm_minutes") or "").strip()
    data = {
        "reminder_minutes": sorted({int(v) for v in form.getlist("reminder_minutes")
                                    if v.isdigit()}, reverse=True),
        "reminder_channels": [c for c, _ in CHANNEL_CHOICES
                              if c in form.getlist("reminder_channels")],
        "email_opt_out": form.get("email_opt_out") == "on",
        "sms_opt_out": form.get("sms_opt_out") == "on",
        "show_location": form.get("show_location") == "on",
        "program_words_opt_in": form.get("program_words_opt_in") == "on",
        "calendar_title": (form.get("calendar_title") or "").strip()[:80] or None,
        "alarm_minutes": int(alarm) if alarm.isdigit() else None,
    }
    if alarm and not alarm.isdigit():
        return _preferences_error(client_id, "alarm_minutes",
                                  "Enter the alarm as a whole number of minutes, or leave it "
                                  "empty.")
    try:
        client_service.update_client(client_id, data, now())
    except DomainError as exc:
        db.session.rollback()
        return _preferences_error(client_id, exc.field or "form", exc.message)
    audited("update", "client", client_id, fields=sorted(data))
    flash("Reminder preferences saved.")
    return redirect(url_for("web.client", client_id=client_id, _anchor="preferences"))


def _preferences_error(client_id: int, field: str, message: str):
    return _client_page(client_id, errors={field: message}, status=422)
