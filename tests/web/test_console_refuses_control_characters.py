"""The console's forms refuse control characters with a page that says which field
and why, and store nothing (issue 14)."""

from __future__ import annotations

import sqlalchemy as sa

from scheduler.models import Closure


def test_a_closure_reason_with_a_control_character_is_refused_and_nothing_is_stored(
        console_as, build, db):
    cohort = build.cohort()
    console = console_as("coordinator")
    page = f"/closures?date=2026-12-02&location_id={cohort.location_id}&reason=Holiday"
    response = console.post_form(page, "/closures", {
        "date": "2026-12-02", "location_id": str(cohort.location_id), "reason": "Holi\x00day"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "control character" in body and "“reason”" in body and "<h1>" in body
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Closure)) == 0
