"""The staff API contract from API.md: auth, roles, errors, pagination, resources."""

import json

import pytest

from scheduler.services.staff import create_staff


def _cohort_body(location_id, track_id, **kw):
    body = {"location_id": location_id, "track_id": track_id, "name": "Evening A",
            "mode": "rolling", "capacity": 2, "weekdays": ["mon", "wed", "thu"],
            "start_time": "18:00", "minutes": 180, "starts_on": "2026-10-26"}
    body.update(kw)
    return body


@pytest.fixture
def site(api):
    location = api.post("/api/v1/locations", json={"name": "Boston", "address": "1 Main St"})
    track = api.post("/api/v1/tracks", json={"name": "IOP Evening"})
    return location.get_json()["id"], track.get_json()["id"]


def test_healthz_answers_ok_when_the_database_answers(app):
    response = app.test_client().get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_every_api_route_needs_a_bearer_token(app):
    response = app.test_client().get("/api/v1/cohorts")
    assert response.status_code == 401
    bad = app.test_client().get("/api/v1/cohorts", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401


def test_api_tokens_are_stored_only_as_hashes(db, clock):
    from scheduler.models import ApiToken

    _, token = create_staff("someone@staff.test", "viewer", clock())
    stored = db.session.query(ApiToken).one().token_hash
    assert token not in stored and len(stored) == 64


def test_a_viewer_can_read_but_not_write(api_as):
    viewer = api_as("viewer")
    assert viewer.get("/api/v1/locations").status_code == 200
    response = viewer.post("/api/v1/locations", json={"name": "Needham"})
    assert response.status_code == 403


def test_a_clinician_takes_attendance_but_does_not_change_cohorts(api, api_as, site):
    cohort = api.post("/api/v1/cohorts", json=_cohort_body(*site)).get_json()
    client = api.post("/api/v1/clients", json={"name": "Robin Example"}).get_json()
    api.post("/api/v1/enrollments", json={"client_id": client["id"], "cohort_id": cohort["id"],
                                          "joined_on": "2026-10-26"})
    # Thursday Nov 26 met four days ago: within the days staff may take attendance
    session_id = api.get(f"/api/v1/cohorts/{cohort['id']}/sessions"
                         "?from=2026-11-26&to=2026-11-26").get_json()[0]["id"]
    clinician = api_as("clinician")
    marked = clinician.put(f"/api/v1/group-sessions/{session_id}/attendance",
                           json=[{"client_id": client["id"], "status": "present"}])
    assert marked.status_code == 200
    assert marked.get_json()[0]["status"] == "present"
    assert clinician.patch(f"/api/v1/cohorts/{cohort['id']}",
                           json={"capacity": 5}).status_code == 403


def test_invalid_fields_get_422_naming_each_field(api, site):
    response = api.post("/api/v1/cohorts", json=_cohort_body(
        *site, capacity=-1, weekdays=["someday"], start_time="25:00"))
    assert response.status_code == 422
    fields = response.get_json()["errors"]["json"]
    assert {"capacity", "weekdays", "start_time"} <= set(fields)


def test_unknown_fields_are_named_too(api):
    response = api.post("/api/v1/tracks", json={"name": "X", "colour": "blue"})
    assert response.status_code == 422
    assert "colour" in response.get_json()["errors"]["json"]


def test_malformed_json_is_a_400_not_a_500(api):
    response = api.post("/api/v1/tracks", data="{not json",
                        headers={"Content-Type": "application/json"})
    assert response.status_code in (400, 422)


def test_unknown_ids_are_404(api):
    assert api.get("/api/v1/cohorts/999").status_code == 404
    assert api.get("/api/v1/cohorts/999/sessions").status_code == 404
    assert api.patch("/api/v1/enrollments/999", json={"status": "paused"}).status_code == 404


def test_a_cohort_for_an_unknown_location_is_refused_by_name(api, site):
    response = api.post("/api/v1/cohorts", json=_cohort_body(999, site[1]))
    assert response.status_code == 404
    assert "Location 999" in response.get_json()["message"]


def test_enrolling_into_a_full_cohort_is_a_409(api, site):
    cohort = api.post("/api/v1/cohorts", json=_cohort_body(*site, capacity=1)).get_json()
    first, second = (api.post("/api/v1/clients", json={"name": n}).get_json()
                     for n in ("A Example", "B Example"))
    ok = api.post("/api/v1/enrollments", json={"client_id": first["id"],
                                               "cohort_id": cohort["id"]})
    assert ok.status_code == 201
    full = api.post("/api/v1/enrollments", json={"client_id": second["id"],
                                                 "cohort_id": cohort["id"]})
    assert full.status_code == 409
    assert full.get_json()["errors"]["json"]["cohort_id"]
    roster = api.get(f"/api/v1/cohorts/{cohort['id']}/roster").get_json()
    assert roster["seats_left"] == 0 and len(roster["enrollments"]) == 1


def test_sessions_across_the_autumn_change_keep_six_pm_with_the_right_offset(api, site):
    cohort = api.post("/api/v1/cohorts", json=_cohort_body(*site)).get_json()
    sessions = api.get(f"/api/v1/cohorts/{cohort['id']}/sessions?from=2026-10-29&to=2026-11-02")
    starts = [s["starts_at"] for s in sessions.get_json()]
    assert starts == ["2026-10-29T18:00:00-04:00", "2026-11-02T18:00:00-05:00"]


def test_patching_capacity_below_seats_taken_is_a_409(api, site):
    cohort = api.post("/api/v1/cohorts", json=_cohort_body(*site, capacity=1)).get_json()
    client = api.post("/api/v1/clients", json={"name": "A Example"}).get_json()
    api.post("/api/v1/enrollments", json={"client_id": client["id"], "cohort_id": cohort["id"]})
    response = api.patch(f"/api/v1/cohorts/{cohort['id']}", json={"capacity": 0})
    assert response.status_code == 409


def test_a_closure_reports_the_sessions_it_cancelled(api, site):
    cohort = api.post("/api/v1/cohorts", json=_cohort_body(*site)).get_json()
    response = api.post("/api/v1/closures", json={"location_id": site[0], "date": "2026-12-24",
                                                  "reason": "Holiday"})
    assert response.status_code == 201
    assert len(response.get_json()["cancelled_session_ids"]) == 1
    day = api.get(f"/api/v1/cohorts/{cohort['id']}/sessions?from=2026-12-24&to=2026-12-24")
    assert day.get_json()[0]["status"] == "cancelled"


def test_lists_are_paginated_with_totals_in_the_header(api):
    for n in range(3):
        api.post("/api/v1/clients", json={"name": f"Person {n}"})
    response = api.get("/api/v1/clients?page=2&page_size=2")
    assert len(response.get_json()) == 1
    assert json.loads(response.headers["X-Pagination"])["total"] == 3
    assert api.get("/api/v1/clients?page_size=501").status_code == 422


def test_enrollment_status_changes_follow_the_allowed_transitions(api, site):
    cohort = api.post("/api/v1/cohorts", json=_cohort_body(*site)).get_json()
    client = api.post("/api/v1/clients", json={"name": "A Example"}).get_json()
    enrollment = api.post("/api/v1/enrollments", json={"client_id": client["id"],
                                                       "cohort_id": cohort["id"]}).get_json()
    paused = api.patch(f"/api/v1/enrollments/{enrollment['id']}", json={"status": "paused"})
    assert paused.status_code == 200 and paused.get_json()["hold_until"]
    done = api.patch(f"/api/v1/enrollments/{enrollment['id']}", json={"status": "withdrawn"})
    assert done.status_code == 200
    again = api.patch(f"/api/v1/enrollments/{enrollment['id']}", json={"status": "active"})
    assert again.status_code == 409


def test_attendance_for_someone_not_on_the_roster_is_a_422(api, site):
    cohort = api.post("/api/v1/cohorts", json=_cohort_body(*site)).get_json()
    stranger = api.post("/api/v1/clients", json={"name": "A Example"}).get_json()
    session_id = api.get(f"/api/v1/cohorts/{cohort['id']}/sessions"
                         "?from=2026-11-26&to=2026-11-26").get_json()[0]["id"]
    response = api.put(f"/api/v1/group-sessions/{session_id}/attendance",
                       json=[{"client_id": stranger["id"], "status": "present"}])
    assert response.status_code == 422
    assert "0.client_id" in response.get_json()["errors"]["json"]


def test_the_openapi_document_lists_every_v1_route_and_the_docs_page_renders(app, api):
    spec = app.test_client().get("/api/openapi.json").get_json()
    for path in ("/api/v1/locations", "/api/v1/tracks", "/api/v1/cohorts",
                 "/api/v1/cohorts/{cohort_id}/sessions", "/api/v1/cohorts/{cohort_id}/roster",
                 "/api/v1/closures", "/api/v1/clients", "/api/v1/enrollments",
                 "/api/v1/group-sessions/{session_id}/attendance"):
        assert path in spec["paths"], path
    page = app.test_client().get("/api/docs")
    assert page.status_code == 200 and b"/api/v1/cohorts" in page.data


def test_a_single_session_can_be_cancelled_with_a_reason_and_its_revision_rises(api, site):
    cohort = api.post("/api/v1/cohorts", json=_cohort_body(*site)).get_json()
    future = [s for s in api.get(f"/api/v1/cohorts/{cohort['id']}/sessions?from=2026-12-07"
                                 ).get_json()][0]
    response = api.patch(f"/api/v1/group-sessions/{future['id']}",
                         json={"status": "cancelled", "cancel_reason": "Facilitator away"})
    body = response.get_json()
    assert response.status_code == 200
    assert (body["status"], body["cancel_reason"], body["revision"]) == (
        "cancelled", "Facilitator away", future["revision"] + 1)


def test_a_session_that_already_happened_cannot_be_moved(api, site):
    cohort = api.post("/api/v1/cohorts", json=_cohort_body(*site)).get_json()
    past = api.get(f"/api/v1/cohorts/{cohort['id']}/sessions").get_json()[0]
    response = api.patch(f"/api/v1/group-sessions/{past['id']}",
                         json={"starts_at": "2026-12-20T18:00:00-05:00"})
    assert response.status_code == 409


def test_an_unknown_facilitator_is_named_in_the_error(api, site):
    response = api.post("/api/v1/cohorts", json=_cohort_body(*site, facilitator_id=999))
    assert response.status_code == 404
    assert "facilitator_id" in response.get_json()["errors"]["json"]


def test_healthz_answers_503_when_the_database_does_not(clock):
    from scheduler.app import create_app

    broken = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite:////nonexistent/dir/regroup.db",
                         "TESTING": True, "CLOCK": clock})
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "unavailable"


def test_attendance_before_the_start_or_long_ago_is_refused_unless_an_admin_says_why(
        api, api_as, site):
    cohort = api.post("/api/v1/cohorts", json=_cohort_body(*site)).get_json()
    client = api.post("/api/v1/clients", json={"name": "Robin Example"}).get_json()
    api.post("/api/v1/enrollments", json={"client_id": client["id"], "cohort_id": cohort["id"],
                                          "joined_on": "2026-10-26"})
    base = f"/api/v1/cohorts/{cohort['id']}/sessions"
    tonight = api.get(f"{base}?from=2026-11-30&to=2026-11-30").get_json()[0]["id"]
    long_ago = api.get(f"{base}?from=2026-11-02&to=2026-11-02").get_json()[0]["id"]
    mark = [{"client_id": client["id"], "status": "present"}]
    assert api.put(f"/api/v1/group-sessions/{tonight}/attendance", json=mark).status_code == 409
    assert api.put(f"/api/v1/group-sessions/{long_ago}/attendance", json=mark).status_code == 409
    admin = api_as("admin")
    assert admin.put(f"/api/v1/group-sessions/{long_ago}/attendance",
                     json=mark).status_code == 422
    assert admin.put(f"/api/v1/group-sessions/{long_ago}/attendance?reason=Paper+sheet",
                     json=mark).status_code == 200
