"""The unsubscribe link and the SMS gateway's STOP webhook."""

from datetime import date

from scheduler.messages import unsubscribe_token
from scheduler.models import Client, db
from scheduler.services import outbox
from tests.integration.reminder_support import rows


def test_the_unsubscribe_link_asks_first_and_changes_nothing_on_get(app, build):
    client = build.client(email="sam@example.test")
    token = unsubscribe_token(app.config["SECRET_KEY"], client.id, "email")
    page = app.test_client().get(f"/unsubscribe/{token}")
    assert page.status_code == 200 and b"Stop emails?" in page.data
    assert db.session.get(Client, client.id).email_opt_out is False


def test_posting_the_unsubscribe_link_stops_emails_and_cancels_pending_ones(
        app, build, clock, policy):
    client = build.client(email="sam@example.test")
    build.enroll(client, build.cohort(), joined_on=date(2026, 11, 2))
    outbox.plan_reminders(clock(), policy)
    token = unsubscribe_token(app.config["SECRET_KEY"], client.id, "email")
    page = app.test_client().post(f"/unsubscribe/{token}")
    assert page.status_code == 200
    db.session.expire_all()
    assert db.session.get(Client, client.id).email_opt_out is True
    assert {n.status for n in rows(kind="reminder")} == {"cancelled"}


def test_a_forged_unsubscribe_link_is_not_found(app, build):
    client = build.client(email="sam@example.test")
    token = unsubscribe_token("another-secret", client.id, "email")
    assert app.test_client().post(f"/unsubscribe/{token}").status_code == 404


def test_stop_from_the_gateway_stops_texts_to_that_number(app, build):
    app.config["SMS_GATEWAY_KEY"] = "gw-secret"
    client = build.client(phone="(617) 555-0100")
    answer = app.test_client().post("/sms/inbound", json={"from": "+16175550100",
                                                          "body": " stop "},
                                    headers={"X-Gateway-Key": "gw-secret"})
    assert answer.status_code == 200 and answer.json["clients"] == 1
    db.session.expire_all()
    assert db.session.get(Client, client.id).sms_opt_out is True


def test_the_inbound_webhook_refuses_a_wrong_key(app, build):
    app.config["SMS_GATEWAY_KEY"] = "gw-secret"
    build.client(phone="(617) 555-0100")
    answer = app.test_client().post("/sms/inbound", json={"from": "6175550100",
                                                          "body": "STOP"},
                                    headers={"X-Gateway-Key": "nope"})
    assert answer.status_code == 403


def test_an_inbound_text_without_a_number_names_the_field(app):
    app.config["SMS_GATEWAY_KEY"] = "gw-secret"
    answer = app.test_client().post("/sms/inbound", json={"body": "STOP"},
                                    headers={"X-Gateway-Key": "gw-secret"})
    assert answer.status_code == 422 and answer.json["field"] == "from"


def _unknown(db, build, clock):
    from scheduler.models import Notification

    client = build.client(email="sam@example.test")
    row = Notification(key="outreach:x:1", kind="outreach", client_id=client.id,
                       channel="email", recipient="sam@example.test", subject_ref="x",
                       payload={}, due_at=clock(), status="unknown", sending_at=clock())
    db.session.add(row)
    db.session.commit()
    return row.id


def test_staff_see_messages_that_need_a_decision(api, build, clock):
    nid = _unknown(db, build, clock)
    answer = api.get("/api/v1/notifications?status=unknown")
    assert answer.status_code == 200
    assert [(r["id"], r["status"]) for r in answer.json] == [(nid, "unknown")]


def test_staff_can_send_an_unknown_message_again(api, build, clock):
    nid = _unknown(db, build, clock)
    answer = api.post(f"/api/v1/notifications/{nid}/resolve", json={"outcome": "resend"})
    assert answer.status_code == 200 and answer.json["status"] == "pending"


def test_a_sent_message_needs_no_decision(api, build, clock):
    nid = _unknown(db, build, clock)
    api.post(f"/api/v1/notifications/{nid}/resolve", json={"outcome": "sent"})
    again = api.post(f"/api/v1/notifications/{nid}/resolve", json={"outcome": "resend"})
    assert again.status_code == 409


def test_an_unknown_outcome_names_the_field(api, build, clock):
    nid = _unknown(db, build, clock)
    answer = api.post(f"/api/v1/notifications/{nid}/resolve", json={"outcome": "maybe"})
    assert answer.status_code == 422 and "outcome" in str(answer.json)


def test_a_viewer_cannot_settle_messages(api_as, build, clock):
    nid = _unknown(db, build, clock)
    answer = api_as("viewer").post(f"/api/v1/notifications/{nid}/resolve",
                                   json={"outcome": "sent"})
    assert answer.status_code == 403
