"""The simulator runs the real use cases, is deterministic for a seed, counts every
returner and reports the invariants; scenarios load and extend each other."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from scheduler.app import create_app
from scheduler.cli import simulate
from scheduler.simulation import engine, scenario, table

SMALL = """
extends = "standard-busy"
name = "small"
about = "a month, a short history"
history_weeks = 1
returners = 6
returner_days = 12

[people]
long_gone = 2
"""


@pytest.fixture(scope="module")
def small_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("scenarios") / "small.toml"
    path.write_text(SMALL)
    return path


@pytest.fixture(scope="module")
def small_run(small_file) -> engine.Result:
    return engine.run(scenario.load(str(small_file)), days=30, seed=11, make_app=create_app)


def test_both_standard_scenarios_ship_and_load():
    assert {"standard-busy", "standard-room"} <= set(scenario.shipped())
    busy, room = scenario.load("standard-busy"), scenario.load("standard-room")
    assert (busy.history_weeks, busy.returners, busy.new_per_week) == (26, 40, 4.5)
    assert (room.new_per_week, room.cohorts) == (3.0, busy.cohorts)
    assert room.people["initial_fill"] < busy.people["initial_fill"]
    assert room.people["phone_only"] == busy.people["phone_only"]  # merged, not replaced


def test_every_shipped_variant_loads_with_its_change_on_top_of_its_parent():
    for name in scenario.shipped():
        assert scenario.load(name).name == name
    saturday = scenario.load("saturday-coordinator")
    assert saturday.coordinator["working_days"].endswith("sat")
    assert saturday.coordinator["hours"] == scenario.load("standard-room").coordinator["hours"]


def test_a_scenario_may_add_a_group_and_change_policy(tmp_path):
    path = tmp_path / "more.toml"
    path.write_text('extends = "standard-busy"\nname = "more"\n[policy]\nfresh_min_size = 3\n'
                    '[[add_cohorts]]\nname = "Extra"\nlocation = "Needham"\n'
                    'track = "IOP Evening"\nweekdays = "mon"\nstart = "18:00"\ncapacity = 6\n')
    more = scenario.load(str(path))
    assert [c["name"] for c in more.cohorts][-1] == "Extra"
    assert len(more.cohorts) == len(scenario.load("standard-busy").cohorts) + 1
    assert more.policy().fresh_min_size == 3


def test_a_scenario_with_a_mistake_is_refused_with_what_is_wrong(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('extends = "standard-busy"\nname = "bad"\n[policy]\nno_such_rule = 1\n')
    with pytest.raises(scenario.ScenarioError, match="no_such_rule"):
        scenario.load(str(bad)).policy()
    bad.write_text('extends = "standard-busy"\nname = "bad"\n[[add_cohorts]]\nname = "X"\n'
                   'location = "Cambridge"\ntrack = "IOP Day"\nweekdays = "mon"\n'
                   'start = "09:00"\ncapacity = 5\n')
    with pytest.raises(scenario.ScenarioError, match="Cambridge"):
        scenario.load(str(bad))
    with pytest.raises(scenario.ScenarioError, match="standard-busy"):
        scenario.load("no-such-scenario")


def test_every_returner_is_counted_and_the_invariants_hold(small_run):
    s = small_run.summary
    assert s.requests == 6
    assert s.seated + s.never_seated == 6
    assert s.median_days is not None and s.p90_days >= s.median_days
    for j in small_run.journeys:  # the stages happen in order
        stamps = [t for t in (j.requested_at, j.checked_in_at, j.placed_at, j.seated_at) if t]
        assert stamps == sorted(stamps)
    assert small_run.counters.capacity_violations == 0
    assert small_run.counters.two_groups == 0
    assert small_run.duplicates == 0
    assert small_run.counters.new_people > 0
    # check-ins come every way the program offers: picked, an open time, a call
    c = small_run.counters
    assert c.checkins_self_booked > 0 and c.checkins_open_times > 0
    assert small_run.messages.get("email sent", 0) > 0  # through the real outbox
    assert 0 < small_run.utilisation["all"] <= 1


def test_a_coordinator_who_checks_in_on_the_call_back_books_no_call(tmp_path):
    path = tmp_path / "calls.toml"
    path.write_text(SMALL.replace('name = "small"', 'name = "calls"')
                    + "[coordinator]\nchecks_in_on_call_back = 1.0\nbooks_open_times = false\n"
                    + "[check_in]\nself_booking = false\n")
    run = engine.run(scenario.load(str(path)), days=30, seed=11, make_app=create_app)
    assert run.counters.checkins_on_call_back == len(run.journeys) > 0
    assert run.counters.checkins_called == run.counters.checkins_self_booked == 0
    assert all(j.checked_in_at is not None for j in run.journeys)
    assert "check-ins done on the first call back" in table.render(run)


def test_the_closing_table_has_the_time_back_lines(small_run):
    text = table.render(small_run)
    median = re.search(r"^time back median (\d+\.\d) d$", text, re.M)
    p90 = re.search(r"^time back p90 (\d+\.\d) d$", text, re.M)
    assert median and p90
    assert float(median.group(1)) == round(small_run.summary.median_days, 1)
    assert "capacity violations 0" in text


def test_the_same_seed_gives_the_same_numbers(small_file, small_run):
    result = CliRunner().invoke(simulate, ["--scenario", str(small_file), "--days", "30",
                                           "--seed", "11"])
    assert result.exit_code == 0, result.output
    assert table.render(small_run) in result.output


def test_compare_shows_two_scenarios_side_by_side(tmp_path):
    path = tmp_path / "brief.toml"
    path.write_text(SMALL.replace("history_weeks = 1", "history_weeks = 0"))
    other = tmp_path / "brief-3.toml"
    other.write_text(f'extends = "{path}"\nname = "brief-3"\n[policy]\nfresh_min_size = 3\n')
    result = CliRunner().invoke(simulate, ["--compare", str(path), str(other),
                                           "--days", "2", "--seed", "5"])
    assert result.exit_code == 0, result.output
    assert "A: small" in result.output and "B: brief-3" in result.output
    line = next(x for x in result.output.splitlines() if x.startswith("capacity violations"))
    assert line.split()[-2:] == ["0", "0"]


def test_the_command_says_what_is_missing():
    result = CliRunner().invoke(simulate, ["--days", "3"])
    assert result.exit_code != 0
    assert "--scenario" in result.output
