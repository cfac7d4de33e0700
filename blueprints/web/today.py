"""Today (or another day): every group session per location, its roster, and attendance."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup, escape

from blueprints.web import allow, bp
from blueprints.web.helpers import audited, date_arg, int_arg, now, policy
from scheduler.errors import DomainError
from scheduler.models import ATTENDANCE_STATUSES, db
from scheduler.services import console, enrollments, outreach
from scheduler.timeutil import local_today


@bp.get("/")
def today():
    current = local_today(now())
    day = date_arg("date") or current
    shown = console.today(now(), day, location_id=current_user.location_id,
                          page=int_arg("page") or 1)
    sessions = [s.group_session.id for d in shown.days for s in d.sessions]
    if sessions:
        audited("read", "today", None, group_sessions=sessions)
    return render_template("console/today.html", days=shown.days, shown=shown, day=day,
                           today=current,
                           sites=console.site_choices(),
                           roster_html=roster_html, started_by=now(),
                           days_back=policy().attendance_days_back,
                           long_waits=outreach.long_wait_count(now(), policy()),
                           alert_days=policy().waiting_alert_days)


def roster_html(session_id: int, lines, may_mark: bool, client_url: str) -> Markup:
    """A session's roster lines, each with its attendance choices, written in one pass:
    Today draws a couple of hundred at ten times the demo, and in the template each
    line's three dozen values were escaped one by one (most of the page's time). Only
    the person's name is typed by someone and it is escaped here; the rest are our
    integers and fixed status words."""
    session_id = int(session_id)
    out = []
    for line in lines:
        client_id, name = int(line.client.id), escape(line.client.name)
        tags = ('<span class="tag">paused</span>'
                if line.enrollment.status == "paused" else "")
        if line.mark:
            mark = escape(line.mark)
            tags += f'<span class="tag mark-{mark}" data-mark="{mark}">{mark}</span>'
        marks = ""
        if may_mark:
            choices = "\n".join(
                f'<input type="radio" id="m-{session_id}-{client_id}-{status}" '
                f'name="client-{client_id}" value="{status}"'
                f'{" checked" if line.mark == status else ""}>\n'
                f'<label for="m-{session_id}-{client_id}-{status}">{status.capitalize()}'
                f'</label>' for status in ATTENDANCE_STATUSES)
            marks = (f'<fieldset class="marks"><legend class="visually-hidden">Attendance '
                     f'for {name}</legend>\n{choices}\n</fieldset>')
        out.append(
            f'<li class="roster-line" data-client-id="{client_id}">\n<div class="who">'
            f'<a href="{escape(client_url)}{client_id}">{name}</a> '
            f'<span class="muted" title="group sessions done of {int(line.total)}">'
            f'{int(line.done)}/{int(line.total)}<span class="visually-hidden"> sessions done'
            f'</span></span> {tags}</div>\n{marks}\n</li>')
    return Markup("\n".join(out))


@bp.post("/group-sessions/<int:session_id>/attendance")
@allow("admin", "coordinator", "clinician")
def take_attendance(session_id: int):
    marks = []
    for key, value in request.form.items():
        if key.startswith("client-") and key[7:].isdigit() and value in ATTENDANCE_STATUSES:
            marks.append({"client_id": int(key[7:]), "status": value})
    back = request.form.get("date") or None
    page = int_arg("page")  # the page of sites it was saved from
    target = url_for("web.today", date=back, page=page if page and page > 1 else None,
                     _anchor=f"session-{session_id}")
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
