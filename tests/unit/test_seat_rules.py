"""Seat rules without a database: what holds a seat, the closed-group window,
how credit carries."""

from datetime import UTC, date, datetime, timedelta

import pytest

from scheduler.seats import carried_credit, closed_window_open, holds_seat, seats_free

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)


def test_an_active_enrollment_holds_a_seat():
    assert holds_seat("active", None, NOW)


def test_a_paused_enrollment_holds_its_seat_only_while_its_hold_lasts():
    assert holds_seat("paused", NOW + timedelta(seconds=1), NOW)
    assert not holds_seat("paused", NOW, NOW)
    assert not holds_seat("paused", None, NOW)


@pytest.mark.parametrize("status", ["completed", "withdrawn", "moved"])
def test_an_enrollment_that_ended_holds_no_seat(status):
    assert not holds_seat(status, NOW + timedelta(days=3), NOW)


def test_free_seats_are_never_negative():
    assert seats_free(5, 3) == 2
    assert seats_free(3, 5) == 0


THIRD_SESSION = date(2026, 12, 8)


def test_a_closed_group_takes_people_until_its_third_session_begins():
    assert closed_window_open(THIRD_SESSION, date(2026, 12, 7))
    assert not closed_window_open(THIRD_SESSION, date(2026, 12, 8))


def test_a_closed_group_with_fewer_sessions_than_the_window_still_takes_people():
    assert closed_window_open(None, date(2027, 1, 1))


def test_credit_carries_what_the_seat_does_not_already_count():
    assert carried_credit(done_here=10, agreed=12) == 2


def test_credit_never_goes_down_when_the_seat_already_counts_more():
    assert carried_credit(done_here=10, agreed=4) == 0
