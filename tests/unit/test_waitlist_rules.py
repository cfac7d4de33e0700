"""Waitlist rules: fair order, offer expiry, who gets the free seats."""

from datetime import UTC, datetime, timedelta

from scheduler.waitlist import (
    InLine,
    choose_offers,
    front_priority,
    line_order,
    offer_expires_at,
    offer_has_lapsed,
    positions,
    seats_free,
)

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


def test_an_offer_lasts_the_policy_hours_when_the_session_is_later():
    starts = T0 + timedelta(days=3)
    assert offer_expires_at(T0, 24, starts) == T0 + timedelta(hours=24)


def test_an_offer_ends_when_the_group_session_it_is_for_begins():
    starts = T0 + timedelta(hours=3)
    assert offer_expires_at(T0, 24, starts) == starts


def test_an_offer_with_no_upcoming_session_lasts_the_policy_hours():
    assert offer_expires_at(T0, 48, None) == T0 + timedelta(hours=48)


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
