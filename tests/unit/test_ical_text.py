"""The iCal text layer and the hand-built VTIMEZONE: values in, bytes out."""

from __future__ import annotations

import bisect
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from hypothesis import given
from hypothesis import strategies as st

from calendars.ical import FeedEvent, calendar_bytes, escape_text, fold
from calendars.vtimezone import VTIMEZONE_LINES
from tests.feed_parsers import by_vobject, event_blocks, structural_problems, unfold

NY = ZoneInfo("America/New_York")
T0 = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)


def event(**kw) -> FeedEvent:
    values = {"uid": "abc@regroup", "sequence": 0, "modified": T0, "created": T0,
              "starts_at": datetime(2026, 12, 7, 23, 0, tzinfo=UTC),
              "ends_at": datetime(2026, 12, 8, 2, 0, tzinfo=UTC), "summary": "Group session"}
    values.update(kw)
    return FeedEvent(**values)


def unescape(value: str) -> str:
    out, chars = [], iter(value)
    for c in chars:
        if c == "\\":
            nxt = next(chars)
            out.append("\n" if nxt in "nN" else nxt)
        else:
            out.append(c)
    return "".join(out)


def test_commas_semicolons_backslashes_and_newlines_are_escaped():
    assert escape_text('a,b;c\\d\ne\r\nf') == "a\\,b\\;c\\\\d\\ne\\nf"


def test_short_ascii_lines_are_left_as_they_are():
    assert fold("SUMMARY:Group session") == "SUMMARY:Group session"


def test_long_lines_fold_at_75_octets_with_a_leading_space():
    folded = fold("DESCRIPTION:" + "x" * 200)
    parts = folded.split("\r\n")
    assert [len(p.encode()) for p in parts[:-1]] == [75] * (len(parts) - 1)
    assert all(p.startswith(" ") for p in parts[1:])


def test_folding_never_splits_a_multibyte_character():
    folded = fold("SUMMARY:" + "é" * 40 + "😀" * 20)
    for part in folded.split("\r\n"):
        assert len(part.encode("utf-8")) <= 75
        part.encode("utf-8").decode("utf-8")


# any text that may be stored: U+2028 and U+2029 (Zl, Zp) are dropped on the way out
# like the controls (scheduler/text.py), so they cannot survive
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"),
                                       blacklist_characters="\r"), max_size=300)
       .map(lambda s: s + "\n" + s[:10]))
def test_any_text_survives_escaping_and_folding(text):
    line = fold("SUMMARY:" + escape_text(text))
    for part in line.encode("utf-8").split(b"\r\n"):
        assert len(part) <= 75
        part.decode("utf-8")
    assert unescape(line.replace("\r\n ", "").removeprefix("SUMMARY:")) == text


def test_a_calendar_has_crlf_lines_and_every_required_property():
    data = calendar_bytes("Group sessions", [event(summary="Room 2, floor 3; ask; \\ at desk",
                                                   location="Boston, 1 Main St")])
    assert structural_problems(data) == []
    assert b"\n" not in data.replace(b"\r\n", b"")


def test_an_empty_calendar_is_still_a_valid_calendar():
    data = calendar_bytes("Group sessions", [])
    assert structural_problems(data) == []
    assert event_blocks(data) == []


def test_the_same_events_in_any_order_give_the_same_bytes():
    a, b = event(uid="a@r"), event(uid="b@r", starts_at=T0 + timedelta(days=9),
                                   ends_at=T0 + timedelta(days=9, hours=3))
    assert calendar_bytes("X", [a, b]) == calendar_bytes("X", [b, a])


def test_dtstamp_and_last_modified_come_from_the_update_time_and_sequence_from_revision():
    lines = event_blocks(calendar_bytes("X", [event(sequence=3, modified=T0)]))[0]
    assert "DTSTAMP:20261130T150000Z" in lines
    assert "LAST-MODIFIED:20261130T150000Z" in lines
    assert "SEQUENCE:3" in lines


def test_times_are_written_in_new_york_local_time():
    lines = event_blocks(calendar_bytes("X", [event()]))[0]
    assert "DTSTART;TZID=America/New_York:20261207T180000" in lines
    assert "DTEND;TZID=America/New_York:20261207T210000" in lines


def test_the_second_pass_through_the_autumn_hour_is_written_in_utc():
    # 01:30 EST on 2026-11-01 (06:30 UTC) repeats a local time; local+TZID would mean 05:30 UTC
    second = datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    data = calendar_bytes("X", [event(starts_at=second, ends_at=second + timedelta(hours=1))])
    assert "DTSTART:20261101T063000Z" in event_blocks(data)[0]
    assert by_vobject(data)["abc@regroup"][0] == second


def test_a_cancelled_event_says_so_and_carries_no_alarm():
    lines = event_blocks(calendar_bytes("X", [event(status="CANCELLED", alarm_minutes=30)]))[0]
    assert "STATUS:CANCELLED" in lines
    assert b"VALARM" not in calendar_bytes("X", [event(status="CANCELLED", alarm_minutes=30)])


def test_an_alarm_is_a_display_alarm_before_the_start():
    data = calendar_bytes("X", [event(alarm_minutes=45)])
    lines = unfold(data)
    start = lines.index("BEGIN:VALARM")
    assert lines[start:start + 5] == ["BEGIN:VALARM", "ACTION:DISPLAY",
                                      "DESCRIPTION:Group session", "TRIGGER:-PT45M",
                                      "END:VALARM"]


def test_the_timezone_has_one_standard_and_one_daylight_block_with_yearly_rules():
    lines = list(VTIMEZONE_LINES)
    assert lines.count("BEGIN:STANDARD") == 1 and lines.count("BEGIN:DAYLIGHT") == 1
    assert sum(line.startswith("RRULE:FREQ=YEARLY") for line in lines) == 2
    assert not any(line.startswith(("RDATE", "COMMENT")) for line in lines)


def _transitions_from_text(lines: list[str]) -> tuple[list[datetime], list[timedelta]]:
    """Read the VTIMEZONE text (not our code) and list its UTC transitions, 2020-2035."""
    def offset(value: str) -> timedelta:
        sign = -1 if value[0] == "-" else 1
        return sign * timedelta(hours=int(value[1:3]), minutes=int(value[3:5]))

    blocks, current = [], None
    for line in lines:
        if line in ("BEGIN:STANDARD", "BEGIN:DAYLIGHT"):
            current = {}
        elif line in ("END:STANDARD", "END:DAYLIGHT"):
            blocks.append(current)
            current = None
        elif current is not None:
            name, _, value = line.partition(":")
            current[name] = value
    changes = []
    for block in blocks:
        rule = rrulestr(block["RRULE"], dtstart=datetime.strptime(block["DTSTART"],
                                                                  "%Y%m%dT%H%M%S"))
        for local in rule.between(datetime(2020, 1, 1), datetime(2036, 1, 1)):
            at = (local - offset(block["TZOFFSETFROM"])).replace(tzinfo=UTC)
            changes.append((at, offset(block["TZOFFSETTO"])))
    changes.sort()
    return [c[0] for c in changes], [c[1] for c in changes]


def test_the_timezone_offsets_equal_zoneinfo_for_every_event_instant_2025_to_2030():
    instants, offsets = _transitions_from_text(list(VTIMEZONE_LINES))
    moment = datetime(2025, 1, 1, tzinfo=UTC)
    end = datetime(2031, 1, 1, tzinfo=UTC)
    checked = 0
    while moment < end:  # every quarter hour: every instant a group session can start
        ours = offsets[bisect.bisect_right(instants, moment) - 1]
        assert ours == moment.astimezone(NY).utcoffset(), moment
        moment += timedelta(minutes=15)
        checked += 1
    assert checked == 2191 * 96  # six years, one of them (2028) a leap year


def test_line_and_paragraph_separators_older_data_holds_are_dropped_from_feed_text():
    assert escape_text("One\u2028two\u2029three\nfour") == "Onetwothree\\nfour"
