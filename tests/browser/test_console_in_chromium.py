"""Staff journeys in real headless Chromium against a live server."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from scheduler.models import Attendance, Closure, GroupSession, SeatOffer
from scheduler.services import waitlist
from tests.browser.conftest import DESKTOP, PHONE, fits_width, shot, sign_in, tour

pytestmark = pytest.mark.browser


# Monday Nov 30, 18:20 in Boston: tonight's 18:00 group session has started
NEW_YORK = ZoneInfo("America/New_York")
SESSION_UNDER_WAY = datetime(2026, 11, 30, 23, 20, tzinfo=UTC)


def _settle(db):
    """End the test thread's transaction so the server can write (SQLite)."""
    db.session.commit()


def test_a_coordinator_signs_in_takes_attendance_on_today_and_the_roster_shows_it(
        build, db, clock, live_server, browser_page, staff_with_password):
    cohort = build.cohort(name="Monday Evening")
    dana, eli = build.client("Dana Example"), build.client("Eli Sample")
    build.enroll(dana, cohort)
    build.enroll(eli, cohort)
    clock.set(SESSION_UNDER_WAY)
    _settle(db)
    page = browser_page(DESKTOP)
    page.goto(f"{live_server}/login")
    shot(page, "login")
    sign_in(page, live_server, *staff_with_password("coordinator"))
    shot(page, "today-before")

    card = page.locator("article.card", has_text="Monday Evening")
    card.locator("label", has_text="Present").first.click()  # Dana (names sort first)
    card.locator("li.roster-line", has_text="Eli Sample").locator(
        "label", has_text="Late").click()
    card.get_by_role("button", name="Save attendance").click()
    page.wait_for_selector(".flash")

    assert "Attendance saved for 2 people." in page.inner_text(".flash")
    dana_line = page.locator("li.roster-line", has_text="Dana Example")
    assert dana_line.locator("[data-mark]").inner_text() == "present"
    assert page.locator("li.roster-line", has_text="Eli Sample").locator(
        "[data-mark]").inner_text() == "late"
    shot(page, "today-after")
    marks = dict(db.session.execute(sa.select(Attendance.client_id, Attendance.status)).all())
    _settle(db)
    assert marks == {dana.id: "present", eli.id: "late"}


def test_taking_attendance_works_at_phone_width(
        build, db, clock, live_server, browser_page, staff_with_password):
    cohort = build.cohort(name="Monday Evening")
    build.enroll(build.client("Dana Example"), cohort)
    clock.set(SESSION_UNDER_WAY)
    _settle(db)
    page = browser_page(PHONE)
    sign_in(page, live_server, *staff_with_password("clinician"))
    assert fits_width(page)
    page.get_by_role("button", name="Mark everyone present").click()
    page.get_by_role("button", name="Save attendance").click()
    page.wait_for_selector(".flash")
    assert page.locator("[data-mark]").inner_text() == "present"
    shot(page, "today-phone")


def test_a_coordinator_adds_a_closure_after_seeing_its_preview(
        build, db, live_server, browser_page, staff_with_password):
    cohort = build.cohort(name="Wednesday Evening")
    location_name = cohort.location.name
    _settle(db)
    page = browser_page(DESKTOP)
    sign_in(page, live_server, *staff_with_password("coordinator"))
    page.get_by_role("link", name="Closures").click()
    page.get_by_label("Date").fill("2026-12-02")
    page.get_by_label("Location").select_option(label=location_name)
    page.get_by_label("Reason").fill("Holiday: the program is closed")
    page.get_by_role("button", name="Preview").click()

    preview = page.locator("#closure-preview")
    assert "cancels 1 group session" in preview.inner_text()
    assert "Wednesday Evening" in preview.inner_text()
    assert db.session.scalars(sa.select(Closure)).all() == []
    _settle(db)
    shot(page, "closure-preview")

    page.get_by_role("button", name="Confirm closure and cancel 1 session").click()
    page.wait_for_selector(".flash")
    assert "1 group session cancelled" in page.inner_text(".flash")
    shot(page, "closure-added")
    status = db.session.scalar(sa.select(GroupSession.status).where(
        GroupSession.cohort_id == cohort.id, GroupSession.occurs_on == date(2026, 12, 2)))
    _settle(db)
    assert status == "cancelled"


def test_a_viewer_sees_no_form_controls_and_a_write_is_refused_with_403(
        build, db, live_server, browser_page, staff_with_password):
    cohort = build.cohort(name="Monday Evening")
    client = build.client("Dana Example")
    client_id = client.id
    build.enroll(client, cohort)
    session_id = db.session.scalar(sa.select(GroupSession.id).where(
        GroupSession.cohort_id == cohort.id, GroupSession.occurs_on == date(2026, 11, 30)))
    _settle(db)
    page = browser_page(DESKTOP)
    sign_in(page, live_server, *staff_with_password("viewer"))
    assert page.locator("input[type=radio]").count() == 0
    assert page.get_by_role("button", name="Save attendance").count() == 0
    shot(page, "today-viewer")

    page.goto(f"{live_server}/clients/{client_id}")
    assert page.get_by_role("button", name="Save preferences").count() == 0
    assert page.locator("#prefs-form fieldset:not([disabled])").count() == 0
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    response = page.request.post(
        f"{live_server}/group-sessions/{session_id}/attendance",
        form={"csrf_token": token, f"client-{client_id}": "present"})
    assert response.status == 403
    assert db.session.scalars(sa.select(Attendance)).all() == []
    _settle(db)


def test_a_form_without_its_csrf_token_is_refused_with_400(
        build, db, live_server, browser_page, staff_with_password):
    cohort = build.cohort(name="Monday Evening")
    build.enroll(build.client("Dana Example"), cohort)
    _settle(db)
    page = browser_page(DESKTOP)
    sign_in(page, live_server, *staff_with_password("coordinator"))
    page.evaluate("document.querySelectorAll('form.attendance input[name=csrf_token]')"
                  ".forEach(function (i) { i.remove(); })")
    page.locator("label", has_text="Present").first.click()
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Save attendance").click()
    assert answer.value.status == 400
    assert "Please try again" in page.inner_text("h1")
    shot(page, "csrf-refused")
    assert db.session.scalars(sa.select(Attendance)).all() == []
    _settle(db)


def test_sign_in_is_rate_limited_after_ten_failed_tries(
        live_server, browser_page, staff_with_password):
    email, _ = staff_with_password("coordinator")
    page = browser_page(DESKTOP)
    page.goto(f"{live_server}/login")
    statuses = []
    for _ in range(11):
        page.fill("#email", email)
        page.fill("#password", "not the password")
        with page.expect_response(lambda r: r.request.method == "POST") as answer:
            page.get_by_role("button", name="Sign in").click()
        statuses.append(answer.value.status)
        if answer.value.status == 429:
            break
        page.goto(f"{live_server}/login")
    assert statuses == [401] * 10 + [429]
    assert "Too many tries" in page.inner_text("h1")
    shot(page, "login-rate-limited")


def _waiting_with_an_open_offer(db, cohort_id, clock):
    """Two people in line for a cohort with one free seat: the first is offered it
    at once by the waitlist, the second waits behind them."""
    import sqlalchemy as sa

    from scheduler.models import SeatOffer
    from scheduler.services.clients import create_client
    from scheduler.services.waitlist import add_to_waitlist

    first = create_client({"name": "Quinn Waiting"}, clock())
    second = create_client({"name": "Rowan Waiting"}, clock())
    add_to_waitlist(first.id, cohort_id, clock())
    add_to_waitlist(second.id, cohort_id, clock())
    offered_to = db.session.scalars(sa.select(SeatOffer.client_id).where(
        SeatOffer.cohort_id == cohort_id, SeatOffer.status == "open")).all()
    assert offered_to == [first.id]


def test_every_console_page_reads_well_on_a_desktop_and_at_360_px(
        app, db, clock, live_server, browser_page, staff_with_password):
    from scheduler.models import Client, Cohort, Enrollment

    assert app.test_cli_runner().invoke(args=["demo", "load"]).exit_code == 0
    cohort_id = db.session.scalars(sa.select(Cohort.id).order_by(Cohort.id)).first()
    client_id = db.session.scalars(sa.select(Client.id).join(
        Enrollment, Enrollment.client_id == Client.id).order_by(Client.id)).first()
    _waiting_with_an_open_offer(db, cohort_id, clock)
    _settle(db)
    credentials = staff_with_password("admin")
    pages = {"today": "/", "cohorts": "/cohorts", "cohort": f"/cohorts/{cohort_id}",
             "clients": "/clients", "client": f"/clients/{client_id}",
             "closures": "/closures?date=2026-12-25&location_id=&reason=Holiday",
             "audit": "/admin/audit", "staff": "/admin/staff", "director": "/director",
             "returners": "/returners"}
    for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = browser_page(viewport)
        sign_in(page, live_server, *credentials)
        tour(page, live_server, pages, label)


def test_a_coordinator_withdraws_someone_from_the_roster_and_the_next_in_line_is_offered(
        build, db, live_server, browser_page, staff_with_password):
    cohort = build.cohort(name="Thursday Evening", capacity=1)
    leaving = build.client("Lee Leaving")
    build.enroll(leaving, cohort)
    waiting = build.client("Wren Waiting", email="wren@example.org")
    waitlist.add_to_waitlist(waiting.id, cohort.id, build.clock())
    _settle(db)
    page = browser_page(PHONE)
    sign_in(page, live_server, *staff_with_password("coordinator"))
    page.goto(f"{live_server}/cohorts/{cohort.id}")
    row = page.locator("tr", has_text="Lee Leaving")
    row.locator("summary", has_text="Change").click()
    row.get_by_label("Reason (kept in the audit trail)").fill("Moved out of state")
    row.get_by_role("button", name="Withdraw").click()
    page.wait_for_selector(".flash")
    assert "Lee Leaving left the group" in page.inner_text(".flash")
    assert fits_width(page)
    shot(page, "roster-withdrawn")
    db.session.expire_all()
    assert db.session.query(SeatOffer).filter_by(client_id=waiting.id).count() == 1


def test_a_coordinator_moves_one_session_after_seeing_who_will_be_told(
        build, db, live_server, browser_page, staff_with_password):
    cohort = build.cohort(name="Wednesday Evening")
    for name, email in (("Ash Example", "ash@example.org"), ("Bo Sample", "bo@example.org")):
        build.enroll(build.client(name, email=email), cohort)
    _settle(db)
    page = browser_page(PHONE)
    sign_in(page, live_server, *staff_with_password("coordinator"))
    page.goto(f"{live_server}/cohorts/{cohort.id}")
    page.locator("section[aria-labelledby=upcoming]").get_by_role(
        "link", name="move or cancel").first.click()
    page.get_by_label("New time").fill("19:30")
    page.locator("#move-form").get_by_role("button", name="See who will be told").click()
    preview = page.locator("#session-preview")
    assert "2 people will be told the new time: 2 by email, 0 by text" in preview.inner_text()
    assert fits_width(page)
    shot(page, "session-move-preview")
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_selector(".flash")
    assert "2 people are being told" in page.inner_text(".flash")
    shot(page, "session-moved")
    db.session.expire_all()
    moved = db.session.scalars(sa.select(GroupSession).where(
        GroupSession.cohort_id == cohort.id, GroupSession.pinned.is_(True))).one()
    _settle(db)
    assert moved.starts_at.replace(tzinfo=UTC).astimezone(
        NEW_YORK).strftime("%H:%M") == "19:30"


def test_pages_with_long_real_looking_data_fit_a_phone(
        build, db, clock, live_server, browser_page, staff_with_password):
    from scheduler.services import returns

    cohort = build.cohort(name="Boston Evening Group For People Coming Back After A While")
    person = build.client("Maximiliana Alexandrovna Featherstonehaugh-Worthington",
                          email="maximiliana.alexandrovna.featherstonehaugh-worthington"
                                "@a-very-long-domain-name-for-testing.example.org",
                          phone="617-555-0142")
    build.enroll(person, cohort)
    request, _ = returns.submit_return({
        "name": person.name, "email": person.email, "phone": person.phone,
        "message": "I have been away for a long time and I would like to come back "
                   "to the evening group if there is a place, otherwise any group that "
                   "meets after work would be fine. " * 4}, "web", clock())
    _settle(db)
    pages = {"long-returners": "/returners", "long-returner": f"/returners/{request.id}",
             "long-client": f"/clients/{person.id}", "long-cohort": f"/cohorts/{cohort.id}",
             "long-clients": "/clients?q=Maximiliana"}
    page = browser_page(PHONE)
    sign_in(page, live_server, *staff_with_password("coordinator"))
    tour(page, live_server, pages, "phone")


def test_a_coordinator_books_an_open_check_in_time_for_someone_on_a_phone(
        build, db, clock, live_server, browser_page, staff_with_password):
    from datetime import timedelta

    from scheduler.models import CheckIn
    from scheduler.services import checkins
    from tests.returns_support import returner

    request, _, _ = returner(build)
    checkins.publish_slot({"starts_at": clock() + timedelta(hours=5), "mode": "phone"},
                          clock(), staff_id=None)
    request_id = request.id
    _settle(db)
    page = browser_page(PHONE)
    sign_in(page, live_server, *staff_with_password("coordinator"))
    page.goto(f"{live_server}/returners/{request_id}")
    times = page.locator("ul.open-times li")
    assert times.count() == 1 and "3:00 PM · By phone" in times.first.inner_text()
    assert fits_width(page)
    shot(page, "returner-open-times-phone")
    times.first.get_by_role("button", name="Book this time").click()
    page.wait_for_selector(".flash")
    assert "Check-in booked: by phone, Mon Nov 30, 3:00 PM." in page.inner_text(".flash")
    assert page.locator("ul.open-times").count() == 0
    shot(page, "returner-open-time-booked-phone")
    booked = db.session.scalars(sa.select(CheckIn.status)).all()
    _settle(db)
    assert booked == ["booked"]


def test_a_coordinator_chooses_their_site_on_a_phone_and_today_shows_only_its_groups(
        build, db, clock, live_server, browser_page, staff_with_password):
    boston, needham = build.location("Boston"), build.location("Needham")
    build.enroll(build.client("Bo Person"), build.cohort(boston, name="Boston Evening"))
    build.enroll(build.client("Ned Person"), build.cohort(needham, name="Needham Evening"))
    _settle(db)
    page = browser_page(PHONE)
    sign_in(page, live_server, *staff_with_password("coordinator"))
    assert "Boston Evening" in page.inner_text("main")
    assert fits_width(page)
    page.select_option("#site", label="Needham")
    page.get_by_role("button", name="Show").last.click()
    page.wait_for_load_state()
    main = page.inner_text("main")
    assert "Needham Evening" in main and "Ned Person" in main
    assert "Boston Evening" not in main and "Bo Person" not in main
    assert page.locator("#site option:checked").inner_text() == "Needham"
    assert fits_width(page)
    shot(page, "today-one-site-phone")
    page.goto(f"{live_server}/cohorts")
    main = page.inner_text("main")
    assert "Needham Evening" in main and "Boston Evening" not in main
