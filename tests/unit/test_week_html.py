"""A site's week on the Cohorts page, written by a plain function: each running
group in the cell of each of its days and in the narrow screen's list per day, with
its seats and how many wait; names typed by staff are escaped."""

from datetime import time
from types import SimpleNamespace

from blueprints.web.cohorts import week_html
from scheduler.services.console import CohortCard, Seats, WeekGrid


def card(cohort_id: int, name: str, waiting: int = 0) -> CohortCard:
    return CohortCard(SimpleNamespace(id=cohort_id, name=name), Seats(10, enrolled=4),
                      waiting)


def test_each_group_shows_on_each_of_its_days_in_the_table_and_the_day_list():
    evening, morning = card(7, "Evening <A> & co", waiting=3), card(8, "Morning")
    grid = WeekGrid(SimpleNamespace(id=1, name="Boston"), [time(9, 30), time(18)],
                    ("mon", "tue", "wed"),
                    {(time(18), "mon"): [evening], (time(18), "wed"): [evening],
                     (time(9, 30), "tue"): [morning]})
    html = str(week_html(grid, "/cohorts/"))
    name = '<a href="/cohorts/7">Evening &lt;A&gt; &amp; co</a>'
    assert html.count(name) == 4  # two cells and two days in the list
    assert html.count('<span class="small-print">3 waiting</span>') == 4
    assert html.count('<a href="/cohorts/8">Morning</a>') == 2
    assert html.count("waiting") == 4  # nobody waits for the morning group
    assert '<th scope="row">9:30 AM</th>' in html and '<th scope="row">6:00 PM</th>' in html
    day_list = html[html.index('<div class="day-list">'):]
    assert day_list.index("<h3>Mon</h3>") < day_list.index("<h3>Tue</h3>") < \
        day_list.index("<h3>Wed</h3>")
    assert '<li><span class="nw">6:00 PM</span> ' + name in day_list
    assert 'aria-label="Boston week"' in html


def test_a_day_without_groups_has_an_empty_cell_and_no_heading_in_the_list():
    grid = WeekGrid(SimpleNamespace(id=1, name="Needham"), [time(18)], ("mon", "tue"),
                    {(time(18), "mon"): [card(5, "Evening")]})
    html = str(week_html(grid, "/cohorts/"))
    assert "<td></td>" in html and "<h3>Tue</h3>" not in html and "<h3>Mon</h3>" in html
