"""A person's own check-in link (no login): pick a time staff published, move it,
or let it go. The link's token (their request id, signed) is the only key."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from scheduler.errors import DomainError, NotFound
from scheduler.messages import contact_for
from scheduler.models import Location, db
from scheduler.services import checkins, returns
from scheduler.timeutil import PROGRAM_TZ, human_when

bp = Blueprint("checkin", __name__, url_prefix="/check-in")
MODE_WORDS = {"in_person": "In person", "phone": "By phone", "video": "By video"}


def _now():
    return current_app.config["CLOCK"]()


def _private(body, status: int = 200):
    response = current_app.make_response((body, status))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def slot_choices(now) -> list[dict]:
    """The published times a person can pick, in words (shared with the thank-you page)."""
    out = []
    for view in checkins.open_slots(now, current_app.config["POLICY"]):
        tz = ZoneInfo(view.location.timezone) if view.location else PROGRAM_TZ
        where = (f" at {view.location.name}" if view.location and view.slot.mode == "in_person"
                 else "")
        out.append({"id": view.slot.id, "when": human_when(view.slot.starts_at, tz),
                    "how": MODE_WORDS[view.slot.mode] + where})
    return out


def _page(token: str, *, error: str | None = None, status: int = 200):
    try:
        ask = checkins.request_for(token, current_app.config["SECRET_KEY"])
    except NotFound:
        db.session.rollback()
        return _private(render_template("checkin/unknown.html"), 404)
    row = returns.current_check_in(ask.id)
    booked = None
    if row is not None and row.status == "booked":
        place = db.session.get(Location, row.location_id) if row.location_id else None
        booked = {"when": human_when(row.at), "how": MODE_WORDS[row.mode] + (
            f" at {place.name}, {place.address}" if place and row.mode == "in_person"
            else "")}
    return _private(render_template(
        "checkin/pick.html", token=token, open=ask.status == "open", booked=booked,
        done=row is not None and row.status == "done", choices=slot_choices(_now()),
        error=error, saved=request.args.get("saved"), contact=contact_for(None)), status)


@bp.get("/<token>")
def show(token: str):
    return _page(token)


@bp.post("/<token>")
def pick(token: str):
    try:
        ask = checkins.request_for(token, current_app.config["SECRET_KEY"])
        slot_id = int(request.form.get("slot_id", ""))
    except NotFound:
        db.session.rollback()
        return _private(render_template("checkin/unknown.html"), 404)
    except ValueError:
        return _page(token, error="Please pick one of the times below.", status=422)
    try:
        checkins.book_slot(ask.id, slot_id, _now(), current_app.config["POLICY"])
    except DomainError as exc:
        db.session.rollback()
        return _page(token, error=exc.message, status=409 if exc.status == 409 else 404)
    return redirect(url_for("checkin.show", token=token, saved="booked"), code=303)


@bp.post("/<token>/cancel")
def cancel(token: str):
    try:
        ask = checkins.request_for(token, current_app.config["SECRET_KEY"])
        returns.cancel_check_in(ask.id, _now())
    except NotFound:
        db.session.rollback()
        return _page(token)
    return redirect(url_for("checkin.show", token=token, saved="cancelled"), code=303)
