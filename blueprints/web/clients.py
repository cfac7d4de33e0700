"""Clients: search, one client's timeline, and their reminder preferences."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from blueprints.web import bp
from blueprints.web.helpers import audited, now
from scheduler.errors import DomainError
from scheduler.models import db
from scheduler.services import clients as client_service
from scheduler.services import console

REMINDER_CHOICES = ((2880, "2 days before"), (1440, "1 day before"),
                    (120, "2 hours before"), (60, "1 hour before"))
CHANNEL_CHOICES = (("email", "Email"), ("sms", "Text message"))


@bp.get("/clients")
def clients():
    q = (request.args.get("q") or "").strip()
    rows = console.search_clients(q)
    audited("read", "client", None, search=q[:100], shown=len(rows))
    return render_template("console/clients.html", rows=rows, q=q)


@bp.get("/clients/<int:client_id>")
def client(client_id: int):
    page = console.client_page(client_id, now())
    audited("read", "client", client_id)
    return render_template("console/client.html", page=page,
                           reminder_choices=REMINDER_CHOICES,
                           channel_choices=CHANNEL_CHOICES, errors={})


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
    page = console.client_page(client_id, now())
    return render_template("console/client.html", page=page,
                           reminder_choices=REMINDER_CHOICES, channel_choices=CHANNEL_CHOICES,
                           errors={field: message}), 422
