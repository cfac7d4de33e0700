"""The staff waitlist API: join, list in order, move up, remove, see offered seats."""

import json

import pytest

from scheduler.services import enrollments
from tests.waitlist_support import full_group_with_line


@pytest.fixture
def group(build):
    """A full group of two with three people in line (in request order)."""
    return full_group_with_line(build, capacity=2, waiting=3)


def test_staff_put_a_client_on_a_waitlist(api, build):
    cohort = build.full_cohort(capacity=1)
    client = build.client()
    response = api.post("/api/v1/waitlist", json={"client_id": client.id,
                                                   "cohort_id": cohort.id, "priority": 1})
    assert response.status_code == 201
    body = response.get_json()
    assert (body["client_id"], body["position"], body["priority"]) == (client.id, 1, 1)
    assert body["status"] == "waiting" and body["offer"] is None


def test_putting_someone_in_line_twice_is_a_conflict(api, group):
    cohort, _, line = group
    response = api.post("/api/v1/waitlist", json={"client_id": line[0].client_id,
                                                   "cohort_id": cohort.id})
    assert response.status_code == 409


def test_an_unknown_cohort_or_client_is_not_found(api, build):
    client = build.client()
    assert api.post("/api/v1/waitlist", json={"client_id": client.id,
                                              "cohort_id": 999}).status_code == 404
    cohort = build.cohort()
    assert api.post("/api/v1/waitlist", json={"client_id": 999,
                                              "cohort_id": cohort.id}).status_code == 404


def test_a_bad_priority_is_refused_by_name(api, group):
    cohort, _, _ = group
    response = api.post("/api/v1/waitlist", json={"client_id": 1, "cohort_id": cohort.id,
                                                   "priority": "high"})
    assert response.status_code == 422
    assert "priority" in response.get_json()["errors"]["json"]


def test_the_waitlist_comes_in_order_with_positions_and_offers(api, build, clock, group):
    cohort, seated, line = group
    enrollments.change_status(seated[0].id, "withdrawn", clock(), build.policy)
    response = api.get(f"/api/v1/cohorts/{cohort.id}/waitlist")
    assert response.status_code == 200
    body = response.get_json()
    assert [(e["id"], e["position"]) for e in body] == [(e.id, n + 1)
                                                        for n, e in enumerate(line)]
    assert set(body[0]) >= {"id", "client_id", "position", "priority", "requested_at", "offer"}
    assert body[0]["offer"]["status"] == "open"
    assert body[0]["offer"]["expires_at"].endswith("-05:00")
    assert body[1]["offer"] is None


def test_the_waitlist_pages_and_reports_the_total(api, group):
    cohort, _, line = group
    response = api.get(f"/api/v1/cohorts/{cohort.id}/waitlist?page=2&page_size=2")
    assert [e["position"] for e in response.get_json()] == [3]
    assert json.loads(response.headers["X-Pagination"])["total"] == 3


def test_the_waitlist_of_an_unknown_cohort_is_not_found(api):
    assert api.get("/api/v1/cohorts/999/waitlist").status_code == 404


def test_staff_move_an_entry_to_the_front_with_a_reason(api, group):
    cohort, _, line = group
    response = api.post(f"/api/v1/waitlist/{line[2].id}/move-up",
                        json={"reason": "Leaving inpatient care this week"})
    assert response.status_code == 200
    assert response.get_json()["position"] == 1
    assert response.get_json()["moved_up_reason"] == "Leaving inpatient care this week"
    order = [e["id"] for e in api.get(f"/api/v1/cohorts/{cohort.id}/waitlist").get_json()]
    assert order == [line[2].id, line[0].id, line[1].id]


def test_moving_up_needs_a_reason(api, group):
    _, _, line = group
    response = api.post(f"/api/v1/waitlist/{line[2].id}/move-up", json={})
    assert response.status_code == 422
    assert "reason" in response.get_json()["errors"]["json"]


def test_moving_up_to_a_lower_priority_is_refused_by_name(api, group):
    _, _, line = group
    api.post(f"/api/v1/waitlist/{line[2].id}/move-up", json={"reason": "r", "priority": 3})
    response = api.post(f"/api/v1/waitlist/{line[2].id}/move-up",
                        json={"reason": "again", "priority": 2})
    assert response.status_code == 422
    assert "priority" in response.get_json()["errors"]["json"]


def test_moving_up_the_first_in_line_is_a_conflict(api, group):
    _, _, line = group
    response = api.post(f"/api/v1/waitlist/{line[0].id}/move-up", json={"reason": "r"})
    assert response.status_code == 409


def test_a_viewer_cannot_move_anyone_up(api_as, group):
    _, _, line = group
    response = api_as("viewer").post(f"/api/v1/waitlist/{line[2].id}/move-up",
                                     json={"reason": "r"})
    assert response.status_code == 403


def test_staff_remove_an_entry_and_its_offered_seat_goes_to_the_next(api, build, clock,
                                                                     group):
    cohort, seated, line = group
    enrollments.change_status(seated[0].id, "withdrawn", clock(), build.policy)
    response = api.post(f"/api/v1/waitlist/{line[0].id}/remove",
                        json={"reason": "Found a group closer to home"})
    assert response.status_code == 200
    assert response.get_json()["status"] == "removed"
    offers = api.get(f"/api/v1/cohorts/{cohort.id}/offers").get_json()
    assert [o["waitlist_entry_id"] for o in offers] == [line[1].id]


def test_removing_an_entry_twice_is_a_conflict(api, group):
    _, _, line = group
    api.post(f"/api/v1/waitlist/{line[0].id}/remove", json={"reason": "r"})
    response = api.post(f"/api/v1/waitlist/{line[0].id}/remove", json={"reason": "r"})
    assert response.status_code == 409


def test_removing_an_unknown_entry_is_not_found(api):
    assert api.post("/api/v1/waitlist/999/remove", json={"reason": "r"}).status_code == 404


def test_staff_see_who_holds_each_offered_seat_and_until_when(api, build, clock, group):
    cohort, seated, line = group
    enrollments.change_status(seated[0].id, "withdrawn", clock(), build.policy)
    [held] = api.get(f"/api/v1/cohorts/{cohort.id}/offers").get_json()
    assert held["client_id"] == line[0].client_id and held["status"] == "open"
    assert held["name"] == line[0].client.name
    # made Mon 10 AM: tonight is too soon, so it is for Wednesday, with a day to answer
    assert held["expires_at"] == "2026-12-01T10:03:00-05:00"
    assert held["group_session_starts_at"] == "2026-12-02T18:00:00-05:00"


def test_the_offer_list_filters_by_status(api, build, clock, group):
    cohort, seated, _ = group
    enrollments.change_status(seated[0].id, "withdrawn", clock(), build.policy)
    assert api.get(f"/api/v1/cohorts/{cohort.id}/offers?status=accepted").get_json() == []
    assert len(api.get(f"/api/v1/cohorts/{cohort.id}/offers?status=all").get_json()) == 1
    assert api.get(f"/api/v1/cohorts/{cohort.id}/offers?status=maybe").status_code == 422


def test_the_waitlist_routes_are_in_the_openapi_document(app):
    paths = app.test_client().get("/api/openapi.json").get_json()["paths"]
    assert {"/api/v1/waitlist", "/api/v1/waitlist/{entry_id}/move-up",
            "/api/v1/waitlist/{entry_id}/remove", "/api/v1/cohorts/{cohort_id}/waitlist",
            "/api/v1/cohorts/{cohort_id}/offers"} <= set(paths)


def test_staff_record_a_yes_given_by_phone_and_the_client_is_enrolled(api, build, clock,
                                                                      group):
    cohort, seated, line = group
    enrollments.change_status(seated[0].id, "withdrawn", clock(), build.policy)
    [held] = api.get(f"/api/v1/cohorts/{cohort.id}/offers").get_json()
    response = api.post(f"/api/v1/offers/{held['id']}/accept")
    assert response.status_code == 200
    assert response.get_json()["client_id"] == line[0].client_id
    assert response.get_json()["status"] == "active"
    assert api.post(f"/api/v1/offers/{held['id']}/accept").status_code == 409


def test_staff_record_a_no_and_the_seat_goes_to_the_next(api, db, build, clock, group):
    from scheduler.models import AuditEvent

    cohort, seated, line = group
    enrollments.change_status(seated[0].id, "withdrawn", clock(), build.policy)
    [held] = api.get(f"/api/v1/cohorts/{cohort.id}/offers").get_json()
    response = api.post(f"/api/v1/offers/{held['id']}/decline")
    assert response.status_code == 200 and response.get_json()["status"] == "declined"
    [passed_on] = api.get(f"/api/v1/cohorts/{cohort.id}/offers").get_json()
    assert passed_on["waitlist_entry_id"] == line[1].id
    actions = [a for (a,) in db.session.query(AuditEvent.action)]
    assert actions.count("seat_offer.decline") == 1


def test_answering_an_ended_offer_for_a_client_is_a_conflict(api, build, clock, group):
    cohort, seated, _ = group
    enrollments.change_status(seated[0].id, "withdrawn", clock(), build.policy)
    [held] = api.get(f"/api/v1/cohorts/{cohort.id}/offers").get_json()
    clock.advance(days=2)
    assert api.post(f"/api/v1/offers/{held['id']}/accept").status_code == 409
    assert api.post("/api/v1/offers/999/accept").status_code == 404
