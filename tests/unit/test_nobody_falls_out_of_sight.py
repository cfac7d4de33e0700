"""Pure rules for people waiting to be back in a group: who is waiting, when they
hear from the program, when staff see them."""

from datetime import UTC, datetime, timedelta

from scheduler.config import Policy
from scheduler.waiting import is_waiting, waited_too_long, weekly_note_due

POLICY = Policy(waiting_note_days=7, waiting_note_hours=(10, 18), waiting_alert_days=7)
ASKED = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)  # Mon 10:00 in Boston


def test_waiting_means_asked_or_placed_and_not_yet_in_a_group():
    assert is_waiting("open", None, seated_now=False)
    assert is_waiting("placed", None, seated_now=False)  # on a waitlist or forming
    assert not is_waiting("placed", None, seated_now=True)  # a seat, first session ahead
    assert not is_waiting("placed", ASKED, seated_now=False)  # back in a group
    assert not is_waiting("closed", None, seated_now=False)


def test_a_note_comes_a_week_after_asking_when_nothing_else_was_sent():
    assert not weekly_note_due(ASKED, None, ASKED + timedelta(days=6, hours=23), POLICY)
    assert weekly_note_due(ASKED, None, ASKED + timedelta(days=7), POLICY)


def test_any_message_they_got_restarts_the_week():
    heard = ASKED + timedelta(days=5)
    assert not weekly_note_due(ASKED, heard, ASKED + timedelta(days=8), POLICY)
    assert weekly_note_due(ASKED, heard, ASKED + timedelta(days=12), POLICY)


def test_notes_go_out_only_in_daytime_hours_local_time():
    evening = datetime(2026, 11, 9, 23, 30, tzinfo=UTC)  # 6:30 PM in Boston
    morning = datetime(2026, 11, 10, 15, 0, tzinfo=UTC)  # 10 AM
    assert not weekly_note_due(ASKED, None, evening, POLICY)
    assert weekly_note_due(ASKED, None, morning, POLICY)


def test_staff_see_people_who_waited_more_than_the_alert_age():
    assert not waited_too_long(ASKED, ASKED + timedelta(days=7), POLICY)
    assert waited_too_long(ASKED, ASKED + timedelta(days=7, minutes=1), POLICY)
