"""Closures: pick a day, see the group sessions it would cancel, then confirm."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for

from blueprints.web import bp
from blueprints.web.helpers import audited, date_arg, int_arg, now, policy
from scheduler.errors import DomainError
from scheduler.models import Closure, Location, db
from scheduler.services import cohorts as cohort_service
from scheduler.services import console
from scheduler.timeutil import local_today


def _recent_closures():
    return db.session.execute(
        sa.select(Closure, Location).outerjoin(Location, Location.id == Closure.location_id)
        .order_by(Closure.date.desc(), Closure.id.desc()).limit(30)).all()


@bp.get("/closures")
def closures():
    """The form; with ``date`` filled in it also previews what the closure cancels."""
    day, location_id = date_arg("date"), int_arg("location_id")
    reason = (request.args.get("reason") or "").strip()
    errors = {}
    preview, already = None, []
    if request.args.get("date") is not None:
        if day is None:
            errors["date"] = "Choose a date."
        elif day < local_today(now()):
            errors["date"] = "That day has passed; a closure is for today or a later day."
        else:
            preview = cohort_service.sessions_on_closure(location_id, day)
            already = console.closures_on(day, location_id)
    if request.args.get("date") is not None and not reason:
        errors["reason"] = "Say why (staff and the cancellation notice show it)."
    return render_template("console/closures.html", locations=console.locations(),
                           day=day, location_id=location_id, reason=reason,
                           preview=preview if not errors else None, already=already,
                           errors=errors, notice_days=policy().change_notice_days,
                           told=console.told_of_closure(preview, now(), policy())
                           if preview and not errors else None,
                           closures=_recent_closures()), 422 if errors else 200


@bp.post("/closures")
def add_closure():
    day, location_id = date_arg("date"), int_arg("location_id")
    reason = (request.form.get("reason") or "").strip()
    if day is None or not reason:
        return redirect(url_for("web.closures", date=request.form.get("date", ""),
                                location_id=location_id or "", reason=reason))
    try:
        closure, cancelled = cohort_service.create_closure(location_id, day, reason[:200],
                                                           now(), policy())
    except DomainError as exc:
        db.session.rollback()
        return render_template("console/closures.html", locations=console.locations(),
                               day=day, location_id=location_id, reason=reason,
                               preview=None, already=[], closures=_recent_closures(),
                               errors={exc.field or "date": exc.message}), exc.status
    audited("create", "closure", closure.id, date=day.isoformat(),
            location_id=location_id, cancelled_group_sessions=[s.id for s in cancelled])
    flash(f"Closure added for {day:%a %b} {day.day}. "
          f"{len(cancelled)} group session{'s' if len(cancelled) != 1 else ''} cancelled.")
    return redirect(url_for("web.closures"))
