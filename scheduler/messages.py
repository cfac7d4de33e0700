"""Rendering a Notification into the words a person receives.

The words live in files: blueprints/templates/messages/<kind>.subject.txt, .txt,
.html and .sms.txt. This module only gathers the values they may use (a time, a
place when the client chose to show it, a neutral title, a link), so templates
stay discreet by default: the program's name reaches a template only when the
client opted in (``program``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from itsdangerous import BadSignature, URLSafeSerializer

from calendars.build import client_session_files, feed_uid_key
from scheduler.channels import OutgoingMessage
from scheduler.models import (
    CheckIn,
    Client,
    Cohort,
    GroupSession,
    Location,
    Notification,
    ReturnRequest,
    db,
)
from scheduler.schedule import pattern_in_words
from scheduler.services import checkins, feed_tokens
from scheduler.services.waitlist import offer_url
from scheduler.timeutil import PROGRAM_TZ, as_utc, human_when

KINDS = ("reminder", "checkin_reminder", "offer", "cancellation", "session_moved",
         "welcome_back", "cohort_opened", "outreach", "staff_follow_up", "placed",
         "waitlisted", "calendar_link", "fresh_joined", "forming_stalled", "still_waiting",
         "new_requests", "session_restored")
# messages about a seat or a place in line always say where: the person needs it to come
WHERE_KINDS = ("placed", "cohort_opened", "waitlisted", "offer", "fresh_joined",
               "still_waiting")
SESSION_KINDS = ("reminder", "cancellation", "session_moved", "session_restored")
# A session's calendar entry travels as a plain file attachment, not as an iTIP
# "text/calendar; method=PUBLISH" part: Outlook handles a calendar part as a meeting
# message (it refuses one whose METHOD does not match, and may open a PUBLISH as a new
# calendar), and Gmail shows its invitation card only for REQUEST with an organizer.
# As an attachment, Outlook, Gmail and Apple Mail all show a file that opens in the
# calendar app and adds the one event, which is all it is for.
ATTACHMENT_NAME, ATTACHMENT_TYPE = "group-session.ics", "application/ics"
NEUTRAL_TITLE = "Group session"
CHECKIN_MODES = {"in_person": "in person", "phone": "by phone", "video": "by video"}


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt="unsubscribe")


def unsubscribe_token(secret: str, client_id: int, channel: str) -> str:
    return _serializer(secret).dumps([client_id, channel])


def read_unsubscribe_token(secret: str, token: str) -> tuple[int, str] | None:
    """(client_id, channel) from a signed token, or None when it is not ours."""
    try:
        client_id, channel = _serializer(secret).loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(client_id, int) or channel not in ("email", "sms", "waiting_notes"):
        return None
    return client_id, channel


def _when(value: str | datetime | None, tz: ZoneInfo) -> str | None:
    if not value:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return human_when(as_utc(value), tz)


def _offer_link(payload: dict[str, Any]) -> str | None:
    if payload.get("offer_id") is not None:
        return offer_url(payload["offer_id"])
    return payload.get("url")


@dataclass
class Prepared:
    """What a group of messages needs, read once for them all: whose calendar app
    already follows their feed, the .ics of each session email's group session by
    (client, group session), and (when asked) the site to reach by default."""

    subscribed: frozenset[int]
    files: dict[tuple[int, int], bytes]

    @cached_property
    def reachable_site(self) -> Location | None:
        return _first_reachable_site()


def _session_email(n: Notification) -> tuple[int, int] | None:
    session_id = (n.payload or {}).get("group_session_id")
    if n.channel == "email" and n.kind in SESSION_KINDS and session_id and n.client_id:
        return n.client_id, int(session_id)
    return None


def prepare(rows: Iterable[Notification], config) -> Prepared:
    """Load what rendering these notifications attaches, in a few statements."""
    pairs = {pair for pair in map(_session_email, rows) if pair is not None}
    subscribed = feed_tokens.subscribed("client", {c for c, _ in pairs})
    files = client_session_files([(c, s) for c, s in pairs if c not in subscribed],
                                 config["CLOCK"](), config["POLICY"], feed_uid_key(config))
    return Prepared(frozenset(subscribed), files)


def _first_reachable_site() -> Location | None:
    return db.session.scalars(sa.select(Location).where(
        sa.or_(Location.phone != "", Location.reply_to != "")).order_by(Location.id)).first()


def contact_for(location: Location | None, prepared: Prepared | None = None,
                ) -> dict[str, str] | None:
    """Who a client can reach, and how: the site's phone and address for replies
    (the first site that has them when the message is about no site). None when
    no site has either configured, so no message promises a way that does not exist."""
    if location is None or not (location.phone or location.reply_to):
        location = prepared.reachable_site if prepared else _first_reachable_site()
    if location is None:
        return None
    return {"site": location.name, "phone": location.phone or "",
            "email": location.reply_to or ""}


def _check_in_link(return_id: int, base: str, config) -> str | None:
    """Their "pick a check-in time" link, while they can still pick one."""
    request = db.session.get(ReturnRequest, return_id)
    if request is None or request.status != "open" or not checkins.open_slots(
            as_utc(config["CLOCK"]()), config["POLICY"], limit=1):
        return None
    return f"{base}/check-in/{checkins.link_token(return_id, config['SECRET_KEY'])}"


def _where(location: Location, cohort: Cohort | None) -> str:
    place = location.name + (f", {location.address}" if location.address else "")
    if cohort is not None and cohort.room:
        place += f" (room {cohort.room})"
    return place


def context_for(n: Notification, config, prepared: Prepared | None = None) -> dict[str, Any]:
    """The values a message template may use."""
    payload = dict(n.payload or {})
    client = db.session.get(Client, n.client_id) if n.client_id else None
    tz = ZoneInfo(payload["tz"]) if payload.get("tz") else PROGRAM_TZ
    base = config.get("PUBLIC_BASE_URL", "").rstrip("/")
    ctx: dict[str, Any] = {
        "kind": n.kind, "first_name": None, "title": NEUTRAL_TITLE, "program": None,
        "when": None, "old_when": None, "place": None, "link": payload.get("url"),
        "unsubscribe_url": None, "expires_when": None, "mode": None, "payload": payload,
        "console_url": f"{base}/", "staff": n.staff_id is not None,
        "contact": None, "where": None, "group": None, "feed": None,
        "position": payload.get("position"), "check_in_url": None,
        "stop_notes_url": None,
    }
    session = cohort = location = None
    if payload.get("group_session_id"):
        session = db.session.get(GroupSession, payload["group_session_id"])
    if session is not None:
        cohort = session.cohort
    elif payload.get("cohort_id"):
        cohort = db.session.get(Cohort, payload["cohort_id"])
    if cohort is not None:
        location = cohort.location
        tz = ZoneInfo(location.timezone)
    if location is None and payload.get("return_request_id"):
        request = db.session.get(ReturnRequest, payload["return_request_id"])
        wanted = request.client.preferred_location_ids if request is not None else None
        if wanted:
            location = db.session.get(Location, wanted[0])
    if payload.get("check_in_id"):
        check_in = db.session.get(CheckIn, payload["check_in_id"])
        if check_in is not None:
            ctx["mode"] = CHECKIN_MODES.get(check_in.mode, check_in.mode)
            if check_in.location_id and check_in.mode == "in_person":
                location = db.session.get(Location, check_in.location_id)
            ctx["when"] = _when(check_in.at, tz)
    if client is not None:
        ctx["first_name"] = (client.name or "").split(" ")[0] or None
        if client.calendar_title:
            ctx["title"] = client.calendar_title
        if client.program_words_opt_in and cohort is not None:
            ctx["program"] = cohort.track.name
        if client.show_location and location is not None:
            place = location.name + (f", {location.address}" if location.address else "")
            if cohort is not None and cohort.room and session is not None:
                place += f" (room {cohort.room})"
            ctx["place"] = place
        if n.channel in ("email", "sms"):
            token = unsubscribe_token(config["SECRET_KEY"], client.id, n.channel)
            ctx["unsubscribe_url"] = f"{base}/unsubscribe/{token}"
    if n.staff_id is None:
        ctx["contact"] = contact_for(location, prepared)
    if n.kind in WHERE_KINDS and location is not None:
        ctx["where"] = _where(location, cohort)
    if cohort is not None:
        # discreet by default: the group as the person knows it (days and time);
        # its name only when they chose to see program words
        ctx["group"] = (cohort.name if client is not None and client.program_words_opt_in
                        else "the group that meets "
                        + pattern_in_words(cohort.weekday_list, cohort.start_time))
    if n.kind in ("welcome_back", "still_waiting") and payload.get("return_request_id"):
        ctx["check_in_url"] = _check_in_link(payload["return_request_id"], base, config)
    if n.kind == "still_waiting" and client is not None:
        token = unsubscribe_token(config["SECRET_KEY"], client.id, "waiting_notes")
        ctx["stop_notes_url"] = f"{base}/unsubscribe/{token}"
    if payload.get("feed_link") and client is not None:
        token = feed_tokens.current("client", client.id, config["FEED_UID_KEY"])
        ctx["feed"] = feed_tokens.urls(base, token) if token else None
    if session is not None:
        ctx["when"] = _when(session.starts_at, tz)
        if n.kind == "cancellation":
            ctx["when"] = _when(payload.get("old_starts_at") or session.starts_at, tz)
        ctx["old_when"] = _when(payload.get("old_starts_at"), tz)
    elif ctx["when"] is None:
        ctx["when"] = _when(payload.get("starts_at"), tz)
    if n.kind == "offer":
        ctx["link"] = _offer_link(payload)
        ctx["expires_when"] = _when(payload.get("expires_at") or n.expires_at, tz)
    if n.kind == "cohort_opened" and cohort is not None and ctx["when"] is None:
        first = db.session.scalar(
            sa.select(GroupSession.starts_at)
            .where(GroupSession.cohort_id == cohort.id, GroupSession.status == "scheduled",
                   GroupSession.starts_at > n.due_at)
            .order_by(GroupSession.starts_at).limit(1))
        ctx["when"] = _when(first, tz)
    return ctx


@dataclass(frozen=True)
class Draft:
    """A message decided but not yet worded: who it goes to, by which channel, the
    values its templates use, its headers and attachment. Wording it (``word``)
    reads nothing from the database, so a run words each message while the mail
    server reads the last one."""
    notification_id: int
    kind: str
    channel: str
    to: str
    ctx: dict[str, Any]
    headers: dict[str, str]
    attachments: tuple[tuple[str, str, bytes], ...]


def draft(n: Notification, config, prepared: Prepared | None = None) -> Draft:
    """Decide one notification's message from the database: ``prepared`` (from
    ``prepare``) when a group is drafted together."""
    if n.kind not in KINDS:
        raise ValueError(f"no templates for kind {n.kind!r}")
    prepared = prepared or prepare([n], config)
    ctx = context_for(n, config, prepared)
    attachments: tuple = ()
    headers: dict[str, str] = {}
    if n.channel != "sms":
        if ctx["contact"] and ctx["contact"]["email"]:
            headers["Reply-To"] = ctx["contact"]["email"]
        if ctx["unsubscribe_url"]:
            headers["List-Unsubscribe"] = f"<{ctx['unsubscribe_url']}>"
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        pair = _session_email(n)
        if pair is not None:
            if pair[0] in prepared.subscribed:
                # their calendar app follows their feed: an attached copy would be a
                # second entry in a separate collection, and stay at the old time
                ctx["calendar_entry"] = "in_calendar"
            elif pair in prepared.files:
                # the same event, UID, SEQUENCE and wording as in their own feed
                attachments = ((ATTACHMENT_NAME, ATTACHMENT_TYPE, prepared.files[pair]),)
                ctx["calendar_entry"] = "attached"
    return Draft(n.id, n.kind, n.channel, n.recipient, ctx, headers, attachments)


def word(d: Draft, env) -> OutgoingMessage:
    """The message in words, from its templates (``env`` is the app's Jinja
    environment): no database."""

    def text(suffix: str) -> str:
        return env.get_template(f"messages/{d.kind}.{suffix}").render(d.ctx).strip()

    subject = " ".join(text("subject.txt").split())
    if d.channel == "sms":
        sms = text("sms.txt")
        return OutgoingMessage(d.notification_id, "sms", d.to, subject, sms, sms=sms)
    return OutgoingMessage(d.notification_id, d.channel, d.to, subject, text("txt"),
                           html=text("html"), attachments=d.attachments, headers=d.headers)


def render(n: Notification, env, config, prepared: Prepared | None = None) -> OutgoingMessage:
    """The message for one notification, with the .ics of its group session attached
    to session emails: ``word(draft(...))``."""
    return word(draft(n, config, prepared), env)
