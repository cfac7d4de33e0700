"""Waitlist rules: fair order, offer expiry, who gets the free seats."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from scheduler.seats import seats_free
from scheduler.waitlist import (
    InLine,
    choose_offers,
    front_priority,
    line_order,
    offer_has_lapsed,
    offer_terms,
    positions,
)

BOSTON = ZoneInfo("America/New_York")

T0 = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)


def entry(id, priority=0, minutes=0, client_id=None):
    return InLine(id=id, client_id=client_id or id * 10, priority=priority,
                  requested_at=T0 + timedelta(minutes=minutes))


def test_a_higher_priority_tier_comes_before_an_earlier_request():
    early, urgent = entry(1, priority=0, minutes=0), entry(2, priority=1, minutes=60)
    assert [e.id for e in line_order([early, urgent])] == [2, 1]


def test_within_a_tier_the_earlier_request_comes_first():
    later, earlier = entry(1, minutes=30), entry(2, minutes=5)
    assert [e.id for e in line_order([later, earlier])] == [2, 1]


def test_requests_in_the_same_instant_are_ordered_by_id():
    assert [e.id for e in line_order([entry(7), entry(3), entry(5)])] == [3, 5, 7]


def test_positions_count_from_one_in_line_order():
    assert positions([entry(1, minutes=9), entry(2, minutes=1)]) == {2: 1, 1: 2}


def test_free_seats_are_never_negative():
    assert seats_free(5, 3) == 2
    assert seats_free(3, 5) == 0


def terms(now, *starts, **kw):
    values = dict(offer_hours=24, min_notice_hours=24, min_answer_hours=8, tz=BOSTON,
                  quiet_start=21, quiet_end=8)
    values.update(kw)
    return offer_terms(now, list(starts), **values)


def local(y, m, d, hour, minute=0):
    return datetime(y, m, d, hour, minute, tzinfo=BOSTON).astimezone(UTC)


def test_an_offer_lasts_the_policy_hours_when_the_session_is_days_away():
    starts = T0 + timedelta(days=3)
    assert terms(T0, starts) == (0, T0 + timedelta(hours=24))


def test_a_seat_freed_hours_before_a_session_is_offered_for_the_one_after():
    tonight, next_week = T0 + timedelta(hours=8), T0 + timedelta(days=7, hours=8)
    assert terms(T0, tonight, next_week).session_index == 1


def test_an_offer_ends_when_its_group_session_begins_when_that_is_sooner():
    # notice allows a session 30 hours away; 48 hours to answer is capped at its start
    starts = T0 + timedelta(hours=30)
    assert terms(T0, starts, offer_hours=48) == (0, starts)


def test_a_deadline_in_the_night_moves_to_the_next_morning():
    at = local(2026, 11, 30, 23, 30)  # Mon 11:30 PM in Boston
    result = terms(at, local(2026, 12, 7, 18))
    assert result.expires_at == local(2026, 12, 2, 8, 0)  # Wed 8:00 AM, not Tue 11:30 PM


def test_a_night_deadline_that_would_pass_the_session_moves_to_the_evening_before():
    at = local(2026, 12, 1, 3, 0)
    early = local(2026, 12, 2, 7, 0)  # a 7 AM group, 28 hours away
    result = terms(at, early, offer_hours=48)
    assert result.expires_at == local(2026, 12, 1, 21, 0)


def test_every_offer_leaves_at_least_the_minimum_time_to_answer():
    at = local(2026, 12, 1, 3, 0)
    sessions = [local(2026, 12, 2, 7, 0), local(2026, 12, 9, 7, 0)]
    result = terms(at, *sessions, offer_hours=48, min_answer_hours=20)
    assert result.session_index == 1
    assert result.expires_at - at >= timedelta(hours=20)


def test_a_deadline_across_the_spring_clock_change_stays_out_of_the_night():
    at = local(2026, 3, 7, 22, 0)  # Sat 10 PM, the night the clocks go forward
    result = terms(at, local(2026, 3, 16, 18))
    assert result.expires_at == local(2026, 3, 9, 8, 0)


def test_a_deadline_across_the_autumn_clock_change_stays_out_of_the_night():
    at = local(2026, 10, 31, 23, 0)  # Sat 11 PM, the night the clocks go back
    result = terms(at, local(2026, 11, 9, 18))
    assert result.expires_at == local(2026, 11, 2, 8, 0)
    assert result.expires_at.hour == 13  # 8 AM EST is 13:00 UTC


def test_an_offer_with_no_upcoming_session_lasts_the_policy_hours():
    assert terms(T0, offer_hours=48) == (None, T0 + timedelta(hours=48))


def test_someone_who_passed_on_a_seat_is_skipped_until_their_not_before():
    passed = InLine(1, 10, 0, T0, not_before=T0 + timedelta(days=2))
    other = entry(2, minutes=5)
    assert [e.id for e in choose_offers([passed, other], 1, now=T0)] == [2]
    assert [e.id for e in choose_offers([passed, other], 1,
                                        now=T0 + timedelta(days=2))] == [1]


def test_an_offer_has_lapsed_at_its_expiry_instant_but_not_before():
    expires = T0 + timedelta(hours=1)
    assert not offer_has_lapsed(expires, expires - timedelta(microseconds=1))
    assert offer_has_lapsed(expires, expires)


def test_free_seats_go_to_the_first_in_line():
    line = [entry(1, minutes=3), entry(2, minutes=1), entry(3, minutes=2)]
    assert [e.id for e in choose_offers(line, 2)] == [2, 3]


def test_no_free_seat_means_no_offer():
    assert choose_offers([entry(1)], 0) == []


def test_clients_who_may_not_take_an_offer_are_passed_over():
    line = [entry(1, client_id=100), entry(2, minutes=1, client_id=200)]
    assert [e.id for e in choose_offers(line, 1, frozenset({100}))] == [2]


def test_a_client_listed_twice_gets_one_offer():
    line = [entry(1, client_id=100), entry(2, minutes=1, client_id=100), entry(3, minutes=2)]
    assert [e.id for e in choose_offers(line, 2)] == [1, 3]


def test_moving_to_the_front_takes_one_tier_above_everyone_else():
    line = [entry(1, priority=2), entry(2, priority=0, minutes=5)]
    assert front_priority(line, 2) == 3


def test_the_entry_already_at_the_front_keeps_its_tier():
    line = [entry(1, priority=0), entry(2, priority=0, minutes=5)]
    assert front_priority(line, 1) == 0
