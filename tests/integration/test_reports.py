"""The Returners queue and Director figures, straight from the report queries."""

from scheduler.services import reports, returns
from tests.returns_support import ask_to_come_back
from tests.waitlist_support import full_group_with_line


def test_time_back_counts_only_requests_from_the_window_but_everyone_still_waiting(
        build, clock):
    ask_to_come_back(build.client("Long Ago", email="old@example.org"), clock())
    clock.advance(days=100)
    ask_to_come_back(build.client("Recent", email="new@example.org"), clock())
    figures = reports.time_back(clock())
    assert (figures.requests, figures.still_waiting) == (1, 2)
    assert figures.median_days is None and figures.back_in_group == 0


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
    waiting = reports.waiting_for(line[1].client_id)
    assert [(w.cohort.id, w.kind, w.position, w.offer) for w in waiting] == [
        (cohort.id, "waitlist", 2, None)]
    placed = fresh_group(build, build.location(), 1)[0]
    assert [w.kind for w in reports.waiting_for(placed.forming_member.client_id)] == [
        "forming"]
