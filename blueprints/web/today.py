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
                           sites=shown.sites,
                           roster_html=roster_html, started_by=now(),
                           days_back=policy().attendance_days_back,
                           long_waits=outreach.long_wait_count(now(), policy()),
                           alert_days=policy().waiting_alert_days)


def _choices(marked: str | None) -> str:
    """A roster line's attendance choices with ``marked`` checked, ``{s}`` and ``{c}``
    left for the session and client ids."""
    return "\n".join(
        f'<input type="radio" id="m-{{s}}-{{c}}-{status}" name="client-{{c}}" '
        f'value="{status}"{" checked" if marked == status else ""}>\n'
        f'<label for="m-{{s}}-{{c}}-{status}">{status.capitalize()}</label>'
        for status in ATTENDANCE_STATUSES)


# every line's choices, by the mark it has: one format call a line
CHOICES = {marked: _choices(marked) for marked in (None, *ATTENDANCE_STATUSES)}


def roster_html(session_id: int, lines, may_mark: bool, client_url: str) -> Markup:
    """A session's roster lines, each with its attendance choices, written in one pass:
    Today draws a couple of hundred at ten times the demo, and in the template each
    line's three dozen values were escaped one by one (most of the page's time). Only
    the person's name is typed by someone and it is escaped here; the rest are our
    integers and fixed status words."""
    session_id = int(session_id)
    client_url = escape(client_url)
    out = []
    for line in lines:
        client_id, name = int(line.client.id), escape(line.client.name)
        tags = ('<span class="tag">paused</span>'
                if line.enrollment.status == "paused" else "")
        mark = line.mark if line.mark in ATTENDANCE_STATUSES else None
        if mark:
            tags += f'<span class="tag mark-{mark}" data-mark="{mark}">{mark}</span>'
        marks = ""
        if may_mark:
            marks = (f'<fieldset class="marks"><legend class="visually-hidden">Attendance '
                     f'for {name}</legend>\n'
                     f'{CHOICES[mark].format(s=session_id, c=client_id)}\n</fieldset>')
        total = int(line.total)
        out.append(
            f'<li class="roster-line" data-client-id="{client_id}">\n<div class="who">'
            f'<a href="{client_url}{client_id}">{name}</a> '
            f'<span class="muted" title="group sessions done of {total}">'
            f'{int(line.done)}/{total}<span class="visually-hidden"> sessions done'
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
