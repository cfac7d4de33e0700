"""A person who opens an address that does not work gets a page in the client's
style that does not blame them; the API still answers JSON (issue 11)."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("path", ["/nothing-here", "/unsubscribe/cut-short", "/offers/cut",
                                  "/check-in/not-a-link"])
def test_client_addresses_that_do_not_work_get_a_kind_html_page(app, path):
    response = app.test_client().get(path)
    body = response.get_data(as_text=True)
    assert response.status_code in (404, 410)
    assert response.content_type.startswith("text/html")
    assert body.lstrip().startswith("<!doctype html>") and "<h1>" in body
    assert "cut short" not in body and 'href="/come-back"' in body


def test_the_api_still_answers_json(app):
    response = app.test_client().get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.is_json
