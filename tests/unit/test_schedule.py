"""Weekly patterns become UTC instants that keep local wall-clock time."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduler.schedule import (
    ExistingSession,
    Pattern,
    daypart_of,
    first_meeting,
    occurrences,
    plan_sessions,
)

NY = ZoneInfo("America/New_York")
EVENING = Pattern(("mon", "wed", "thu"), time(18, 0), 180, NY)
DAYPARTS = {"morning": (5, 12), "afternoon": (12, 17), "evening": (17, 24)}


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_occurrences_fall_only_on_the_pattern_weekdays():
    days = [o.occurs_on for o in occurrences(EVENING, date(2026, 11, 30), date(2026, 12, 6))]
    assert days == [date(2026, 11, 30), date(2026, 12, 2), date(2026, 12, 3)]


def test_spring_forward_keeps_six_pm_local_and_moves_the_utc_instant():
    before, after = occurrences(EVENING, date(2026, 3, 5), date(2026, 3, 9))
    assert before.starts_at == utc(2026, 3, 5, 23, 0)  # EST, UTC-5
    assert after.starts_at == utc(2026, 3, 9, 22, 0)   # EDT, UTC-4
    assert after.starts_at.astimezone(NY).time() == time(18, 0)


def test_fall_back_keeps_six_pm_local_and_moves_the_utc_instant():
    before, after = occurrences(EVENING, date(2026, 10, 29), date(2026, 11, 2))
    assert before.starts_at == utc(2026, 10, 29, 22, 0)  # EDT
    assert after.starts_at == utc(2026, 11, 2, 23, 0)    # EST
    assert after.starts_at.astimezone(NY).time() == time(18, 0)


def test_a_session_spanning_the_spring_change_lasts_its_real_minutes():
    early = Pattern(("sun",), time(1, 0), 180, NY)
    (only,) = occurrences(early, date(2026, 3, 8), date(2026, 3, 8))
    assert (only.ends_at - only.starts_at).total_seconds() == 180 * 60
    assert only.ends_at.astimezone(NY).time() == time(5, 0)


def test_the_first_meeting_is_the_first_one_starting_at_or_after_the_notice():
    # Monday Nov 30 2026: 10 AM with six hours' notice is still in time for 6 PM
    assert first_meeting(EVENING, utc(2026, 11, 30, 21, 0)).starts_at == utc(2026, 11, 30, 23)
    assert first_meeting(EVENING, utc(2026, 11, 30, 23, 0)).occurs_on == date(2026, 11, 30)
    # past 6 PM (in New York) it is Wednesday's, then Thursday's, then next Monday's
    assert first_meeting(EVENING, utc(2026, 11, 30, 23, 1)).occurs_on == date(2026, 12, 2)
    assert first_meeting(EVENING, utc(2026, 12, 3, 23, 30)).occurs_on == date(2026, 12, 7)
    # 8 PM Wednesday in New York is already Thursday in UTC: Thursday's still counts
    assert first_meeting(EVENING, utc(2026, 12, 3, 1, 0)).occurs_on == date(2026, 12, 3)


def test_notice_is_counted_in_real_hours_across_both_clock_changes():
    sunday_nine = Pattern(("sun",), time(9, 0), 180, NY)
    # spring: 21 real hours after Saturday noon EST is 10 AM EDT, past Sunday's 9 AM
    saturday_noon = datetime(2026, 3, 7, 12, 0, tzinfo=NY).astimezone(UTC)
    assert first_meeting(sunday_nine, saturday_noon + timedelta(hours=21)).occurs_on == (
        date(2026, 3, 15))
    assert first_meeting(sunday_nine, saturday_noon + timedelta(hours=20)).occurs_on == (
        date(2026, 3, 8))
    # fall: 22 real hours after Saturday noon EDT is 9 AM EST, just in time
    saturday_noon = datetime(2026, 10, 31, 12, 0, tzinfo=NY).astimezone(UTC)
    assert first_meeting(sunday_nine, saturday_noon + timedelta(hours=22)).occurs_on == (
        date(2026, 11, 1))
    assert first_meeting(sunday_nine, saturday_noon + timedelta(hours=23)).occurs_on == (
        date(2026, 11, 8))


def test_daypart_follows_the_start_hour():
    assert daypart_of(time(9, 30), DAYPARTS) == "morning"
    assert daypart_of(time(13, 0), DAYPARTS) == "afternoon"
    assert daypart_of(time(18, 0), DAYPARTS) == "evening"


def _existing(pattern, first, last, status="scheduled"):
    return [ExistingSession(i, o.occurs_on, o.starts_at, o.ends_at, status, None)
            for i, o in enumerate(occurrences(pattern, first, last), start=1)]


def test_an_unchanged_pattern_plans_no_changes():
    existing = _existing(EVENING, date(2026, 11, 2), date(2026, 12, 31))
    assert plan_sessions(EVENING, date(2026, 11, 2), date(2026, 12, 31), existing,
                         frozenset(), {}, utc(2026, 11, 30, 15)) == []


def test_a_new_start_time_moves_only_sessions_that_have_not_started():
    existing = _existing(EVENING, date(2026, 11, 2), date(2026, 12, 10))
    later = Pattern(EVENING.weekdays, time(18, 30), 180, NY)
    changes = plan_sessions(later, date(2026, 11, 2), date(2026, 12, 10), existing,
                            frozenset(), {}, utc(2026, 11, 30, 15))
    assert changes and all(c.occurs_on >= date(2026, 11, 30) for c in changes)
    assert all(c.starts_at.astimezone(NY).time() == time(18, 30) for c in changes)


def test_a_dropped_weekday_cancels_future_sessions_instead_of_deleting_them():
    existing = _existing(EVENING, date(2026, 11, 30), date(2026, 12, 10))
    mon_wed = Pattern(("mon", "wed"), time(18, 0), 180, NY)
    changes = plan_sessions(mon_wed, date(2026, 11, 30), date(2026, 12, 10), existing,
                            frozenset(), {}, utc(2026, 11, 30, 15))
    assert {c.occurs_on for c in changes} == {date(2026, 12, 3), date(2026, 12, 10)}
    assert {c.status for c in changes} == {"cancelled"}


def test_a_closed_day_cancels_its_session_with_the_closure_reason():
    existing = _existing(EVENING, date(2026, 12, 21), date(2026, 12, 31))
    changes = plan_sessions(EVENING, date(2026, 12, 21), date(2026, 12, 31), existing,
                            frozenset({date(2026, 12, 24)}), {date(2026, 12, 24): "Holiday"},
                            utc(2026, 11, 30, 15))
    (change,) = changes
    assert (change.occurs_on, change.status, change.cancel_reason) == (
        date(2026, 12, 24), "cancelled", "Holiday")


def test_a_session_moved_by_hand_keeps_its_time_when_the_pattern_changes():
    existing = [ExistingSession(1, date(2026, 12, 7), utc(2026, 12, 7, 20), utc(2026, 12, 7, 23),
                                "scheduled", None, pinned=True)]
    later = Pattern(("mon",), time(18, 30), 180, NY)
    assert plan_sessions(later, date(2026, 12, 7), date(2026, 12, 7), existing, frozenset(), {},
                         utc(2026, 11, 30, 15)) == []
