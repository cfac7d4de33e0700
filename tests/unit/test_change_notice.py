"""Which message a change to one group session sends: pure rule."""

from datetime import UTC, datetime, timedelta

from scheduler.reminders import change_notice

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
SOON = NOW + timedelta(days=2)
FAR = NOW + timedelta(days=30)


def test_cancelling_a_meeting_soon_sends_a_cancellation():
    assert change_notice(SOON, SOON, "scheduled", "cancelled", NOW, 14) == "cancellation"


def test_moving_a_meeting_soon_sends_the_new_time():
    assert change_notice(SOON, SOON + timedelta(hours=2), "scheduled", "scheduled", NOW,
                         14) == "session_moved"


def test_putting_a_cancelled_meeting_back_on_says_it_is_on_again():
    assert change_notice(SOON, SOON, "cancelled", "scheduled", NOW, 14) == "session_restored"


def test_changes_far_ahead_or_already_started_send_nothing():
    assert change_notice(FAR, FAR, "scheduled", "cancelled", NOW, 14) is None
    assert change_notice(NOW - timedelta(hours=1), NOW - timedelta(hours=1), "scheduled",
                         "cancelled", NOW, 14) is None
    assert change_notice(SOON, SOON, "scheduled", "scheduled", NOW, 14) is None
