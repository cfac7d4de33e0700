"""Any change to what an event shows raises its SEQUENCE and moves DTSTAMP and
LAST-MODIFIED, on exactly the events (in exactly the feeds) that show it; events
whose words stayed the same keep theirs (issue 14)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from scheduler.models import StaffUser
from scheduler.services import clients, cohorts, staff
from tests.feed_fixtures import check_in, client_bytes, staff_bytes
from tests.feed_parsers import event_blocks

STAMPS = ("SEQUENCE:", "DTSTAMP:", "LAST-MODIFIED:")


def parsed(data: bytes) -> dict[str, tuple[dict[str, str], list[str]]]:
    """uid -> (its SEQUENCE/DTSTAMP/LAST-MODIFIED, every other line)."""
    out = {}
    for block in event_blocks(data):
        uid = next(line[4:] for line in block if line.startswith("UID:"))
        stamps = {p: line[len(p):] for line in block for p in STAMPS if line.startswith(p)}
        words = [line for line in block if not line.startswith(STAMPS)]
        out[uid] = (stamps, words)
    return out


@pytest.fixture
def program(app, db, build, clock):
    robin, _ = staff.create_staff("robin@example.org", "clinician", clock(), name="Robin Lee")
    site = build.location("Boston", address="1 Main St")
    group = build.cohort(site, name="Evening A", facilitator_id=robin.id, room="Room 2",
                         starts_on=date(2026, 11, 2))
    other = build.cohort(site, name="Morning B", weekdays=["tue"])
    sam = build.client("Sam Rivera", show_location=True)
    alex = build.client("Alex Kim")
    build.enroll(sam, group, joined_on=date(2026, 11, 2))
    build.enroll(alex, other, joined_on=date(2026, 11, 2))
    check_in(alex, clock() + timedelta(days=2), clock(), mode="in_person",
             location_id=site.id, staff_id=robin.id)
    feeds = {"sam": lambda: client_bytes(sam.id, app), "alex": lambda: client_bytes(alex.id, app),
             "evening a": lambda: staff_bytes("cohort", group.id, app),
             "site": lambda: staff_bytes("location", site.id, app),
             "robin": lambda: staff_bytes("facilitator", robin.id, app)}
    return {"robin": robin, "site": site, "group": group, "other": other, "sam": sam,
            "alex": alex, "feeds": feeds}


def rename_staff(db, staff_id, name):
    db.session.get(StaffUser, staff_id).name = name
    db.session.commit()


CHANGES = {
    "a group renamed": lambda p, c, b, db: cohorts.update_cohort(
        p["group"].id, {"name": "Evening C"}, c(), b.policy),
    "a new room": lambda p, c, b, db: cohorts.update_cohort(
        p["group"].id, {"room": "Room 9"}, c(), b.policy),
    "a client's own title": lambda p, c, b, db: clients.update_client(
        p["sam"].id, {"calendar_title": "Tuesday thing"}, c()),
    "a client renamed (initials)": lambda p, c, b, db: clients.update_client(
        p["alex"].id, {"name": "Alex Zed Kim"}, c()),
    "a site's new address": lambda p, c, b, db: cohorts.update_location(
        p["site"].id, {"address": "9 Elm St"}),
    "a facilitator renamed": lambda p, c, b, db: rename_staff(db, p["robin"].id, "Robin Park"),
    "a new member (roster)": lambda p, c, b, db: b.enroll(
        b.client("Jo Example"), p["group"], joined_on=date(2026, 12, 3)),
    "a phone number (shown nowhere)": lambda p, c, b, db: clients.update_client(
        p["sam"].id, {"phone": "+1 617 555 0100"}, c()),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_exactly_the_events_whose_words_changed_get_a_new_sequence_and_stamp(
        program, db, build, clock, change):
    before = {name: parsed(make()) for name, make in program["feeds"].items()}
    clock.advance(minutes=5)
    CHANGES[change](program, clock, build, db)
    after = {name: parsed(make()) for name, make in program["feeds"].items()}
    wrong, reworded = [], 0
    for feed, events in before.items():
        for uid, (stamps, words) in events.items():
            if uid not in after[feed]:
                continue
            new_stamps, new_words = after[feed][uid]
            reworded += new_words != words
            moved = (int(new_stamps["SEQUENCE:"]) > int(stamps["SEQUENCE:"])
                     and new_stamps["DTSTAMP:"] > stamps["DTSTAMP:"]
                     and new_stamps["LAST-MODIFIED:"] > stamps["LAST-MODIFIED:"])
            unmoved = new_stamps == stamps
            if (new_words != words and not moved) or (new_words == words and not unmoved):
                wrong.append((feed, uid[:8], new_words != words))
    assert wrong == []
    if change != "a phone number (shown nowhere)":
        assert reworded, "the change reworded nothing (the case tests nothing)"


def test_a_rebuild_with_nothing_changed_keeps_every_sequence(program, clock):
    first = {name: make() for name, make in program["feeds"].items()}
    clock.advance(minutes=30)
    assert {name: make() for name, make in program["feeds"].items()} == first
