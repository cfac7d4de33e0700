"""Names, rooms, reasons and notes refuse control characters at every staff way in
(422 naming the field), and a feed built from older data that holds them is still
one every parser reads (issue 14)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from scheduler import text
from scheduler.models import Cohort, GroupSession, Location
from tests.feed_fixtures import client_bytes, staff_bytes
from tests.feed_parsers import by_ical, by_vobject, structural_problems

EVERY_FORBIDDEN = ([chr(c) for c in range(0x00, 0x20) if chr(c) not in "\t\n\r"]
                   + ["\x7f"] + [chr(c) for c in range(0x80, 0xA0)] + ["\u2028", "\u2029"])


def test_every_forbidden_character_in_a_group_name_is_refused_naming_the_field(api, build):
    cohort = build.cohort()
    accepted = []
    for char in EVERY_FORBIDDEN:
        response = api.patch(f"/api/v1/cohorts/{cohort.id}", json={"name": f"Evening{char}A"})
        if response.status_code != 422 or "name" not in response.get_json()["errors"]["json"]:
            accepted.append(f"U+{ord(char):04X}")
    assert accepted == []


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/v1/locations", {"name": "Boston\x00"}, "name"),
    ("/api/v1/locations", {"name": "Boston", "address": "1 Main St\u2028"}, "address"),
    ("/api/v1/tracks", {"name": "IOP\nEvening"}, "name"),
    ("/api/v1/clients", {"name": "Robin\x1b[31m Example"}, "name"),
    ("/api/v1/closures", {"date": "2026-12-24", "reason": "Holiday\x07"}, "reason"),
])
def test_free_text_with_a_control_character_gets_422_naming_the_field(api, path, body, field):
    response = api.post(path, json=body)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]["json"]


def test_a_room_and_a_cancel_reason_refuse_them_too(api, build, clock):
    cohort = build.cohort()
    assert api.patch(f"/api/v1/cohorts/{cohort.id}", json={"room": "Room\t4"}).status_code == 422
    session_id = _future_session(cohort, clock)
    response = api.patch(f"/api/v1/group-sessions/{session_id}",
                         json={"status": "cancelled", "cancel_reason": "Snow\x00storm"})
    assert response.status_code == 422
    assert "cancel_reason" in response.get_json()["errors"]["json"]


def test_notes_and_reasons_may_run_over_several_lines(api, build, clock):
    cohort = build.cohort()
    response = api.patch(f"/api/v1/group-sessions/{_future_session(cohort, clock)}",
                         json={"status": "cancelled", "cancel_reason": "Snow.\nSee you Monday."})
    assert response.status_code == 200


def _future_session(cohort, clock):
    from scheduler.models import db

    return db.session.scalar(sa.select(GroupSession.id).where(
        GroupSession.cohort_id == cohort.id, GroupSession.starts_at > clock())
        .order_by(GroupSession.starts_at))


def test_a_feed_built_from_old_data_holding_every_forbidden_character_still_parses(
        app, db, build, clock):
    site = build.location("Boston")
    cohort = build.cohort(site)
    person = build.client("Robin Example", show_location=True)
    build.enroll(person, cohort)
    junk = "".join(EVERY_FORBIDDEN)
    # older rows, written before the rule: straight into the tables (no NUL on PostgreSQL)
    stored = junk.replace("\x00", "") if db.engine.dialect.name == "postgresql" else junk
    db.session.execute(sa.update(Cohort).where(Cohort.id == cohort.id).values(
        name=f"Evening{stored}A", room=f"R{stored[:40]}4"))
    db.session.execute(sa.update(Location).where(Location.id == site.id).values(
        address=f"1 Main{stored} St"))
    db.session.commit()
    for data in (client_bytes(person.id, app), staff_bytes("cohort", cohort.id, app)):
        assert not any(ch in data.decode("utf-8") for ch in EVERY_FORBIDDEN)
        assert structural_problems(data) == []
        assert by_ical(data) and by_vobject(data)


def test_the_rule_itself():
    assert text.refusal("Robin Example", multiline=False) is None
    assert text.refusal("Line one\nline two", multiline=True) is None
    assert text.refusal("Line one\nline two", multiline=False) == text.ONE_LINE
    assert text.refusal("Nul\x00", multiline=True) == text.CONTROL
    assert text.first_refusal({"a": {"notes": "ok\n", "name": ["x", "y\u2029"]}}) == (
        "name", text.CONTROL)
    assert text.clean("A\x00B\u2028C\nD", multiline=False) == "ABC D"


def test_numbers_no_column_could_hold_get_422_naming_the_field_and_ids_404(api, build):
    cohort = build.cohort()
    too_big = 2 ** 31
    response = api.patch(f"/api/v1/cohorts/{cohort.id}", json={"facilitator_id": too_big})
    assert response.status_code == 422
    assert "facilitator_id" in response.get_json()["errors"]["json"]
    assert api.get(f"/api/v1/cohorts/{10 ** 12}").status_code == 404  # names no row
    assert api.post("/api/v1/enrollments", json={
        "client_id": -(2 ** 40), "cohort_id": cohort.id}).status_code == 422
