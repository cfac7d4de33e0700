"""The Returners pages: the queue, one request's page, check-in, re-entry answers,
placing with one click; roles, CSRF, 404s, 422s and audit rows."""

import re
from datetime import UTC, datetime, time

import pytest
import sqlalchemy as sa

from scheduler.models import AuditEvent, CheckIn, Enrollment, Reentry, ReturnRequest
from scheduler.services import returns
from tests.returns_support import ask_to_come_back, returner


def _audit(db, **where):
    query = sa.select(AuditEvent).order_by(AuditEvent.id)
    for name, value in where.items():
        query = query.where(getattr(AuditEvent, name) == value)
    return list(db.session.scalars(query))


def _writes(db, return_id):
    return [e.detail.get("what") for e in _audit(db, entity="return_request",
                                                 entity_id=return_id, action="update")]


@pytest.fixture
def robin(build):
    return returner(build)


def test_the_queue_lists_open_requests_oldest_first_with_their_age_in_words(
        build, clock, console_as):
    older = ask_to_come_back(build.client("Older Asker", email="older@example.org"), clock())
    clock.advance(days=3)
    ask_to_come_back(build.client("Newer Asker", email="newer@example.org"), clock(), "email")
    clock.advance(hours=5)
    html = console_as("coordinator").get("/returners").get_data(as_text=True)
    assert html.index("Older Asker") < html.index("Newer Asker")
    assert "3 days" in html and "5 hours" in html
    assert f"/returners/{older.id}" in html


def test_a_long_queue_shows_the_oldest_requests_first_a_page_at_a_time_counting_all(
        db, build, clock, console_as, monkeypatch):
    from scheduler.services import reports

    monkeypatch.setattr(reports, "OPEN_PAGE", 2)
    asked = []
    for n in range(5):
        asked.append(ask_to_come_back(
            build.client(f"Asker {n}", email=f"asker{n}@example.org"), clock()))
        clock.advance(hours=1)
    console = console_as("coordinator")
    first = console.get("/returners").get_data(as_text=True)
    assert "Asker 0" in first and "Asker 1" in first and "Asker 2" not in first
    assert '<span class="stat">5</span> open requests' in first
    assert "1–2 of 5, oldest first." in first
    assert '<a href="/returners?page=2">Next</a>' in first and "Previous" not in first
    last = console.get("/returners?page=3").get_data(as_text=True)
    assert "Asker 4" in last and "Asker 3" not in last
    assert "5–5 of 5, oldest first." in last
    assert '<a href="/returners?page=2">Previous</a>' in last and ">Next<" not in last
    past = console.get("/returners?page=9").get_data(as_text=True)  # shows the last
    assert "Asker 4" in past and "5–5 of 5, oldest first." in past
    # the read names only the requests the page showed
    shown = _audit(db, entity="return_request", action="read")[-1].detail["shown"]
    assert asked[4].id in shown and asked[0].id not in shown
    for odd in ("0", "-1", "x", "99"):  # past either end: the nearest page, never a 500
        assert console.get(f"/returners?page={odd}").status_code == 200, odd


def test_the_queue_flags_a_new_person_for_confirmation_and_a_matched_one_as_matched(
        build, clock, console_as):
    from scheduler.services.returns import submit_return

    submit_return({"name": "Stranger Person", "email": "new@example.org"}, "web", clock())
    build.client("Known Person", email="known@example.org")
    submit_return({"name": "Known Person", "email": "known@example.org"}, "phone", clock())
    html = console_as("viewer").get("/returners").get_data(as_text=True)
    stranger = html[html.index("Stranger Person"):html.index("Known Person")]
    assert "new: confirm" in stranger
    assert "matched" in html[html.index("Known Person"):]


def test_reading_the_queue_and_a_request_is_audited(db, robin, console_as):
    request, _, _ = robin
    console = console_as("viewer")
    console.get("/returners")
    console.get(f"/returners/{request.id}")
    reads = _audit(db, entity="return_request", action="read")
    assert [e.entity_id for e in reads] == [None, request.id]
    assert request.id in reads[0].detail["shown"]


def test_an_unknown_request_is_404(console_as):
    assert console_as("coordinator").get("/returners/999").status_code == 404


def test_a_coordinator_books_a_check_in_in_boston_time_and_it_is_audited(
        db, robin, console_as, staff_user):
    request, _, _ = robin
    clinician = staff_user("clinician", email="dr@console.test")
    page = f"/returners/{request.id}"
    response = console_as("coordinator").post_form(page, f"{page}/check-in", {
        "date": "2026-12-01", "time": "14:30", "minutes": "30", "mode": "video",
        "staff_id": str(clinician.id), "location_id": ""})
    assert response.status_code == 302
    row = db.session.scalars(sa.select(CheckIn)).one()
    assert row.at == datetime(2026, 12, 1, 19, 30, tzinfo=UTC)
    assert (row.mode, row.staff_id, row.status) == ("video", clinician.id, "booked")
    assert _writes(db, request.id) == ["check_in"]


def test_moving_a_check_in_keeps_one_row_and_says_moved(db, robin, console_as):
    request, _, _ = robin
    page, console = f"/returners/{request.id}", console_as("coordinator")
    form = {"date": "2026-12-01", "time": "14:30", "mode": "phone"}
    console.post_form(page, f"{page}/check-in", form)
    response = console.post_form(page, f"{page}/check-in", {**form, "time": "16:00"},
                                 follow_redirects=True)
    assert "Check-in moved" in response.get_data(as_text=True)
    row = db.session.scalars(sa.select(CheckIn)).one()
    assert (row.at.hour, row.revision) == (21, 1)


def test_cancelling_the_check_in_marks_it_cancelled(db, robin, console_as):
    request, _, _ = robin
    page, console = f"/returners/{request.id}", console_as("coordinator")
    console.post_form(page, f"{page}/check-in",
                      {"date": "2026-12-01", "time": "14:30", "mode": "phone"})
    assert console.post_form(page, f"{page}/check-in/cancel", {}).status_code == 302
    assert db.session.scalar(sa.select(CheckIn.status)) == "cancelled"
    assert _writes(db, request.id) == ["check_in", "check_in_cancelled"]


@pytest.mark.parametrize(("field", "data"), [
    ("date", {"date": "next tuesday", "time": "14:30", "mode": "phone"}),
    ("time", {"date": "2026-12-01", "time": "25:99", "mode": "phone"}),
    ("mode", {"date": "2026-12-01", "time": "14:30", "mode": "carrier pigeon"}),
    ("minutes", {"date": "2026-12-01", "time": "14:30", "mode": "phone", "minutes": "0"}),
    ("staff_id", {"date": "2026-12-01", "time": "14:30", "mode": "phone", "staff_id": "987"}),
])
def test_a_bad_check_in_is_422_naming_the_field(db, robin, console_as, field, data):
    request, _, _ = robin
    page = f"/returners/{request.id}"
    response = console_as("coordinator").post_form(page, f"{page}/check-in", data)
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert db.session.scalars(sa.select(CheckIn)).all() == []


def test_re_entry_answers_are_saved_and_using_again_may_be_left_out(db, robin, console_as):
    request, _, cohort = robin
    page = f"/returners/{request.id}"
    response = console_as("coordinator").post_form(page, f"{page}/reentry", {
        "preference": "same_group", "weekdays": ["mon", "wed", "thu"],
        "dayparts": ["evening"], "location_ids": [str(cohort.location_id)],
        "notes": "Works days now"})
    assert response.status_code == 302
    row = db.session.scalars(sa.select(Reentry)).one()
    assert (row.using_again, row.preference, row.weekdays, row.dayparts, row.location_ids,
            row.notes) == (None, "same_group", ["mon", "wed", "thu"], ["evening"],
                           [cohort.location_id], "Works days now")
    event = _audit(db, entity="return_request", action="update")[-1]
    assert event.detail["what"] == "reentry" and "using_again" not in event.detail


def test_a_yes_to_using_again_shows_a_discreet_clinical_review_flag_to_staff(
        robin, console_as):
    request, _, _ = robin
    page, console = f"/returners/{request.id}", console_as("coordinator")
    console.post_form(page, f"{page}/reentry", {"using_again": "yes"})
    html = console.get(page).get_data(as_text=True)
    assert 'class="tag review"' in html and "clinical review" in html
    assert 'class="tag review"' in console.get("/returners").get_data(as_text=True)


@pytest.mark.parametrize(("field", "data"), [
    ("using_again", {"using_again": "sometimes"}),
    ("preference", {"preference": "any"}),
    ("weekdays", {"weekdays": ["someday"]}),
    ("dayparts", {"dayparts": ["night"]}),
    ("location_ids", {"location_ids": ["9999"]}),
    ("notes", {"notes": "x" * 2001}),
])
def test_bad_re_entry_answers_are_422_naming_the_field(db, robin, console_as, field, data):
    request, _, _ = robin
    page = f"/returners/{request.id}"
    response = console_as("coordinator").post_form(page, f"{page}/reentry", data)
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert db.session.scalars(sa.select(Reentry)).all() == []


def _page_for_an_evening_returner(build, robin, console_as, other_evenings: int = 0) -> str:
    """The request page once the check-in recorded "evenings", with a morning group
    and ``other_evenings`` more evening groups with seats at the same site."""
    request, _, cohort = robin
    for n in range(other_evenings):
        build.cohort(name=f"Evening {n}", location=cohort.location)
    build.cohort(name="Tuesday Morning", weekdays=["tue"], start_time=time(9, 30),
                 location=cohort.location)
    console = console_as("coordinator")
    page = f"/returners/{request.id}"
    console.post_form(page, f"{page}/reentry", {"dayparts": ["evening"]})
    return console.get(page).get_data(as_text=True)


def test_the_request_page_shows_ranked_options_with_reasons_and_what_was_not_offered(
        build, robin, console_as):
    _, _, cohort = robin
    html = _page_for_an_evening_returner(build, robin, console_as)
    assert "Same group as before (Monday Evening)" in html
    assert f'value="resume:{cohort.id}"' in html
    assert ("A fresh group of people coming back: a new evening group in "
            f"{cohort.location.name}") in html
    assert "Not offered" in html and "Tuesday Morning" in html
    assert "Meets in the morning; the client asked for evening" in html


def test_groups_left_out_for_better_fitting_ones_are_counted_not_listed_one_by_one(
        build, robin, console_as):
    html = _page_for_an_evening_returner(build, robin, console_as, other_evenings=7)
    assert "2 more groups with seats fit less well than the 5 offered" in html
    assert "better-fitting groups are offered already" not in html
    assert "Not offered (3) and why" in html
    assert "Meets in the morning; the client asked for evening" in html


def test_placing_with_one_click_enrolls_records_the_decision_and_is_audited(
        db, robin, console_as):
    request, client, cohort = robin
    page = f"/returners/{request.id}"
    response = console_as("coordinator").post_form(
        page, f"{page}/place", {"option_id": f"resume:{cohort.id}"}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Placed: pick up in the same group" in html
    assert db.session.scalar(sa.select(Enrollment.status).where(
        Enrollment.client_id == client.id, Enrollment.cohort_id == cohort.id)) == "active"
    assert db.session.get(ReturnRequest, request.id).status == "placed"
    assert _writes(db, request.id) == ["placed"]
    assert f'action="/returners/{request.id}/place"' not in html


def test_a_made_up_option_is_422_naming_option_id(db, robin, console_as):
    request, _, _ = robin
    page = f"/returners/{request.id}"
    response = console_as("coordinator").post_form(page, f"{page}/place",
                                                   {"option_id": "teleport:1"})
    assert response.status_code == 422
    assert 'id="option_id-error"' in response.get_data(as_text=True)


def test_an_option_no_longer_on_offer_is_409_and_nothing_is_placed(db, build, robin,
                                                                     console_as):
    request, _, cohort = robin
    other = build.cohort(name="Other Group", location=cohort.location)
    page = f"/returners/{request.id}"
    response = console_as("coordinator").post_form(page, f"{page}/place",
                                                   {"option_id": f"waitlist:{other.id}"})
    assert response.status_code == 409
    assert "not available now" in response.get_data(as_text=True)
    assert db.session.get(ReturnRequest, request.id).status == "open"


def test_a_viewer_sees_the_request_without_any_form_and_a_post_is_403(db, robin, console_as):
    request, _, cohort = robin
    console = console_as("viewer")
    html = console.get(f"/returners/{request.id}").get_data(as_text=True)
    assert "Same group as before" in html
    assert "<form" not in html.split("<main", 1)[1]
    response = console.post_form("/returners", f"/returners/{request.id}/place",
                                 {"option_id": f"resume:{cohort.id}"})
    assert response.status_code == 403
    assert db.session.get(ReturnRequest, request.id).status == "open"


def test_a_clinician_cannot_place_someone(db, robin, console_as):
    request, _, cohort = robin
    response = console_as("clinician").post_form(
        f"/returners/{request.id}", f"/returners/{request.id}/place",
        {"option_id": f"resume:{cohort.id}"})
    assert response.status_code == 403
    assert db.session.get(ReturnRequest, request.id).status == "open"


def test_placing_without_the_csrf_token_is_refused(db, robin, console_as):
    request, _, cohort = robin
    response = console_as("coordinator").post(f"/returners/{request.id}/place",
                                              data={"option_id": f"resume:{cohort.id}"})
    assert response.status_code == 400
    assert db.session.get(ReturnRequest, request.id).status == "open"


def test_the_request_page_shows_the_clients_waitlists_and_open_offers(
        build, clock, console_as):
    from scheduler.services.waitlist import add_to_waitlist

    full = build.full_cohort(capacity=1, name="Full Group")
    free = build.cohort(name="Roomy Group", capacity=3)
    client = build.client("Wendy Waiting", email="wendy@example.org")
    add_to_waitlist(client.id, full.id, clock())
    add_to_waitlist(client.id, free.id, clock())
    request = ask_to_come_back(client, clock())
    html = console_as("coordinator").get(f"/returners/{request.id}").get_data(as_text=True)
    waiting = html[html.index('id="waiting"'):]
    assert "Full Group</a>:" in waiting and "number 1 in line" in waiting
    assert "Roomy Group</a>:" in waiting and "seat offered, answer by" in waiting


def test_closing_a_request_takes_it_off_the_open_queue(db, robin, console_as):
    request, _, _ = robin
    console = console_as("coordinator")
    response = console.post_form(f"/returners/{request.id}", f"/returners/{request.id}/close",
                                 {}, follow_redirects=True)
    open_part = response.get_data(as_text=True).split('id="recent-h"')[0]
    assert "Robin Example" not in open_part
    assert db.session.get(ReturnRequest, request.id).status == "closed"
    assert _writes(db, request.id) == ["closed"]


def test_the_request_page_shows_days_from_asking_to_each_step(robin, clock, policy,
                                                              console_as):
    request, _, cohort = robin
    clock.advance(days=2)
    returns.place(request.id, f"resume:{cohort.id}", None, clock(), policy)
    html = console_as("viewer").get(f"/returners/{request.id}").get_data(as_text=True)
    assert "Placed: " in html and "(day 2.0)" in html
    assert "First group session back: not yet" in html



def test_a_refused_check_in_keeps_the_saved_answers_in_the_other_form(db, robin, console_as):
    request, _, _ = robin
    page, console = f"/returners/{request.id}", console_as("coordinator")
    console.post_form(page, f"{page}/reentry", {"preference": "fresh_group",
                                                "notes": "Evenings only"})
    response = console.post_form(page, f"{page}/check-in",
                                 {"date": "soon", "time": "14:30", "mode": "phone"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'value="soon"' in html
    assert 'id="pref-fresh_group" name="preference" value="fresh_group" checked' in html
    assert "Evenings only</textarea>" in html


def test_a_check_in_for_an_unknown_request_is_404(console_as):
    response = console_as("coordinator").post_form(
        "/returners", "/returners/999/check-in",
        {"date": "2026-12-01", "time": "14:30", "mode": "phone"})
    assert response.status_code == 404


def test_credit_outside_what_is_on_record_is_422_naming_credited_sessions(
        db, robin, console_as):
    request, _, cohort = robin
    page = f"/returners/{request.id}"
    response = console_as("coordinator").post_form(
        page, f"{page}/place", {"option_id": f"resume:{cohort.id}", "credited_sessions": "99"})
    assert response.status_code == 422
    assert 'id="credited_sessions-error"' in response.get_data(as_text=True)
    assert db.session.get(ReturnRequest, request.id).status == "open"


def test_marking_the_check_in_done_stamps_the_request(db, robin, clock, console_as):
    request, _, _ = robin
    page = f"/returners/{request.id}"
    clock.advance(hours=2)  # the call happened an hour after they asked
    console_as("coordinator").post_form(page, f"{page}/check-in", {
        "date": "2026-11-30", "time": "11:00", "mode": "in_person", "done": "on"})
    assert db.session.scalar(sa.select(CheckIn.status)) == "done"
    db.session.expire_all()
    assert db.session.get(ReturnRequest, request.id).checked_in_at == datetime(
        2026, 11, 30, 16, 0, tzinfo=UTC)


def test_a_check_in_marked_done_before_it_happens_is_refused_on_the_page(
        db, robin, console_as):
    request, _, _ = robin
    page = f"/returners/{request.id}"
    response = console_as("coordinator").post_form(page, f"{page}/check-in", {
        "date": "2026-12-02", "time": "11:00", "mode": "phone", "done": "on"})
    assert response.status_code == 422
    assert "It can be marked done once it has happened" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(CheckIn.status)) is None


def test_confirming_a_new_person_clears_the_flag_and_resolves_the_follow_up(
        db, clock, console_as):
    from scheduler.models import Client, FollowUp
    from scheduler.services.returns import submit_return

    request, _ = submit_return({"name": "Jordan New", "phone": "617 555 0188"}, "web",
                               clock())
    page, console = f"/returners/{request.id}", console_as("coordinator")
    assert "Confirmed who they are" in console.get(page).get_data(as_text=True)
    response = console.post_form(page, f"{page}/confirm-client", {}, follow_redirects=True)
    assert "Confirmed: Jordan New is a known client now." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Client, request.client_id).needs_confirmation is False
    assert db.session.scalars(sa.select(FollowUp)).one().resolved_at is not None
    assert _audit(db, entity="client", action="update")[-1].detail["what"] == "confirmed"


def test_a_viewer_cannot_confirm_a_new_person(db, clock, console_as):
    from scheduler.models import Client
    from scheduler.services.returns import submit_return

    request, _ = submit_return({"name": "Jordan New", "phone": "617 555 0188"}, "web",
                               clock())
    page, console = f"/returners/{request.id}", console_as("viewer")
    assert "Confirmed who they are" not in console.get(page).get_data(as_text=True)
    assert console.post_form("/returners", f"{page}/confirm-client", {}).status_code == 403
    assert db.session.get(Client, request.client_id).needs_confirmation is True


def test_the_queue_shows_the_matched_clients_full_name_and_what_they_wrote(
        build, clock, console_as):
    client = build.client("Morgan Placeholder", email="morgan@example.org")
    returns.submit_return({"name": "Morgan", "email": "morgan@example.org"}, "web", clock())
    html = console_as("coordinator").get("/returners").get_data(as_text=True)
    assert f">{client.name}</a>" in html and "(wrote “Morgan”)" in html


def test_a_request_page_links_the_same_persons_other_open_requests(build, clock, console_as):
    """Asking again with the same contact joins the open request; two requests of one
    person arise when staff recognise a stranger's request as theirs."""
    person = build.client("Twice Asker", email="twice@example.org")
    first = ask_to_come_back(person, clock())
    clock.advance(hours=2)
    second, _ = returns.submit_return({"name": "T. Asker", "email": "other@example.org"},
                                      "phone", clock())
    returns.link_to_client(second.id, person.id, None, clock())
    html = console_as("coordinator").get(f"/returners/{first.id}").get_data(as_text=True)
    assert "This person has another open request" in html
    assert f'href="/returners/{second.id}">#{second.id}</a>' in html


def _open_time(clock, hours=5, mode="video"):
    from datetime import timedelta

    from scheduler.services import checkins
    return checkins.publish_slot({"starts_at": clock() + timedelta(hours=hours),
                                  "mode": mode, "places": 1}, clock(), staff_id=None)


def test_a_coordinator_books_an_open_check_in_time_with_one_click(
        db, robin, clock, console_as):
    request, _, _ = robin
    slot = _open_time(clock)
    page, console = f"/returners/{request.id}", console_as("coordinator")
    html = console.get(page).get_data(as_text=True)
    assert "Open check-in times" in html and "Mon Nov 30, 3:00 PM · By video" in html
    response = console.post_form(page, f"{page}/check-in/time", {"slot_id": str(slot.id)},
                                 follow_redirects=True)
    assert "Check-in booked: by video, Mon Nov 30, 3:00 PM." in response.get_data(as_text=True)
    row = db.session.scalars(sa.select(CheckIn)).one()
    assert (row.slot_id, row.status, row.staff_id) == (
        slot.id, "booked", db.session.scalar(sa.select(AuditEvent.staff_id).where(
            AuditEvent.action == "check_in.slot_booked")))
    assert row.staff_id is not None
    assert "Open check-in times" not in console.get(page).get_data(as_text=True)


def test_open_times_are_not_offered_once_the_check_in_has_happened(
        build, robin, clock, console_as):
    request, _, _ = robin
    _open_time(clock)
    returns.book_check_in(request.id, clock(), "phone", clock(), status="done")
    html = console_as("coordinator").get(f"/returners/{request.id}").get_data(as_text=True)
    assert "Open check-in times" not in html


def test_a_time_taken_a_moment_before_is_409_and_the_page_says_so(
        db, build, robin, clock, console_as):
    from scheduler.services import checkins

    request, _, _ = robin
    slot = _open_time(clock)
    page, console = f"/returners/{request.id}", console_as("coordinator")
    console.get(page)
    other = ask_to_come_back(build.client("Sam Other", email="sam@example.org"), clock())
    checkins.book_slot(other.id, slot.id, clock(), build.policy)
    response = console.post_form(page, f"{page}/check-in/time", {"slot_id": str(slot.id)})
    assert response.status_code == 409
    assert "Someone just took that time" in response.get_data(as_text=True)
    assert returns.current_check_in(request.id) is None


@pytest.mark.parametrize("slot_id", ["", "abc", "999"])
def test_booking_a_time_that_is_not_there_names_the_field(robin, console_as, slot_id):
    request, _, _ = robin
    page = f"/returners/{request.id}"
    response = console_as("coordinator").post_form(page, f"{page}/check-in/time",
                                                    {"slot_id": slot_id})
    assert response.status_code in (404, 422)
    assert 'id="slot_id-error"' in response.get_data(as_text=True)


def test_a_viewer_sees_open_times_but_cannot_book_one(robin, clock, console_as):
    request, _, _ = robin
    slot = _open_time(clock)
    page, console = f"/returners/{request.id}", console_as("viewer")
    html = console.get(page).get_data(as_text=True)
    assert "Mon Nov 30, 3:00 PM · By video" in html and "/check-in/time" not in html
    response = console.post_form(page, f"{page}/check-in/time", {"slot_id": str(slot.id)})
    assert response.status_code == 403


def test_a_long_list_of_options_shows_the_best_few_and_a_link_to_all_of_them(
        build, robin, console_as, monkeypatch):
    from blueprints.web import returners

    monkeypatch.setattr(returners, "OPTIONS_SHOWN", 3)
    request, _, cohort = robin
    for n in range(4):  # groups with seats: more options than are shown
        build.cohort(name=f"Extra Group {n}", location=cohort.location)
    page, console = f"/returners/{request.id}", console_as("coordinator")
    html = console.get(page).get_data(as_text=True)
    assert html.count('class="card option"') == 3
    assert f'value="resume:{cohort.id}"' in html  # the best one stays in view
    link = re.search(r'<a href="([^"]+)">Show all (\d+) options</a>', html)
    assert link and int(link.group(2)) > 3
    everything = console.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert everything.count('class="card option"') == int(link.group(2))
    assert "Show all" not in everything
