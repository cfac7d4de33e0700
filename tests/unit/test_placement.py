"""The placement policy table: pure rules, no app, no database."""

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import pytest

from scheduler.config import Policy
from scheduler.placement import (
    Answers,
    CohortSnapshot,
    History,
    TrackInfo,
    parse_option_id,
    progress_for,
    rank_options,
)

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)  # Mon 10:00 in Boston
POLICY = Policy()
TRACKS = (TrackInfo(1, "Evening", 36), TrackInfo(2, "Day", 36))
BOSTON, NEEDHAM = 1, 2


def cohort(id, **kw) -> CohortSnapshot:
    values = dict(id=id, name=f"Group {id}", location_id=BOSTON, location_name="Boston",
                  track_id=1, status="running", mode="rolling", weekdays=("mon", "wed", "thu"),
                  start_time=time(18, 0), daypart="evening", capacity=10, seats_taken=5,
                  first_session_at=datetime(2026, 12, 1, 23, 0, tzinfo=UTC))
    values.update(kw)
    return CohortSnapshot(**values)


def away(days: int, prior: int = 1, **kw) -> History:
    last = NOW - timedelta(days=days)
    return History(attended_at=(last,), last_attended_at=last, prior_cohort_id=prior, **kw)


def rank(history, cohorts, answers=Answers(), policy=POLICY):
    return rank_options(history, answers, cohorts, TRACKS, NOW, policy)


def ids(ranking) -> list[str]:
    return [o.id for o in ranking.options]


def reason_for(ranking, cohort_id) -> str:
    return " | ".join(n.reason for n in ranking.not_offered if n.cohort_id == cohort_id)


@pytest.mark.parametrize("days", [29, 30])
def test_a_returner_away_up_to_the_resume_window_is_offered_their_group_first(days):
    ranking = rank(away(days), [cohort(1), cohort(2)])
    assert ids(ranking)[0] == "resume:1"


def test_a_returner_away_one_day_past_the_resume_window_is_not_offered_resume():
    ranking = rank(away(31), [cohort(1), cohort(2)])
    assert not any(o.kind == "resume" for o in ranking.options)
    assert "31 days" in reason_for(ranking, 1)


def test_past_the_resume_window_the_old_group_can_still_be_joined():
    ranking = rank(away(31), [cohort(1), cohort(2)])
    assert "join:1" in ids(ranking)


def test_the_resume_option_reads_aloud_with_seats_and_first_session():
    ranking = rank(away(10), [cohort(1, seats_taken=8)])
    resume = ranking.options[0]
    assert resume.reasons[0] == (
        "Same group as before (Group 1); 2 seats left; first session Tue Dec 1, 6:00 PM")


def test_a_full_prior_group_offers_a_waitlist_place_instead_of_resume():
    ranking = rank(away(10), [cohort(1, seats_taken=10)])
    assert "resume:1" not in ids(ranking)
    assert "waitlist:1" in ids(ranking)


def test_a_prior_group_with_one_seat_is_offered_to_resume():
    ranking = rank(away(10), [cohort(1, seats_taken=9)])
    assert ranking.options[0].id == "resume:1"
    assert ranking.options[0].seats_left == 1


def test_a_paused_client_still_holding_their_seat_can_resume_a_full_group():
    history = away(10, prior_enrollment_holds_seat=True)
    ranking = rank(history, [cohort(1, seats_taken=10)])
    assert ranking.options[0].id == "resume:1"


def test_a_prior_group_that_ended_is_explained_not_offered():
    ranking = rank(away(10), [cohort(1, status="ended"), cohort(2)])
    assert "resume:1" not in ids(ranking)
    assert "ended" in reason_for(ranking, 1)
    assert "join:2" in ids(ranking)


def test_a_group_at_another_daypart_is_explained_not_offered():
    answers = Answers(dayparts=("morning",))
    ranking = rank(away(10, prior=9), [cohort(1), cohort(2, daypart="morning",
                                                             start_time=time(9, 30))],
                   answers)
    assert "join:1" not in ids(ranking)
    assert "evening" in reason_for(ranking, 1) and "morning" in reason_for(ranking, 1)
    assert ids(ranking)[0] == "join:2"


def test_their_own_recent_group_is_offered_even_at_a_daypart_they_did_not_ask_for():
    answers = Answers(dayparts=("morning",))
    ranking = rank(away(10), [cohort(1), cohort(2, daypart="morning",
                                                     start_time=time(9, 30))], answers)
    assert ids(ranking)[0] == "join:2"
    [resume] = [o for o in ranking.options if o.id == "resume:1"]
    assert resume.previous_group
    assert any("evening" in r and "morning" in r for r in resume.reasons)


def test_their_own_recent_group_is_offered_whatever_location_they_ticked():
    answers = Answers(location_ids=(NEEDHAM,))
    ranking = rank(away(3), [cohort(1)], answers)
    assert "resume:1" in ids(ranking)


def test_their_own_full_recent_group_offers_its_line_whatever_they_ticked():
    answers = Answers(location_ids=(NEEDHAM,))
    ranking = rank(away(3), [cohort(1, seats_taken=10)], answers)
    assert "waitlist:1" in ids(ranking)


def test_with_no_location_ticked_every_location_fits():
    ranking = rank(away(40, prior=9), [cohort(1), cohort(2, location_id=NEEDHAM,
                                                         location_name="Needham")])
    assert {"join:1", "join:2"} <= set(ids(ranking))


def test_only_the_option_for_their_old_group_says_it_was_theirs():
    ranking = rank(away(10), [cohort(1), cohort(2)])
    assert {o.id: o.previous_group for o in ranking.options
            if o.kind != "fresh"} == {"resume:1": True, "join:2": False}


def test_a_group_on_a_weekday_the_client_cannot_make_is_not_offered():
    answers = Answers(weekdays=("mon", "wed"))
    ranking = rank(away(10, prior=9), [cohort(1)], answers)
    assert "join:1" not in ids(ranking)
    assert "Thu" in reason_for(ranking, 1)


def test_a_group_at_a_location_not_asked_for_is_not_offered():
    answers = Answers(location_ids=(NEEDHAM,))
    ranking = rank(away(10, prior=9), [cohort(1)], answers)
    assert "join:1" not in ids(ranking)
    assert "Boston" in reason_for(ranking, 1)


@pytest.mark.parametrize("answer", ["yes", "no", "prefer_not_to_say", None])
def test_using_again_answered_any_way_never_changes_the_ranking(answer):
    cohorts = [cohort(1), cohort(2, seats_taken=10), cohort(3, location_id=NEEDHAM,
                                                          location_name="Needham")]
    baseline = rank(away(12), cohorts, Answers())
    answered = rank(away(12), cohorts, Answers(using_again=answer))
    assert answered == baseline


@pytest.mark.parametrize(("days", "credited"), [(179, 1), (180, 1), (181, 0)])
def test_sessions_count_toward_progress_only_inside_the_credit_window(days, credited):
    history = away(days)
    assert progress_for(history, 36, NOW, POLICY).credited == credited


def test_sessions_beyond_the_credit_window_are_reported_never_silently_dropped():
    history = away(181)
    progress = progress_for(history, 36, NOW, POLICY)
    assert (progress.credited, progress.beyond_window, progress.remaining) == (0, 1, 36)


def test_progress_reads_n_of_total_done_and_m_to_go():
    sessions = tuple(NOW - timedelta(days=d) for d in range(40, 52))
    history = History(attended_at=sessions, last_attended_at=sessions[0], prior_cohort_id=1)
    option = rank(history, [cohort(1)]).options[0]
    assert option.progress.as_dict() == {"credited": 12, "total": 36, "remaining": 24,
                                         "beyond_window": 0}
    assert "12 of 36 done, 24 to go" in option.reasons


def test_progress_never_exceeds_the_tracks_total():
    sessions = tuple(NOW - timedelta(days=d) for d in range(1, 41))
    history = History(attended_at=sessions)
    assert progress_for(history, 36, NOW, POLICY).credited == 36


def test_credit_carried_on_an_earlier_enrollment_counts_inside_the_window():
    history = History(carried=((NOW - timedelta(days=60), 10),))
    assert progress_for(history, 36, NOW, POLICY).credited == 10


def test_someone_who_left_two_years_ago_is_still_offered_places():
    ranking = rank(away(730), [cohort(1), cohort(2)])
    kinds = {o.kind for o in ranking.options}
    assert "resume" not in kinds and {"join", "fresh"} <= kinds
    assert ranking.options[0].progress.credited == 0
    assert ranking.options[0].progress.beyond_window == 1


def test_join_offers_other_running_groups_with_seats():
    ranking = rank(away(10), [cohort(1, seats_taken=10), cohort(2, seats_taken=9)])
    join = next(o for o in ranking.options if o.kind == "join")
    assert join.id == "join:2" and join.seats_left == 1


def test_a_full_group_is_never_offered_to_join():
    ranking = rank(History(), [cohort(2, seats_taken=10)])
    assert "join:2" not in ids(ranking)
    assert "waitlist:2" in ids(ranking)


def test_a_closed_group_past_its_third_session_is_explained_not_offered():
    ranking = rank(History(), [cohort(2, mode="closed", joinable=False)])
    assert "join:2" not in ids(ranking)
    assert "closed" in reason_for(ranking, 2)


def test_waitlists_are_limited_to_the_best_fitting_full_groups():
    full = [cohort(i, seats_taken=10) for i in range(2, 7)]
    ranking = rank(History(), full, policy=replace(POLICY, waitlist_options=2))
    assert [o.id for o in ranking.options if o.kind == "waitlist"] == [
        "waitlist:2", "waitlist:3"]
    assert "waitlists are offered" in reason_for(ranking, 6)


def test_a_forming_group_of_returners_is_offered_as_fresh():
    forming = cohort(5, status="forming", for_returners=True, members=2, seats_taken=0,
                     first_session_at=None)
    ranking = rank(away(60), [cohort(1, seats_taken=10), forming])
    fresh = next(o for o in ranking.options if o.kind == "fresh")
    assert fresh.id == "fresh:5"
    assert "2 of 4" in fresh.reasons[0]


def test_a_new_fresh_group_is_offered_when_none_is_forming_there():
    ranking = rank(away(60), [cohort(1)])
    assert "fresh:new:1:1:evening" in ids(ranking)


def test_groups_left_out_because_better_fitting_ones_are_offered_say_which_list():
    open_seats = [cohort(i) for i in range(2, 9)]
    full = [cohort(i, seats_taken=10) for i in range(10, 15)]
    ranking = rank(History(), open_seats + full)
    crowded = {n.cohort_id: n.crowded_out for n in ranking.not_offered if n.crowded_out}
    assert crowded == {7: "join", 8: "join", 13: "waitlist", 14: "waitlist"}
    assert ranking.crowded_out() == {"join": 2, "waitlist": 2}


def new_fresh(ranking) -> list[str]:
    return [o.id for o in ranking.options if o.id.startswith("fresh:new:")]


def test_new_fresh_groups_are_proposed_at_the_first_sites_only_up_to_the_policy():
    sites = {n: f"Site {n}" for n in range(1, 6)}
    policy = replace(POLICY, fresh_new_options=4)
    ranking = rank_options(History(), Answers(), [cohort(1)], TRACKS, NOW, policy, sites)
    assert set(new_fresh(ranking)) == {"fresh:new:1:1:morning", "fresh:new:1:1:afternoon",
                                       "fresh:new:1:1:evening", "fresh:new:2:1:morning"}


def test_new_fresh_groups_follow_the_sites_the_person_asked_for_in_their_order():
    sites = {n: f"Site {n}" for n in range(1, 6)}
    policy = replace(POLICY, fresh_new_options=2)
    answers = Answers(location_ids=(5, 3), dayparts=("evening",))
    ranking = rank_options(History(), answers, [cohort(1)], TRACKS, NOW, policy, sites)
    assert new_fresh(ranking) == ["fresh:new:5:1:evening", "fresh:new:3:1:evening"]


def test_by_default_a_two_site_program_is_offered_a_new_fresh_group_at_every_daypart():
    ranking = rank_options(History(), Answers(), [cohort(1)], TRACKS, NOW, POLICY,
                           {BOSTON: "Boston", NEEDHAM: "Needham"})
    assert len(new_fresh(ranking)) == 6


def test_someone_already_waiting_for_a_group_is_not_offered_it_again():
    history = away(60, waiting_cohort_ids=frozenset({1}))
    ranking = rank(history, [cohort(1, seats_taken=10)])
    assert "waitlist:1" not in ids(ranking)
    assert "Already waiting" in reason_for(ranking, 1)


def forming(id, members, **kw):
    return cohort(id, status="forming", for_returners=True, members=members, capacity=10,
                  seats_taken=0, first_session_at=datetime(2026, 12, 2, 23, 0, tzinfo=UTC),
                  **kw)


def test_preferring_a_fresh_group_ranks_one_that_would_start_soon_first():
    ranking = rank(away(10), [cohort(1), forming(5, members=3)],
                   Answers(preference="fresh_group"))
    assert ranking.options[0].id == "fresh:5"
    assert "resume:1" in ids(ranking)


def test_a_fresh_group_that_still_needs_people_comes_after_a_seat_open_now():
    ranking = rank(away(10), [cohort(1), forming(5, members=1)],
                   Answers(preference="fresh_group"))
    assert ids(ranking).index("resume:1") < ids(ranking).index("fresh:5")


def test_a_fresh_group_that_would_start_with_them_ranks_with_the_seats_by_its_date():
    later = cohort(2, first_session_at=datetime(2026, 12, 7, 23, 0, tzinfo=UTC))
    ranking = rank(History(), [later, forming(5, members=3)])
    assert ids(ranking)[:2] == ["fresh:5", "join:2"]


def test_their_own_full_group_comes_after_a_free_seat_elsewhere_and_before_other_lines():
    ranking = rank(away(10), [cohort(1, seats_taken=10), cohort(2),
                              cohort(3, seats_taken=10)],
                   Answers(preference="same_group"))
    order = ids(ranking)
    assert order[0] == "join:2"
    assert order.index("waitlist:1") < order.index("waitlist:3")


def test_in_a_full_program_a_fresh_group_comes_before_any_line():
    # a forming group is what opens new seats when every group is full
    ranking = rank(away(10), [cohort(1, seats_taken=10), cohort(3, seats_taken=10)])
    kinds = [o.kind for o in ranking.options]
    assert kinds.index("fresh") < kinds.index("waitlist")


def test_groups_starting_sooner_rank_first_among_joins():
    later = cohort(2, first_session_at=datetime(2026, 12, 3, 23, 0, tzinfo=UTC))
    sooner = cohort(3, first_session_at=datetime(2026, 12, 1, 23, 0, tzinfo=UTC))
    ranking = rank(History(), [later, sooner])
    joins = [o.id for o in ranking.options if o.kind == "join"]
    assert joins == ["join:3", "join:2"]


def test_every_cohort_is_either_offered_or_explained():
    cohorts = [cohort(1, status="ended"), cohort(2, seats_taken=10), cohort(3),
               cohort(4, daypart="morning"), cohort(5, location_id=NEEDHAM,
                                                    location_name="Needham")]
    ranking = rank(away(10), cohorts, Answers(dayparts=("evening",),
                                              location_ids=(BOSTON,)))
    seen = {o.cohort_id for o in ranking.options} | {n.cohort_id for n in ranking.not_offered}
    assert {1, 2, 3, 4, 5} <= seen


def test_option_ids_parse_back_to_their_parts():
    assert parse_option_id("join:7") == ("join", 7, None)
    assert parse_option_id("fresh:new:1:2:evening") == ("fresh", None, (1, 2, "evening"))
    with pytest.raises(ValueError):
        parse_option_id("join:seven")


def test_joins_are_limited_to_the_best_fitting_groups_with_the_rest_explained():
    groups = [cohort(i) for i in range(2, 9)]
    ranking = rank(History(), groups, policy=replace(POLICY, join_options=2))
    assert [o.id for o in ranking.options if o.kind == "join"] == ["join:2", "join:3"]
    assert "better-fitting groups are offered" in reason_for(ranking, 8)
