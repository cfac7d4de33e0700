"""Today (or another day): every group session per location, its roster, and attendance."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from blueprints.web import allow, bp
from blueprints.web.helpers import audited, date_arg, now, policy
from scheduler.errors import DomainError
from scheduler.models import ATTENDANCE_STATUSES, db
from scheduler.services import console, enrollments, outreach
from scheduler.timeutil import local_today


@bp.get("/")
def today():
    current = local_today(now())
    day = date_arg("date") or current
    days = console.today(now(), day)
    sessions = [s.group_session.id for d in days for s in d.sessions]
    if sessions:
        audited("read", "today", None, group_sessions=sessions)
    return render_template("console/today.html", days=days, day=day, today=current,
                           mark_choices=mark_choices, started_by=now(),
                           days_back=policy().attendance_days_back,
                           long_waits=outreach.long_wait_count(now(), policy()),
                           alert_days=policy().waiting_alert_days)


def mark_choices(session_id: int, client_id: int, mark: str | None) -> Markup:
    """One roster line's attendance choices, a radio and its label per status. Written
    here in one pass: in the template each of a line's three dozen values was escaped
    on its own, a third of Today's time at ten times the demo. Every value is ours
    (two integers and the fixed status words), none typed by a person."""
    session_id, client_id = int(session_id), int(client_id)
    choices = []
    for status in ATTENDANCE_STATUSES:
        ident = f"m-{session_id}-{client_id}-{status}"
        checked = " checked" if mark == status else ""
        choices.append(f'<input type="radio" id="{ident}" name="client-{client_id}" '
                       f'value="{status}"{checked}>\n'
                       f'<label for="{ident}">{status.capitalize()}</label>')
    return Markup("\n".join(choices))


@bp.post("/group-sessions/<int:session_id>/attendance")
@allow("admin", "coordinator", "clinician")
def take_attendance(session_id: int):
    marks = []
    for key, value in request.form.items():
        if key.startswith("client-") and key[7:].isdigit() and value in ATTENDANCE_STATUSES:
            marks.append({"client_id": int(key[7:]), "status": value})
    back = request.form.get("date") or None
    target = url_for("web.today", date=back, _anchor=f"session-{session_id}")
    if not marks:
        flash("Nothing was marked, so nothing changed.")
        return redirect(target)
    try:
        enrollments.record_attendance(session_id, marks, current_user.id, now(), policy(),
                                      role=current_user.role,
                                      reason=(request.form.get("reason") or "").strip() or None)
    except DomainError as exc:
        db.session.rollback()
        if exc.status == 404:
            raise
        flash(exc.message)
        return redirect(target)
    audited("update", "group_session", session_id, attendance=marks)
    flash(f"Attendance saved for {len(marks)} {'person' if len(marks) == 1 else 'people'}.")
    return redirect(target)
