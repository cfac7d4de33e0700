"""Coming back, in real headless Chromium: the coordinator's journey from the
Returners queue to a seat on a roster, and the client's pages on a phone."""

from datetime import date, time

import pytest
import sqlalchemy as sa

from scheduler.models import CheckIn, Enrollment, Reentry
from tests.browser.conftest import DESKTOP, fits_width, shot, sign_in, tour
from tests.returns_support import ask_to_come_back, attend_until

pytestmark = pytest.mark.browser
PHONE_740 = {"width": 360, "height": 740}


def _settle(db):
    """End the test thread's transaction so the server can write (SQLite)."""
    db.session.commit()


def test_a_coordinator_finds_a_returner_books_a_check_in_records_answers_and_places_them(
        build, db, clock, live_server, browser_page, staff_with_password):
    cohort = build.cohort(name="Monday Evening", capacity=4)
    build.cohort(name="Needham Morning", location=build.location("Needham"),
                 weekdays=["tue", "thu"], start_time=time(9, 30))
    robin = build.client("Robin Example", email="robin@example.org", phone="617-555-0101")
    attend_until(build, cohort, robin, date(2026, 11, 26))
    clock.advance(days=-2)
    request = ask_to_come_back(robin, clock())
    clock.advance(days=2)
    request_id, cohort_id, robin_id = request.id, cohort.id, robin.id
    _settle(db)

    page = browser_page(DESKTOP)
    sign_in(page, live_server, *staff_with_password("coordinator"))
    page.get_by_role("link", name="Returners").click()
    assert "2 days" in page.locator("table.queue").first.inner_text()
    shot(page, "journey-returners")
    page.get_by_role("link", name="Robin Example").click()
    page.wait_for_url(f"**/returners/{request_id}")

    page.get_by_label("Date").fill("2026-12-01")
    page.get_by_label("Time (Boston)").fill("14:30")
    page.get_by_label("How").select_option(label="By video")
    page.get_by_role("button", name="Book check-in").click()
    page.wait_for_selector(".flash")
    assert "Check-in booked: by video, Tue Dec 1, 2:30 PM." in page.inner_text(".flash")

    page.get_by_label("Prefers not to say").check()
    page.get_by_label("Same group as before").check()
    page.get_by_label("Evening").check()
    page.get_by_role("button", name="Save answers").click()
    page.wait_for_selector(".flash")
    first = page.locator("li.option").first
    assert "Same group as before (Monday Evening)" in first.inner_text()
    page.locator("details.not-offered summary").click()
    assert "Meets in the morning; the client asked for evening" in page.inner_text(
        "details.not-offered")
    shot(page, "journey-returner-options")

    first.get_by_role("button", name="Place here").click()
    page.wait_for_selector("#placed")
    assert "Placed: pick up in the same group (Monday Evening)." in page.inner_text(".flash")
    shot(page, "journey-returner-placed")
    page.locator("section[aria-labelledby=placed]").get_by_role(
        "link", name="Monday Evening").click()
    roster = page.locator("section[aria-labelledby=roster]")
    assert "Robin Example" in roster.inner_text()
    shot(page, "journey-roster")

    check_in = db.session.scalars(sa.select(CheckIn)).one()
    reentry = db.session.scalars(sa.select(Reentry)).one()
    status = db.session.scalar(sa.select(Enrollment.status).where(
        Enrollment.client_id == robin_id, Enrollment.cohort_id == cohort_id))
    _settle(db)
    assert (check_in.mode, check_in.at.hour) == ("video", 19)
    assert (reentry.using_again, reentry.preference, reentry.dayparts) == (
        "prefer_not_to_say", "same_group", ["evening"])
    assert status == "active"
    # placing before the booked check-in settles it: nothing stale for the client
    assert check_in.status == "cancelled"

    # the client reads the message they were sent, and opens their page on a phone
    from flask import current_app

    from scheduler.messages import render
    from scheduler.models import Notification

    [told] = db.session.scalars(sa.select(Notification).where(
        Notification.client_id == robin_id, Notification.kind == "placed")).all()
    message = render(told, current_app.jinja_env, current_app.config)
    _settle(db)
    assert (told.channel, told.recipient) == ("sms", "617-555-0101")  # they called
    assert ("You have a place in the group that meets Mondays, Wednesdays and Thursdays "
            "at 6:00 PM, first session Mon Nov 30, 6:00 PM") in message.text
    me_link = next(w for w in message.text.split() if "/me/" in w)
    phone = browser_page(PHONE_740)
    phone.goto(live_server + me_link[me_link.index("/me/"):])
    main = phone.inner_text("main")
    assert "Mon Nov 30, 6:00 PM" in main and "check-in" not in main.lower()
    assert fits_width(phone)
    shot(phone, "journey-me-after-placed-phone")


def test_a_client_asks_to_come_back_on_a_phone_and_reads_what_happens_next(
        db, live_server, browser_page):
    page = browser_page(PHONE_740)
    page.goto(f"{live_server}/come-back")
    assert fits_width(page)
    shot(page, "come-back-phone")
    page.get_by_label("Phone").fill("12")
    page.get_by_role("button").last.click()  # no name, a phone cut short: both at once
    page.wait_for_selector("#name-error")
    assert page.locator("#phone-error").is_visible()
    assert page.evaluate("document.activeElement.name") == "name"  # focus on the first
    shot(page, "come-back-problems-phone")
    page.get_by_label("Your name").fill("Sam")
    page.get_by_label("Phone").fill("617 555 0142")
    page.get_by_role("button").last.click()
    page.wait_for_selector("h1:has-text('We got your message')")
    text = page.inner_text("main")
    assert "What happens next" in text and "short check-in" in text
    for word in ("addiction", "recovery", "IOP", "relapse"):
        assert word.lower() not in text.lower()
    assert fits_width(page)
    shot(page, "come-back-thanks-phone")


def test_a_client_asks_on_a_phone_and_picks_their_own_check_in_time(
        build, db, clock, live_server, browser_page):
    from datetime import timedelta

    from scheduler.services import checkins

    checkins.publish_slot({"starts_at": clock() + timedelta(hours=26), "mode": "phone"},
                          clock(), staff_id=None)
    _settle(db)
    page = browser_page(PHONE_740)
    page.goto(f"{live_server}/come-back")
    page.get_by_label("Your name").fill("Sam")
    page.get_by_label("Phone").fill("617 555 0142")
    page.get_by_role("button").last.click()
    page.wait_for_selector("text=Pick a time for your check-in")
    page.get_by_label("Tue Dec 1, 12:00 PM · By phone").check()
    page.get_by_role("button", name="Book this time").click()
    page.wait_for_selector("text=Booked. Thank you: we'll talk then.")
    assert "Tue Dec 1, 12:00 PM" in page.inner_text("main")
    assert fits_width(page)
    shot(page, "check-in-picked-phone")
    status = db.session.scalar(sa.select(CheckIn.status))
    _settle(db)
    assert status == "booked"


def test_a_client_accepts_a_seat_offer_from_its_link_and_sees_it_is_saved(
        build, db, clock, live_server, browser_page):
    from scheduler.services import enrollments
    from scheduler.services.waitlist import offer_token
    from tests.waitlist_support import full_group_with_line, open_offers

    cohort, seated, _ = full_group_with_line(build, capacity=1, waiting=1)
    enrollments.change_status(seated[0].id, "withdrawn", clock(), build.policy)
    offer = open_offers(cohort.id)[0]
    token, client_id = offer_token(offer.id), offer.client_id
    _settle(db)

    page = browser_page(PHONE_740)
    page.goto(f"{live_server}/offers/{token}")
    assert "A seat has opened up for you" in page.inner_text("h1")
    shot(page, "offer-open-phone")
    page.get_by_role("button", name="Yes, save my seat").click()
    page.wait_for_selector("h1:has-text(\"You're all set\")")
    assert "Your seat is saved" in page.inner_text("main")
    assert fits_width(page)
    shot(page, "offer-accepted-phone")
    status = db.session.scalar(sa.select(Enrollment.status).where(
        Enrollment.client_id == client_id, Enrollment.cohort_id == cohort.id))
    _settle(db)
    assert status == "active"


def test_a_client_says_not_this_time_and_keeps_their_place_in_line(
        build, db, clock, live_server, browser_page):
    from scheduler.models import WaitlistEntry
    from scheduler.services import enrollments
    from scheduler.services.waitlist import offer_token
    from tests.waitlist_support import full_group_with_line, open_offers

    cohort, seated, line = full_group_with_line(build, capacity=1, waiting=2)
    enrollments.change_status(seated[0].id, "withdrawn", clock(), build.policy)
    offer = open_offers(cohort.id)[0]
    token, entry_id = offer_token(offer.id), line[0].id
    _settle(db)

    page = browser_page(PHONE_740)
    page.goto(f"{live_server}/offers/{token}")
    for name in ("Yes, save my seat", "Not this time, keep my place",
                 "Take me off the list"):
        assert page.get_by_role("button", name=name).is_visible()
    assert fits_width(page)
    page.get_by_role("button", name="Not this time, keep my place").click()
    page.wait_for_selector("text=you keep your place in line")
    shot(page, "offer-not-this-time-phone")
    db.session.expire_all()
    status = db.session.get(WaitlistEntry, entry_id).status
    _settle(db)
    assert status == "waiting"


def test_a_client_opens_their_page_and_sees_the_subscribe_links_and_a_qr_code(
        build, db, clock, live_server, browser_page):
    from calendars import tokens

    client = build.client("Dana Example")
    build.enroll(client, build.cohort(name="Monday Evening"))
    token = tokens.issue("client", client.id, clock())
    _settle(db)

    page = browser_page(PHONE_740)
    page.goto(f"{live_server}/me/{token}")
    add = page.get_by_role("link", name="Add to calendar")
    assert add.get_attribute("href").startswith("webcal://")
    assert page.get_by_label("Your calendar link").input_value().startswith("https://")
    qr = page.locator(".qr svg")
    assert qr.is_visible() and qr.bounding_box()["width"] >= 150
    # not yet subscribed: the way to subscribe comes before the list
    headings = page.locator("main h2").all_inner_texts()
    assert headings.index("Add to your calendar") < headings.index("Upcoming")
    page.get_by_role("button", name="Copy the link").click()
    page.wait_for_selector("[data-copied-note]:not(:empty)")
    assert page.inner_text("[data-copied-note]") in ("Copied.",
                                                     "Select the link above and copy it.")
    assert fits_width(page)
    shot(page, "me-phone")


def _a_busy_program(build, clock):
    """Two sites; a returner with options; a new person to confirm (clinical review
    flagged); a fresh group ready to open; a full group with a line and an offer."""
    from scheduler.services import enrollments, returns
    from tests.returns_support import fresh_group
    from tests.waitlist_support import full_group_with_line

    boston, needham = build.location("Boston"), build.location("Needham")
    track = build.track("Evening track")
    evening = build.cohort(boston, track, name="Boston Mon/Wed/Thu Evening", capacity=6)
    build.cohort(needham, track, name="Needham Tue/Thu Morning", weekdays=["tue", "thu"],
                 start_time=time(9, 30), capacity=8)
    robin = build.client("Robin Example", email="robin@example.org", phone="617-555-0101")
    attend_until(build, evening, robin, date(2026, 11, 26))
    clock.advance(days=-3)
    request = ask_to_come_back(robin, clock())
    clock.advance(days=3)
    new, _ = returns.submit_return({"name": "Jordan New", "phone": "617 555 0188",
                                    "message": "Hey, I think I'm ready to come back. "
                                               "Can we talk?"}, "web", clock())
    returns.record_reentry(new.id, {"using_again": "yes", "dayparts": ["evening"]}, None,
                           clock())
    fresh_group(build, boston, 4)
    cohort, seated, _ = full_group_with_line(build, capacity=2, waiting=3,
                                             name="Needham Mon/Wed Evening",
                                             location=needham, track=track)
    enrollments.change_status(seated[0].id, "withdrawn", clock(), build.policy)
    return request.id, new.id, cohort.id, robin.id


def test_every_new_console_page_reads_well_on_a_desktop_and_at_360_px(
        build, db, clock, live_server, browser_page, staff_with_password):
    request_id, new_id, cohort_id, client_id = _a_busy_program(build, clock)
    _settle(db)
    credentials = staff_with_password("admin")
    pages = {"returners": "/returners", "returner": f"/returners/{request_id}",
             "returner-new-person": f"/returners/{new_id}",
             "cohorts-forming": "/cohorts", "cohort-waitlist": f"/cohorts/{cohort_id}",
             "director": "/director"}
    for label, viewport in (("desktop", DESKTOP), ("phone", {"width": 360, "height": 780})):
        page = browser_page(viewport)
        sign_in(page, live_server, *credentials)
        tour(page, live_server, pages, label)
        page.goto(f"{live_server}/clients/{client_id}")
        page.get_by_role("button", name="Make a calendar link").click()
        assert page.get_by_label("Subscribe (phones, Apple, Outlook)").input_value(
        ).startswith("webcal://")
        if label == "phone":
            assert fits_width(page)
        shot(page, f"client-feed-link-{label}")
        page.get_by_role("button", name="Turn the link off").click()
        page.wait_for_selector(".flash")
