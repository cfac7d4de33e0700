"""Reminder instants, quiet hours and absence runs: pure rules, no database."""

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from scheduler.reminders import (
    after_quiet_hours,
    consecutive_unexcused_absences,
    in_quiet_hours,
    lead_instant,
    plan_reminders,
)
from scheduler.timeutil import local_instant

BOSTON = ZoneInfo("America/New_York")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_reminders_are_due_a_day_and_two_hours_before_an_ordinary_session():
    start = utc(2026, 12, 2, 23, 0)  # Wed 6:00 PM in Boston
    planned = plan_reminders(start, [1440, 120], utc(2026, 11, 30, 15, 0), BOSTON)
    assert [(p.lead_minutes, p.due_at) for p in planned] == [
        (1440, utc(2026, 12, 1, 23, 0)), (120, utc(2026, 12, 2, 21, 0))]


def test_the_day_before_reminder_keeps_the_wall_clock_on_the_spring_change_day():
    start = local_instant(datetime(2026, 3, 8).date(), time(18, 0), BOSTON)
    assert start == utc(2026, 3, 8, 22, 0)  # EDT
    assert lead_instant(start, 1440, BOSTON) == utc(2026, 3, 7, 23, 0)  # 6 PM EST
    assert lead_instant(start, 120, BOSTON) == utc(2026, 3, 8, 20, 0)


def test_the_day_before_reminder_keeps_the_wall_clock_on_the_autumn_change_day():
    start = local_instant(datetime(2026, 11, 1).date(), time(18, 0), BOSTON)
    assert start == utc(2026, 11, 1, 23, 0)  # EST
    assert lead_instant(start, 1440, BOSTON) == utc(2026, 10, 31, 22, 0)  # 6 PM EDT
    assert lead_instant(start, 120, BOSTON) == utc(2026, 11, 1, 21, 0)


def test_a_morning_reminder_across_the_spring_change_uses_real_minutes():
    start = local_instant(datetime(2026, 3, 8).date(), time(4, 0), BOSTON)  # 08:00Z
    assert lead_instant(start, 120, BOSTON) == utc(2026, 3, 8, 6, 0)  # 1:00 AM EST


def test_no_reminder_is_planned_once_the_session_has_begun():
    start = utc(2026, 12, 2, 23, 0)
    assert plan_reminders(start, [1440, 120], start, BOSTON) == []


def test_when_every_reminder_has_passed_only_the_latest_is_planned_and_due_now():
    start, now = utc(2026, 12, 2, 23, 0), utc(2026, 12, 2, 22, 0)
    planned = plan_reminders(start, [1440, 120], now, BOSTON)
    assert [(p.lead_minutes, p.due_at) for p in planned] == [(120, now)]


def test_a_client_who_chose_no_reminders_gets_none():
    assert plan_reminders(utc(2026, 12, 2, 23, 0), [], utc(2026, 11, 30), BOSTON) == []


def test_quiet_hours_cross_midnight():
    assert in_quiet_hours(utc(2026, 12, 2, 2, 0), BOSTON)  # 9:00 PM
    assert in_quiet_hours(utc(2026, 12, 2, 12, 59), BOSTON)  # 7:59 AM
    assert not in_quiet_hours(utc(2026, 12, 2, 13, 0), BOSTON)  # 8:00 AM
    assert not in_quiet_hours(utc(2026, 12, 2, 1, 59), BOSTON)  # 8:59 PM


def test_a_late_evening_sms_is_deferred_to_eight_the_next_morning():
    assert after_quiet_hours(utc(2026, 12, 3, 4, 30), BOSTON) == utc(2026, 12, 3, 13, 0)


def test_an_after_midnight_sms_is_deferred_to_eight_the_same_morning():
    assert after_quiet_hours(utc(2026, 12, 3, 7, 0), BOSTON) == utc(2026, 12, 3, 13, 0)


def test_a_daytime_sms_is_not_deferred():
    assert after_quiet_hours(utc(2026, 12, 3, 15, 0), BOSTON) == utc(2026, 12, 3, 15, 0)


def test_quiet_hours_end_at_local_eight_on_both_change_days():
    # 2:30 AM local on each change day
    assert after_quiet_hours(utc(2026, 3, 8, 7, 30), BOSTON) == utc(2026, 3, 8, 12, 0)
    assert after_quiet_hours(utc(2026, 11, 1, 7, 30), BOSTON) == utc(2026, 11, 1, 13, 0)


def test_quiet_hours_before_a_change_day_defer_across_it():
    # 10:00 PM Saturday before each change
    assert after_quiet_hours(utc(2026, 3, 8, 3, 0), BOSTON) == utc(2026, 3, 8, 12, 0)
    assert after_quiet_hours(utc(2026, 11, 1, 2, 0), BOSTON) == utc(2026, 11, 1, 13, 0)


def test_absences_in_a_row_are_counted_from_the_latest_mark():
    assert consecutive_unexcused_absences(["absent", "absent", "present"]) == 2


def test_an_excused_absence_ends_the_run():
    assert consecutive_unexcused_absences(["absent", "excused", "absent"]) == 1


def test_a_passed_reminder_is_dropped_while_a_later_one_is_still_ahead():
    start, now = utc(2026, 12, 2, 23, 0), utc(2026, 12, 2, 15, 0)
    planned = plan_reminders(start, [1440, 120], now, BOSTON)
    assert [(p.lead_minutes, p.due_at) for p in planned] == [(120, utc(2026, 12, 2, 21, 0))]
