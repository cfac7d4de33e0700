"""The bytes of an email (issue 15: sending at the mail server's pace). The quick
paths taken for speed write exactly what the standard library's slow ones would."""

from __future__ import annotations

import io
from email import message_from_bytes
from email import policy as email_policy
from email.generator import BytesGenerator
from email.policy import compat32

from scheduler.channels import OutgoingMessage, build_email

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
]


def flattened(message, policy) -> bytes:
    out = io.BytesIO()
    BytesGenerator(out, policy=policy).flatten(message, linesep="\r\n")
    return out.getvalue()


def test_headers_are_written_exactly_as_the_standard_folding_writes_them():
    for outgoing in MESSAGES:
        message = build_email(outgoing, "Group schedule <hello@regroup.test>")
        standard = compat32.clone(max_line_length=998)
        assert flattened(message, message.policy) == flattened(message, standard)


def test_every_part_of_a_message_has_a_boundary_no_encoded_part_can_contain():
    message = build_email(MESSAGES[0], "hello@regroup.test")
    boundaries = [part.get_boundary() for part in message.walk() if part.is_multipart()]
    assert len(boundaries) == 2 and all(b.startswith("=_") for b in boundaries)
    raw = flattened(message, message.policy)
    for boundary in boundaries:  # "=_" is never in quoted-printable or base64 text
        assert raw.count(f"--{boundary}\r\n".encode()) >= 2
        assert raw.count(f"--{boundary}--".encode()) == 1
    other = build_email(MESSAGES[0], "hello@regroup.test")
    assert other.get_boundary() != message.get_boundary()


def test_the_message_reads_back_with_its_text_html_and_attachment():
    raw = flattened(build_email(MESSAGES[0], "hello@regroup.test"), compat32)
    mail = message_from_bytes(raw, policy=email_policy.default)
    assert mail.get_body(("plain",)).get_content().startswith("Hello Sam,")
    assert mail.get_body(("html",)).get_content().startswith("<p>Hello Sam,")
    [ics] = list(mail.iter_attachments())
    assert ics.get_payload(decode=True) == ICS
    assert mail["Subject"] == "Group session: Mon Nov 30, 6:00 PM"
