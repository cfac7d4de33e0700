"""The Returners queue and Director figures, straight from the report queries."""

from datetime import timedelta

import sqlalchemy as sa

from scheduler.models import GroupSession
from scheduler.services import enrollments, reports, returns, waitlist
from tests.returns_support import ask_to_come_back
from tests.waitlist_support import full_group_with_line


def test_time_back_counts_only_requests_from_the_window_but_everyone_still_waiting(
        build, clock):
    ask_to_come_back(build.client("Long Ago", email="old@example.org"), clock())
    clock.advance(days=100)
    ask_to_come_back(build.client("Recent", email="new@example.org"), clock())
    clock.advance(days=2)
    figures = reports.time_back(clock())
    assert (figures.requests, figures.still_waiting, figures.back_in_group) == (1, 2, 0)
    assert figures.median_days == 2.0  # the one not back yet counts with their wait
    assert figures.never_seated == 1 and figures.waiting_days == [2.0]


def test_time_back_on_a_hand_built_history_counts_the_never_seated(db, build, clock):
    cohort = build.cohort()
    asked = clock()
    seated = ask_to_come_back(build.client("Seated", email="s@example.org"), clock())
    clock.advance(hours=6)
    waiting = ask_to_come_back(build.client("Waiting", email="w@example.org"), clock())
    clock.advance(hours=6)
    closed = ask_to_come_back(build.client("Closed", email="c@example.org"), clock())
    returns.close_return(closed.id, clock())
    clock.advance(days=1)
    returns.place(seated.id, f"join:{cohort.id}", None, clock(), build.policy)
    first = db.session.scalars(sa.select(GroupSession).where(
        GroupSession.cohort_id == cohort.id, GroupSession.starts_at > clock())
        .order_by(GroupSession.starts_at)).first()
    clock.set(first.ends_at)
    enrollments.record_attendance(first.id, [{"client_id": seated.client_id,
                                              "status": "present"}], None, clock(),
                                  build.policy)
    clock.set(asked + timedelta(days=10))
    figures = reports.time_back(clock())
    to_group = (first.starts_at - asked).total_seconds() / 86400
    still = 10 - 0.25  # asked six hours after the first
    assert (figures.requests, figures.back_in_group, figures.never_seated) == (3, 1, 2)
    assert figures.median_days == round((to_group + still) / 2, 1)
    assert figures.p90_days == round(still, 1)
    assert figures.median_seated_days == round(to_group, 1)
    assert figures.waiting_days == [round(still, 1)]
    options = {g["name"]: g for g in figures.by_option}
    assert options["join"]["back_in_group"] == 1
    assert options["not placed yet"]["requests"] == 2  # the waiting and the closed
    stages = {i["return_request_id"]: i["stage"] for i in figures.items}
    assert stages == {seated.id: "seated", waiting.id: "requested", closed.id: "closed"}


def test_the_queue_puts_open_requests_first_oldest_first_and_placed_ones_apart(
        build, clock, policy):
    cohort = build.cohort()
    first = ask_to_come_back(build.client("First", email="a@example.org"), clock())
    clock.advance(hours=2)
    second = ask_to_come_back(build.client("Second", email="b@example.org"), clock())
    clock.advance(hours=1)
    placed = ask_to_come_back(build.client("Placed", email="c@example.org"), clock())
    returns.place(placed.id, f"join:{cohort.id}", None, clock(), policy)
    queue = reports.returners_queue(clock())
    assert [r.request.id for r in queue.open] == [first.id, second.id]
    assert [r.age for r in queue.open] == ["3 hours", "1 hour"]
    assert [r.request.id for r in queue.recent] == [placed.id]


def test_the_director_report_counts_seats_and_the_longest_wait_per_cohort(build, clock):
    cohort, _, _ = full_group_with_line(build, capacity=2, waiting=2)
    clock.advance(days=4, hours=1)
    report = reports.director_report(clock())
    line = next(c for loc in report.locations for c in loc.cohorts if c.cohort.id == cohort.id)
    assert (line.seats.taken, line.seats.offered, line.seats.free) == (2, 0, 0)
    assert (line.waiting, line.longest_wait_days) == (2, 4)
    location = next(loc for loc in report.locations if loc.location.id == cohort.location_id)
    assert (location.seats.capacity, location.waiting) == (2, 2)


def test_what_a_client_waits_for_lists_waitlists_with_positions_and_forming_places(
        build, clock, policy):
    from tests.returns_support import fresh_group

    cohort, _, line = full_group_with_line(build, capacity=1, waiting=2)
    waiting = waitlist.waiting_of(line[1].client_id)
    assert [(w.cohort_id, w.cohort_name, w.kind, w.position, w.offer_expires_at)
            for w in waiting] == [(cohort.id, cohort.name, "waitlist", 2, None)]
    placed = fresh_group(build, build.location(), 1)[0]
    assert [w.kind for w in waitlist.waiting_of(placed.forming_member.client_id)] == [
        "forming"]


def test_seats_and_lines_for_one_site_or_one_group_are_that_sites_or_groups_alone(
        build, clock):
    from scheduler.services.seats import seats_by_cohort
    from scheduler.services.waitlist import lines_by_cohort

    here, _, _ = full_group_with_line(build, capacity=2, waiting=1)
    there, _, _ = full_group_with_line(build, capacity=3, waiting=2)
    every = seats_by_cohort(clock())
    assert every[here.id]["enrolled"] == 2 and every[there.id]["enrolled"] == 3
    assert seats_by_cohort(clock(), location_ids=[here.location_id]) == {here.id: every[here.id]}
    assert seats_by_cohort(clock(), cohort_id=there.id) == {there.id: every[there.id]}
    lines = lines_by_cohort()
    assert {here.id, there.id} <= set(lines)
    assert lines_by_cohort([there.location_id]) == {there.id: lines[there.id]}
