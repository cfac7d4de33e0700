"""A client's seat offer, opened from the link in their message (no login).

The link's token is the only key. Every outcome gets a clear, kind page: an offer
that ran out, one already answered, and a link we do not recognise are states,
not errors. Answers redirect back to the offer page, which shows where things stand.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, redirect, render_template, url_for

from calendars import tokens
from scheduler.errors import DomainError, NotFound
from scheduler.messages import contact_for
from scheduler.models import db
from scheduler.schedule import pattern_in_words
from scheduler.services import feed_tokens, waitlist
from scheduler.timeutil import human_when

bp = Blueprint("offers", __name__, url_prefix="/offers")



def _now():
    return current_app.config["CLOCK"]()


def _private(response, status: int = 200):
    """Offer pages carry a secret in their address: keep them out of caches and
    out of the Referer header of any link followed from them."""
    response = current_app.make_response((response, status))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _unknown():
    db.session.rollback()
    return _private(render_template("offers/unknown.html"), 404)


def _page(view: waitlist.OfferView, token: str):
    tz = ZoneInfo(view.location.timezone)
    session = view.group_session
    feed = None
    if view.offer.status == "accepted":
        token_now = tokens.current("client", view.offer.client_id)
        feed = feed_tokens.urls(current_app.config["PUBLIC_BASE_URL"], token_now) if (
            token_now) else None
    return render_template(
        "offers/offer.html",
        token=token,
        offer=view.offer,
        status=view.offer.status,
        first_session=human_when(session.starts_at, tz) if session else None,
        pattern=pattern_in_words(view.cohort.weekday_list, view.cohort.start_time),
        location=view.location,
        room=view.cohort.room,
        hold_until=human_when(view.offer.expires_at, tz),
        in_line=view.entry is not None and view.entry.status in waitlist.LIVE,
        contact=contact_for(view.location),
        feed=feed,
    )


@bp.get("/<token>")
def show(token: str):
    try:
        view = waitlist.view_offer(token, _now())
    except NotFound:
        return _unknown()
    return _private(_page(view, token))


@bp.post("/<token>/accept")
def accept(token: str):
    try:
        waitlist.accept_offer(token, _now(), current_app.config["POLICY"])
    except NotFound:
        return _unknown()
    except DomainError:
        # expired, already answered, or the group changed: the offer page says which
        db.session.rollback()
    return redirect(url_for("offers.show", token=token), code=303)


@bp.post("/<token>/decline")
def decline(token: str):
    """"Not this time": the seat goes on and they keep their place in line."""
    return _decline(token, keep_place=True)


@bp.post("/<token>/leave")
def leave(token: str):
    """"Take me off the list": the seat goes on and their place in line ends."""
    return _decline(token, keep_place=False)


def _decline(token: str, *, keep_place: bool):
    try:
        waitlist.decline_offer(token, _now(), keep_place=keep_place)
    except NotFound:
        return _unknown()
    except DomainError:
        db.session.rollback()
    return redirect(url_for("offers.show", token=token), code=303)
