"""Today for every site shows ten sites a page: a program of many sites gets a
pager (each site whole, in name order) instead of every roster in the program on
one page; a program of a few sites sees no change. Only sites with a group
session that day are counted."""

from __future__ import annotations

import re
from datetime import date

import sqlalchemy as sa

from scheduler.models import GroupSession, db
from scheduler.services import console


def _shown(page: str) -> list[str]:
    return re.findall(r'<h2 id="loc-\d+">([^<]+)</h2>', page)


def test_every_site_is_shown_ten_a_page_in_name_order_with_a_pager(console_as, build):
    build.sites(12)
    console = console_as("admin")

    first = console.get("/").get_data(as_text=True)
    assert _shown(first) == [f"Site {n:02d}" for n in range(10)]
    assert "Sites 1–10 of 12 with group sessions" in first
    assert 'href="/?page=2"' in first and ">Previous<" not in first
    assert "Person Site 09" in first and "Person Site 10" not in first

    second = console.get("/?page=2").get_data(as_text=True)
    assert _shown(second) == ["Site 10", "Site 11"]
    assert "Sites 11–12 of 12 with group sessions" in second
    assert 'href="/">Previous<' in second and ">Next<" not in second


def test_a_page_past_the_last_shows_the_last_and_a_bad_page_the_first(console_as, build):
    build.sites(12)
    console = console_as("admin")
    assert _shown(console.get("/?page=9").get_data(as_text=True)) == ["Site 10", "Site 11"]
    assert _shown(console.get("/?page=abc").get_data(as_text=True))[0] == "Site 00"


def test_a_program_of_a_few_sites_shows_them_all_without_a_pager(console_as, build):
    build.sites(2)
    page = console_as("admin").get("/").get_data(as_text=True)
    assert _shown(page) == ["Site 00", "Site 01"]
    assert "with group sessions" not in page and 'class="pager"' not in page


def test_sites_with_no_group_session_that_day_are_not_counted(console_as, build):
    build.sites(10)
    for n in range(5):  # their groups meet Tuesdays and Fridays only
        build.cohort(build.location(f"Quiet {n}"), weekdays=["tue", "fri"])
    page = console_as("admin").get("/").get_data(as_text=True)
    assert _shown(page) == [f"Site {n:02d}" for n in range(10)]
    assert 'class="pager"' not in page  # the quiet sites are only in the site picker


def test_another_day_is_paged_too_and_the_pager_keeps_the_day(console_as, build):
    build.sites(11)
    console = console_as("admin")
    page = console.get("/?date=2026-11-26").get_data(as_text=True)  # a Thursday
    assert "Sites 1–10 of 11 with group sessions" in page
    assert 'href="/?date=2026-11-26&amp;page=2"' in page
    assert _shown(console.get("/?date=2026-11-26&page=2").get_data(as_text=True)) == [
        "Site 10"]


def test_attendance_saved_on_a_later_page_returns_to_that_page(console_as, build):
    made = build.sites(11)
    site, group = made[10]
    session_id = db.session.scalar(sa.select(GroupSession.id).where(
        GroupSession.cohort_id == group.id, GroupSession.occurs_on == date(2026, 11, 30)))
    console = console_as("clinician")
    page = console.get("/?page=2").get_data(as_text=True)
    assert f'id="session-{session_id}"' in page
    assert '<input type="hidden" name="page" value="2">' in page
    member = db.session.scalar(sa.text(
        "SELECT client_id FROM enrollment WHERE cohort_id = :c"), {"c": group.id})
    response = console.post_form("/?page=2", f"/group-sessions/{session_id}/attendance",
                                 {f"client-{member}": "present", "page": "2"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/?page=2#session-{session_id}"


def test_a_site_chosen_by_the_coordinator_is_shown_whole_without_a_pager(
        console_as, build, clock):
    made = build.sites(12)
    page = console.today(clock(), location_id=made[11][0].id)
    assert [d.location.name for d in page.days] == ["Site 11"]
    assert (page.count, page.pages) == (1, 1)
