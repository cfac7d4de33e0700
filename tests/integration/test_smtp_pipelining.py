"""Sending over SMTP with PIPELINING (RFC 2920) where the server offers it: one
exchange per message, refusals settled one message at a time, and a message whose
content went out without an answer left ``unknown``, never sent again."""

from datetime import date

import pytest
import sqlalchemy as sa

from scheduler.channels import MaybeSent, OutgoingMessage, SmtpEmail
from scheduler.models import Notification, db
from scheduler.services import delivery, outbox
from tests.integration.reminder_support import utc
from tests.smtp_script import ScriptedSmtp


def _message(to: str, n: int = 1) -> OutgoingMessage:
    return OutgoingMessage(notification_id=n, channel="email", to=to,
                           subject=f"Group on Tuesday ({n})", text=f"See you there.\n.{n}\n")


def _send(server: ScriptedSmtp, addresses: list[str], **options) -> list[tuple]:
    sender = SmtpEmail("127.0.0.1", server.port, mail_from="Group <hello@regroup.test>",
                       timeout=5, message_seconds=3, **options)
    try:
        return [(key, status) for key, status, _ in sender.send_all(
            (to, _message(to, n)) for n, to in enumerate(addresses, 1))]
    finally:
        sender.close()


def test_a_server_that_answers_only_whole_groups_gets_every_message():
    # a sender that waited for each reply before its next command would get none
    with ScriptedSmtp(whole_groups=True) as server:
        outcome = _send(server, ["a@example.org", "b@example.org", "c@example.org"])
    assert outcome == [("a@example.org", "sent"), ("b@example.org", "sent"),
                       ("c@example.org", "sent")]
    assert [(s, r) for s, r, _ in server.messages] == [
        ("hello@regroup.test", ["a@example.org"]), ("hello@regroup.test", ["b@example.org"]),
        ("hello@regroup.test", ["c@example.org"])]
    assert server.connections == 1


def test_each_message_arrives_whole_with_its_lone_dot_lines_kept():
    with ScriptedSmtp() as server:
        _send(server, ["a@example.org", "b@example.org"])
    bodies = [body for _, _, body in server.messages]
    assert b"Subject: Group on Tuesday (1)" in bodies[0] and b"\r\n.1\r\n" in bodies[0]
    assert b"Subject: Group on Tuesday (2)" in bodies[1] and b"\r\n.2\r\n" in bodies[1]


def test_a_refused_recipient_fails_alone_and_the_next_message_arrives_whole():
    with ScriptedSmtp(refuse=frozenset({"b@example.org"})) as server:
        outcome = _send(server, ["a@example.org", "b@example.org", "c@example.org"])
    assert outcome == [("a@example.org", "sent"), ("b@example.org", "failed"),
                       ("c@example.org", "sent")]
    assert [r for _, r, _ in server.messages] == [["a@example.org"], ["c@example.org"]]
    assert b"Group on Tuesday (3)" in server.messages[1][2]
    assert server.connections == 1


def test_a_server_that_takes_data_after_refusing_everyone_gets_an_empty_end():
    with ScriptedSmtp(refuse=frozenset({"b@example.org"}),
                      data_without_recipients=True) as server:
        outcome = _send(server, ["b@example.org", "c@example.org"])
    assert outcome == [("b@example.org", "failed"), ("c@example.org", "sent")]
    assert [r for _, r, _ in server.messages] == [["c@example.org"]]


def test_a_server_without_pipelining_gets_one_command_at_a_time():
    with ScriptedSmtp(pipelining=False) as server:
        outcome = _send(server, ["a@example.org", "b@example.org"])
    assert [status for _, status in outcome] == ["sent", "sent"]
    assert len(server.messages) == 2


def test_content_that_went_out_unanswered_is_unknown_and_the_rest_go_on_a_new_connection():
    with ScriptedSmtp(hang_up_after=2) as server:
        outcome = _send(server, ["a@example.org", "b@example.org", "c@example.org"])
    assert outcome == [("a@example.org", "sent"), ("b@example.org", "unknown"),
                       ("c@example.org", "sent")]
    assert server.connections == 2


def test_sending_one_message_says_when_it_may_have_gone():
    with ScriptedSmtp(hang_up_after=1) as server:
        sender = SmtpEmail("127.0.0.1", server.port, timeout=5, message_seconds=3)
        with pytest.raises(MaybeSent, match="may have gone"):
            sender.send(_message("a@example.org"))
        sender.close()


def test_a_reminder_whose_answer_never_came_stays_unknown_and_is_not_sent_again(
        app, build, clock, policy):
    cohort = build.cohort()
    for name in ("Ana", "Ben", "Cy"):
        person = build.client(name=name, email=f"{name.lower()}@example.org")
        build.enroll(person, cohort, joined_on=date(2026, 11, 2))
    outbox.plan_reminders(clock(), policy)
    clock.set(utc(2026, 11, 30, 21, 0))
    with ScriptedSmtp(hang_up_after=2) as server:
        app.config.update(OUTBOX_TRANSPORT="auto", SMTP_HOST="127.0.0.1",
                          SMTP_PORT=server.port, SMTP_STARTTLS=False)
        first = delivery.send_due(clock(), policy)
        again = delivery.send_due(clock(), policy)
    assert first["sent"] == 2 and first["unknown"] == 1
    assert again.get("sent", 0) == 0
    assert len(server.messages) == 2
    statuses = sorted(db.session.scalars(
        sa.select(Notification.status).where(Notification.channel == "email",
                                             Notification.kind == "reminder")))
    assert statuses.count("unknown") == 1 and statuses.count("sent") == 2
