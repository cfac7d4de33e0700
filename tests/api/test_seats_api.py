"""The API around seats: a client's enrollments and messages, moving a person,
setting credit, linking a request to a known person, contacts per site."""

import json
from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from scheduler.models import AuditEvent, Client, Enrollment, Notification, ReturnRequest, db
from scheduler.services import returns
from tests.returns_support import ask_to_come_back, attend_until


def _events(action):
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def test_a_clients_enrollments_come_newest_first_with_attended_and_credited(api, build):
    client = build.client("Robin Example")
    old = build.cohort(name="Spring", starts_on=date(2026, 3, 2))
    attend_until(build, old, client, date(2026, 3, 12), status="withdrawn")
    now_in = build.enroll(client, build.cohort(name="Winter"), credited_sessions=4)
    rows = api.get(f"/api/v1/clients/{client.id}/enrollments").get_json()
    assert [r["id"] for r in rows] == [now_in.id, rows[1]["id"]]
    assert {k: rows[0][k] for k in (
        "status", "credited_sessions", "attended", "sessions_done")} == {
        "status": "active", "credited_sessions": 4, "attended": 0, "sessions_done": 4}
    assert rows[1]["status"] == "withdrawn" and rows[1]["attended"] == 6


def test_a_clients_messages_are_listed_for_staff(api, build, clock):
    client = build.client("Robin Example", email="robin@example.org")
    ask_to_come_back(client, clock(), channel="web")
    [message] = api.get(f"/api/v1/clients/{client.id}/messages").get_json()
    assert (message["kind"], message["channel"]) == ("welcome_back", "email")


def test_every_message_of_a_client_can_be_paged_to_with_the_true_total(api, build, clock):
    client = build.client("Robin Example", email="robin@example.org")
    db.session.add_all([Notification(
        key=f"note-{n}", kind="reminder", client_id=client.id, channel="email",
        recipient="robin@example.org", due_at=clock(), created_at=clock(), updated_at=clock())
        for n in range(205)])
    db.session.commit()
    last = api.get(f"/api/v1/clients/{client.id}/messages?page=5&page_size=50")
    assert json.loads(last.headers["X-Pagination"])["total"] == 205
    assert len(last.get_json()) == 5


def test_enrolling_someone_paused_in_that_group_reuses_their_enrollment(api, build):
    client, cohort = build.client(), build.cohort()
    paused = attend_until(build, cohort, client, date(2026, 11, 26))
    response = api.post("/api/v1/enrollments", json={"client_id": client.id,
                                                     "cohort_id": cohort.id})
    assert response.status_code == 201
    assert response.get_json()["id"] == paused.id
    assert response.get_json()["sessions_done"] == 12


def test_the_database_refuses_two_live_enrollments_in_one_group(build, clock):
    client, cohort = build.client(), build.cohort()
    build.enroll(client, cohort)
    db.session.add(Enrollment(client_id=client.id, cohort_id=cohort.id, status="paused",
                              joined_on=date(2026, 11, 30), created_at=clock(),
                              updated_at=clock()))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_moving_a_person_keeps_every_session_done_and_tells_them(api, build, clock):
    client = build.client(email="robin@example.org")
    home, other = build.cohort(name="Home"), build.cohort(name="Other")
    paused = attend_until(build, home, client, date(2026, 11, 26))
    moved = api.post(f"/api/v1/enrollments/{paused.id}/move",
                     json={"cohort_id": other.id, "reason": "Evenings changed"})
    assert moved.status_code == 201
    body = moved.get_json()
    assert (body["cohort_id"], body["sessions_done"]) == (other.id, 12)
    assert db.session.get(Enrollment, paused.id).status == "moved"
    messages = api.get(f"/api/v1/clients/{client.id}/messages").get_json()
    assert [m["kind"] for m in messages] == ["placed"]


def test_moving_into_a_full_group_is_a_conflict_and_changes_nothing(api, build):
    client, home = build.client(), build.cohort()
    enrollment = build.enroll(client, home)
    full = build.full_cohort(capacity=1)
    response = api.post(f"/api/v1/enrollments/{enrollment.id}/move",
                        json={"cohort_id": full.id})
    assert response.status_code == 409
    assert db.session.get(Enrollment, enrollment.id).status == "active"


def test_setting_credit_needs_a_reason_and_is_audited_with_it(api, build):
    enrollment = build.enroll(build.client(), build.cohort(), credited_sessions=9)
    missing = api.put(f"/api/v1/enrollments/{enrollment.id}/credit",
                      json={"credited_sessions": 3})
    assert missing.status_code == 422 and "reason" in missing.get_json()["errors"]["json"]
    done = api.put(f"/api/v1/enrollments/{enrollment.id}/credit",
                   json={"credited_sessions": 3, "reason": "Counted twice by mistake"})
    assert done.status_code == 200 and done.get_json()["credited_sessions"] == 3
    [event] = _events("enrollment.credit")
    assert event.detail == {"from": 9, "to": 3, "reason": "Counted twice by mistake"}


def test_a_request_from_a_new_number_is_linked_to_the_persons_own_record(api, build,
                                                                          clock):
    known = build.client("Robin Example", email="robin@example.org",
                         phone="617-555-0101")
    cohort = build.cohort()
    attend_until(build, cohort, known, date(2026, 11, 26))
    request, _ = returns.submit_return({"name": "Robin", "phone": "857-555-0199"}, "web",
                                       clock())
    stranger = request.client_id
    assert stranger != known.id
    response = api.post(f"/api/v1/returns/{request.id}/link", json={"client_id": known.id})
    assert response.status_code == 200 and response.get_json()["client_id"] == known.id
    db.session.expire_all()
    record = db.session.get(Client, known.id)
    assert record.phone == "857-555-0199"
    assert [c["value"] for c in record.former_contacts] == ["617-555-0101"]
    assert db.session.get(Client, stranger).merged_into_id == known.id
    # their history counts now: their own group is offered to resume
    ranking = returns.options_for(request.id, clock(), build.policy)
    assert ranking.options[0].id == f"resume:{cohort.id}"
    assert ranking.progress.credited == 12
    [event] = _events("return_request.link")
    assert event.detail["to_client"] == known.id


def test_linking_to_an_unknown_client_names_the_field(api, build, clock):
    request, _ = returns.submit_return({"name": "Robin", "phone": "857-555-0199"}, "web",
                                       clock())
    response = api.post(f"/api/v1/returns/{request.id}/link", json={"client_id": 999})
    assert response.status_code == 404
    assert db.session.get(ReturnRequest, request.id).client_id == request.client_id


def test_a_site_can_be_given_a_phone_and_reply_to_address(api, build):
    location = build.location("Boston")
    response = api.patch(f"/api/v1/locations/{location.id}",
                         json={"phone": "617-555-0100", "reply_to": "boston@example.org"})
    assert response.status_code == 200
    assert response.get_json()["phone"] == "617-555-0100"
    bad = api.patch(f"/api/v1/locations/{location.id}", json={"reply_to": "not an address"})
    assert bad.status_code == 422 and "reply_to" in bad.get_json()["errors"]["json"]


def test_a_write_and_its_audit_row_commit_together_in_one_transaction(api, build):
    from sqlalchemy.orm import Session

    client, cohort = build.client(), build.cohort()
    made_in: dict[int, set[str]] = {}

    def note(session, _context):
        tables = made_in.setdefault(id(session.get_transaction()), set())
        tables.update(type(obj).__tablename__ for obj in session.new)

    sa.event.listen(Session, "after_flush", note)
    try:
        response = api.post("/api/v1/enrollments", json={"client_id": client.id,
                                                         "cohort_id": cohort.id})
    finally:
        sa.event.remove(Session, "after_flush", note)
    assert response.status_code == 201
    assert any({"enrollment", "audit_event"} <= tables for tables in made_in.values())
    [event] = list(db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.entity == "enrollment")))
    assert (event.action, event.entity_id) == ("create", response.get_json()["id"])


def test_staff_see_a_clients_calendar_link_again_and_send_it(api, build, clock):
    from calendars import tokens

    client = build.client(email="robin@example.org")
    assert api.get(f"/api/v1/clients/{client.id}/feed").status_code == 404
    made = api.post(f"/api/v1/clients/{client.id}/feed").get_json()
    again = api.get(f"/api/v1/clients/{client.id}/feed").get_json()
    assert again == made
    sent = api.post(f"/api/v1/clients/{client.id}/feed/send", json={"channel": "email"})
    assert sent.status_code == 202 and sent.get_json()["recipient"] == "robin@example.org"
    no_phone = api.post(f"/api/v1/clients/{client.id}/feed/send", json={"channel": "sms"})
    assert no_phone.status_code == 422 and "channel" in no_phone.get_json()["errors"]["json"]
    assert tokens.lookup(made["page_url"].rsplit("/", 1)[1]) is not None


def test_a_refused_write_leaves_no_audit_row_behind_for_the_next_one(api):
    refused = api.post("/api/v1/enrollments", json={"client_id": 1})
    assert refused.status_code == 422
    made = api.post("/api/v1/clients", json={"name": "Ana"}).get_json()
    rows = [(e.action, e.entity, e.entity_id) for e in db.session.scalars(
        sa.select(AuditEvent).order_by(AuditEvent.id))]
    assert rows == [("create", "client", made["id"])]
