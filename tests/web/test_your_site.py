"""Your site: a coordinator who works in one place picks it once, and Today and
Cohorts show that site's groups (every site one click away). The choice is kept
with their account, so it holds on every device and after signing in again."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from scheduler.models import AuditEvent, GroupSession, StaffUser
from tests.web.conftest import PASSWORD, Console


def _todays_session(db, cohort):
    # the clock is Mon 2026-11-30; builder cohorts meet Mon/Wed/Thu
    return db.session.scalars(sa.select(GroupSession).where(
        GroupSession.cohort_id == cohort.id,
        GroupSession.occurs_on == date(2026, 11, 30))).one()


def _two_sites(build, db):
    boston, needham = build.location("Boston"), build.location("Needham")
    here = build.cohort(boston, name="Boston Evening")
    there = build.cohort(needham, name="Needham Evening")
    build.enroll(build.client("Bo Person"), here)
    build.enroll(build.client("Ned Person"), there)
    return boston, needham, _todays_session(db, here), _todays_session(db, there)


def test_a_coordinator_who_chooses_their_site_sees_only_its_groups_today_and_on_cohorts(
        console_as, build, db):
    boston, needham, here, there = _two_sites(build, db)
    console = console_as("coordinator")
    page = console.get("/").get_data(as_text=True)
    assert "Boston Evening" in page and "Needham Evening" in page
    assert '<option value="" selected>All sites</option>' in page

    response = console.post_form("/", "/site", {"location_id": str(needham.id), "next": "/"})
    assert response.status_code == 302 and response.headers["Location"] == "/"

    page = console.get("/").get_data(as_text=True)
    assert f'id="session-{there.id}"' in page and "Ned Person" in page
    assert f'id="session-{here.id}"' not in page and "Bo Person" not in page
    assert f'<option value="{needham.id}" selected>Needham</option>' in page
    week = console.get("/cohorts").get_data(as_text=True)
    assert "Needham Evening" in week and "Boston Evening" not in week

    console.post_form("/cohorts", "/site", {"location_id": "", "next": "/cohorts"})
    week = console.get("/cohorts").get_data(as_text=True)
    assert "Needham Evening" in week and "Boston Evening" in week


def test_the_chosen_site_is_kept_with_the_account_and_audited(
        app, console_as, build, db):
    _, needham, _, _ = _two_sites(build, db)
    console = console_as("viewer")  # any role may choose where they look
    assert console.post_form("/", "/site", {"location_id": str(needham.id)}
                             ).status_code == 302
    user = db.session.scalars(sa.select(StaffUser).where(StaffUser.role == "viewer")).one()
    db.session.refresh(user)
    assert user.location_id == needham.id
    event = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "staff.site_chosen")).one()
    assert (event.entity, event.entity_id, event.staff_id) == ("staff_user", user.id, user.id)
    assert event.detail["location_id"] == needham.id

    again = Console(app.test_client())  # another device, signing in afresh
    again.post_form("/login", "/login", {"email": user.email, "password": PASSWORD})
    page = again.get("/").get_data(as_text=True)
    assert "Needham Evening" in page and "Boston Evening" not in page


def test_an_unknown_site_is_refused_naming_the_field_and_nothing_changes(
        console_as, build, db):
    _two_sites(build, db)
    console = console_as("coordinator")
    for value in ("999", "abc"):
        response = console.post_form("/", "/site", {"location_id": value})
        assert response.status_code == 422, value
        assert "location_id" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StaffUser).where(
        StaffUser.location_id.is_not(None))) == 0


def test_after_choosing_a_site_staff_are_sent_back_only_to_a_page_of_this_site(
        console_as, build, db):
    _, needham, _, _ = _two_sites(build, db)
    console = console_as("coordinator")
    for target in ("https://elsewhere.example/", "//elsewhere.example/", "/\\evil"):
        response = console.post_form("/", "/site", {"location_id": str(needham.id),
                                                    "next": target})
        assert response.headers["Location"] == "/", target


def test_the_director_page_shows_capacity_at_the_chosen_site_and_time_back_everywhere(
        console_as, build, db):
    _, needham, _, _ = _two_sites(build, db)
    console = console_as("viewer")
    console.post_form("/director", "/site", {"location_id": str(needham.id),
                                             "next": "/director"})
    page = console.get("/director").get_data(as_text=True)
    capacity = page[page.index('id="capacity"'):]
    assert "Needham Evening" in capacity and "Boston Evening" not in capacity
    assert f'<option value="{needham.id}" selected>Needham</option>' in capacity
    assert "Time back to group" in page[:page.index('id="capacity"')]


def test_a_day_without_group_sessions_at_the_chosen_site_says_which_site(
        console_as, build, db, clock):
    _, needham, _, _ = _two_sites(build, db)
    console = console_as("coordinator")
    console.post_form("/", "/site", {"location_id": str(needham.id)})
    page = console.get("/?date=2026-11-29").get_data(as_text=True)  # a Sunday
    assert "No group sessions at Needham that day." in page


def test_cohorts_at_the_chosen_site_lists_only_its_forming_groups(console_as, build, db):
    from scheduler.models import Cohort
    from tests.returns_support import fresh_group

    boston, needham, _, _ = _two_sites(build, db)
    fresh_group(build, boston, 1)
    forming = db.session.scalars(sa.select(Cohort.id).where(Cohort.status == "forming")).one()
    console = console_as("coordinator")
    assert f'id="forming-{forming}"' in console.get("/cohorts").get_data(as_text=True)
    console.post_form("/cohorts", "/site", {"location_id": str(needham.id)})
    page = console.get("/cohorts").get_data(as_text=True)
    assert f'id="forming-{forming}"' not in page and "No cohorts are forming." in page
    console.post_form("/cohorts", "/site", {"location_id": str(boston.id)})
    assert f'id="forming-{forming}"' in console.get("/cohorts").get_data(as_text=True)
