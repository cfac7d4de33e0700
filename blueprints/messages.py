"""Client-side message controls: the signed unsubscribe link and the SMS gateway's
inbound webhook (STOP / START). No login: the link's signature is the credential."""

from __future__ import annotations

import hmac

from flask import Blueprint, abort, current_app, render_template, request

from blueprints.api import now
from scheduler.messages import read_unsubscribe_token
from scheduler.models import Client, db
from scheduler.services import outbox
from scheduler.services.clients import phone_key

bp = Blueprint("messages", __name__)

STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
START_WORDS = {"START", "UNSTOP", "YES"}
CHANNEL_WORDS = {"email": "emails", "sms": "text messages",
                 "waiting_notes": "the weekly notes while you wait"}


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    """GET asks (mail scanners follow links); POST stops the channel, including the
    one-click POST mail clients send from the List-Unsubscribe header."""
    found = read_unsubscribe_token(current_app.config["SECRET_KEY"], token)
    if found is None or db.session.get(Client, found[0]) is None:
        abort(404)
    client_id, channel = found
    if request.method == "POST":
        outbox.opt_out(client_id, channel, now())
        return render_template("unsubscribe.html", done=True,
                               what=CHANNEL_WORDS[channel], token=token)
    return render_template("unsubscribe.html", done=False, what=CHANNEL_WORDS[channel],
                           token=token)


@bp.post("/sms/inbound")
def sms_inbound():
    """The gateway forwards replies here: form or JSON with ``from`` and ``body``,
    and the shared key in ``X-Gateway-Key``. STOP stops texts to that number;
    START turns them back on."""
    expected = current_app.config.get("SMS_GATEWAY_KEY") or ""
    given = request.headers.get("X-Gateway-Key", "")
    if not expected or not hmac.compare_digest(given, expected):
        abort(403)
    data = request.get_json(silent=True) or request.form
    number, body = phone_key(str(data.get("from", ""))), str(data.get("body", ""))
    word = body.strip().split(" ")[0].upper() if body.strip() else ""
    if number is None:
        return {"error": "invalid", "field": "from"}, 422
    clients = list(db.session.scalars(
        db.select(Client).where(Client.phone_key == number).order_by(Client.id)))
    if word in STOP_WORDS:
        for client in clients:
            outbox.opt_out(client.id, "sms", now(), commit=False)
        db.session.commit()
        return {"status": "stopped", "clients": len(clients)}
    if word in START_WORDS:
        for client in clients:
            client.sms_opt_out = False
        db.session.commit()
        return {"status": "started", "clients": len(clients)}
    return {"status": "ignored"}
