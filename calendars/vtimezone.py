"""A hand-built America/New_York VTIMEZONE: one STANDARD and one DAYLIGHT block,
each with a yearly RRULE (the US rules in force since 2007).

Why not icalendar's ``Timezone.from_tzid()`` / ``add_missing_timezones()``: they
emit RDATE lists, two STANDARD blocks and a top-level COMMENT, and Thunderbird's
parser (ical.js) then shows summer events an hour off; Outlook is reported to
ignore them. This shape is the one every client reads the same way.
"""

from __future__ import annotations

TZID = "America/New_York"

VTIMEZONE_LINES: tuple[str, ...] = (
    "BEGIN:VTIMEZONE",
    f"TZID:{TZID}",
    "BEGIN:DAYLIGHT",
    "TZOFFSETFROM:-0500",
    "TZOFFSETTO:-0400",
    "TZNAME:EDT",
    "DTSTART:20070311T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU",
    "END:DAYLIGHT",
    "BEGIN:STANDARD",
    "TZOFFSETFROM:-0400",
    "TZOFFSETTO:-0500",
    "TZNAME:EST",
    "DTSTART:20071104T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU",
    "END:STANDARD",
    "END:VTIMEZONE",
)
