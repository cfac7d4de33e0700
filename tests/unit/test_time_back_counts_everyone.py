"""Time back to group counts everyone: those not yet back count with their wait so far."""

from datetime import UTC, datetime

from scheduler.timeback import Journey, distribution, grouped, percentile, summarise

NOW = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def journeys() -> list[Journey]:
    return [
        Journey(1, at(1), checked_in_at=at(2), placed_at=at(2), seated_at=at(3),
                location="Boston", kind="join"),  # 2 days
        Journey(2, at(1), checked_in_at=at(3), placed_at=at(3), seated_at=at(4),
                location="Boston", kind="resume"),  # 3 days
        Journey(3, at(1), checked_in_at=at(5), placed_at=at(6), seated_at=at(21),
                location="Needham", kind="fresh"),  # 20 days
        Journey(4, at(21, 12), checked_in_at=at(23), placed_at=at(23),
                location="Needham", kind="waitlist"),  # waiting 10 days so far
        Journey(5, at(19, 12), location="Boston"),  # waiting 12 days, not checked in
        Journey(6, at(10), closed=True),  # closed without a group: not a wait
    ]


def test_the_median_and_p90_count_those_still_waiting_at_their_age():
    s = summarise(journeys(), NOW, limits=(7, 14))
    # waits: 2, 3, 20 (seated) and 10, 12 (still waiting)
    assert s.median_days == 10
    assert s.p90_days == 20
    assert s.median_seated_days == 3  # the flattering figure that leaves them out


def test_never_seated_includes_the_waiting_and_the_closed():
    s = summarise(journeys(), NOW, limits=(7, 14))
    assert (s.requests, s.seated, s.waiting, s.closed, s.never_seated) == (6, 3, 2, 1, 3)
    assert s.waiting_ages == [12, 10]
    assert s.unseated_over == {7: 2, 14: 0}


def test_those_waiting_past_a_limit_with_no_staff_decision_are_counted_apart():
    s = summarise(journeys(), NOW, limits=(7, 14))
    # 10 days waiting but placed on a waitlist (a decision); 12 days not yet placed
    assert s.unseated_over == {7: 2, 14: 0}
    assert s.undecided_over == {7: 1, 14: 0}


def test_each_stage_has_its_own_median_from_the_request():
    s = summarise(journeys(), NOW)
    assert s.stage_medians["check_in"] == 1.75  # 1, 2, 4, 1.5 days
    assert s.stage_medians["placed"] == 1.75  # 1, 2, 5, 1.5 days
    assert s.stage_medians["seated"] == 3


def test_groups_by_location_and_option_kind_keep_the_unplaced():
    by_kind = grouped(journeys(), lambda j: j.kind, NOW)
    assert sorted(by_kind) == ["fresh", "join", "not placed yet", "resume", "waitlist"]
    assert by_kind["waitlist"].median_days == 10
    assert by_kind["not placed yet"].requests == 2
    by_place = grouped(journeys(), lambda j: j.location, NOW)
    assert by_place["Boston"].median_days == 3  # 2, 3, 12


def test_the_distribution_shows_seated_and_still_waiting_in_each_band():
    bands = {label: (seated, waiting) for label, seated, waiting in
             distribution(journeys(), NOW)}
    assert bands["1–3 d"] == (1, 0)
    assert bands["3–7 d"] == (1, 0)
    assert bands["7–14 d"] == (0, 2)
    assert bands["14–28 d"] == (1, 0)
    assert sum(s + w for s, w in bands.values()) == 5


def test_percentile_is_the_nearest_rank_and_empty_is_none():
    assert percentile([5, 1, 3, 2, 4], 90) == 5
    assert percentile([5, 1, 3, 2, 4], 50) == 3
    assert percentile([], 90) is None
    assert summarise([], NOW).median_days is None
