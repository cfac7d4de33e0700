"""Clinical answers (re-entry notes, "using again?", the clinical-review flag in any
form) reach only the roles that care for the client, on every page and endpoint
that could show them; a viewer sees the request without them (issue 13)."""

from __future__ import annotations

import pytest

from scheduler.security import CLINICAL_READERS
from scheduler.services import returns

NOTE = "Mentioned drinking again since the spring"
ROLES = ("admin", "coordinator", "clinician", "viewer")


@pytest.fixture
def request_with_answers(build, clock):
    client = build.client("Morgan Example", email="morgan@example.org")
    request, _ = returns.submit_return({"name": "Morgan", "email": "morgan@example.org"},
                                       "phone", clock())
    returns.record_reentry(request.id, {"using_again": "yes", "notes": NOTE}, None, clock())
    return request.id, client


def clinical_in_html(body: str) -> bool:
    return NOTE in body or "clinical review</span>" in body or 'class="tag review"' in body


def clinical_in_json(value) -> bool:
    text = str(value)
    return NOTE in text or "clinical_review" in text or "using_again" in text


@pytest.mark.parametrize("role", ROLES)
def test_console_pages_show_clinical_answers_only_to_clinical_readers(
        console_as, request_with_answers, role):
    return_id, _ = request_with_answers
    console = console_as(role)
    shown = {path: clinical_in_html(console.get(path).get_data(as_text=True))
             for path in ("/returners", f"/returners/{return_id}")}
    assert shown == dict.fromkeys(shown, role in CLINICAL_READERS)
    assert not clinical_in_html(console.get("/").get_data(as_text=True))


@pytest.mark.parametrize("role", ROLES)
def test_api_endpoints_give_clinical_answers_only_to_clinical_readers(
        api_as, request_with_answers, role):
    return_id, _ = request_with_answers
    api = api_as(role)
    responses = {path: api.get(path) for path in (
        f"/api/v1/returns/{return_id}", f"/api/v1/returns/{return_id}/reentry",
        f"/api/v1/returns/{return_id}/options/explained", "/api/v1/returns")}
    readable = {path: r.status_code == 200 and clinical_in_json(r.get_json())
                for path, r in responses.items()}
    if role in CLINICAL_READERS:
        assert readable[f"/api/v1/returns/{return_id}"]
        assert readable[f"/api/v1/returns/{return_id}/reentry"]
        assert responses[f"/api/v1/returns/{return_id}/options/explained"].get_json()[
            "clinical_review"] is True
    else:
        assert not any(readable.values()), readable
        assert responses[f"/api/v1/returns/{return_id}/reentry"].status_code == 403
