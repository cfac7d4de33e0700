"""Waitlists and seat offers: every freed seat is offered in fair order, held while
open, and passed on when declined or expired."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from scheduler.errors import (
    AlreadyEnrolled,
    AlreadyWaiting,
    InvalidTransition,
    InvalidValue,
    NoSeatLeft,
    NotFound,
    OfferAlreadyAnswered,
    OfferExpired,
)
from scheduler.jobs import job_table
from scheduler.models import (
    AuditEvent,
    Enrollment,
    GroupSession,
    Notification,
    SeatOffer,
    WaitlistEntry,
    db,
)
from scheduler.security import token_hash
from scheduler.services import cohorts, enrollments, seats, waitlist
from tests.waitlist_support import entry_status, full_group_with_line, open_offers, token_for


def test_a_withdrawal_offers_the_seat_to_the_first_in_line(build, clock):
    cohort, seated, line = full_group_with_line(build)
    enrollments.change_status(seated[0].id, "withdrawn", clock(), build.policy)
    [offer] = open_offers(cohort.id)
    assert offer.waitlist_entry_id == line[0].id
    assert entry_status(line[0].id) == "offered" and entry_status(line[1].id) == "waiting"


def test_a_higher_priority_tier_is_offered_before_an_earlier_request(build, clock):
    cohort, seated, line = full_group_with_line(build)
    urgent = waitlist.add_to_waitlist(build.client().id, cohort.id, clock(), priority=1)
    enrollments.change_status(seated[0].id, "withdrawn", clock(), build.policy)
    assert [o.waitlist_entry_id for o in open_offers(cohort.id)] == [urgent.id]


def test_a_seat_freed_hours_before_tonights_group_is_offered_for_the_next_one(build, clock):
    # Mon 10:00 in Boston; the group meets tonight at 6 PM and next Monday
    cohort, seated, _ = full_group_with_line(build, weekdays=["mon"])
    enrollments.change_status(seated[0].id, "withdrawn", clock(), build.policy)
    [offer] = open_offers(cohort.id)
    tonight = seats.next_group_session(cohort.id, clock())
    assert tonight.starts_at == datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    for_session = db.session.get(GroupSession, offer.group_session_id)
    assert for_session.starts_at == datetime(2026, 12, 7, 23, 0, tzinfo=UTC)
    assert offer.expires_at == clock() + timedelta(hours=24)


def test_an_offer_lasts_the_policy_hours_when_the_next_session_is_later(build, clock):
    cohort, seated, _ = full_group_with_line(build, weekdays=["fri"])
    enrollments.change_status(seated[0].id, "withdrawn", clock(), build.policy)
    [offer] = open_offers(cohort.id)
    assert offer.expires_at == clock() + timedelta(hours=24)


def test_a_seat_held_by_an_open_offer_is_not_given_to_anyone_else(build, clock):
    cohort, seated, _ = full_group_with_line(build)
    enrollments.change_status(seated[0].id, "withdrawn", clock(), build.policy)
    with pytest.raises(NoSeatLeft):
        build.enroll(build.client(), cohort)


def test_a_pause_holds_the_seat_so_no_offer_is_made(build, clock):
    cohort, seated, _ = full_group_with_line(build)
    enrollments.change_status(seated[0].id, "paused", clock(), build.policy)
    assert open_offers(cohort.id) == []


def test_a_released_pause_hold_offers_the_seat(build, clock):
    cohort, seated, line = full_group_with_line(build)
    enrollments.change_status(seated[0].id, "paused", clock(), build.policy)
    enrollments.change_status(seated[0].id, "paused", clock(), build.policy,
                              release_hold=True)
    assert [o.waitlist_entry_id for o in open_offers(cohort.id)] == [line[0].id]


def test_a_pause_hold_that_runs_out_offers_the_seat_when_the_job_runs(build, clock):
    cohort, seated, line = full_group_with_line(build)
    enrollments.change_status(seated[0].id, "paused", clock(), build.policy)
    clock.advance(days=build.policy.pause_hold_days, seconds=1)
    enrollments.release_expired_holds(clock())
    assert [o.waitlist_entry_id for o in open_offers(cohort.id)] == [line[0].id]


def test_raising_capacity_offers_each_new_seat_in_order(build, clock):
    cohort, _, line = full_group_with_line(build, waiting=3)
    cohorts.update_cohort(cohort.id, {"capacity": 4}, clock(), build.policy)
    assert [o.waitlist_entry_id for o in open_offers(cohort.id)] == [line[0].id, line[1].id]


def test_joining_a_group_with_a_free_seat_brings_an_offer_at_once(build, clock):
    cohort = build.cohort(capacity=1)
    entry = waitlist.add_to_waitlist(build.client(email="a@example.org").id, cohort.id, clock())
    assert [o.waitlist_entry_id for o in open_offers(cohort.id)] == [entry.id]


def test_a_forming_cohort_makes_no_offers(build, clock):
    cohort = build.cohort(capacity=3, status="forming", starts_on=None)
    waitlist.add_to_waitlist(build.client().id, cohort.id, clock())
    assert open_offers(cohort.id) == []


def test_joining_twice_is_refused(build, clock):
    cohort, _, line = full_group_with_line(build, waiting=1)
    with pytest.raises(AlreadyWaiting):
        waitlist.add_to_waitlist(line[0].client_id, cohort.id, clock())


def test_a_client_already_in_the_group_cannot_join_its_waitlist(build, clock):
    cohort, seated, _ = full_group_with_line(build, waiting=0)
    with pytest.raises(AlreadyEnrolled):
        waitlist.add_to_waitlist(seated[0].client_id, cohort.id, clock())


def test_offers_are_made_in_the_callers_transaction_and_roll_back_with_it(db, build, clock):
    cohort, seated, _ = full_group_with_line(build)
    enrollments.set_status(db.session.get(Enrollment, seated[0].id), "withdrawn", clock(),
                           build.policy)
    assert len(open_offers(cohort.id)) == 1
    db.session.rollback()
    assert open_offers(cohort.id) == []
    assert db.session.get(Enrollment, seated[0].id).status == "active"


def test_an_offer_queues_one_message_that_carries_no_secret(db, build, clock):
    cohort, seated, line = full_group_with_line(build)
    enrollments.change_status(seated[0].id, "withdrawn", clock(), build.policy)
    [offer] = open_offers(cohort.id)
    [message] = db.session.scalars(sa.select(Notification).where(
        Notification.subject_ref == f"seat_offer:{offer.id}"))
    assert message.kind == "offer" and message.expires_at == offer.expires_at
    assert message.client_id == line[0].client_id
    assert message.payload["offer_id"] == offer.id
    assert token_for(offer) not in repr(message.payload)


def test_only_a_hash_of_the_offer_link_is_stored(db, build, clock):
    cohort, seated, _ = full_group_with_line(build)
    enrollments.change_status(seated[0].id, "withdrawn", clock(), build.policy)
    [offer] = open_offers(cohort.id)
    token = token_for(offer)
    assert offer.token_hash == token_hash(token)
    for table in ("seat_offer", "notification", "waitlist_entry", "audit_event"):
        for row in db.session.execute(sa.text(f"SELECT * FROM {table}")):
            assert token not in repr(tuple(row))


def test_the_offer_link_rebuilds_from_the_offer_id(build, clock):
    cohort, seated, _ = full_group_with_line(build)
    enrollments.change_status(seated[0].id, "withdrawn", clock(), build.policy)
    [offer] = open_offers(cohort.id)
    assert waitlist.offer_url(offer.id) == f"https://regroup.test/offers/{token_for(offer)}"


def test_accepting_an_offer_enrolls_the_client(db, build, clock):
    cohort, seated, line = full_group_with_line(build)
    enrollments.change_status(seated[0].id, "withdrawn", clock(), build.policy)
    [offer] = open_offers(cohort.id)
    enrollment = waitlist.accept_offer(token_for(offer), clock(), build.policy)
    assert (enrollment.client_id, enrollment.status) == (line[0].client_id, "active")
    db.session.expire_all()
    assert db.session.get(SeatOffer, offer.id).status == "accepted"
    assert entry_status(line[0].id) == "enrolled"


def test_accepting_removes_the_client_from_their_other_waitlists(build, clock):
    cohort, seated, line = full_group_with_line(build)
    other, _, _ = full_group_with_line(build, waiting=0)
    elsewhere = waitlist.add_to_waitlist(line[0].client_id, other.id, clock())
    enrollments.change_status(seated[0].id, "withdrawn", clock(), build.policy)
    waitlist.accept_offer(token_for(open_offers(cohort.id)[0]), clock(), build.policy)
    assert entry_status(elsewhere.id) == "removed"


def test_accepting_withdraws_the_clients_other_offer_and_passes_that_seat_on(build, clock):
    first, seated_a, line_a = full_group_with_line(build, waiting=1)
    second, seated_b, line_b = full_group_with_line(build, waiting=1)
    both = line_a[0].client_id
    waitlist.add_to_waitlist(both, second.id, clock())
    clock.advance(minutes=1)
    third = waitlist.add_to_waitlist(build.client().id, second.id, clock())
    enrollments.change_status(seated_a[0].id, "withdrawn", clock(), build.policy)
    enrollments.change_status(seated_b[0].id, "withdrawn", clock(), build.policy)
    [kept] = open_offers(first.id)
    assert [o.waitlist_entry_id for o in open_offers(second.id)] == [line_b[0].id]
    clock.advance(minutes=1)
    # now the shared client gets the second group's seat when the first person says no
    waitlist.decline_offer(token_for(open_offers(second.id)[0]), clock())
    [other_offer] = open_offers(second.id)
    assert other_offer.client_id == both
    waitlist.accept_offer(token_for(kept), clock(), build.policy)
    assert [o.waitlist_entry_id for o in open_offers(second.id)] == [third.id]


def test_not_this_time_passes_the_seat_on_and_keeps_the_place_in_line(build, clock):
    cohort, seated, line = full_group_with_line(build)
    enrollments.change_status(seated[0].id, "withdrawn", clock(), build.policy)
    waitlist.decline_offer(token_for(open_offers(cohort.id)[0]), clock())
    assert [o.waitlist_entry_id for o in open_offers(cohort.id)] == [line[1].id]
    assert entry_status(line[0].id) == "waiting"


def test_the_person_who_said_not_this_time_is_first_for_a_seat_in_a_later_session(
        build, clock):
    cohort, seated, line = full_group_with_line(build, capacity=3, waiting=3)
    enrollments.change_status(seated[0].id, "withdrawn", clock(), build.policy)
    first = open_offers(cohort.id)[0]
    waitlist.decline_offer(token_for(first), clock())
    skipped = db.session.get(GroupSession, first.group_session_id)
    # another seat for the same session goes past them
    enrollments.change_status(seated[1].id, "withdrawn", clock(), build.policy)
    assert line[0].id not in [o.waitlist_entry_id for o in open_offers(cohort.id)]
    # once that session has begun, the next seat is theirs again
    clock.set(skipped.starts_at + timedelta(minutes=5))
    waitlist.expire_offers(clock())
    enrollments.change_status(seated[2].id, "withdrawn", clock(), build.policy)
    assert line[0].id in [o.waitlist_entry_id for o in open_offers(cohort.id)]


def test_take_me_off_the_list_passes_the_seat_on_and_ends_the_place_in_line(build, clock):
    cohort, seated, line = full_group_with_line(build)
    enrollments.change_status(seated[0].id, "withdrawn", clock(), build.policy)
    waitlist.decline_offer(token_for(open_offers(cohort.id)[0]), clock(), keep_place=False)
    assert [o.waitlist_entry_id for o in open_offers(cohort.id)] == [line[1].id]
    assert entry_status(line[0].id) == "removed"


def test_an_offer_answers_only_once(build, clock):
    cohort, seated, _ = full_group_with_line(build)
    enrollments.change_status(seated[0].id, "withdrawn", clock(), build.policy)
    token = token_for(open_offers(cohort.id)[0])
    waitlist.accept_offer(token, clock(), build.policy)
    with pytest.raises(OfferAlreadyAnswered):
        waitlist.accept_offer(token, clock(), build.policy)
    with pytest.raises(OfferAlreadyAnswered):
        waitlist.decline_offer(token, clock())


def test_accepting_after_the_offer_time_is_refused_and_passes_the_seat_on(build, clock):
    cohort, seated, line = full_group_with_line(build)
    enrollments.change_status(seated[0].id, "withdrawn", clock(), build.policy)
    [offer] = open_offers(cohort.id)
    clock.set(offer.expires_at)
    with pytest.raises(OfferExpired):
        waitlist.accept_offer(token_for(offer), clock(), build.policy)
    assert [o.waitlist_entry_id for o in open_offers(cohort.id)] == [line[1].id]


def test_opening_an_offer_link_after_its_time_expires_it_and_passes_the_seat_on(build, clock):
    cohort, seated, line = full_group_with_line(build)
    enrollments.change_status(seated[0].id, "withdrawn", clock(), build.policy)
    [offer] = open_offers(cohort.id)
    clock.set(offer.expires_at + timedelta(minutes=5))
    view = waitlist.view_offer(token_for(offer), clock())
    assert view.offer.status == "expired"
    assert [o.waitlist_entry_id for o in open_offers(cohort.id)] == [line[1].id]


def test_a_tampered_or_unknown_link_is_not_found(build, clock):
    cohort, seated, _ = full_group_with_line(build)
    enrollments.change_status(seated[0].id, "withdrawn", clock(), build.policy)
    token = token_for(open_offers(cohort.id)[0])
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
                waitlist.offer_token(99999), "not-a-token"):
        with pytest.raises(NotFound):
            waitlist.accept_offer(bad, clock(), build.policy)


def test_a_link_signed_with_another_key_is_not_found(build, clock):
    cohort, seated, _ = full_group_with_line(build)
    enrollments.change_status(seated[0].id, "withdrawn", clock(), build.policy)
    forged = waitlist.offer_token(open_offers(cohort.id)[0].id, secret_key="guess")
    with pytest.raises(NotFound):
        waitlist.view_offer(forged, clock())


def test_the_expiry_job_passes_lapsed_offers_on(build, clock):
    cohort, seated, line = full_group_with_line(build)
    enrollments.change_status(seated[0].id, "withdrawn", clock(), build.policy)
    [offer] = open_offers(cohort.id)
    assert waitlist.expire_offers(offer.expires_at - timedelta(seconds=1)) == 0
    assert waitlist.expire_offers(offer.expires_at) == 1
    assert entry_status(line[0].id) == "waiting"  # they lose only that seat
    assert [o.waitlist_entry_id for o in open_offers(cohort.id)] == [line[1].id]


def test_running_the_expiry_job_twice_changes_nothing_more(db, build, clock):
    cohort, seated, line = full_group_with_line(build, waiting=3)
    enrollments.change_status(seated[0].id, "withdrawn", clock(), build.policy)
    at = open_offers(cohort.id)[0].expires_at
    waitlist.expire_offers(at)
    before = db.session.execute(sa.select(SeatOffer.id, SeatOffer.status)).all()
    assert waitlist.expire_offers(at) == 0
    assert db.session.execute(sa.select(SeatOffer.id, SeatOffer.status)).all() == before


def test_the_expiry_job_is_registered_with_the_runner():
    assert job_table()["expire_offers"][1] is waitlist.expire_offers


def test_moving_an_entry_to_the_front_records_the_reason(db, build, clock):
    cohort, _, line = full_group_with_line(build, waiting=3)
    place = waitlist.move_up(line[2].id, "Discharged from inpatient today", clock())
    assert place.position == 1
    entry = db.session.get(WaitlistEntry, line[2].id)
    assert entry.moved_up_reason == "Discharged from inpatient today"
    event = db.session.scalars(sa.select(AuditEvent)).one()
    assert (event.action, event.entity_id) == ("waitlist.move_up", line[2].id)
    assert event.detail["from_position"] == 3 and event.detail["to_position"] == 1


def test_moving_up_to_a_given_priority_needs_a_higher_one(build, clock):
    cohort, _, line = full_group_with_line(build, waiting=2)
    with pytest.raises(InvalidValue):
        waitlist.move_up(line[1].id, "reason", clock(), priority=0)


def test_moving_up_needs_a_reason(build, clock):
    cohort, _, line = full_group_with_line(build, waiting=2)
    with pytest.raises(InvalidValue):
        waitlist.move_up(line[1].id, "  ", clock())


def test_removing_an_entry_with_an_open_offer_passes_the_seat_on(db, build, clock):
    cohort, seated, line = full_group_with_line(build)
    enrollments.change_status(seated[0].id, "withdrawn", clock(), build.policy)
    waitlist.remove_entry(line[0].id, "Moved away", clock())
    assert [o.waitlist_entry_id for o in open_offers(cohort.id)] == [line[1].id]
    assert db.session.get(WaitlistEntry, line[0].id).removed_reason == "Moved away"
    assert db.session.scalars(sa.select(AuditEvent.action)).all() == ["waitlist.remove"]


def test_a_removed_entry_cannot_be_removed_again(build, clock):
    cohort, _, line = full_group_with_line(build, waiting=1)
    waitlist.remove_entry(line[0].id, "Asked to leave the list", clock())
    with pytest.raises(InvalidTransition):
        waitlist.remove_entry(line[0].id, "again", clock())


def test_the_waitlist_lists_people_in_order_with_their_offer(build, clock):
    cohort, seated, line = full_group_with_line(build, waiting=3)
    enrollments.change_status(seated[0].id, "withdrawn", clock(), build.policy)
    places = waitlist.waitlist_for(cohort.id)
    assert [(p.entry.id, p.position) for p in places] == [(e.id, n + 1)
                                                          for n, e in enumerate(line)]
    assert places[0].offer.status == "open" and places[1].offer is None


def test_a_cohort_opening_offers_its_seats_to_those_waiting(build, clock):
    cohort = build.cohort(capacity=1, status="forming", starts_on=None)
    entry = waitlist.add_to_waitlist(build.client().id, cohort.id, clock())
    cohorts.update_cohort(cohort.id, {"status": "running", "starts_on": clock().date()},
                          clock(), build.policy)
    assert [o.waitlist_entry_id for o in open_offers(cohort.id)] == [entry.id]
