"""The "I'd like to come back" page (`GET/POST /come-back`) and the words it shares
with its JSON twin `POST /api/v1/public/returns`.

Only a name and one way to reach the person are asked for; nobody is asked to
explain. Every visitor gets the same warm answer, known to the program or not.
Both doors are rate-limited per client address and per submitted email/phone.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import time

from flask import Blueprint, current_app, render_template, request
from flask_limiter.util import get_remote_address

from blueprints.checkin import slot_choices
from blueprints.limits import limiter
from scheduler.errors import DomainError
from scheduler.messages import contact_for
from scheduler.models import db
from scheduler.services import checkins
from scheduler.services.clients import email_key, phone_key
from scheduler.services.returns import request_problems, submit_return

log = logging.getLogger("regroup.comeback")

bp = Blueprint("comeback", __name__)

ACKNOWLEDGEMENT = ("Thank you. We're glad you reached out. You don't have to explain "
                   "anything: we'll figure this out together.")
NEXT_STEPS = [
    "Someone from our team will get in touch soon, using the phone number or email "
    "address you gave us.",
    "Together you'll pick a time for a short check-in: in person, by phone or by video.",
    "Then we'll find the group that fits your life now. Coming back is rarely starting "
    "over.",
]


def steady(view):
    """Both public doors answer no sooner than ``PUBLIC_FORM_SECONDS`` (0.1 s): a
    person the program already knows and a new one take different work, and the
    time it took must not tell anyone which."""

    @functools.wraps(view)
    def paced(*args, **kwargs):
        started = time.monotonic()
        try:
            return view(*args, **kwargs)
        finally:
            left = float(current_app.config.get("PUBLIC_FORM_SECONDS", 0.1)) - (
                time.monotonic() - started)
            if left > 0:
                time.sleep(left)

    return paced


def ip_limit() -> str:
    return current_app.config.get("RETURNS_PUBLIC_IP_LIMIT", "10 per minute;60 per day")


def address_limit() -> str:
    return current_app.config.get("RETURNS_PUBLIC_ADDRESS_LIMIT", "5 per hour;20 per day")


def address_key() -> str:
    """The submitted email or phone, normalised and hashed (never stored plainly);
    the client address when neither is given."""
    data = request.get_json(silent=True) if request.is_json else request.form
    key = None
    if hasattr(data, "get"):
        email, phone = data.get("email"), data.get("phone")
        key = (email_key(email) if isinstance(email, str) else None) or (
            phone_key(phone) if isinstance(phone, str) else None)
    if key is None:
        return f"ip:{get_remote_address()}"
    return "addr:" + hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()[:32]


def _too_many(_limit):
    return current_app.make_response((render_template("come_back_wait.html"), 429))


@bp.errorhandler(429)
def _rate_limited(_exc):
    return _too_many(None)


FIELDS = ("name", "phone", "email", "message")


@bp.get("/come-back")
def form():
    return render_template("come_back.html", values={}, errors={})


@bp.post("/come-back")
@limiter.limit(ip_limit, on_breach=_too_many)
@limiter.limit(address_limit, key_func=address_key, on_breach=_too_many)
@steady
def submit():
    values = {name: request.form.get(name, "") for name in FIELDS}
    _cleaned, problems = request_problems(values)
    if problems:  # every problem at once, each next to its field
        return render_template("come_back.html", values=values, errors=problems), 422
    try:
        asked, _ = submit_return(values, "web", current_app.config["CLOCK"]())
    except DomainError as exc:
        db.session.rollback()
        errors = {exc.field or "name": exc.message}
        return render_template("come_back.html", values=values, errors=errors), 422
    except Exception:
        db.session.rollback()
        log.exception("could not record a return request from the page")
        return render_template("come_back.html", values=values, errors={},
                               unavailable=True), 503
    token = checkins.link_token(asked.id, current_app.config["SECRET_KEY"])
    return render_template("come_back_thanks.html", acknowledgement=ACKNOWLEDGEMENT,
                           next_steps=NEXT_STEPS, token=token,
                           choices=slot_choices(current_app.config["CLOCK"]()),
                           contact=contact_for(None))
