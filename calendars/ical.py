"""RFC 5545 text, written directly: values in, bytes out. No database, no Flask.

Writing the lines ourselves (instead of building icalendar objects) keeps a cold
feed build several times faster and makes every byte predictable: the same
events always give the same bytes, which is what lets ETags stay strong.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from calendars.vtimezone import TZID, VTIMEZONE_LINES
from scheduler.text import clean
from scheduler.timeutil import PROGRAM_TZ, as_utc

CRLF = "\r\n"
PRODID = "-//Regroup//Calendar feeds 1.0//EN"
REFRESH = "PT2H"
_ESCAPES = str.maketrans({"\\": "\\\\", ";": "\\;", ",": "\\,", "\n": "\\n", "\r": ""})


@dataclass(frozen=True)
class FeedEvent:
    """One VEVENT, already decided (title, place, status) by the feed's rules."""

    uid: str
    sequence: int
    modified: datetime  # DTSTAMP and LAST-MODIFIED: the row's update time
    created: datetime
    starts_at: datetime
    ends_at: datetime
    summary: str
    status: str = "CONFIRMED"  # or "CANCELLED"
    location: str | None = None
    description: str | None = None
    alarm_minutes: int | None = None
    subject: str = ""  # "group_session:<id>" / "check_in:<id>": never written out


def escape_text(value: str) -> str:
    """TEXT escaping: backslash, semicolon, comma and newlines (RFC 5545 3.3.11),
    after dropping control characters older data may hold (``scheduler.text``)."""
    return clean(value).replace("\r\n", "\n").translate(_ESCAPES)


def fold(line: str) -> str:
    """Fold a content line at 75 octets, never inside a UTF-8 character."""
    if len(line) <= 75 and line.isascii():
        return line
    data = line.encode("utf-8")
    if len(data) <= 75:
        return line
    parts = []
    start, limit = 0, 75
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:
            end -= 1  # step back off a continuation byte
        parts.append(data[start:end].decode("utf-8"))
        start, limit = end, 74  # continuation lines begin with one space
    return "\r\n ".join(parts)


def utc_stamp(value: datetime) -> str:
    return as_utc(value).strftime("%Y%m%dT%H%M%SZ")


def local_time_property(name: str, value: datetime) -> str:
    """DTSTART/DTEND with TZID=America/New_York. The second pass through an
    ambiguous autumn hour cannot be said in local time, so it is written in UTC."""
    local = as_utc(value).astimezone(PROGRAM_TZ)
    if local.fold:
        return f"{name}:{utc_stamp(value)}"
    return f"{name};TZID={TZID}:{local:%Y%m%dT%H%M%S}"


def event_lines(event: FeedEvent) -> list[str]:
    stamp = utc_stamp(event.modified)
    lines = [
        "BEGIN:VEVENT",
        f"UID:{event.uid}",
        f"DTSTAMP:{stamp}",
        f"CREATED:{utc_stamp(event.created)}",
        f"LAST-MODIFIED:{stamp}",
        f"SEQUENCE:{event.sequence}",
        local_time_property("DTSTART", event.starts_at),
        local_time_property("DTEND", event.ends_at),
        fold("SUMMARY:" + escape_text(event.summary)),
    ]
    if event.location:
        lines.append(fold("LOCATION:" + escape_text(event.location)))
    if event.description:
        lines.append(fold("DESCRIPTION:" + escape_text(event.description)))
    lines.append(f"STATUS:{event.status}")
    lines.append("TRANSP:OPAQUE" if event.status == "CONFIRMED" else "TRANSP:TRANSPARENT")
    if event.alarm_minutes and event.status == "CONFIRMED":
        lines += [
            "BEGIN:VALARM",
            "ACTION:DISPLAY",
            fold("DESCRIPTION:" + escape_text(event.summary)),
            f"TRIGGER:-PT{int(event.alarm_minutes)}M",
            "END:VALARM",
        ]
    lines.append("END:VEVENT")
    return lines


def calendar_bytes(name: str, events: Iterable[FeedEvent]) -> bytes:
    """A whole subscribed VCALENDAR: its name and how often to refresh it, then the
    events, sorted (start, uid) so order never depends on how rows came back."""
    return _vcalendar([fold("NAME:" + escape_text(name)),
                       fold("X-WR-CALNAME:" + escape_text(name)),
                       f"REFRESH-INTERVAL;VALUE=DURATION:{REFRESH}",
                       f"X-PUBLISHED-TTL:{REFRESH}"], events)


def event_file_bytes(events: Iterable[FeedEvent]) -> bytes:
    """Events to import once (an email attachment, "Add just this one"): no
    calendar-level properties, which some apps (Outlook desktop) take as a new
    calendar to subscribe to rather than events to add."""
    return _vcalendar([], events)


def _vcalendar(properties: list[str], events: Iterable[FeedEvent]) -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN",
             *properties, *VTIMEZONE_LINES]
    for event in sorted(events, key=lambda e: (as_utc(e.starts_at), e.uid)):
        lines.extend(event_lines(event))
    lines.append("END:VCALENDAR")
    return (CRLF.join(lines) + CRLF).encode("utf-8")

