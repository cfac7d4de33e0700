"""Cohorts and Director's capacity for every site show ten sites a page (sites by
name), like Today; forming cohorts stay in view on every page, and each one's
merge menu lists the running groups at its own site, where its people asked to
be."""

from __future__ import annotations

import re

from tests.returns_support import fresh_group


def _weeks(page: str) -> list[str]:
    return re.findall(r'<h2 id="grid-\d+">([^<]+)</h2>', page)


def test_every_site_is_shown_ten_a_page_in_name_order_with_a_pager(console_as, build):
    build.sites(12)
    console = console_as("coordinator")
    first = console.get("/cohorts").get_data(as_text=True)
    assert _weeks(first) == [f"Site {n:02d}" for n in range(10)]
    assert "Sites 1–10 of 12." in first and 'href="/cohorts?page=2"' in first
    assert "Site 10 Evening" not in first

    second = console.get("/cohorts?page=2").get_data(as_text=True)
    assert _weeks(second) == ["Site 10", "Site 11"]
    assert "Site 10 Evening" in second and 'href="/cohorts">Previous<' in second
    assert _weeks(console.get("/cohorts?page=7").get_data(as_text=True)) == [
        "Site 10", "Site 11"]


def test_a_few_sites_show_whole_with_no_pager_and_a_site_without_groups_says_so(
        console_as, build):
    build.sites(1)
    build.location("Site 99")
    page = console_as("coordinator").get("/cohorts").get_data(as_text=True)
    assert _weeks(page) == ["Site 00", "Site 99"] and 'class="pager"' not in page
    assert "No running cohorts." in page


def test_a_forming_cohort_shows_on_every_page_with_its_own_sites_groups_to_merge_into(
        console_as, build):
    made = build.sites(12)
    site, here = made[11]  # a site on the second page
    roomy = build.cohort(site, name="Site 11 Daytime", capacity=12)
    elsewhere = made[0][1]
    forming_id = fresh_group(build, site, 2)[0].forming_member.cohort_id
    page = console_as("coordinator").get("/cohorts").get_data(as_text=True)
    card = page[page.index(f'id="forming-{forming_id}"'):]
    card = card[:card.index("</article>")]
    assert "Merge into a running cohort in Site 11" in card
    offered = re.findall(r'<option value="(\d+)"', card)
    assert sorted(int(i) for i in offered) == sorted([here.id, roomy.id])
    assert str(elsewhere.id) not in offered


def _capacity(page: str) -> list[str]:
    section = page[page.index('id="capacity"'):]
    return re.findall(r"<h3>([^<]+)</h3>", section)


def test_directors_capacity_shows_ten_sites_a_page_and_a_chosen_site_whole(
        app, console_as, build):
    made = build.sites(12)
    console = console_as("admin")
    first = console.get("/director").get_data(as_text=True)
    assert _capacity(first) == [f"Site {n:02d}" for n in range(10)]
    assert "Sites 1–10 of 12." in first and 'href="/director?page=2#capacity"' in first
    second = console.get("/director?page=2").get_data(as_text=True)
    assert _capacity(second) == ["Site 10", "Site 11"]
    assert "Site 11 Evening" in second and "Site 00 Evening" not in second

    console.post_form("/director", "/site", {"location_id": str(made[11][0].id)})
    chosen = console.get("/director").get_data(as_text=True)
    assert _capacity(chosen) == ["Site 11"] and 'class="pager"' not in chosen
