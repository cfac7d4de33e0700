"""Whatever a caller sends to any documented /api/v1 route, the answer is never a 500.

The routes come from the OpenAPI document itself, so every route added later is
covered without touching this file.
"""

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def _routes(app):
    spec = app.test_client().get("/api/openapi.json").get_json()
    for path, item in sorted(spec["paths"].items()):
        for method in ("post", "put", "patch", "get"):
            if method in item:
                yield method, path, item[method]


def _body_for(operation):
    """Hypothesis strategy of bodies: the documented fields with arbitrary values."""
    content = operation.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema", {})
    names = list(schema.get("properties", {}))
    field_values = st.fixed_dictionaries({}, optional={n: json_values for n in names})
    return field_values | json_values


@pytest.fixture
def seeded(api):
    api.post("/api/v1/locations", json={"name": "Boston"})
    api.post("/api/v1/tracks", json={"name": "IOP Evening"})
    api.post(
        "/api/v1/cohorts",
        json={
            "location_id": 1,
            "track_id": 1,
            "name": "Evening",
            "capacity": 3,
            "weekdays": ["mon"],
            "start_time": "18:00",
            "starts_on": "2026-11-02",
        },
    )
    api.post("/api/v1/clients", json={"name": "Robin Example"})
    return api


def test_no_documented_route_answers_500_to_arbitrary_json(app, seeded):
    routes = list(_routes(app))
    assert len(routes) >= 15

    for method, path, operation in routes:
        _probe_route(seeded, method, re.sub(r"\{[^}]+\}", "1", path), operation)


def _probe_route(seeded, method, concrete, operation):
    @settings(
        max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(
        body=_body_for(operation),
        query=st.dictionaries(
            st.sampled_from(["page", "page_size", "from", "to", "status", "location_id", "q"]),
            st.text(max_size=12),
            max_size=3,
        ),
    )
    def probe(body, query):
        kwargs = {"query_string": query}
        if method != "get":
            kwargs["json"] = body
        response = getattr(seeded, method)(concrete, **kwargs)
        assert response.status_code < 500, (method, concrete, body, response.data[:300])

    probe()
