"""The bytes of an email (issue 15: sending at the mail server's pace). The quick
paths taken for speed write exactly what the standard library's slow ones would."""

from __future__ import annotations

import io
import itertools
from email import message_from_bytes
from email import policy as email_policy
from email.encoders import encode_base64
from email.generator import BytesGenerator
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32

import pytest

from scheduler import channels
from scheduler.channels import OutgoingMessage, email_bytes

ICS = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
MESSAGES = [
    OutgoingMessage(1, "email", "sam@example.test", "Group session: Mon Nov 30, 6:00 PM",
                    "Hello Sam,\n\nSee you then.", html="<p>Hello Sam,</p>",
                    attachments=(("group-session.ics", "application/ics", ICS),),
                    headers={"List-Unsubscribe": "<https://regroup.test/unsubscribe/"
                             + "x" * 180 + ">",
                             "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                             "Reply-To": "boston@example.test"}),
    OutgoingMessage(2, "email", "Zoë Ortiz <zoe@example.test>", "Café  at   noon: ünd more",
                    "Ünïcode body = 100% — and a line that is long " * 5, html=None),
    OutgoingMessage(3, "email", "jo@example.test", "Plain\tsubject,  two   spaces, a tab ",
                    "Text only.", html="<p>Text only.</p>"),
    OutgoingMessage(4, "email", "al@example.test", "Lines that mail treats specially",
                    "From the start\n.a lone dot\n\ntrailing space \r\nold mac\rend\n",
                    html="<p>From here</p>\n" + "<b>wide</b> " * 40,
                    attachments=(("group session.ics", "application/ics", b"no line end"),
                                 ("empty.ics", "text/calendar", b""))),
    OutgoingMessage(5, "email", "\"Rivera, Sam\" <sam@example.test>", "x" * 300, "",
                    headers={"Reply-To": "Needham desk <needham@example.test>"}),
]


def reference(message: OutgoingMessage, mail_from: str) -> Message:
    """The same message built with the standard library's ``email.mime`` classes."""
    body: Message = MIMEText(message.text, "plain", channels._UTF8_QP,
                             policy=channels._POLICY)
    if message.html:
        alternatives = MIMEMultipart("alternative", channels._boundary(),
                                     policy=channels._POLICY)
        alternatives.attach(body)
        alternatives.attach(MIMEText(message.html, "html", channels._UTF8_QP,
                                     policy=channels._POLICY))
        body = alternatives
    if message.attachments:
        mixed = MIMEMultipart("mixed", channels._boundary(), policy=channels._POLICY)
        mixed.attach(body)
        for filename, mime, data in message.attachments:
            part = MIMEBase(*mime.split("/", 1), policy=channels._POLICY)
            part.set_payload(data)
            encode_base64(part)
            part.add_header("Content-Disposition", "attachment", filename=filename)
            mixed.attach(part)
        body = mixed
    body["From"] = channels._address(mail_from)
    body["To"] = channels._address(message.to)
    body["Subject"] = channels._header(message.subject)
    body["Date"] = channels.formatdate(localtime=False)
    body["Message-ID"] = channels.make_msgid(domain="regroup.local")
    for name, value in message.headers.items():
        body[name] = channels._header(value)
    return body


@pytest.fixture
def fixed(monkeypatch):
    """Boundaries, Date and Message-ID that repeat, so two builds can be compared."""
    def restart():
        numbers = itertools.count()
        monkeypatch.setattr(channels, "_boundary", lambda: f"=_{next(numbers):032x}")
    monkeypatch.setattr(channels, "formatdate", lambda localtime: "Fri, 04 Dec 2026 13:16:29 -0000")
    monkeypatch.setattr(channels, "make_msgid", lambda domain: f"<fixed@{domain}>")
    return restart


def test_the_wire_bytes_are_what_the_standard_librarys_classes_and_generator_write(fixed):
    for outgoing in MESSAGES:
        fixed()
        expected = flattened(reference(outgoing, "Group schedule <hello@regroup.test>"),
                             channels._POLICY)
        fixed()
        assert email_bytes(outgoing, "Group schedule <hello@regroup.test>") == (
            expected, "<fixed@regroup.local>")


def flattened(message, policy) -> bytes:
    out = io.BytesIO()
    BytesGenerator(out, policy=policy).flatten(message, linesep="\r\n")
    return out.getvalue()


def test_headers_are_written_exactly_as_the_standard_folding_writes_them():
    for outgoing in MESSAGES:
        message = reference(outgoing, "Group schedule <hello@regroup.test>")
        standard = compat32.clone(max_line_length=998)
        assert flattened(message, message.policy) == flattened(message, standard)


def test_every_part_of_a_message_has_a_boundary_no_encoded_part_can_contain():
    raw, _ = email_bytes(MESSAGES[0], "hello@regroup.test")
    message = message_from_bytes(raw)
    boundaries = [part.get_boundary() for part in message.walk() if part.is_multipart()]
    assert len(boundaries) == 2 and all(b.startswith("=_") for b in boundaries)
    for boundary in boundaries:  # "=_" is never in quoted-printable or base64 text
        assert raw.count(f"--{boundary}\r\n".encode()) >= 2
        assert raw.count(f"--{boundary}--".encode()) == 1
    other = message_from_bytes(email_bytes(MESSAGES[0], "hello@regroup.test")[0])
    assert other.get_boundary() != message.get_boundary()


def test_the_message_reads_back_with_its_text_html_and_attachment():
    raw, _ = email_bytes(MESSAGES[0], "hello@regroup.test")
    mail = message_from_bytes(raw, policy=email_policy.default)
    assert mail.get_body(("plain",)).get_content().startswith("Hello Sam,")
    assert mail.get_body(("html",)).get_content().startswith("<p>Hello Sam,")
    [ics] = list(mail.iter_attachments())
    assert ics.get_payload(decode=True) == ICS
    assert mail["Subject"] == "Group session: Mon Nov 30, 6:00 PM"
