"""Reading feed bytes the way calendar apps do: three independent parsers
(Home Assistant's `ical`, vobject, and ical.js through node), each reduced to
{uid: (start UTC, end UTC, status)}, plus a structural checker for the bytes."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

JS_DIR = Path(__file__).parent / "js"
REQUIRED_CALENDAR = ("VERSION:2.0", "PRODID:", "NAME:", "X-WR-CALNAME:",
                     "REFRESH-INTERVAL;VALUE=DURATION:", "X-PUBLISHED-TTL:")
REQUIRED_EVENT = ("UID", "DTSTAMP", "LAST-MODIFIED", "SEQUENCE", "DTSTART", "DTEND",
                  "SUMMARY", "STATUS")
FORBIDDEN_EVENT = ("RRULE", "RDATE", "EXDATE", "RECURRENCE-ID", "ATTENDEE", "ORGANIZER")


def unfold(data: bytes) -> list[str]:
    return data.decode("utf-8").replace("\r\n ", "").split("\r\n")[:-1]


CALENDAR_LEVEL = ("NAME:", "X-WR-CALNAME:", "REFRESH-INTERVAL", "X-PUBLISHED-TTL")


def structural_problems(data: bytes, *, event_file: bool = False) -> list[str]:
    """Everything about these bytes that breaks RFC 5545 or our feed rules (for a
    file of events to import once, ``event_file``: no calendar-level properties)."""
    problems = []
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return ["not UTF-8"]
    if not data.endswith(b"\r\n"):
        problems.append("does not end with CRLF")
    raw_lines = data.split(b"\r\n")[:-1]
    for number, raw in enumerate(raw_lines, 1):
        if b"\n" in raw or b"\r" in raw:
            problems.append(f"line {number}: bare LF or CR")
        if len(raw) > 75:
            problems.append(f"line {number}: {len(raw)} octets")
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            problems.append(f"line {number}: folded inside a UTF-8 character")
    lines = unfold(data)
    if lines[:1] != ["BEGIN:VCALENDAR"] or lines[-1:] != ["END:VCALENDAR"]:
        problems.append("not one VCALENDAR")
    head = [line for line in lines if not line.startswith((" ",))]
    for prop in REQUIRED_CALENDAR:
        if event_file and prop.startswith(CALENDAR_LEVEL):
            if any(line.startswith(prop) for line in head):
                problems.append(f"one-event file has {prop}")
        elif not any(line.startswith(prop) for line in head):
            problems.append(f"calendar lacks {prop}")
    if event_file and any(line.startswith(CALENDAR_LEVEL) for line in head):
        problems.append("one-event file has calendar-level properties")
    if any(line.startswith("METHOD") for line in lines):
        problems.append("has METHOD")
    if sum(line == "BEGIN:STANDARD" for line in lines) != 1 or sum(
            line == "BEGIN:DAYLIGHT" for line in lines) != 1:
        problems.append("VTIMEZONE is not one STANDARD and one DAYLIGHT")
    for index, event in enumerate(event_blocks(data)):
        names = [re.split("[;:]", line, maxsplit=1)[0] for line in event]
        for prop in REQUIRED_EVENT:
            if names.count(prop) != 1:
                problems.append(f"event {index}: {names.count(prop)} x {prop}")
        for prop in FORBIDDEN_EVENT:
            if prop in names:
                problems.append(f"event {index}: has {prop}")
        for line in event:
            if line.startswith(("DTSTART", "DTEND")) and not (
                    ";TZID=America/New_York:" in line or line.endswith("Z")):
                problems.append(f"event {index}: floating time {line}")
    return problems


def event_blocks(data: bytes) -> list[list[str]]:
    """Each VEVENT's unfolded lines (without BEGIN/END, without VALARM lines)."""
    blocks, current, depth = [], None, 0
    for line in unfold(data):
        if line == "BEGIN:VEVENT":
            current = []
        elif line == "END:VEVENT":
            blocks.append(current)
            current = None
        elif line == "BEGIN:VALARM":
            depth += 1
        elif line == "END:VALARM":
            depth -= 1
        elif current is not None and depth == 0:
            current.append(line)
    return blocks


def raw_events(data: bytes) -> dict[str, bytes]:
    """uid -> the exact bytes of its VEVENT block (for byte-identity checks)."""
    text = data.decode("utf-8")
    found = {}
    for block in re.findall(r"BEGIN:VEVENT\r\n.*?END:VEVENT\r\n", text, flags=re.S):
        uid = re.search(r"\r\nUID:([^\r]+)\r\n", "\r\n" + block).group(1)
        found[uid] = block.encode("utf-8")
    return found


def _utc(value: datetime) -> datetime:
    assert value.tzinfo is not None, f"{value!r} came back floating"
    return value.astimezone(UTC)


def by_ical(data: bytes) -> dict[str, tuple]:
    from ical.calendar_stream import IcsCalendarStream

    calendar = IcsCalendarStream.calendar_from_ics(data.decode("utf-8"))
    return {e.uid: (_utc(e.dtstart), _utc(e.dtend), str(e.status.value) if e.status else None)
            for e in calendar.events}


def by_vobject(data: bytes) -> dict[str, tuple]:
    import vobject

    calendar = vobject.readOne(data.decode("utf-8"))
    found = {}
    for event in calendar.contents.get("vevent", []):
        found[event.uid.value] = (_utc(event.dtstart.value), _utc(event.dtend.value),
                                  event.status.value)
    return found


def icaljs_available() -> bool:
    return shutil.which("node") is not None and (JS_DIR / "node_modules" / "ical.js").is_dir()


def require_icaljs() -> None:
    """Skip locally when ical.js is not installed; under CI=true that is a failure."""
    if icaljs_available():
        return
    message = "ical.js is not installed: run `npm install --prefix tests/js` (make test does)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def by_icaljs_full(data: bytes) -> dict:
    result = subprocess.run(["node", str(JS_DIR / "parse.mjs")], input=data,
                            capture_output=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr.decode()
    return json.loads(result.stdout)


def by_icaljs(data: bytes) -> dict[str, tuple]:
    parsed = by_icaljs_full(data)
    return {e["uid"]: (datetime.fromisoformat(e["start"].replace("Z", "+00:00")),
                       datetime.fromisoformat(e["end"].replace("Z", "+00:00")), e["status"])
            for e in parsed["events"]}
