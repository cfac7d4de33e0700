"""Returners: the queue of people asking to come back, and one request's page where
a coordinator books the check-in, records the re-entry answers, reads the ranked
options aloud and places the person with one click.

Times are typed and shown in America/New_York. Every read of a request and every
change is audited; bad input re-renders the page with 422 and names the field.
"""

from __future__ import annotations

from datetime import date, time

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from blueprints.web import bp
from blueprints.web.helpers import audited, int_arg, now, policy
from scheduler.errors import DomainError, InvalidValue
from scheduler.models import (
    CHECKIN_MODES,
    DAYPARTS,
    PREFERENCES,
    USING_AGAIN,
    WEEKDAYS,
    Client,
    Cohort,
    ReturnRequest,
    db,
)
from scheduler.services import checkins, clients, console, outreach, reports
from scheduler.services import returns as service
from scheduler.services.common import get
from scheduler.timeutil import human_when, local_instant, to_local

MODE_WORDS = {"in_person": "In person", "phone": "By phone", "video": "By video"}
USING_WORDS = {"": "Not asked or not answered", "yes": "Yes", "no": "No",
               "prefer_not_to_say": "Prefers not to say"}
PREFERENCE_WORDS = {"no_preference": "No preference", "same_group": "Same group as before",
                    "fresh_group": "A fresh group"}
KIND_WORDS = {"resume": "Pick up in the same group", "join": "Join a running group",
              "fresh": "A fresh group of people coming back", "waitlist": "Wait for a seat"}
CHANNEL_WORDS = {"web": "Web form", "phone": "Phone", "email": "Email",
                 "in_person": "In person"}
MAX_NOTES = 2000
OPEN_TIMES_SHOWN = 4  # the soonest published check-in times offered on a request's page
OPTIONS_SHOWN = 8  # the best placement options in view; a link shows all of them


def _words():
    return {"mode_words": MODE_WORDS, "using_words": USING_WORDS,
            "preference_words": PREFERENCE_WORDS, "kind_words": KIND_WORDS,
            "channel_words": CHANNEL_WORDS, "weekdays": WEEKDAYS, "dayparts": DAYPARTS,
            "modes": CHECKIN_MODES}


@bp.get("/returners")
def returners():
    queue = reports.returners_queue(now(), page=int_arg("page") or 1)
    long = outreach.long_waits(now(), policy(), page=int_arg("waits_page") or 1)
    audited("read", "return_request", None,
            shown=[r.request.id for r in queue.open + queue.recent]
            + [w.request.id for w in long.waits])
    return render_template("console/returners.html", queue=queue, long_waits=long,
                           alert_days=policy().waiting_alert_days, **_words())


def _page(return_id: int, *, errors: dict | None = None, form=None,
          form_name: str | None = None, status: int = 200):
    """The request page; after a refused form, ``form_name`` says which form to
    refill from what was sent (the other forms show what is stored)."""
    page = reports.returner_page(return_id, now(), policy())
    check_in_local = to_local(page.check_in.at) if page.check_in else None
    # open times are offered while nothing is booked or done (a cancelled one counts
    # as nothing)
    needs_time = page.check_in is None or page.check_in.status == "cancelled"
    open_times = (checkins.open_slots(now(), policy(), limit=OPEN_TIMES_SHOWN)
                  if page.request.status == "open" and needs_time else [])
    return render_template("console/returner.html", page=page, errors=errors or {},
                           open_times=open_times, options_shown=(
                               None if request.args.get("options") == "all" else OPTIONS_SHOWN),
                           form=form or {}, form_name=form_name,
                           check_in_local=check_in_local,
                           location_names=page.locations, policy=policy(),
                           today=to_local(now()).date(), find=_find(page),
                           **_words()), status


def _find(page):
    """Client records matching the "someone we know?" search, without this one."""
    q = (request.args.get("find") or "").strip()
    if not q:
        return None
    return {"q": q, "rows": [c for c in console.search_clients(q, limit=10)
                             if c.id != page.request.client_id]}


@bp.get("/returners/<int:return_id>")
def returner(return_id: int):
    result = _page(return_id)
    audited("read", "return_request", return_id)
    return result


def _refused(return_id: int, exc: DomainError, form=None, form_name: str | None = None):
    """Re-render the request page with the problem next to its field."""
    db.session.rollback()
    if exc.status == 404:
        raise exc
    return _page(return_id, errors={exc.field or "form": exc.message}, form=form,
                 form_name=form_name, status=exc.status)


def _check_in_values(form) -> dict:
    day_text, time_text = (form.get("date") or "").strip(), (form.get("time") or "").strip()
    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        raise InvalidValue("Enter the check-in date as YYYY-MM-DD", field="date") from None
    try:
        at = time.fromisoformat(time_text)
    except ValueError:
        raise InvalidValue("Enter the check-in time as HH:MM, e.g. 14:30",
                           field="time") from None
    mode = form.get("mode") or ""
    if mode not in CHECKIN_MODES:
        raise InvalidValue("Choose in person, by phone or by video", field="mode")
    minutes_text = (form.get("minutes") or "30").strip()
    if not minutes_text.isdigit() or not 5 <= int(minutes_text) <= 240:
        raise InvalidValue("Minutes between 5 and 240", field="minutes")
    staff_text = (form.get("staff_id") or "").strip()
    location_text = (form.get("location_id") or "").strip()
    for name, text in (("staff_id", staff_text), ("location_id", location_text)):
        if text and not text.isdigit():
            raise InvalidValue("Choose from the list", field=name)
    return {"at": local_instant(day, at), "mode": mode, "minutes": int(minutes_text),
            "staff_id": int(staff_text) if staff_text else None,
            "location_id": int(location_text) if location_text else None,
            "status": "done" if form.get("done") == "on" else "booked"}


@bp.post("/returners/<int:return_id>/check-in")
def book_check_in(return_id: int):
    form = request.form
    try:
        values = _check_in_values(request.form)
        before = service.current_check_in(return_id)
        row = service.book_check_in(return_id, values.pop("at"), values.pop("mode"), now(),
                                    **values)
    except DomainError as exc:
        # the rule names the instant ("at") and the status; the form has date and done
        exc.field = {"at": "date", "status": "done"}.get(exc.field, exc.field)
        return _refused(return_id, exc, form, "check_in")
    audited("update", "return_request", return_id, what="check_in", check_in_id=row.id,
            moved=before is not None, status=row.status)
    verb = "moved" if before is not None else "booked"
    if row.status == "done":
        verb = "recorded as done"
    flash(f"Check-in {verb}: {MODE_WORDS[row.mode].lower()}, {human_when(row.at)}.")
    return redirect(url_for("web.returner", return_id=return_id, _anchor="check-in"))


@bp.post("/returners/<int:return_id>/check-in/time")
def book_open_time(return_id: int):
    """One click books a published check-in time for the person (the service writes
    the audit row naming who booked it)."""
    slot_id = int_arg("slot_id")
    try:
        if slot_id is None:
            raise InvalidValue("Choose one of the open times", field="slot_id")
        row = checkins.book_slot(return_id, slot_id, now(), policy(), staff_id=current_user.id)
    except DomainError as exc:
        if exc.field == "slot_id" and exc.status == 404:  # a time that is not there
            exc = InvalidValue("That time is not on the list; choose one of the open times",
                               field="slot_id")
        return _refused(return_id, exc)
    flash(f"Check-in booked: {MODE_WORDS[row.mode].lower()}, {human_when(row.at)}.")
    return redirect(url_for("web.returner", return_id=return_id, _anchor="check-in"))


@bp.post("/returners/<int:return_id>/check-in/cancel")
def cancel_check_in(return_id: int):
    try:
        row = service.cancel_check_in(return_id, now())
    except DomainError as exc:
        return _refused(return_id, exc)
    audited("update", "return_request", return_id, what="check_in_cancelled",
            check_in_id=row.id)
    flash("Check-in cancelled.")
    return redirect(url_for("web.returner", return_id=return_id, _anchor="check-in"))


def _reentry_values(form) -> dict:
    using = form.get("using_again") or ""
    if using and using not in USING_AGAIN:
        raise InvalidValue("Choose yes, no, prefers not to say, or leave it", field="using_again")
    preference = form.get("preference") or "no_preference"
    if preference not in PREFERENCES:
        raise InvalidValue("Choose same group, fresh group or no preference",
                           field="preference")
    weekdays = form.getlist("weekdays")
    if not set(weekdays) <= set(WEEKDAYS):
        raise InvalidValue("Choose days from the list", field="weekdays")
    dayparts = form.getlist("dayparts")
    if not set(dayparts) <= set(DAYPARTS):
        raise InvalidValue("Choose morning, afternoon or evening", field="dayparts")
    locations = form.getlist("location_ids")
    if not all(v.isdigit() for v in locations):
        raise InvalidValue("Choose locations from the list", field="location_ids")
    notes = (form.get("notes") or "").strip()
    if len(notes) > MAX_NOTES:
        raise InvalidValue(f"Keep notes under {MAX_NOTES} characters", field="notes")
    return {"using_again": using or None, "preference": preference,
            "weekdays": [d for d in WEEKDAYS if d in weekdays],
            "dayparts": [d for d in DAYPARTS if d in dayparts],
            "location_ids": sorted({int(v) for v in locations}), "notes": notes or None}


@bp.post("/returners/<int:return_id>/reentry")
def record_reentry(return_id: int):
    form = request.form
    try:
        row = service.record_reentry(return_id, _reentry_values(request.form),
                                     current_user.id, now())
    except DomainError as exc:
        return _refused(return_id, exc, form, "reentry")
    # the answer itself stays out of the audit trail; only that answers were recorded
    audited("update", "return_request", return_id, what="reentry", reentry_id=row.id)
    flash("Answers saved. The options below use them.")
    return redirect(url_for("web.returner", return_id=return_id, _anchor="options"))


@bp.post("/returners/<int:return_id>/place")
def place(return_id: int):
    option_id = (request.form.get("option_id") or "").strip()
    credit_text = (request.form.get("credited_sessions") or "").strip()
    try:
        if credit_text and not credit_text.isdigit():
            raise InvalidValue("Credit as a whole number of sessions",
                               field="credited_sessions")
        result = service.place(return_id, option_id, current_user.id, now(), policy(),
                               credited_sessions=int(credit_text) if credit_text else None)
    except DomainError as exc:
        return _refused(return_id, exc)
    audited("update", "return_request", return_id, what="placed", option_id=option_id,
            decision_id=result.decision.id,
            enrollment_id=result.enrollment.id if result.enrollment else None,
            waitlist_entry_id=result.waitlist_entry.id if result.waitlist_entry else None)
    cohort = db.session.get(Cohort, result.decision.cohort_id) if result.decision.cohort_id \
        else None
    flash(f"Placed: {KIND_WORDS[result.option.kind].lower()}"
          + (f" ({cohort.name})." if cohort else "."))
    return redirect(url_for("web.returner", return_id=return_id, _anchor="placed"))


@bp.post("/returners/<int:return_id>/confirm-client")
def confirm_client(return_id: int):
    """The coordinator confirmed who this new person is (or matched them by hand)."""
    row = get(ReturnRequest, return_id, "Return request")
    clients.confirm_client(row.client_id, current_user.id, now())
    audited("update", "client", row.client_id, what="confirmed", return_request_id=return_id)
    flash(f"Confirmed: {row.name} is a known client now.")
    return redirect(url_for("web.returner", return_id=return_id))


@bp.post("/returners/<int:return_id>/link")
def link_client(return_id: int):
    """The person is someone we know: the request moves to their own record."""
    target = int_arg("client_id")
    if target is None:
        return _refused(return_id, InvalidValue("Choose a client record", field="form"))
    try:
        service.link_to_client(return_id, target, current_user.id, now())
    except DomainError as exc:
        return _refused(return_id, exc)
    client = db.session.get(Client, target)
    flash(f"Linked to {client.name}'s record: their history and progress count now.")
    return redirect(url_for("web.returner", return_id=return_id))


@bp.post("/returners/<int:return_id>/close")
def close(return_id: int):
    try:
        service.close_return(return_id, now())
    except DomainError as exc:
        return _refused(return_id, exc)
    audited("update", "return_request", return_id, what="closed")
    flash("Request closed. The person can ask again at any time.")
    return redirect(url_for("web.returners"))
