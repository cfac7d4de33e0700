"""Every staff read of a client record and every write through the API is audited."""

from datetime import date

import sqlalchemy as sa

from scheduler.models import AuditEvent


def _events(db):
    return list(db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)))


def test_reading_a_client_appends_exactly_one_audit_event_naming_staff_and_client(
        api_as, build, db):
    viewer = api_as("viewer")
    client = build.client()
    assert viewer.get(f"/api/v1/clients/{client.id}").status_code == 200
    [event] = _events(db)
    assert (event.action, event.entity, event.entity_id) == ("read", "client", client.id)
    assert event.staff_id is not None and event.ip == "127.0.0.1"


def test_each_read_of_a_client_appends_its_own_event(api, build, db):
    client = build.client()
    for _ in range(3):
        api.get(f"/api/v1/clients/{client.id}")
    assert len(_events(db)) == 3


def test_reading_a_cohort_roster_is_audited_as_a_read_of_that_cohort(api, build, db):
    cohort = build.cohort()
    api.get(f"/api/v1/cohorts/{cohort.id}/roster")
    [event] = _events(db)
    assert (event.action, event.entity, event.entity_id) == ("read", "cohort", cohort.id)


def test_reading_locations_is_not_a_client_record_read(api, db):
    api.get("/api/v1/locations")
    assert _events(db) == []


def test_creating_a_client_records_a_create_event_with_the_new_id(api, db):
    made = api.post("/api/v1/clients", json={"name": "Ana"}).get_json()
    [event] = _events(db)
    assert (event.action, event.entity, event.entity_id) == ("create", "client", made["id"])


def test_a_refused_enrollment_for_lack_of_a_seat_is_still_audited(api, build, db):
    cohort = build.full_cohort(capacity=1)
    client = build.client()
    response = api.post("/api/v1/enrollments",
                        json={"client_id": client.id, "cohort_id": cohort.id})
    assert response.status_code == 409
    [event] = _events(db)
    assert (event.action, event.entity, event.detail["status"]) == (
        "create", "enrollment", 409)


def test_a_write_refused_for_its_role_leaves_no_audit_event(api_as, db):
    response = api_as("viewer").post("/api/v1/clients", json={"name": "Ana"})
    assert response.status_code == 403
    assert _events(db) == []


def test_recording_attendance_is_audited_against_the_group_session(api_as, build, db):
    from scheduler.models import GroupSession

    cohort = build.cohort()
    client = build.client()
    build.enroll(client, cohort)
    session_id = db.session.scalars(sa.select(GroupSession.id).where(
        GroupSession.cohort_id == cohort.id, GroupSession.occurs_on == date(2026, 11, 26))).one()
    response = api_as("clinician").put(f"/api/v1/group-sessions/{session_id}/attendance",
                                       json=[{"client_id": client.id, "status": "present"}])
    assert response.status_code == 200
    [event] = _events(db)
    assert (event.action, event.entity, event.entity_id) == (
        "update", "group_session", session_id)


def test_listing_clients_is_audited_as_one_read_of_client_records(api, build, db):
    build.client()
    api.get("/api/v1/clients?q=Cl")
    [event] = _events(db)
    assert (event.action, event.entity, event.entity_id, event.detail["query"]) == (
        "read", "client", None, "q=Cl")
