"""Pure rule: one audit event as a sentence a person reads ("Robin (coordinator)
opened Morgan P.'s record"), from its action, record and details, with the names the
caller looked up. No database here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# how a record is named when its name is not known (or it has none)
RECORD_WORDS = {
    "client": "a client's record", "return_request": "a request to come back",
    "cohort": "a group", "group_session": "a group session", "enrollment": "a place in a group",
    "waitlist_entry": "a place in line", "seat_offer": "a seat offer", "closure": "a closed day",
    "location": "a site", "track": "a track", "staff_user": "a staff account",
    "staff": "a staff account", "notification": "a message", "check_in_slot": "a check-in time",
    "client_feed": "a client's calendar link", "cohort_feed": "a group's calendar feed",
    "location_feed": "a site's calendar feed", "facilitator_feed": "a facilitator's feed",
    "forming_cohort": "the forming groups", "today": "Today's sessions", "token": "an API token",
    "entry": "a place in line",
}
# whose record: a client's name reads "Morgan P.'s record"
POSSESSIVE = {"client": "{name}'s record", "return_request": "{name}'s request to come back",
              "enrollment": "{name}'s place in a group", "client_feed": "{name}'s calendar link",
              "waitlist_entry": "{name}'s place in line", "entry": "{name}'s place in line"}

VERBS = {
    "read": "opened", "create": "added", "update": "changed", "delete": "removed",
    "sign_in": "signed in", "sign_out": "signed out", "sign_in_refused": "could not sign in",
    "password_set": "set a new password for", "staff.disable": "disabled",
    "staff.enable": "enabled", "staff.site_chosen": "chose the site shown to",
    "staff.role": "changed the role of",
    "staff.token_issued": "issued an API token for", "staff.token_revoked":
    "revoked an API token of", "feed_token.issue": "made a new link for",
    "feed_token.revoke": "turned off", "calendar_link.send": "sent the calendar link to",
    "return_request.link": "linked a request to",
    "check_in.self_booked": "picked a check-in time for",
    "check_in.slot_booked": "booked an open check-in time for",
    "check_in_slot.publish": "published", "check_in_slot.withdraw": "took down",
    "cohort_opened": "opened", "forming_merged": "merged", "waitlist.move_up": "moved up",
    "waitlist.remove": "took off the list", "enrollment.credit": "changed the credit of",
    "attendance.late_correction": "corrected late the attendance of",
}
SELF = ("sign_in", "sign_out", "sign_in_refused")


def short_name(full: str | None) -> str | None:
    """"Morgan Placeholder" -> "Morgan P.": enough to recognise, no more."""
    if not full:
        return None
    parts = full.split()
    return parts[0] if len(parts) == 1 else f"{parts[0]} {parts[-1][0]}."


def who(name: str | None, role: str | None) -> str:
    if not name:
        return "The system (or the person themselves)"
    return f"{name} ({role})" if role else name


def sentence(action: str, entity: str, entity_id: int | None, detail: Mapping[str, Any],
             actor: str, name: str | None = None) -> str:
    """``actor`` from ``who``; ``name`` the record's name when the caller knows it
    (a client's short name, a group's name)."""
    if action in SELF:
        return f"{actor} {VERBS[action]}."
    if action == "read" and entity_id is None:
        shown = detail.get("shown") or detail.get("group_sessions") or []
        count = f" ({len(shown)} shown)" if isinstance(shown, list) and shown else ""
        return f"{actor} looked at a list of {_plural(entity)}{count}."
    record = (POSSESSIVE[entity].format(name=name) if name and entity in POSSESSIVE
              else name or RECORD_WORDS.get(entity, entity.replace("_", " ")))
    verb = VERBS.get(action, action.replace("_", " ").replace(".", ": "))
    what = detail.get("what") or detail.get("change")
    tail = ""
    if what:
        tail = f": {str(what).replace('_', ' ')}"
    elif detail.get("from") and detail.get("to"):
        tail = f": {detail['from']} → {detail['to']}"
    if detail.get("reason"):
        tail += f" (reason: {detail['reason']})"
    if detail.get("via") == "api" and detail.get("path"):
        tail += " through the API"
    return f"{actor} {verb} {record}{tail}."


def _plural(entity: str) -> str:
    words = RECORD_WORDS.get(entity, entity.replace("_", " "))
    return {"a client's record": "clients", "a request to come back": "requests to come back",
            "a group": "groups", "a group session": "group sessions",
            "a message": "messages", "a place in line": "places in line",
            "Today's sessions": "Today's sessions", "the forming groups": "forming groups",
            }.get(words, words.removeprefix("a ").removeprefix("an ") + "s")
