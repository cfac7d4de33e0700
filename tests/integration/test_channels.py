"""Real transports: a local SMTP server (aiosmtpd) and a local HTTP SMS gateway."""

import json
import re
import socket
import threading
from datetime import date
from email import message_from_bytes
from email import policy as email_policy
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from aiosmtpd.controller import Controller

from scheduler.channels import OutgoingMessage, SendFailed, SmtpEmail
from scheduler.services import delivery, outbox
from tests.integration.reminder_support import discreet, rows, utc
from tests.trickle import trickling_server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    def __init__(self):
        self.messages = []
        self.connections = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content))
        return "250 OK"


@pytest.fixture
def smtp(app):
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(OUTBOX_TRANSPORT="auto", SMTP_HOST="127.0.0.1", SMTP_PORT=port,
                      SMTP_STARTTLS=False, MAIL_FROM="Group schedule <hello@regroup.test>")
    yield inbox
    controller.stop()


@pytest.fixture
def gateway(app):
    received, replies = [], []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.headers.get("Authorization"), json.loads(body)))
            status = replies.pop(0) if replies else 200
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"id": "gw-1"}')

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config.update(OUTBOX_TRANSPORT="auto",
                      SMS_GATEWAY_URL=f"http://127.0.0.1:{server.server_port}/messages",
                      SMS_GATEWAY_KEY="gw-secret")
    yield received, replies
    server.shutdown()
    server.server_close()


def _reminder_due(build, clock, policy, **client):
    cohort = build.cohort()
    person = build.client(name="Sam Rivera", **client)
    build.enroll(person, cohort, joined_on=date(2026, 11, 2))
    outbox.plan_reminders(clock(), policy)
    clock.set(utc(2026, 11, 30, 21, 0))
    return person


def test_a_reminder_email_arrives_with_text_html_and_the_sessions_calendar_entry(
        build, clock, policy, smtp):
    _reminder_due(build, clock, policy, email="sam@example.test")
    assert delivery.send_due(clock(), policy)["sent"] == 1
    [(to, raw)] = smtp.messages
    mail = message_from_bytes(raw, policy=email_policy.default)
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    [ics] = [p for p in mail.iter_attachments() if p.get_content_type() == "application/ics"]
    calendar = ics.get_content() if isinstance(ics.get_content(), str) else (
        ics.get_content().decode())
    assert to == ["sam@example.test"]
    assert mail["Subject"] == "Group session: Mon Nov 30, 6:00 PM"
    assert "Mon Nov 30, 6:00 PM" in text and "Mon Nov 30, 6:00 PM" in html
    assert "DTSTART;TZID=America/New_York:20261130T180000" in calendar
    assert "SUMMARY:Group session" in calendar
    assert "/unsubscribe/" in text
    assert re.match(r"^<https://regroup\.test/unsubscribe/[\w.-]+>$", mail["List-Unsubscribe"])
    assert b"List-Unsubscribe: <https://regroup.test/unsubscribe/" in raw
    assert discreet(mail["Subject"] + text + html + calendar) == []


def test_the_calendar_attachment_parses_as_one_event(build, clock, policy, smtp):
    from icalendar import Calendar

    _reminder_due(build, clock, policy, email="sam@example.test")
    delivery.send_due(clock(), policy)
    mail = message_from_bytes(smtp.messages[0][1], policy=email_policy.default)
    [part] = [p for p in mail.iter_attachments() if p.get_content_type() == "application/ics"]
    events = Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")
    assert len(events) == 1
    assert events[0].decoded("DTSTART") == utc(2026, 11, 30, 23, 0)


def test_the_calendar_attachment_is_the_same_event_as_in_the_clients_feed(
        app, build, clock, policy, smtp):
    from icalendar import Calendar

    from calendars.build import build_feed, feed_uid_key

    person = _reminder_due(build, clock, policy, email="sam@example.test")
    delivery.send_due(clock(), policy)
    mail = message_from_bytes(smtp.messages[0][1], policy=email_policy.default)
    [part] = [p for p in mail.iter_attachments() if p.get_content_type() == "application/ics"]
    [attached] = Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")
    feed = Calendar.from_ical(build_feed("client", person.id, clock(), policy,
                                         feed_uid_key(app.config)))
    same = [e for e in feed.walk("VEVENT") if e["UID"] == attached["UID"]]
    assert len(same) == 1
    assert same[0].decoded("DTSTART") == attached.decoded("DTSTART")


def test_a_client_who_chose_to_show_place_and_title_sees_them(build, clock, policy, smtp):
    _reminder_due(build, clock, policy, email="sam@example.test", show_location=True,
                  calendar_title="Tuesday thing")
    delivery.send_due(clock(), policy)
    mail = message_from_bytes(smtp.messages[0][1], policy=email_policy.default)
    text = mail.get_body(("plain",)).get_content()
    assert "Tuesday thing" in text and "Where: Site" in text


def test_the_program_name_appears_only_for_a_client_who_opted_in(build, clock, policy, smtp):
    from scheduler.models import db

    cohort = build.cohort(track=build.track("IOP Evening"))
    shy = build.client(email="shy@example.test")
    open_ = build.client(email="open@example.test", program_words_opt_in=True)
    for person in (shy, open_):
        build.enroll(person, cohort, joined_on=date(2026, 11, 2))
    outbox.plan_reminders(clock(), policy)
    db.session.commit()
    clock.set(utc(2026, 11, 30, 21, 0))
    delivery.send_due(clock(), policy)
    bodies = {to[0]: message_from_bytes(raw, policy=email_policy.default)
              .get_body(("plain",)).get_content() for to, raw in smtp.messages}
    assert "IOP Evening" not in bodies["shy@example.test"]
    assert "IOP Evening" in bodies["open@example.test"]


def test_an_sms_reminder_goes_to_the_gateway_with_its_key_and_discreet_words(
        build, clock, policy, gateway):
    received, _ = gateway
    _reminder_due(build, clock, policy, phone="617-555-0100", reminder_channels=["sms"])
    assert delivery.send_due(clock(), policy)["sent"] == 1
    [(auth, body)] = received
    assert auth == "Bearer gw-secret"
    assert body["to"] == "617-555-0100"
    assert body["body"].startswith("Group session: Mon Nov 30, 6:00 PM")
    assert "STOP" in body["body"] and discreet(body["body"]) == []


def test_a_gateway_refusal_leaves_the_text_to_try_again(build, clock, policy, gateway):
    received, replies = gateway
    replies.append(503)
    _reminder_due(build, clock, policy, phone="617-555-0100", reminder_channels=["sms"])
    assert delivery.send_due(clock(), policy).get("sent", 0) == 0
    [row] = rows(kind="reminder")
    assert (row.status, row.attempts) == ("pending", 1)
    clock.advance(minutes=3)
    assert delivery.send_due(clock(), policy)["sent"] == 1
    assert len(received) == 2


@pytest.mark.parametrize("kind", ["reminder", "checkin_reminder", "offer", "cancellation",
                                  "session_moved", "welcome_back", "cohort_opened",
                                  "outreach", "staff_follow_up"])
def test_every_kind_renders_discreetly_in_every_form(app, build, clock, kind):
    from scheduler.messages import render
    from scheduler.models import GroupSession, Notification, db

    cohort = build.cohort()
    person = build.client(name="Sam Rivera", email="sam@example.test")
    session_id = db.session.scalar(db.select(db.func.min(GroupSession.id)))
    payload = {"group_session_id": session_id, "cohort_id": cohort.id,
               "old_starts_at": utc(2026, 12, 1, 23, 0).isoformat(),
               "url": "https://regroup.test/o/abc", "expires_at": utc(2026, 12, 1).isoformat(),
               "absences": 2}
    for channel in ("email", "sms"):
        n = Notification(id=1, key="k", kind=kind, client_id=person.id, channel=channel,
                         recipient="x", payload=payload, due_at=clock())
        message = render(n, app.jinja_env, app.config)
        words = " ".join([message.subject, message.text, message.html or "",
                          message.sms or ""])
        assert message.text.strip() and "{{" not in words
        assert discreet(words) == []


def test_the_messages_of_one_run_share_one_smtp_connection(app, smtp, build, clock, policy):
    for n in range(3):
        _reminder_due(build, clock, policy, email=f"person{n}@example.org")
    counts = delivery.send_due(clock(), policy)
    assert counts["sent"] == 3 and len(smtp.messages) == 3
    assert smtp.connections == 1


def test_a_connection_the_server_dropped_while_idle_is_replaced_before_sending(app, smtp):
    from scheduler.channels import OutgoingMessage, SmtpEmail

    transport = SmtpEmail("127.0.0.1", app.config["SMTP_PORT"], idle_seconds=0)
    message = OutgoingMessage(notification_id=1, channel="email", to="a@example.org",
                              subject="Hello", text="Hi")
    transport.send(message)
    transport._smtp.sock.shutdown(socket.SHUT_RDWR)  # as if the server had hung up
    transport.send(message)
    transport.close()
    assert len(smtp.messages) == 2 and smtp.connections == 2


def test_the_attachment_is_a_plain_ics_file_every_parser_reads_as_one_event(
        build, clock, policy, smtp):
    from tests.feed_parsers import (
        by_ical,
        by_icaljs,
        by_vobject,
        icaljs_available,
        structural_problems,
    )

    _reminder_due(build, clock, policy, email="sam@example.test")
    delivery.send_due(clock(), policy)
    mail = message_from_bytes(smtp.messages[0][1], policy=email_policy.default)
    [part] = list(mail.iter_attachments())
    assert part.get_content_type() == "application/ics"
    assert part.get_filename() == "group-session.ics"
    assert part.get_param("method") is None and part.get_content_disposition() == "attachment"
    data = part.get_payload(decode=True)
    assert structural_problems(data, event_file=True) == []
    parsers = [by_ical, by_vobject] + ([by_icaljs] if icaljs_available() else [])
    found = [parse(data) for parse in parsers]
    assert all(len(events) == 1 for events in found)
    assert len({tuple(events.items()) for events in found}) == 1


def test_a_server_that_trickles_bytes_cannot_hold_a_message_past_its_deadline():
    """Each byte arrives inside the per-read timeout, so only the message's own
    deadline ends it; the sender gets SendFailed saying so."""
    message = OutgoingMessage(notification_id=1, channel="email", to="a@example.org",
                              subject="Hello", text="Hi")
    with trickling_server() as port:
        sender = SmtpEmail("127.0.0.1", port, timeout=5, message_seconds=1)
        with pytest.raises(SendFailed, match="no answer within 1 s"):
            sender.send(message)


def test_a_text_the_gateway_took_without_answering_may_have_gone_and_is_not_retried():
    """The request went out whole and the answer never came: the gateway may have
    sent the text, so it is not tried again on its own."""
    from scheduler.channels import HttpSmsGateway, MaybeSent
    from tests.trickle import silent_server

    text = OutgoingMessage(notification_id=1, channel="sms", to="+16175550100",
                           subject="", text="See you tomorrow", sms="See you tomorrow")
    with silent_server() as port:
        gateway = HttpSmsGateway(f"http://127.0.0.1:{port}/messages", timeout=0.5)
        with pytest.raises(MaybeSent, match="may have gone"):
            gateway.send(text)


def test_a_gateway_that_cannot_be_reached_leaves_the_text_to_try_again():
    from scheduler.channels import HttpSmsGateway

    text = OutgoingMessage(notification_id=1, channel="sms", to="+16175550100",
                           subject="", text="See you tomorrow", sms="See you tomorrow")
    gateway = HttpSmsGateway(f"http://127.0.0.1:{free_port()}/messages", timeout=0.5)
    with pytest.raises(SendFailed, match="SMS gateway"):
        gateway.send(text)
