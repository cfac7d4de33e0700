"""Coming back over HTTP: the staff doors, placing, fresh cohorts, time back to group,
the public JSON door and the /come-back page."""

import json
import re
from datetime import date

import pytest
import sqlalchemy as sa

from scheduler.models import Client, GroupSession, Notification, ReturnRequest
from scheduler.services import enrollments
from tests.forms import post_form

PUBLIC = "/api/v1/public/returns"
BANNED = re.compile(r"dropped out|failed|non-compliant|relapsed|no-show|addiction|recovery|"
                    r"substance|\bIOP\b", re.IGNORECASE)


@pytest.fixture
def returner(build, db, clock):
    """A client who attended a Boston evening group until Thu Nov 26, then paused."""
    cohort = build.cohort(capacity=4)
    client = build.client("Robin Example", email="robin@example.org", phone="617-555-0101")
    enrollment = build.enroll(client, cohort, joined_on=cohort.starts_on)
    for session in db.session.scalars(sa.select(GroupSession).where(
            GroupSession.cohort_id == cohort.id, GroupSession.occurs_on <= date(2026, 11, 26))
            .order_by(GroupSession.starts_at)):
        enrollments.record_attendance(session.id, [{"client_id": client.id,
                                                    "status": "present"}], None, clock(),
                                      build.policy)
    enrollments.change_status(enrollment.id, "paused", clock(), build.policy)
    return client, cohort


def _staff_request(api, **body):
    payload = {"name": "Robin", "email": "robin@example.org", "channel": "phone", **body}
    return api.post("/api/v1/returns", json=payload)


# --- staff doors -----------------------------------------------------------------

def test_staff_record_a_call_and_get_back_the_matched_client(api, returner):
    client, _ = returner
    response = _staff_request(api, email="ROBIN@example.org", channel="phone")
    assert response.status_code == 201
    body = response.get_json()
    assert (body["client_id"], body["channel"], body["joined_open_request"]) == (
        client.id, "phone", False)


def test_a_second_call_while_the_request_is_open_joins_it(api, returner):
    first = _staff_request(api).get_json()
    again = _staff_request(api, channel="email")
    assert again.status_code == 200
    body = again.get_json()
    assert body["id"] == first["id"] and body["contacts"] == 2 and body["joined_open_request"]


def test_a_request_from_someone_new_comes_back_flagged_for_confirmation(api):
    body = _staff_request(api, name="Sam", email="sam@example.org").get_json()
    assert body["client_needs_confirmation"] is True


def test_a_viewer_cannot_record_a_return_request(api_as):
    assert _staff_request(api_as("viewer")).status_code == 403


def test_a_staff_request_without_any_way_to_reach_them_names_the_field(api):
    response = api.post("/api/v1/returns", json={"name": "Sam", "channel": "phone"})
    assert response.status_code == 422
    assert "email" in response.get_json()["errors"]["json"]


def test_return_requests_are_listed_with_a_filter(api, returner):
    _staff_request(api)
    listed = api.get("/api/v1/returns?status=open")
    assert listed.status_code == 200 and len(listed.get_json()) == 1
    assert api.get("/api/v1/returns?status=placed").get_json() == []


def test_check_in_is_booked_moved_and_cancelled(api, returner):
    rid = _staff_request(api).get_json()["id"]
    path = f"/api/v1/returns/{rid}/check-in"
    booked = api.put(path, json={"at": "2026-12-02T10:00:00-05:00", "mode": "phone"})
    assert booked.status_code == 200 and booked.get_json()["revision"] == 0
    moved = api.put(path, json={"at": "2026-12-02T14:00:00-05:00", "mode": "video"})
    assert moved.get_json()["revision"] == 1
    assert moved.get_json()["at"] == "2026-12-02T14:00:00-05:00"
    cancelled = api.put(path, json={"status": "cancelled"})
    assert cancelled.get_json()["status"] == "cancelled"
    assert cancelled.get_json()["revision"] == 2


def test_a_check_in_can_also_be_cancelled_with_delete(api, returner):
    rid = _staff_request(api).get_json()["id"]
    path = f"/api/v1/returns/{rid}/check-in"
    api.put(path, json={"at": "2026-12-02T10:00:00-05:00", "mode": "phone"})
    assert api.delete(path).get_json()["status"] == "cancelled"


def test_booking_a_check_in_without_a_time_or_mode_names_both(api, returner):
    rid = _staff_request(api).get_json()["id"]
    response = api.put(f"/api/v1/returns/{rid}/check-in", json={})
    assert response.status_code == 422
    assert {"at", "mode"} <= set(response.get_json()["errors"]["json"])


def test_check_in_for_an_unknown_request_is_404(api):
    response = api.put("/api/v1/returns/999/check-in",
                       json={"at": "2026-12-02T10:00:00-05:00", "mode": "phone"})
    assert response.status_code == 404


def test_reentry_answers_come_back_with_time_away_from_attendance(api, returner):
    rid = _staff_request(api).get_json()["id"]
    response = api.put(f"/api/v1/returns/{rid}/reentry", json={
        "using_again": "prefer_not_to_say", "preference": "same_group",
        "weekdays": ["mon", "wed", "thu"], "dayparts": ["evening"]})
    assert response.status_code == 200
    body = response.get_json()
    assert body["days_away"] == 4 and body["clinical_review"] is False


def test_reentry_with_unknown_values_names_each_field(api, returner):
    rid = _staff_request(api).get_json()["id"]
    response = api.put(f"/api/v1/returns/{rid}/reentry", json={
        "using_again": "maybe", "dayparts": ["night"], "days_away": 3})
    assert response.status_code == 422
    assert {"using_again", "dayparts", "days_away"} <= set(response.get_json()["errors"]["json"])


def test_options_come_ranked_with_reasons_first_date_and_progress(api, returner):
    client, cohort = returner
    rid = _staff_request(api).get_json()["id"]
    options = api.get(f"/api/v1/returns/{rid}/options").get_json()
    first = options[0]
    assert first["id"] == f"resume:{cohort.id}" and first["kind"] == "resume"
    assert first["first_session_at"] == "2026-11-30T18:00:00-05:00"
    assert first["progress"] == {"credited": 12, "total": 36, "remaining": 24,
                                 "beyond_window": 0}
    assert first["reasons"][0].startswith("Same group as before")
    assert "12 of 36 done, 24 to go" in first["reasons"]


def test_options_come_a_page_at_a_time_best_first_and_any_of_them_can_be_placed(
        api, build, returner):
    client, cohort = returner
    for _ in range(3):
        build.cohort(location=cohort.location)
    rid = _staff_request(api).get_json()["id"]
    every = [o["id"] for o in api.get(f"/api/v1/returns/{rid}/options?page_size=500")
             .get_json()]
    assert len(every) >= 5
    second = api.get(f"/api/v1/returns/{rid}/options?page=2&page_size=2")
    assert [o["id"] for o in second.get_json()] == every[2:4]
    assert json.loads(second.headers["X-Pagination"])["total"] == len(every)
    assert api.get(f"/api/v1/returns/{rid}/options?page_size=501").status_code == 422
    placed = api.post(f"/api/v1/returns/{rid}/placement", json={"option_id": every[3]})
    assert placed.status_code == 201 and placed.get_json()["kind"] == every[3].split(":")[0]


def test_explained_options_say_why_a_group_was_not_offered(api, build, returner):
    client, cohort = returner
    ended = build.cohort(location=cohort.location, status="running", ends_on=date(2026, 12, 31))
    morning = build.cohort(location=cohort.location, start_time=__import__("datetime").time(9))
    rid = _staff_request(api).get_json()["id"]
    api.put(f"/api/v1/returns/{rid}/reentry", json={"dayparts": ["evening"]})
    body = api.get(f"/api/v1/returns/{rid}/options/explained").get_json()
    reasons = {n["cohort_id"]: n["reason"] for n in body["not_offered"]}
    assert "morning" in reasons[morning.id]
    assert f"join:{ended.id}" in [o["id"] for o in body["options"]]
    assert body["days_away"] == 4


def test_placing_takes_a_seat_and_returns_the_enrollment(api, db, build, returner):
    client, cohort = returner
    other = build.cohort(location=cohort.location)
    rid = _staff_request(api).get_json()["id"]
    response = api.post(f"/api/v1/returns/{rid}/placement",
                        json={"option_id": f"join:{other.id}"})
    assert response.status_code == 201
    body = response.get_json()
    assert body["kind"] == "join" and body["enrollment"]["cohort_id"] == other.id
    assert body["enrollment"]["credited_sessions"] == 12
    assert db.session.get(ReturnRequest, rid).status == "placed"


def test_placing_a_request_twice_is_a_conflict(api, returner):
    client, cohort = returner
    rid = _staff_request(api).get_json()["id"]
    path = f"/api/v1/returns/{rid}/placement"
    assert api.post(path, json={"option_id": f"resume:{cohort.id}"}).status_code == 201
    assert api.post(path, json={"option_id": f"resume:{cohort.id}"}).status_code == 409


def test_an_option_that_is_not_on_offer_is_a_conflict_and_nonsense_is_422(api, build):
    full = build.full_cohort(capacity=1)
    rid = _staff_request(api, email="x@example.org").get_json()["id"]
    path = f"/api/v1/returns/{rid}/placement"
    assert api.post(path, json={"option_id": f"join:{full.id}"}).status_code == 409
    nonsense = api.post(path, json={"option_id": "sofa:1"})
    assert nonsense.status_code == 422 and "option_id" in nonsense.get_json()["errors"]["json"]
    assert api.post("/api/v1/returns/999/placement",
                    json={"option_id": "join:1"}).status_code == 404


def _place_fresh(api, location_id, n):
    made = []
    for i in range(n):
        rid = _staff_request(api, name=f"P{i}", email=f"p{i}@example.org").get_json()["id"]
        api.put(f"/api/v1/returns/{rid}/reentry",
                json={"dayparts": ["evening"], "location_ids": [location_id]})
        options = api.get(f"/api/v1/returns/{rid}/options").get_json()
        fresh = next(o for o in options if o["kind"] == "fresh")
        made.append(api.post(f"/api/v1/returns/{rid}/placement",
                             json={"option_id": fresh["id"]}).get_json())
    return made


def test_a_forming_cohort_is_listed_ready_and_opens(api, build):
    location = build.location()
    build.track()
    placed = _place_fresh(api, location.id, 4)
    cohort_id = placed[0]["forming_place"]["cohort_id"]
    ready = api.get("/api/v1/forming-cohorts?ready=true").get_json()
    assert [r["cohort"]["id"] for r in ready] == [cohort_id] and ready[0]["size"] == 4
    opened = api.post(f"/api/v1/forming-cohorts/{cohort_id}/open", json={})
    assert opened.status_code == 200
    body = opened.get_json()
    assert body["cohort"]["status"] == "running" and len(body["enrollments"]) == 4


def test_opening_a_cohort_short_of_the_minimum_needs_early(api, build):
    location = build.location()
    build.track()
    cohort_id = _place_fresh(api, location.id, 2)[0]["forming_place"]["cohort_id"]
    path = f"/api/v1/forming-cohorts/{cohort_id}/open"
    assert api.post(path, json={}).status_code == 409
    assert api.post(path, json={"early": True}).status_code == 200


def test_merging_into_a_full_cohort_is_a_conflict(api, build):
    location = build.location()
    build.track()
    cohort_id = _place_fresh(api, location.id, 2)[0]["forming_place"]["cohort_id"]
    target = build.full_cohort(capacity=1, location=location)
    response = api.post(f"/api/v1/forming-cohorts/{cohort_id}/merge",
                        json={"cohort_id": target.id})
    assert response.status_code == 409


def test_merging_into_a_group_at_another_site_is_refused_naming_the_field(api, build):
    location = build.location("Boston")
    build.track()
    cohort_id = _place_fresh(api, location.id, 2)[0]["forming_place"]["cohort_id"]
    elsewhere = build.cohort(location=build.location("Needham"), capacity=5)
    response = api.post(f"/api/v1/forming-cohorts/{cohort_id}/merge",
                        json={"cohort_id": elsewhere.id})
    assert response.status_code == 422
    assert "cohort_id" in response.get_json()["errors"]["json"]


def test_time_back_to_group_is_reported_per_client_and_overall(api, db, build, clock):
    cohort = build.cohort()
    body = _staff_request(api, email="t@example.org").get_json()
    api.post(f"/api/v1/returns/{body['id']}/placement", json={"option_id": f"join:{cohort.id}"})
    session = db.session.scalars(sa.select(GroupSession).where(
        GroupSession.cohort_id == cohort.id, GroupSession.starts_at > clock())
        .order_by(GroupSession.starts_at)).first()
    clock.set(session.ends_at)
    enrollments.record_attendance(session.id, [{"client_id": body["client_id"],
                                                "status": "present"}], None, clock(),
                                  build.policy)
    overall = api.get("/api/v1/returns/time-back").get_json()
    assert overall["back_in_group"] == 1 and overall["median_days"] == 0.3
    mine = api.get(f"/api/v1/clients/{body['client_id']}/time-back").get_json()
    assert mine["items"][0]["days_to_group"] == 0.3


# --- the public JSON door --------------------------------------------------------

def test_the_public_door_needs_no_token_and_answers_warmly(app, db):
    response = app.test_client().post(PUBLIC, json={"name": "Sam", "phone": "617 555 0142"})
    assert response.status_code == 202
    body = response.get_json()
    assert "glad you reached out" in body["message"] and body["next_steps"]
    assert not BANNED.search(str(body))
    request = db.session.scalars(sa.select(ReturnRequest)).one()
    assert request.channel == "web"


def test_the_public_door_says_the_same_whether_or_not_the_email_is_known(app, build):
    build.client(email="known@example.org")
    http = app.test_client()
    known = http.post(PUBLIC, json={"name": "K", "email": "known@example.org"})
    unknown = http.post(PUBLIC, json={"name": "U", "email": "unknown@example.org"})
    assert (known.status_code, known.get_data()) == (unknown.status_code, unknown.get_data())


def test_the_public_door_queues_a_welcome_back_message(app, db):
    app.test_client().post(PUBLIC, json={"name": "Sam", "email": "sam@example.org"})
    assert db.session.scalars(sa.select(Notification.kind)).all() == ["welcome_back"]


ODD_BODIES = [
    {"data": b"", "content_type": "application/json"},
    {"data": b"not json", "content_type": "application/json"},
    {"data": b"name=Sam&phone=6175550100", "content_type": "application/x-www-form-urlencoded"},
    {"json": []},
    {"json": "Sam"},
    {"json": None},
    {"json": {}},
    {"json": {"name": 42, "email": ["a@b.org"]}},
    {"json": {"name": "Sam", "phone": {"n": 1}}},
    {"json": {"name": "S" * 100_000, "email": "s@example.org"}},
    {"json": {"name": "Sam", "email": "x" * 10_000 + "@example.org"}},
    {"json": {"name": "Sam", "email": "s@example.org", "message": "m" * 6_000}},
    {"json": {"name": "Sam", "email": "s@example.org", "message": "m" * 200_000}},
    {"json": {"name": "Sam", "phone": "12"}},
    {"json": {"name": "Sam", "email": "not-an-address"}},
    {"json": {"name": "\u0000\u0007", "email": "s@example.org"}},
    {"json": {"name": "Sam", "email": "s@example.org", "is_admin": True}},
]


@pytest.mark.parametrize("body", ODD_BODIES, ids=range(len(ODD_BODIES)))
def test_odd_input_at_the_public_door_gets_a_kind_answer_never_a_500(app, body):
    response = app.test_client().post(PUBLIC, **body)
    assert response.status_code in (400, 413, 422)
    assert response.is_json and response.get_json()["message"]


def test_the_public_door_is_limited_per_submitted_address_with_a_kind_429(app):
    app.config["RETURNS_PUBLIC_ADDRESS_LIMIT"] = "2 per hour"
    http = app.test_client()
    for _ in range(2):
        assert http.post(PUBLIC, json={"name": "S", "email": "s@example.org"}).status_code == 202
    limited = http.post(PUBLIC, json={"name": "S", "email": "S@Example.org "})
    assert limited.status_code == 429
    assert "patience" in limited.get_json()["message"]
    other = http.post(PUBLIC, json={"name": "T", "email": "t@example.org"})
    assert other.status_code == 202


def test_the_public_door_is_limited_per_client_address(app):
    app.config["RETURNS_PUBLIC_IP_LIMIT"] = "3 per minute"
    http = app.test_client()
    codes = [http.post(PUBLIC, json={"name": "S", "email": f"s{i}@example.org"}).status_code
             for i in range(4)]
    assert codes == [202, 202, 202, 429]


def test_the_public_door_is_documented_without_a_token(app):
    spec = app.test_client().get("/api/openapi.json").get_json()
    assert spec["paths"]["/api/v1/public/returns"]["post"]["security"] == []


# --- the /come-back page ---------------------------------------------------------

def test_the_come_back_page_asks_only_for_a_name_and_a_way_to_reach_them(app):
    page = app.test_client().get("/come-back")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for name in ("name", "phone", "email", "message"):
        assert f'<label for="{name}"' in html and f'id="{name}"' in html
    assert 'name="csrf_token"' in html and "required" not in html
    assert not BANNED.search(html)


def test_sending_the_page_form_records_the_request_and_says_what_happens_next(app, db):
    page = post_form(app.test_client(), "/come-back", {"name": "Sam", "phone": "617-555-0100"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "What happens next" in html
    assert "check-in" in html and not BANNED.search(html)
    client = db.session.scalars(sa.select(Client)).one()
    assert client.needs_confirmation


def test_the_page_form_without_a_way_to_reach_them_keeps_what_was_typed(app):
    page = post_form(app.test_client(), "/come-back", {"name": "Sam Example"})
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert 'value="Sam Example"' in html and 'aria-invalid="true"' in html


def test_the_page_form_is_rate_limited_with_a_kind_page(app):
    app.config["RETURNS_PUBLIC_ADDRESS_LIMIT"] = "1 per hour"
    http = app.test_client()
    post_form(http, "/come-back", {"name": "Sam", "phone": "617-555-0100"})
    again = post_form(http, "/come-back", {"name": "Sam", "phone": "(617) 555 0100"})
    assert again.status_code == 429 and "patience" in again.get_data(as_text=True)


def test_one_request_shows_its_check_in_and_reentry(api, returner):
    rid = _staff_request(api).get_json()["id"]
    api.put(f"/api/v1/returns/{rid}/check-in",
            json={"at": "2026-12-01T09:00:00-05:00", "mode": "in_person"})
    api.put(f"/api/v1/returns/{rid}/reentry", json={"using_again": "yes"})
    body = api.get(f"/api/v1/returns/{rid}").get_json()
    assert body["check_in"]["mode"] == "in_person"
    assert body["reentry"]["clinical_review"] is True
    assert body["checked_in_at"] is not None


def test_time_back_can_be_limited_to_a_window_of_requests(api, returner):
    _staff_request(api)
    inside = api.get("/api/v1/returns/time-back?from=2026-11-01T00:00:00-05:00").get_json()
    outside = api.get("/api/v1/returns/time-back?to=2026-11-01T00:00:00-05:00").get_json()
    assert (inside["requests"], inside["still_open"], outside["requests"]) == (1, 1, 0)


def test_staff_close_an_open_request_once(api, returner):
    rid = _staff_request(api).get_json()["id"]
    closed = api.post(f"/api/v1/returns/{rid}/close")
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"
    assert api.post(f"/api/v1/returns/{rid}/close").status_code == 409


def test_a_viewer_sees_the_request_but_not_the_clinical_answers(api, api_as, returner):
    rid = _staff_request(api).get_json()["id"]
    api.put(f"/api/v1/returns/{rid}/reentry", json={"using_again": "yes", "notes": "private"})
    viewer = api_as("viewer")
    detail = viewer.get(f"/api/v1/returns/{rid}")
    assert detail.status_code == 200 and detail.get_json()["reentry"] is None
    assert viewer.get(f"/api/v1/returns/{rid}/reentry").status_code == 403
    clinician = api_as("clinician")
    assert clinician.get(f"/api/v1/returns/{rid}/reentry").get_json()["using_again"] == "yes"
