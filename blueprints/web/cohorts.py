"""Cohorts: the week grid per location, forming cohorts (open, open early, merge),
and one cohort's page with its waitlist controls and open seat offers."""

from __future__ import annotations

from datetime import time

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup, escape

from blueprints.web import bp, clock_words, seats_bar, url_prefix
from blueprints.web.helpers import audited, int_arg, now, policy
from scheduler.errors import DomainError, InvalidValue, NotFound
from scheduler.models import Cohort, Enrollment, SeatOffer, WaitlistEntry, db
from scheduler.services import console, enrollments, returns, waitlist
from scheduler.services.common import get


def _forming_here() -> list:
    """Forming cohorts at the site this person chose (every site if none)."""
    return returns.forming_cohorts(now(), policy(), location_id=current_user.location_id)


def week_html(grid: console.WeekGrid, cohort_url: str) -> Markup:
    """A site's running groups as a week: a table by start time and weekday, and the
    same as a list per day for narrow screens; each group in every cell of its days,
    with its seats and how many wait. Written in one pass (a page of ten sites at ten
    times the demo shows each of fifty groups six times, and as template loops the
    grid was most of the page's time): each group's piece is drawn once. Names are
    typed by staff and escaped; the rest are our numbers and fixed words."""
    cohort_url = escape(cohort_url)
    # each group's link, seats bar and line ("N waiting", or nothing), drawn once
    pieces: dict[int, tuple[str, str, str]] = {}
    for cards in grid.cells.values():
        for card in cards:
            cohort_id = int(card.cohort.id)
            if cohort_id not in pieces:
                waiting = int(card.waiting)
                pieces[cohort_id] = (
                    f'<a href="{cohort_url}{cohort_id}">{escape(card.cohort.name)}</a>',
                    seats_bar(card.seats),
                    f'<span class="small-print">{waiting} waiting</span>' if waiting else "")

    def drawn(t: time, d: str) -> list[tuple[str, str, str]]:
        return [pieces[int(card.cohort.id)] for card in grid.cells.get((t, d), ())]

    clocks = {t: clock_words(t) for t in grid.times}
    head = "".join(f'<th scope="col">{d.capitalize()}</th>' for d in grid.days)
    rows = []
    for t in grid.times:
        cells = "".join(
            "<td>" + "".join(f'<div class="cohort-cell">\n{link}\n{bar}{line}\n</div>'
                             for link, bar, line in drawn(t, d)) + "</td>"
            for d in grid.days)
        rows.append(f'<tr>\n<th scope="row">{clocks[t]}</th>\n{cells}\n</tr>')
    days = []
    for d in grid.days:
        items = [f'<li><span class="nw">{clocks[t]}</span> {link}{bar}'
                 f'{" " + line if line else ""}</li>'
                 for t in grid.times for link, bar, line in drawn(t, d)]
        if items:
            days.append(f'<h3>{d.capitalize()}</h3>\n<ul class="plain">\n'
                        + "\n".join(items) + "\n</ul>")
    name = escape(grid.location.name)
    return Markup(
        f'<div class="grid-scroll" tabindex="0" role="region" aria-label="{name} week">\n'
        f'<table class="week">\n<thead><tr><th scope="col">Starts</th>{head}</tr></thead>\n'
        f'<tbody>\n{"".join(rows)}\n</tbody>\n</table>\n</div>\n'
        f'<div class="day-list">\n{"".join(days)}\n</div>')


def _cohorts_page(errors: dict | None = None, status: int = 200, forming=None):
    week = console.week_grid(now(), location_id=current_user.location_id,
                             page=int_arg("page") or 1)
    cohort_url = url_prefix("web.cohort", "cohort_id")
    weeks = {g.location.id: week_html(g, cohort_url) for g in week.grids if g.times}
    return render_template("console/cohorts.html", grids=week.grids, week=week, weeks=weeks,
                           sites=week.sites,
                           forming=forming if forming is not None else _forming_here(),
                           policy=policy(), errors=errors or {}), status


@bp.get("/cohorts")
def cohorts():
    forming = _forming_here()
    result = _cohorts_page(forming=forming)
    members = [m.client_id for f in forming for m in f.members]
    if members:  # the forming cohorts name the people gathered in them
        audited("read", "cohort", None, forming_member_client_ids=members)
    return result


@bp.post("/cohorts/<int:cohort_id>/open")
def open_cohort(cohort_id: int):
    early = request.form.get("early") == "1"
    try:
        cohort, made = returns.open_forming(cohort_id, current_user.id, now(), policy(),
                                            early=early)
    except DomainError as exc:
        return _refused_forming(cohort_id, exc)
    audited("update", "cohort", cohort_id, what="opened", early=early, enrolled=len(made))
    flash(f"{cohort.name} is open: {len(made)} "
          f"{'person' if len(made) == 1 else 'people'} enrolled, first group session "
          f"{cohort.starts_on:%a %b} {cohort.starts_on.day}.")
    return redirect(url_for("web.cohort", cohort_id=cohort_id))


@bp.post("/cohorts/<int:cohort_id>/merge")
def merge_cohort(cohort_id: int):
    into = int_arg("into_cohort_id")
    try:
        if into is None:
            raise InvalidValue("Choose the running cohort to merge into",
                               field="into_cohort_id")
        target, made = returns.merge_forming(cohort_id, into, current_user.id, now(),
                                             policy())
    except DomainError as exc:
        if isinstance(exc, NotFound) and exc.field == "cohort_id" and into is not None:
            exc = InvalidValue(f"Cohort {into} was not found", field="into_cohort_id")
        return _refused_forming(cohort_id, exc)
    audited("update", "cohort", cohort_id, what="merged", into_cohort_id=target.id,
            enrolled=len(made))
    flash(f"{len(made)} {'person' if len(made) == 1 else 'people'} moved into "
          f"{target.name}.")
    return redirect(url_for("web.cohort", cohort_id=target.id))


def _refused_forming(cohort_id: int, exc: DomainError):
    db.session.rollback()
    if exc.status == 404:
        raise exc
    return _cohorts_page({cohort_id: (exc.field or "form", exc.message)}, exc.status)


def _cohort_page(cohort_id: int, errors: dict | None = None, status: int = 200):
    page = console.cohort_page(cohort_id, now())
    others = db.session.execute(
        sa.select(Cohort.id, Cohort.name).where(Cohort.status == "running",
                                                Cohort.id != cohort_id)
        .order_by(Cohort.name)).all()
    return render_template("console/cohort.html", page=page, now=now(), others=others,
                           errors=errors or {}), status


# what a coordinator can do to one person on the roster, and what it says afterwards
ROSTER_ACTIONS = {
    "completed": "{name} completed the group.",
    "withdrawn": "{name} left the group; their seat went to the next in line.",
    "pause": "{name} is paused; their seat is held.",
    "pause_release": "{name} is paused and their seat went to the next in line.",
    "resume": "{name} is back in the group.",
    "move": "{name} moved to another group with every session done carried over.",
    "credit": "{name}'s credited sessions are updated.",
}


@bp.post("/cohorts/<int:cohort_id>/enrollments/<int:enrollment_id>")
def roster_action(cohort_id: int, enrollment_id: int):
    """One roster change, through the use cases (seats freed or taken through the one
    seat path, so offers follow at once; each change audited with its reason)."""
    enrollment = db.session.get(Enrollment, enrollment_id)
    if enrollment is None or enrollment.cohort_id != cohort_id:
        raise NotFound(f"No enrollment {enrollment_id} in this cohort")
    form = request.form
    action, reason = form.get("action") or "", (form.get("reason") or "").strip()[:300]
    name = enrollment.client.name
    try:
        if action in ("completed", "withdrawn", "pause", "pause_release", "resume"):
            status = {"pause": "paused", "pause_release": "paused",
                      "resume": "active"}.get(action, action)
            enrollments.change_status(enrollment_id, status, now(), policy(),
                                      release_hold=action == "pause_release",
                                      staff_id=current_user.id, reason=reason or None)
        elif action == "move":
            target = int_arg("to_cohort_id")
            if target is None:
                raise InvalidValue("Choose the group to move them to", field="to_cohort_id")
            enrollments.move(enrollment_id, target, now(), policy(),
                             staff_id=current_user.id, reason=reason or None)
        elif action == "credit":
            credit = int_arg("credited_sessions")
            if credit is None:
                raise InvalidValue("Give the number of sessions credited",
                                   field="credited_sessions")
            enrollments.set_credit(enrollment_id, credit, reason, now(),
                                   staff_id=current_user.id)
        else:
            raise InvalidValue("Choose what to do", field="action")
    except DomainError as exc:
        return _refused_entry(cohort_id, f"enrollment-{enrollment_id}", exc)
    flash(ROSTER_ACTIONS[action].format(name=name))
    return redirect(url_for("web.cohort", cohort_id=cohort_id, _anchor="roster"))


@bp.get("/cohorts/<int:cohort_id>")
def cohort(cohort_id: int):
    result = _cohort_page(cohort_id)
    audited("read", "cohort", cohort_id)
    return result


def _entry_of(cohort_id: int, entry_id: int) -> WaitlistEntry:
    entry = db.session.get(WaitlistEntry, entry_id)
    if entry is None or entry.cohort_id != cohort_id:
        raise NotFound(f"No waitlist entry {entry_id} in this cohort")
    return entry


def _refused_entry(cohort_id: int, key: str, exc: DomainError):
    db.session.rollback()
    if exc.status == 404:
        raise exc
    return _cohort_page(cohort_id, {key: (exc.field or "form", exc.message)}, exc.status)


@bp.post("/cohorts/<int:cohort_id>/waitlist/<int:entry_id>/move-up")
def waitlist_move_up(cohort_id: int, entry_id: int):
    get(Cohort, cohort_id, "Cohort")
    _entry_of(cohort_id, entry_id)
    reason = (request.form.get("reason") or "").strip()[:300]
    try:
        place = waitlist.move_up(entry_id, reason, now(), staff_id=current_user.id)
    except DomainError as exc:
        return _refused_entry(cohort_id, f"entry-{entry_id}", exc)
    audited("update", "waitlist_entry", entry_id, what="moved_up", cohort_id=cohort_id,
            reason=reason, position=place.position)
    flash(f"{place.entry.client.name} is now number {place.position} in line.")
    return redirect(url_for("web.cohort", cohort_id=cohort_id, _anchor="waitlist"))


@bp.post("/cohorts/<int:cohort_id>/waitlist/<int:entry_id>/remove")
def waitlist_remove(cohort_id: int, entry_id: int):
    get(Cohort, cohort_id, "Cohort")
    _entry_of(cohort_id, entry_id)
    reason = (request.form.get("reason") or "").strip()[:300]
    try:
        entry = waitlist.remove_entry(entry_id, reason, now(), staff_id=current_user.id)
    except DomainError as exc:
        return _refused_entry(cohort_id, f"entry-{entry_id}", exc)
    audited("update", "waitlist_entry", entry_id, what="removed", cohort_id=cohort_id,
            reason=reason)
    flash(f"{entry.client.name} is no longer in line for this cohort.")
    return redirect(url_for("web.cohort", cohort_id=cohort_id, _anchor="waitlist"))


@bp.post("/cohorts/<int:cohort_id>/offers/<int:offer_id>/answer")
def offer_answer(cohort_id: int, offer_id: int):
    get(Cohort, cohort_id, "Cohort")
    offer = db.session.get(SeatOffer, offer_id)
    if offer is None or offer.cohort_id != cohort_id:
        raise NotFound(f"No seat offer {offer_id} in this cohort")
    answer = request.form.get("answer") or ""
    client_id = offer.client_id
    try:
        waitlist.answer_for_client(offer_id, answer, now(), staff_id=current_user.id,
                                   policy=policy())
    except DomainError as exc:
        return _refused_entry(cohort_id, f"offer-{offer_id}", exc)
    audited("update", "seat_offer", offer_id, what=f"answered_{answer}", cohort_id=cohort_id,
            for_client=client_id)
    flash("Recorded: they took the seat." if answer == "accept"
          else "Recorded: they said no; the seat goes to the next in line.")
    return redirect(url_for("web.cohort", cohort_id=cohort_id, _anchor="offers"))
