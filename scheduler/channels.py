"""Transports: how a rendered message leaves the building.

Each transport has ``send(message) -> str`` returning a provider reference and
raises ``SendFailed`` when the provider refused or could not be reached (the
message did not go). ``transport_for(channel, config)`` picks one from config:
email by SMTP when SMTP_HOST is set, SMS through the HTTP gateway when
SMS_GATEWAY_URL is set, otherwise (development) the file channel, which writes
every message under OUTBOX_DIR and logs it.
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from email import policy as email_policy
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

log = logging.getLogger("regroup.outbox")


class SendFailed(Exception):
    """The provider did not take the message; it was not sent."""


@dataclass(frozen=True)
class OutgoingMessage:
    notification_id: int
    channel: str  # email | sms | console
    to: str
    subject: str
    text: str
    html: str | None = None
    sms: str | None = None
    attachments: tuple[tuple[str, str, bytes], ...] = ()  # (filename, mime type, bytes)
    headers: Mapping[str, str] = field(default_factory=dict)


# long URL headers (List-Unsubscribe) must stay plain text, not RFC 2047 words
EMAIL_POLICY = email_policy.default.clone(max_line_length=998)


def build_email(message: OutgoingMessage, mail_from: str) -> EmailMessage:
    email = EmailMessage(policy=EMAIL_POLICY)
    email["From"] = mail_from
    email["To"] = message.to
    email["Subject"] = message.subject
    email["Message-ID"] = make_msgid(domain="regroup.local")
    for name, value in message.headers.items():
        email[name] = value
    email.set_content(message.text)
    if message.html:
        email.add_alternative(message.html, subtype="html")
    for filename, mime, data in message.attachments:
        maintype, subtype = mime.split("/", 1)
        email.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return email


class SmtpEmail:
    """Email over SMTP (optionally STARTTLS and a login), one connection kept open
    across the messages of a run: a connection idle longer than ``idle_seconds``
    is checked with NOOP before it is used again (a server that dropped it gets a
    fresh one, before any of the message was handed over); ``close()`` ends it."""

    def __init__(self, host: str, port: int = 25, *, username: str | None = None,
                 password: str | None = None, starttls: bool = False,
                 mail_from: str = "no-reply@localhost", timeout: float = 30.0,
                 idle_seconds: float = 5.0):
        self.host, self.port, self.timeout = host, port, timeout
        self.username, self.password, self.starttls = username, password, starttls
        self.mail_from, self.idle_seconds = mail_from, idle_seconds
        self._smtp: smtplib.SMTP | None = None
        self._used = 0.0

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is not None and time.monotonic() - self._used > self.idle_seconds:
            try:
                code, _ = self._smtp.noop()
            except (OSError, smtplib.SMTPException):
                code = 0
            if code != 250:
                self.close()
        if self._smtp is None:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            try:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password or "")
            except BaseException:
                smtp.close()
                raise
            self._smtp = smtp
        return self._smtp

    def send(self, message: OutgoingMessage) -> str:
        email = build_email(message, self.mail_from)
        try:
            self._connection().send_message(email)
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise SendFailed(f"SMTP: {exc}") from exc
        finally:
            self._used = time.monotonic()
        return str(email["Message-ID"])

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()


class HttpSmsGateway:
    """SMS through an HTTP gateway: POST JSON {"to", "body"} with a bearer key.

    Swap this one class for a provider's own API; the rest of the outbox only
    needs ``send``.
    """

    def __init__(self, url: str, key: str | None = None, timeout: float = 15.0):
        self.url, self.key, self.timeout = url, key, timeout

    def send(self, message: OutgoingMessage) -> str:
        body = json.dumps({"to": message.to, "body": message.sms or message.text,
                           "reference": str(message.notification_id)}).encode()
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json",
            **({"Authorization": f"Bearer {self.key}"} if self.key else {})})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = response.read().decode("utf-8", "replace")
        except (OSError, urllib.error.URLError) as exc:
            raise SendFailed(f"SMS gateway: {exc}") from exc
        try:
            return str(json.loads(answer).get("id", ""))
        except (ValueError, AttributeError):
            return ""


class FileChannel:
    """Development: each message becomes one file under ``directory`` and a log line."""

    def __init__(self, directory: str | Path, mail_from: str = "no-reply@localhost"):
        self.directory, self.mail_from = Path(directory), mail_from

    def send(self, message: OutgoingMessage) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        ref = uuid.uuid4().hex
        stem = f"{message.notification_id:08d}-{message.channel}-{ref[:8]}"
        if message.channel == "sms":
            path = self.directory / f"{stem}.sms.txt"
            path.write_text(f"To: {message.to}\n\n{message.sms or message.text}\n")
        else:
            path = self.directory / f"{stem}.eml"
            path.write_bytes(bytes(build_email(message, self.mail_from)))
        log.info("%s to %s: %s (%s)", message.channel, message.to, message.subject, path)
        return ref


class NullChannel:
    """Discards everything (benchmarks)."""

    def __init__(self):
        self.sent = 0

    def send(self, message: OutgoingMessage) -> str:
        self.sent += 1
        return ""


def transport_for(channel: str, config: Mapping):
    mode = config.get("OUTBOX_TRANSPORT", "auto")
    if mode == "null":
        return NullChannel()
    if mode == "auto" and channel == "email" and config.get("SMTP_HOST"):
        return SmtpEmail(config["SMTP_HOST"], int(config.get("SMTP_PORT") or 25),
                         username=config.get("SMTP_USERNAME"),
                         password=config.get("SMTP_PASSWORD"),
                         starttls=bool(config.get("SMTP_STARTTLS")),
                         mail_from=config.get("MAIL_FROM") or "no-reply@localhost")
    if mode == "auto" and channel == "sms" and config.get("SMS_GATEWAY_URL"):
        return HttpSmsGateway(config["SMS_GATEWAY_URL"], config.get("SMS_GATEWAY_KEY"))
    if mode == "auto" and config.get("REGROUP_ENV") == "production":
        raise SendFailed(f"no provider is configured for {channel} (set SMTP_HOST or "
                         "SMS_GATEWAY_URL)")
    return FileChannel(config.get("OUTBOX_DIR") or "instance/outbox",
                       config.get("MAIL_FROM") or "no-reply@localhost")
