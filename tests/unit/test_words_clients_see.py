"""Words a client reads about their group: the days and time they know, never a
program name they did not choose to see."""

from datetime import time

from scheduler.schedule import pattern_in_words


def test_a_group_is_named_by_its_days_and_time():
    assert pattern_in_words(["mon", "wed", "thu"], time(18, 0)) == (
        "Mondays, Wednesdays and Thursdays at 6:00 PM")


def test_a_one_day_group_reads_plainly():
    assert pattern_in_words(["tue"], time(9, 30)) == "Tuesdays at 9:30 AM"
