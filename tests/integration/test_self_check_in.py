"""A person coming back picks their own check-in time from those staff publish."""

from datetime import timedelta
from functools import partial

import pytest
import sqlalchemy as sa

from scheduler.errors import InvalidTransition, InvalidValue, NoSeatLeft, NotFound
from scheduler.models import AuditEvent, CheckIn, Notification, db
from scheduler.services import checkins, outbox, returns, staff
from tests.integration.test_waitlist_races import race
from tests.returns_support import ask_to_come_back


def publish(build, clock, *, hours=26, mode="phone", places=1, location=None):
    return checkins.publish_slot({"starts_at": clock() + timedelta(hours=hours),
                                  "mode": mode, "places": places,
                                  "location_id": location.id if location else None},
                                 clock(), staff_id=None)


def asking(build, clock, name="Robin Example"):
    client = build.client(name, email=f"{name.split()[0].lower()}@example.org")
    return ask_to_come_back(client, clock(), channel="web")


def test_a_person_picks_a_published_time_and_their_check_in_is_booked_there(build, clock):
    boston = build.location("Boston")
    slot = publish(build, clock, mode="in_person", location=boston)
    request = asking(build, clock)
    row = checkins.book_slot(request.id, slot.id, clock(), build.policy)
    assert (row.at, row.mode, row.location_id, row.status) == (
        slot.starts_at, "in_person", boston.id, "booked")
    assert returns.current_check_in(request.id).id == row.id


def test_a_full_time_is_refused_and_the_first_booking_stands(build, clock):
    slot = publish(build, clock)
    first, second = asking(build, clock, "Robin A"), asking(build, clock, "Sam B")
    checkins.book_slot(first.id, slot.id, clock(), build.policy)
    with pytest.raises(NoSeatLeft):
        checkins.book_slot(second.id, slot.id, clock(), build.policy)
    db.session.rollback()
    assert returns.current_check_in(second.id) is None


def test_two_people_taking_the_last_place_at_once_get_one_booking(app, db, build, clock):
    slot = publish(build, clock)
    people = [asking(build, clock, f"Person{n} Example") for n in range(4)]
    slot_id, ids = slot.id, [p.id for p in people]

    def take(return_id):
        checkins.book_slot(return_id, slot_id, clock(), build.policy)
        return "booked"

    outcomes = race(app, db, [partial(take, i) for i in ids])
    assert sorted(outcomes) == ["NoSeatLeft"] * 3 + ["booked"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CheckIn).where(
        CheckIn.slot_id == slot_id)) == 1


def test_moving_to_another_time_cancels_reminders_for_the_old_one(build, clock):
    early, later = publish(build, clock, hours=20), publish(build, clock, hours=44)
    request = asking(build, clock)
    row = checkins.book_slot(request.id, early.id, clock(), build.policy)
    outbox.plan_reminders(clock(), build.policy)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.subject_ref == f"check_in:{row.id}",
        Notification.status == "pending")) > 0
    moved = checkins.book_slot(request.id, later.id, clock(), build.policy)
    assert (moved.id, moved.at, moved.revision) == (row.id, later.starts_at, 1)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.subject_ref == f"check_in:{row.id}",
        Notification.status == "pending")) == 0


def test_times_too_soon_taken_down_or_full_are_not_offered(build, clock):
    soon = publish(build, clock, hours=1)
    gone = publish(build, clock, hours=30)
    full = publish(build, clock, hours=40)
    fine = publish(build, clock, hours=50, places=2)
    checkins.withdraw_slot(gone.id, clock(), staff_id=None)
    checkins.book_slot(asking(build, clock).id, full.id, clock(), build.policy)
    offered = checkins.open_slots(clock(), build.policy)
    assert [v.slot.id for v in offered] == [fine.id]
    assert offered[0].places_left == 2
    assert soon.id not in [v.slot.id for v in offered]


def test_a_time_someone_picked_cannot_be_taken_down(build, clock):
    slot = publish(build, clock)
    checkins.book_slot(asking(build, clock).id, slot.id, clock(), build.policy)
    with pytest.raises(InvalidTransition):
        checkins.withdraw_slot(slot.id, clock(), staff_id=None)


def test_a_time_in_the_past_or_in_person_without_a_place_is_refused(build, clock):
    with pytest.raises(InvalidValue) as past:
        publish(build, clock, hours=-1)
    assert past.value.field == "starts_at"
    with pytest.raises(InvalidValue) as nowhere:
        publish(build, clock, mode="in_person")
    assert nowhere.value.field == "location_id"


def test_a_settled_request_cannot_book(build, clock):
    slot = publish(build, clock)
    request = asking(build, clock)
    returns.close_return(request.id, clock())
    with pytest.raises(InvalidTransition):
        checkins.book_slot(request.id, slot.id, clock(), build.policy)


def test_a_tampered_link_is_not_recognised(build, clock):
    request = asking(build, clock)
    token = checkins.link_token(request.id, "secret")
    assert checkins.request_for(token, "secret").id == request.id
    with pytest.raises(NotFound):
        checkins.request_for(token + "x", "secret")
    with pytest.raises(NotFound):
        checkins.request_for(token, "another secret")


def test_staff_book_a_published_time_for_someone_and_the_audit_names_who(
        build, clock):
    coordinator, _ = staff.create_staff("coord@regroup.test", "coordinator", clock())
    slot = publish(build, clock, hours=5)
    request = asking(build, clock)
    row = checkins.book_slot(request.id, slot.id, clock(), build.policy,
                             staff_id=coordinator.id)
    assert (row.slot_id, row.at, row.staff_id, row.status) == (
        slot.id, slot.starts_at, coordinator.id, "booked")
    [event] = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.entity == "return_request", AuditEvent.entity_id == request.id)).all()
    assert (event.action, event.staff_id) == ("check_in.slot_booked", coordinator.id)
    assert slot.id not in [v.slot.id for v in checkins.open_slots(clock(), build.policy)]


def test_a_time_someone_picked_themselves_is_not_booked_again_for_another_person(
        build, clock):
    coordinator, _ = staff.create_staff("coord@regroup.test", "coordinator", clock())
    slot = publish(build, clock)
    checkins.book_slot(asking(build, clock, "Robin A").id, slot.id, clock(), build.policy)
    with pytest.raises(NoSeatLeft):
        checkins.book_slot(asking(build, clock, "Sam B").id, slot.id, clock(), build.policy,
                           staff_id=coordinator.id)
