"""One group session: move it, cancel it or put it back on, from its cohort's page,
seeing first who will be told and how. Changing it goes through the one use case
(``cohorts.change_session``), which pins it, raises its revision and tells people."""

from __future__ import annotations

from datetime import time

from flask import flash, redirect, render_template, request, url_for

from blueprints.web import bp
from blueprints.web.helpers import audited, date_arg, now, policy
from scheduler.errors import DomainError, InvalidValue, NotFound
from scheduler.models import GroupSession, db
from scheduler.services import cohorts, console
from scheduler.services.common import get
from scheduler.text import refusal
from scheduler.timeutil import human_when, local_instant, to_local

ACTIONS = ("move", "cancel", "restore")
NOTICE_WORDS = {"cancellation": "a cancellation notice", "session_moved": "the new time",
                "session_restored": "that it is on again"}


def _values(values) -> dict:
    """The change asked for, checked: action, new start (move), reason (cancel)."""
    action = values.get("action") or ""
    if action not in ACTIONS:
        raise InvalidValue("Choose move, cancel or put back on", field="action")
    out = {"action": action, "starts_at": None, "reason": None}
    if action == "move":
        day = date_arg("date")
        try:
            at = time.fromisoformat((values.get("time") or "").strip())
        except ValueError:
            raise InvalidValue("Enter the new time as HH:MM, e.g. 18:30",
                               field="time") from None
        if day is None:
            raise InvalidValue("Choose the new date", field="date")
        out["starts_at"] = local_instant(day, at)
        if out["starts_at"] <= now():
            raise InvalidValue("The new time must be in the future", field="date")
    if action == "cancel":
        reason = (values.get("reason") or "").strip()
        if not reason:
            raise InvalidValue("Say why (the people told see it)", field="reason")
        problem = refusal(reason, multiline=True)
        if problem:
            raise InvalidValue(problem, field="reason")
        out["reason"] = reason[:200]
    return out


def _session_of(cohort_id: int, session_id: int) -> GroupSession:
    """The group session, or 404 when it is not this group's."""
    session = get(GroupSession, session_id, "Group session")
    if session.cohort_id != cohort_id:
        raise NotFound("That group session is not this group's")
    return session


def _page(cohort_id: int, session_id: int, *, errors=None, preview=None, values=None,
          status: int = 200):
    session = _session_of(cohort_id, session_id)
    return render_template("console/session.html", session=session,
                           local=to_local(session.starts_at), preview=preview,
                           values=values or {}, errors=errors or {},
                           notice_words=NOTICE_WORDS, started=session.starts_at <= now(),
                           policy_days=policy().change_notice_days,
                           ), status


@bp.get("/cohorts/<int:cohort_id>/sessions/<int:session_id>")
def group_session(cohort_id: int, session_id: int):
    """The session; with ``action`` it previews the change and asks to confirm."""
    if not request.args.get("action"):
        return _page(cohort_id, session_id)
    try:
        wanted = _values(request.args)
    except DomainError as exc:
        return _page(cohort_id, session_id, errors={exc.field or "action": exc.message},
                     values=request.args, status=exc.status)
    preview = console.session_change_preview(session_id, now(), policy(),
                                             action=wanted["action"],
                                             starts_at=wanted["starts_at"])
    if preview.people:  # the preview names who will be told
        audited("read", "group_session", session_id, told=[p.id for p in preview.people])
    return _page(cohort_id, session_id, preview=preview, values=request.args)


@bp.post("/cohorts/<int:cohort_id>/sessions/<int:session_id>")
def change_group_session(cohort_id: int, session_id: int):
    _session_of(cohort_id, session_id)
    try:
        wanted = _values(request.form)
        preview = console.session_change_preview(session_id, now(), policy(),
                                                 action=wanted["action"],
                                                 starts_at=wanted["starts_at"])
        audited("update", "group_session", session_id, change=wanted["action"],
                starts_at=wanted["starts_at"].isoformat() if wanted["starts_at"] else None,
                reason=wanted["reason"], told=len(preview.people))
        row = cohorts.change_session(
            session_id, now(), starts_at=wanted["starts_at"],
            status={"cancel": "cancelled", "restore": "scheduled"}.get(wanted["action"]),
            cancel_reason=wanted["reason"])
    except DomainError as exc:
        db.session.rollback()
        return _page(cohort_id, session_id, errors={exc.field or "action": exc.message},
                     values=request.form, status=exc.status)
    told = len(preview.people)
    done = {"move": f"moved to {human_when(row.starts_at)}",
            "cancel": "cancelled", "restore": "is on again"}[wanted["action"]]
    flash(f"The group session {done}. "
          + (f"{told} {'person is' if told == 1 else 'people are'} being told."
             if told else "Nobody needed a message now (reminders and calendars carry it)."))
    return redirect(url_for("web.cohort", cohort_id=cohort_id, _anchor="upcoming"))
