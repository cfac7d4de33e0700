"""Today: every group session today per location, its roster, and attendance."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from blueprints.web import allow, bp
from blueprints.web.helpers import audited, now, policy
from scheduler.models import ATTENDANCE_STATUSES
from scheduler.services import console, enrollments
from scheduler.timeutil import local_today


@bp.get("/")
def today():
    days = console.today(now())
    sessions = [s.group_session.id for d in days for s in d.sessions]
    if sessions:
        audited("read", "today", None, group_sessions=sessions)
    return render_template("console/today.html", days=days, day=local_today(now()),
                           statuses=ATTENDANCE_STATUSES)


@bp.post("/group-sessions/<int:session_id>/attendance")
@allow("admin", "coordinator", "clinician")
def take_attendance(session_id: int):
    marks = []
    for key, value in request.form.items():
        if key.startswith("client-") and key[7:].isdigit() and value in ATTENDANCE_STATUSES:
            marks.append({"client_id": int(key[7:]), "status": value})
    if marks:
        from flask_login import current_user

        enrollments.record_attendance(session_id, marks, current_user.id, now(), policy())
        audited("update", "group_session", session_id, attendance=marks)
        flash(f"Attendance saved for {len(marks)} "
              f"{'person' if len(marks) == 1 else 'people'}.")
    else:
        flash("Nothing was marked, so nothing changed.")
    return redirect(url_for("web.today", _anchor=f"session-{session_id}"))
