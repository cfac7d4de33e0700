"""Forming cohorts on the Cohorts page (open, open early, merge) and the cohort
page's waitlist controls and offers answered for a client."""

import pytest
import sqlalchemy as sa

from scheduler.messages import render
from scheduler.models import (
    AuditEvent,
    Cohort,
    Enrollment,
    Notification,
    SeatOffer,
    WaitlistEntry,
)
from scheduler.services import returns
from tests.returns_support import fresh_group
from tests.waitlist_support import full_group_with_line, open_offers


def _console_writes(db, entity, entity_id):
    return [e.detail for e in db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.entity == entity, AuditEvent.entity_id == entity_id,
        AuditEvent.action == "update").order_by(AuditEvent.id))
        if e.detail.get("via") == "console"]


def test_a_forming_cohort_at_the_minimum_shows_ready_with_an_open_button(build, console_as):
    placed = fresh_group(build, build.location("Boston"), 4)
    cohort_id = placed[0].forming_member.cohort_id
    html = console_as("coordinator").get("/cohorts").get_data(as_text=True)
    card = html[html.index(f'id="forming-{cohort_id}"'):]
    assert "Ready to open" in card and "4 people gathered" in card
    assert f'action="/cohorts/{cohort_id}/open"' in card and "Open early" not in card


def test_opening_a_ready_cohort_from_the_page_enrolls_everyone_and_is_audited(
        db, build, console_as):
    placed = fresh_group(build, build.location("Boston"), 4)
    cohort_id = placed[0].forming_member.cohort_id
    response = console_as("coordinator").post_form("/cohorts", f"/cohorts/{cohort_id}/open",
                                                   {}, follow_redirects=True)
    assert "is open: 4 people enrolled" in response.get_data(as_text=True)
    assert db.session.get(Cohort, cohort_id).status == "running"
    assert _console_writes(db, "cohort", cohort_id)[0]["what"] == "opened"


def test_a_cohort_short_of_the_minimum_offers_open_early(db, build, console_as):
    placed = fresh_group(build, build.location("Boston"), 2)
    cohort_id = placed[0].forming_member.cohort_id
    console = console_as("coordinator")
    html = console.get("/cohorts").get_data(as_text=True)
    assert "Open early with 2" in html
    refused = console.post_form("/cohorts", f"/cohorts/{cohort_id}/open", {})
    assert refused.status_code == 409 and "open it early" in refused.get_data(as_text=True)
    console.post_form("/cohorts", f"/cohorts/{cohort_id}/open", {"early": "1"})
    assert db.session.get(Cohort, cohort_id).status == "running"


def test_merging_a_forming_cohort_into_a_running_one_moves_its_members(db, build, console_as):
    location = build.location("Boston")
    placed = fresh_group(build, location, 2)
    forming_id = placed[0].forming_member.cohort_id
    target = build.cohort(location=location, name="Roomy Evening", capacity=6)
    response = console_as("coordinator").post_form(
        "/cohorts", f"/cohorts/{forming_id}/merge", {"into_cohort_id": str(target.id)},
        follow_redirects=True)
    assert "2 people moved into Roomy Evening" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment).where(
        Enrollment.cohort_id == target.id)) == 2
    assert _console_writes(db, "cohort", forming_id)[0]["into_cohort_id"] == target.id


def test_merging_without_a_target_is_422_naming_the_field(build, console_as):
    placed = fresh_group(build, build.location("Boston"), 2)
    forming_id = placed[0].forming_member.cohort_id
    response = console_as("coordinator").post_form("/cohorts", f"/cohorts/{forming_id}/merge",
                                                   {"into_cohort_id": ""})
    assert response.status_code == 422
    assert "Choose the running cohort to merge into" in response.get_data(as_text=True)


def test_a_viewer_sees_forming_cohorts_without_buttons_and_cannot_open_one(
        db, build, console_as):
    placed = fresh_group(build, build.location("Boston"), 4)
    cohort_id = placed[0].forming_member.cohort_id
    console = console_as("viewer")
    html = console.get("/cohorts").get_data(as_text=True)
    assert "Ready to open" in html and f"/cohorts/{cohort_id}/open" not in html
    assert console.post_form("/cohorts", f"/cohorts/{cohort_id}/open", {}).status_code == 403
    assert db.session.get(Cohort, cohort_id).status == "forming"


def test_opening_an_unknown_cohort_is_404(console_as):
    assert console_as("coordinator").post_form("/cohorts", "/cohorts/999/open",
                                               {}).status_code == 404


@pytest.fixture
def line(build):
    return full_group_with_line(build, capacity=1, waiting=3, name="Full Evening")


def test_moving_someone_up_with_a_reason_puts_them_first_and_is_audited(
        db, line, console_as):
    cohort, _, entries = line
    page = f"/cohorts/{cohort.id}"
    response = console_as("coordinator").post_form(
        page, f"{page}/waitlist/{entries[2].id}/move-up",
        {"reason": "Court-ordered start date"}, follow_redirects=True)
    assert "is now number 1 in line" in response.get_data(as_text=True)
    html = response.get_data(as_text=True)
    assert "Moved up: Court-ordered start date" in html
    assert _console_writes(db, "waitlist_entry", entries[2].id)[0]["reason"] == (
        "Court-ordered start date")


def test_moving_up_or_removing_without_a_reason_is_422_naming_the_reason(
        db, line, console_as):
    cohort, _, entries = line
    page, console = f"/cohorts/{cohort.id}", console_as("coordinator")
    for action in ("move-up", "remove"):
        response = console.post_form(page, f"{page}/waitlist/{entries[1].id}/{action}",
                                     {"reason": "  "})
        assert response.status_code == 422
        assert f'id="entry-{entries[1].id}-error"' in response.get_data(as_text=True)
    assert db.session.get(WaitlistEntry, entries[1].id).status == "waiting"


def test_removing_someone_from_line_keeps_the_reason(db, line, console_as):
    cohort, _, entries = line
    page = f"/cohorts/{cohort.id}"
    console_as("coordinator").post_form(page, f"{page}/waitlist/{entries[0].id}/remove",
                                        {"reason": "Found a group closer to home"})
    db.session.expire_all()
    entry = db.session.get(WaitlistEntry, entries[0].id)
    assert (entry.status, entry.removed_reason) == ("removed", "Found a group closer to home")


def test_an_entry_of_another_cohort_is_404(build, line, console_as):
    cohort, _, entries = line
    other = build.cohort()
    response = console_as("coordinator").post_form(
        f"/cohorts/{other.id}", f"/cohorts/{other.id}/waitlist/{entries[0].id}/remove",
        {"reason": "x"})
    assert response.status_code == 404


def test_a_viewer_gets_no_waitlist_controls_and_a_403_on_post(db, line, console_as):
    cohort, _, entries = line
    console = console_as("viewer")
    html = console.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert "Move up or remove" not in html
    response = console.post_form(f"/cohorts/{cohort.id}",
                                 f"/cohorts/{cohort.id}/waitlist/{entries[2].id}/move-up",
                                 {"reason": "x"})
    assert response.status_code == 403


def _offer(build, clock):
    from scheduler.services import enrollments

    cohort, seated, entries = full_group_with_line(build, capacity=1, waiting=2,
                                                   name="Full Evening")
    enrollments.change_status(seated[0].id, "withdrawn", clock(), build.policy)
    offer = open_offers(cohort.id)[0]
    return cohort, offer


def test_the_cohort_page_shows_open_offers_with_their_deadline(build, clock, console_as):
    cohort, offer = _offer(build, clock)
    html = console_as("coordinator").get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    offers = html[html.index('id="offers"'):]
    # made Mon 10 AM for Wednesday's group: a day to answer
    assert "answer by <strong>Tue Dec 1, 10:02 AM</strong>" in offers
    assert 'value="accept"' in offers and 'value="decline"' in offers


def test_staff_record_a_clients_phone_yes_to_an_offer(db, build, clock, console_as):
    cohort, offer = _offer(build, clock)
    page = f"/cohorts/{cohort.id}"
    response = console_as("coordinator").post_form(page, f"{page}/offers/{offer.id}/answer",
                                                   {"answer": "accept"}, follow_redirects=True)
    assert "they took the seat" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(SeatOffer, offer.id).status == "accepted"
    assert _console_writes(db, "seat_offer", offer.id)[0]["what"] == "answered_accept"


def test_staff_record_a_clients_no_and_the_seat_goes_to_the_next_in_line(
        db, build, clock, console_as):
    cohort, offer = _offer(build, clock)
    page = f"/cohorts/{cohort.id}"
    console_as("coordinator").post_form(page, f"{page}/offers/{offer.id}/answer",
                                        {"answer": "decline"})
    db.session.expire_all()
    assert db.session.get(SeatOffer, offer.id).status == "declined"
    assert [o.client_id for o in open_offers(cohort.id)] != [offer.client_id]
    assert len(open_offers(cohort.id)) == 1


def test_an_answer_that_is_neither_yes_nor_no_is_422_naming_answer(build, clock, console_as):
    cohort, offer = _offer(build, clock)
    page = f"/cohorts/{cohort.id}"
    response = console_as("coordinator").post_form(page, f"{page}/offers/{offer.id}/answer",
                                                   {"answer": "maybe"})
    assert response.status_code == 422
    assert "Answer accept or decline" in response.get_data(as_text=True)


def test_an_answer_to_an_offer_already_answered_is_409(build, clock, console_as):
    cohort, offer = _offer(build, clock)
    page, console = f"/cohorts/{cohort.id}", console_as("coordinator")
    console.post_form(page, f"{page}/offers/{offer.id}/answer", {"answer": "decline"})
    response = console.post_form(page, f"{page}/offers/{offer.id}/answer", {"answer": "accept"})
    assert response.status_code == 409


def test_reading_the_cohorts_page_with_forming_members_is_audited(db, build, console_as):
    placed = fresh_group(build, build.location("Boston"), 2)
    console_as("viewer").get("/cohorts")
    event = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "read", AuditEvent.entity == "cohort")).one()
    assert sorted(event.detail["forming_member_client_ids"]) == sorted(
        p.forming_member.client_id for p in placed)


def test_a_forming_group_that_waited_too_long_is_proposed_for_a_merge_and_staff_are_told(
        app, db, build, clock, console_as):
    location = build.location("Boston")
    placed = fresh_group(build, location, 2)
    forming_id = placed[0].forming_member.cohort_id
    target = build.cohort(location=location, track=db.session.get(Cohort, forming_id).track,
                          name="Roomy Evening", capacity=6)
    console = console_as("coordinator")  # also a coordinator to tell
    assert returns.tell_staff_of_stalled(clock(), build.policy) == 0  # not waited long yet
    clock.advance(days=build.policy.fresh_wait_days)
    html = console.get("/cohorts").get_data(as_text=True)
    card = html[html.index(f'id="forming-{forming_id}"'):]
    card = card[:card.index("</article>")]
    assert "Proposed: merge into Roomy Evening." in card
    assert f'<option value="{target.id}" selected>' in card
    assert returns.tell_staff_of_stalled(clock(), build.policy) >= 1
    assert returns.tell_staff_of_stalled(clock(), build.policy) == 0  # once a day
    told = db.session.scalars(sa.select(Notification).where(
        Notification.kind == "forming_stalled")).all()
    message = render(told[0], app.jinja_env, app.config)
    assert "Roomy Evening" in message.text and "2 people waiting" in message.text
    assert "Fresh Person" not in message.text + message.subject  # no client names


def test_the_cohorts_grid_shows_how_many_wait_for_each_group(build, console_as):
    cohort, _, _ = full_group_with_line(build, capacity=2, waiting=3, name="Full Evening")
    html = console_as("coordinator").get("/cohorts").get_data(as_text=True)
    card = html[html.index("Full Evening</a>"):]
    assert '<span class="small-print">3 waiting</span>' in card[:card.index("</li>")]


def test_the_merge_form_defaults_to_a_group_of_the_same_place_and_track_with_room(
        db, build, console_as):
    boston, needham = build.location("Boston"), build.location("Needham")
    placed = fresh_group(build, boston, 2)
    forming = db.session.get(Cohort, placed[0].forming_member.cohort_id)
    build.cohort(location=needham, track=forming.track, name="Elsewhere", capacity=9)
    right = build.cohort(location=boston, track=forming.track, name="Right Here", capacity=6)
    html = console_as("coordinator").get("/cohorts").get_data(as_text=True)
    card = html[html.index(f'id="forming-{forming.id}"'):]
    assert f'<option value="{right.id}" selected>' in card[:card.index("</article>")]
