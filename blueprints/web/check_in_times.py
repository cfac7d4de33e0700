"""Check-in times staff publish for people coming back to pick themselves."""

from __future__ import annotations

from datetime import time

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from blueprints.web import bp
from blueprints.web.helpers import audited, date_arg, int_arg, now, policy
from scheduler.errors import DomainError, InvalidValue
from scheduler.models import CHECKIN_MODES, db
from scheduler.services import checkins, console
from scheduler.timeutil import local_instant, to_local

MODE_WORDS = {"in_person": "In person", "phone": "By phone", "video": "By video"}


def _page(errors: dict | None = None, status: int = 200):
    slots = checkins.open_slots(now(), policy(), limit=100, include_full=True)
    return render_template("console/check_in_times.html", slots=slots, errors=errors or {},
                           form=request.form if errors else {}, locations=console.locations(),
                           modes=[(m, MODE_WORDS[m]) for m in CHECKIN_MODES],
                           today=to_local(now()).date()), status


@bp.get("/check-in-times")
def check_in_times():
    return _page()


@bp.post("/check-in-times")
def check_in_times_add():
    day, at_text = date_arg("date"), (request.form.get("time") or "").strip()
    try:
        if day is None:
            raise InvalidValue("Choose a date", field="date")
        try:
            at = time.fromisoformat(at_text)
        except ValueError:
            raise InvalidValue("Choose a time", field="time") from None
        checkins.publish_slot({
            "starts_at": local_instant(day, at), "mode": request.form.get("mode"),
            "minutes": int_arg("minutes") or 30, "places": int_arg("places") or 1,
            "location_id": int_arg("location_id")}, now(), staff_id=current_user.id)
    except DomainError as exc:
        db.session.rollback()
        return _page({exc.field or "form": exc.message}, 422)
    flash("Published: people coming back can pick it now.")
    return redirect(url_for("web.check_in_times"))


@bp.post("/check-in-times/<int:slot_id>/withdraw")
def check_in_times_withdraw(slot_id: int):
    try:
        checkins.withdraw_slot(slot_id, now(), staff_id=current_user.id)
    except DomainError as exc:
        db.session.rollback()
        if exc.status == 404:
            raise
        flash(exc.message)
    else:
        audited("update", "check_in_slot", slot_id, what="withdrawn")
        flash("Taken down.")
    return redirect(url_for("web.check_in_times"))
