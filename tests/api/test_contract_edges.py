"""Edges an API fuzzer finds: ids too large for any row, methods a route does not
take, and integer bounds documented where they are enforced."""

import sqlalchemy as sa

from scheduler.models import GroupSession


def test_an_id_too_large_for_any_row_is_not_found(api):
    response = api.delete("/api/v1/cohorts/269656660172/feed")
    assert response.status_code == 404
    assert response.get_json()["code"] == 404


def test_a_method_a_route_does_not_take_says_which_it_does(api):
    response = api.trace("/api/v1/check-in-slots")
    assert response.status_code == 405
    assert {"GET", "POST"} <= {m.strip() for m in response.headers["Allow"].split(",")}


def test_the_openapi_document_gives_every_integer_its_bounds(app):
    spec = app.test_client().get("/api/openapi.json").get_json()
    unbounded = []
    outputs_only = {"Error", "PaginationMetadata"}  # what the API answers, never reads
    for name, schema in spec["components"]["schemas"].items():
        if name in outputs_only:
            continue
        for prop, body in schema.get("properties", {}).items():
            if body.get("type") == "integer" and "maximum" not in body:
                unbounded.append(f"{name}.{prop}")
    for path, item in spec["paths"].items():
        for operation in item.values():
            for parameter in (operation.get("parameters", []) if isinstance(operation, dict)
                              else operation):
                schema = parameter.get("schema", {}) if isinstance(parameter, dict) else {}
                if schema.get("type") == "integer" and "maximum" not in schema:
                    unbounded.append(f"{path} {parameter['name']}")
    assert unbounded == []


def test_every_list_the_api_answers_comes_a_page_at_a_time(app):
    """API.md: collection GETs accept page and page_size and report totals. A
    cohort's group sessions are the one list bounded another way: by the ``from`` and
    ``to`` dates API.md gives it (and the horizon ahead), whole within them."""
    spec = app.test_client().get("/api/openapi.json").get_json()
    unpaged = []
    for path, item in spec["paths"].items():
        get = item.get("get")
        if path == "/api/v1/cohorts/{cohort_id}/sessions":
            continue
        answer = (get or {}).get("responses", {}).get("200", {})
        schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
        if schema.get("type") != "array":
            continue
        names = {p["name"] for p in get.get("parameters", [])}
        if not {"page", "page_size"} <= names or "X-Pagination" not in answer.get(
                "headers", {}):
            unpaged.append(path)
    assert unpaged == [], unpaged


def test_numbers_in_a_query_beyond_any_column_are_422_naming_the_parameter(api):
    response = api.get("/api/v1/locations?page=2147483648")
    assert response.status_code == 422
    assert "page" in response.get_json()["errors"]["json"]


def test_a_yes_or_no_must_be_true_or_false(api):
    response = api.post("/api/v1/clients", json={"name": "Sam", "email": "s@example.org",
                                                 "needs_confirmation": 0})
    assert response.status_code == 422
    assert response.get_json()["errors"]["json"]["needs_confirmation"] == ["Use true or false"]
    assert api.post("/api/v1/clients", json={"name": "Sam", "email": "s@example.org",
                                             "needs_confirmation": True}).status_code == 201


def test_a_patch_with_no_body_changes_nothing(api, build):
    location = build.location("Boston")
    response = api.patch(f"/api/v1/locations/{location.id}")
    assert response.status_code == 200 and response.get_json()["name"] == "Boston"


def test_a_body_that_is_not_a_list_where_a_list_is_expected_is_422(api, build, db):
    cohort = build.cohort()
    session = db.session.scalars(sa.select(GroupSession).where(
        GroupSession.cohort_id == cohort.id).order_by(GroupSession.starts_at)).first()
    for body in ("null", "{}", '"x"', "3"):
        response = api.put(f"/api/v1/group-sessions/{session.id}/attendance", data=body,
                           content_type="application/json")
        assert response.status_code == 422, body


def test_a_date_outside_the_years_the_program_can_hold_is_422(api, build):
    location = build.location("Boston")
    response = api.post("/api/v1/closures", json={"location_id": location.id,
                                                  "date": "0980-04-04", "reason": "Typo"})
    assert response.status_code == 422
    assert response.get_json()["errors"]["json"]["date"] == [
        "Choose a date between 2000 and 2099"]


def test_a_phone_number_longer_than_any_in_the_world_is_422_not_a_database_error(api):
    long_phone = "6" * 25
    response = api.post("/api/v1/returns", json={"name": "Sam", "phone": long_phone,
                                                 "channel": "phone"})
    assert response.status_code == 422
    assert "phone" in response.get_json()["errors"]["json"]
    response = api.post("/api/v1/clients", json={"name": "Sam", "phone": long_phone})
    assert response.status_code == 422
