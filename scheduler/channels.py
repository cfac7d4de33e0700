"""Transports: how a rendered message leaves the building.

Each transport has ``send(message) -> str`` returning a provider reference; it
raises ``SendFailed`` when the provider refused or could not be reached (the
message did not go) and ``MaybeSent`` when the message was handed over but no
answer came (it may have gone: trying again could send it twice).
``send_each(transport, items)`` sends many, settling each as sent, failed or
unknown; SMTP pipelines them where the server offers it.
``transport_for(channel, config)`` picks one from config: email by SMTP when
SMTP_HOST is set, SMS through the HTTP gateway when SMS_GATEWAY_URL is set,
otherwise (development) the file channel, which writes every message under
OUTBOX_DIR and logs it.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import functools
import http.client
import json
import logging
import re
import smtplib
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.policy import compat32
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Any

log = logging.getLogger("regroup.outbox")


class SendFailed(Exception):
    """The provider did not take the message; it was not sent."""


class MaybeSent(Exception):
    """The message was handed over and the provider's answer never came: it may
    have gone, so it must not be sent again without a person looking."""


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


class _Policy(type(compat32)):
    """compat32, with a quick path for the short plain-ASCII headers every message
    has: written as they are, which is what folding them writes, without building
    a Header object for each (about half of the generator's time for a message)."""

    def _fold(self, name, value, sanitize):
        if (isinstance(value, str) and value.isascii() and "\r" not in value
                and "\n" not in value and len(name) + 2 + len(value) <= self.max_line_length):
            return f"{name}: {value}{self.linesep}"
        return super()._fold(name, value, sanitize)


# long URL headers (List-Unsubscribe) stay on one line, as plain text
_POLICY = _Policy(max_line_length=998)
_UTF8_QP = Charset("utf-8")
_UTF8_QP.body_encoding = QP  # bodies stay readable in the raw message


def _header(value: str) -> str | Header:
    """ASCII stays as it is (a long List-Unsubscribe URL must not become RFC 2047
    words); anything else is encoded."""
    return value if value.isascii() else Header(value, "utf-8")


def _address(value: str) -> str:
    name, address = parseaddr(value)
    return formataddr((name, address), charset="utf-8") if name else address or value


def _boundary() -> str:
    """A part boundary that cannot occur in the parts: "=_" is never in
    quoted-printable or base64 text. Set here, the generator does not search every
    part for a boundary of its own making."""
    return f"=_{uuid.uuid4().hex}"


_WIRE_POLICY = _POLICY.clone(linesep="\r\n")
_NEWLINE = re.compile(r"\r\n|\r|\n")
_FROM_LINE = re.compile(r"^From ", re.MULTILINE)  # as mbox-safe generators write it


def _part(headers: list[tuple[str, Any]], body: bytes) -> bytes:
    return "".join(_WIRE_POLICY.fold(name, value) for name, value in headers).encode() + (
        b"\r\n" + body)


def _text_part(text: str, subtype: str) -> tuple[list[tuple[str, Any]], bytes]:
    body = _FROM_LINE.sub(">From ", _UTF8_QP.body_encode(text))
    return ([("Content-Type", f'text/{subtype}; charset="utf-8"'), ("MIME-Version", "1.0"),
             ("Content-Transfer-Encoding", "quoted-printable")],
            _NEWLINE.sub("\r\n", body).encode("ascii"))


def _multipart(subtype: str, parts: list[bytes]) -> tuple[list[tuple[str, Any]], bytes]:
    boundary = _boundary()
    dash = f"--{boundary}".encode()
    return ([("Content-Type", f'multipart/{subtype}; boundary="{boundary}"'),
             ("MIME-Version", "1.0")],
            dash + b"\r\n" + (b"\r\n" + dash + b"\r\n").join(parts)
            + b"\r\n" + dash + b"--\r\n")


@functools.lru_cache(maxsize=64)
def _disposition(filename: str) -> str:
    """``attachment; filename=...`` as the standard library quotes or encodes it (the
    same few file names every message: worked out once each)."""
    disposition = Message()
    disposition.add_header("Content-Disposition", "attachment", filename=filename)
    return disposition["Content-Disposition"]


def _attachment(filename: str, mime: str, data: bytes) -> bytes:
    return _part([("Content-Type", mime), ("MIME-Version", "1.0"),
                  ("Content-Transfer-Encoding", "base64"),
                  ("Content-Disposition", _disposition(filename))],
                 base64.encodebytes(data).replace(b"\n", b"\r\n"))


def email_bytes(message: OutgoingMessage, mail_from: str) -> tuple[bytes, str]:
    """The message as it goes on the wire (CRLF line ends), and its Message-ID: text
    (and HTML) alternatives, then attachments as files.

    Written in one pass, byte for byte what the standard library's ``email.mime``
    classes and generator write for the same message (tests/unit/test_email_build.py
    holds them side by side), at a fraction of their cost: a run sends thousands."""
    headers, body = _text_part(message.text, "plain")
    if message.html:
        headers, body = _multipart("alternative", [
            _part(headers, body), _part(*_text_part(message.html, "html"))])
    if message.attachments:
        headers, body = _multipart("mixed", [_part(headers, body)] + [
            _attachment(*attached) for attached in message.attachments])
    message_id = make_msgid(domain="regroup.local")
    headers += [("From", _address(mail_from)), ("To", _address(message.to)),
                ("Subject", _header(message.subject)),
                ("Date", formatdate(localtime=False)), ("Message-ID", message_id)]
    headers += [(name, _header(value)) for name, value in message.headers.items()]
    return _part(headers, body), message_id


class _WatchedSMTP(smtplib.SMTP):
    """smtplib.SMTP that lets its SmtpEmail see the socket while the greeting and
    login are still being read, so a message's deadline can cut those too."""

    def __init__(self, owner: SmtpEmail, *args, **kwargs):
        self._owner = owner
        super().__init__(*args, **kwargs)

    def _get_socket(self, host, port, timeout):
        sock = super()._get_socket(host, port, timeout)
        self._owner._connecting = sock
        return sock


class _Watchdog:
    """Calls ``expire`` when the armed deadline passes, from one thread of its own:
    arming and disarming for each message cost a lock, not a new thread (a Timer
    per message did). ``stop`` ends the thread; the next ``arm`` starts another."""

    def __init__(self, expire: Callable[[], None]):
        self._expire = expire
        self._cond = threading.Condition()
        self._deadline: float | None = None
        self._until: float | None = None  # when the thread wakes by itself (None: never)
        self._generation = 0  # a thread runs while its generation is the current one
        self._running = False

    def arm(self, seconds: float) -> None:
        with self._cond:
            self._deadline = time.monotonic() + seconds
            if not self._running:
                self._running, self._until = True, self._deadline
                threading.Thread(target=self._run, args=(self._generation,),
                                 name="smtp-deadline", daemon=True).start()
            elif self._until is None or self._deadline < self._until:
                self._cond.notify()  # it sleeps past this deadline: wake it to look

    def disarm(self) -> None:
        with self._cond:
            self._deadline = None  # the thread finds nothing due when it wakes

    def stop(self) -> None:
        with self._cond:
            self._generation += 1
            self._running, self._deadline = False, None
            self._cond.notify_all()

    def _run(self, generation: int) -> None:
        with self._cond:
            while generation == self._generation:
                if self._deadline is None:
                    self._until = None
                    self._cond.wait()
                    continue
                remaining = self._deadline - time.monotonic()
                if remaining > 0:
                    self._until = self._deadline
                    self._cond.wait(remaining)
                    continue
                self._deadline = None
                self._expire()


_LONE_DOT = re.compile(rb"(?m)^\.")  # doubled in DATA, as smtplib does


@dataclass(frozen=True)
class _Wire:
    envelope: tuple[bytes, bytes, bytes]  # MAIL FROM, RCPT TO, DATA
    content: bytes  # lone dots doubled, ending in the lone dot
    message_id: str
    utf8: bool


class _Ahead:
    """An iterator's items, drawn ahead of use on request."""

    def __init__(self, items: Iterable):
        self._items, self._built = iter(items), collections.deque()

    def fill(self, count: int) -> None:
        """Draw until ``count`` items wait (or there are no more)."""
        while len(self._built) < count:
            item = next(self._items, None)
            if item is None:
                return
            self._built.append(item)

    def peek(self):
        self.fill(1)
        return self._built[0] if self._built else None

    def pop(self):
        self.fill(1)
        return self._built.popleft() if self._built else None


def _refused(code: int, reply: bytes) -> str:
    return f"SMTP {code}: {reply.decode('utf-8', 'replace')}"


class SmtpEmail:
    """Email over SMTP (optionally STARTTLS and a login), one connection kept open
    across the messages of a run: a connection idle longer than ``idle_seconds``
    is checked with NOOP before it is used again (a server that dropped it gets a
    fresh one, before any of the message was handed over); ``close()`` ends it."""

    def __init__(self, host: str, port: int = 25, *, username: str | None = None,
                 password: str | None = None, starttls: bool = False,
                 mail_from: str = "no-reply@localhost", timeout: float = 30.0,
                 idle_seconds: float = 5.0, message_seconds: float = 60.0):
        self.host, self.port, self.timeout = host, port, timeout
        # a server that trickles a byte now and then never trips the per-read timeout:
        # each message (connecting included) gets this long in all, then the
        # connection is cut and the message fails (and is tried again later)
        self.message_seconds = message_seconds
        self.username, self.password, self.starttls = username, password, starttls
        self.mail_from, self.idle_seconds = mail_from, idle_seconds
        self._sender = parseaddr(mail_from)[1] or mail_from  # the envelope's MAIL FROM
        self._smtp: smtplib.SMTP | None = None
        self._connecting: socket.socket | None = None
        self._used = 0.0
        self._watchdog = _Watchdog(self._cut)
        self._timed_out = False

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is not None and time.monotonic() - self._used > self.idle_seconds:
            try:
                code, _ = self._smtp.noop()
            except (OSError, smtplib.SMTPException):
                code = 0
            if code != 250:
                self.close()
        if self._smtp is None:
            smtp = _WatchedSMTP(self, self.host, self.port, timeout=self.timeout)
            try:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.ehlo_or_helo_if_needed()
            except BaseException:
                smtp.close()
                raise
            self._smtp = smtp
        return self._smtp

    def send(self, message: OutgoingMessage) -> str:
        [(_, status, detail)] = self.send_all([(None, message)])
        if status == "sent":
            return detail
        raise (MaybeSent if status == "unknown" else SendFailed)(detail)

    def send_all(self, items: Iterable[tuple[Any, OutgoingMessage]],
                 ) -> Iterator[tuple[Any, str, str]]:
        """Send each (key, message) in turn, yielding (key, status, detail) as each is
        settled: ``sent`` (detail: its Message-ID), ``failed`` (refused or never
        handed over: safe to try again) or ``unknown`` (its content went out and no
        answer came).

        ``items`` is drawn ahead: the next message is built while the server reads
        this one. Where the server offers PIPELINING (RFC 2920), the next message's
        envelope goes in the same write as this one's content, and the message
        after it is built while the server reads both: one exchange per message
        instead of four, and the server's work overlaps ours. Each message still
        has its own deadline and its own outcome."""
        ahead = _Ahead((key, self._wire(message)) for key, message in items)
        opened = False  # the current message's envelope is already written
        while (current := ahead.pop()) is not None:
            key, wire = current
            stage = "connect"
            self._timed_out = False
            self._watchdog.arm(self.message_seconds)
            try:
                smtp = self._smtp if opened else self._connection()
                pipelining = smtp.has_extn("pipelining")
                stage = "envelope"
                refusal = self._open(smtp, wire, pipelining, written=opened)
                opened = False
                if refusal is None:
                    stage = "content"
                    following = ahead.peek() if pipelining else None
                    opened = following is not None and (
                        not following[1].utf8 or smtp.has_extn("smtputf8"))
                    smtp.send(wire.content + (b"".join(following[1].envelope)
                                              if opened else b""))
                    ahead.fill(2 if opened else 1)  # built while the server reads
                    code, reply = smtp.getreply()
                    result = (("sent", wire.message_id) if code == 250
                              else ("failed", _refused(code, reply)))
                else:
                    result = ("failed", refusal)
            except (OSError, smtplib.SMTPException) as exc:
                timed_out = self._timed_out
                self.close()
                opened = False
                why = (f"no answer within {self.message_seconds:g} s for this message"
                       if timed_out else str(exc))
                result = (("unknown", f"SMTP: the message went out and no answer came "
                                      f"({why}); it may have gone")
                          if stage == "content" else ("failed", f"SMTP: {why}"))
            finally:
                self._watchdog.disarm()
                self._used = time.monotonic()
            yield key, *result

    def _wire(self, message: OutgoingMessage) -> _Wire:
        """The message as SMTP carries it."""
        data, message_id = email_bytes(message, self.mail_from)
        sender, to = self._sender, parseaddr(message.to)[1] or message.to
        utf8 = not (sender + to).isascii()
        content = _LONE_DOT.sub(b"..", data)
        if not content.endswith(b"\r\n"):
            content += b"\r\n"
        options = " SMTPUTF8 BODY=8BITMIME" if utf8 else ""
        return _Wire(envelope=(f"MAIL FROM:<{sender}>{options}\r\n".encode(),
                               f"RCPT TO:<{to}>\r\n".encode(), b"DATA\r\n"),
                     content=content + b".\r\n", message_id=message_id, utf8=utf8)

    @staticmethod
    def _open(smtp: smtplib.SMTP, wire: _Wire, pipelining: bool, written: bool,
              ) -> str | None:
        """Begin the message's mail transaction: None when the server waits for its
        content, else why not (and the transaction is ended)."""
        if wire.utf8 and not smtp.has_extn("smtputf8"):
            return "SMTP: the mail server does not take international addresses"
        replies = []
        if pipelining:
            if not written:
                smtp.send(b"".join(wire.envelope))
            replies = [smtp.getreply() for _ in wire.envelope]
        else:
            for command in wire.envelope:
                smtp.send(command)
                replies.append(smtp.getreply())
                if replies[-1][0] not in (250, 251, 354):
                    break
        if [code for code, _ in replies] in ([250, 250, 354], [250, 251, 354]):
            return None
        if replies[-1][0] == 354:  # DATA taken with no recipient: end it empty (RFC 2920)
            smtp.send(b".\r\n")
            smtp.getreply()
        smtp.rset()
        return _refused(*next((r for r in replies if r[0] not in (250, 251, 354)),
                              replies[-1]))

    def _cut(self) -> None:
        """The message's time is up: shut the socket so the blocked call returns."""
        self._timed_out = True
        smtp = self._smtp
        sock = getattr(smtp, "sock", None) if smtp is not None else self._connecting
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        """End the connection (within the message's deadline when one is armed)."""
        smtp, self._smtp = self._smtp, None
        try:
            if smtp is not None:
                smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()
        finally:
            self._watchdog.stop()


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
            response = urllib.request.urlopen(request, timeout=self.timeout)
        except urllib.error.URLError as exc:  # unreached, cut off mid-request, or "no"
            raise SendFailed(f"SMS gateway: {exc}") from exc
        except (OSError, http.client.HTTPException) as exc:  # sent whole; no (clear) answer
            raise MaybeSent(f"SMS gateway: the text went out and no answer came ({exc}); "
                            "it may have gone") from exc
        with response:
            try:
                answer = response.read().decode("utf-8", "replace")
            except (OSError, http.client.HTTPException):  # it said yes; only its id is lost
                answer = ""
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
            path.write_bytes(email_bytes(message, self.mail_from)[0])
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
                         mail_from=config.get("MAIL_FROM") or "no-reply@localhost",
                         timeout=float(config.get("SMTP_TIMEOUT") or 10),
                         message_seconds=float(config.get("SMTP_MESSAGE_SECONDS") or 60))
    if mode == "auto" and channel == "sms" and config.get("SMS_GATEWAY_URL"):
        return HttpSmsGateway(config["SMS_GATEWAY_URL"], config.get("SMS_GATEWAY_KEY"))
    if mode == "auto" and config.get("REGROUP_ENV") == "production":
        raise SendFailed(f"no provider is configured for {channel} (set SMTP_HOST or "
                         "SMS_GATEWAY_URL)")
    return FileChannel(config.get("OUTBOX_DIR") or "instance/outbox",
                       config.get("MAIL_FROM") or "no-reply@localhost")


def send_each(transport: Any, items: Iterable[tuple[Any, OutgoingMessage]],
              ) -> Iterator[tuple[Any, str, str]]:
    """(key, status, detail) for each (key, message) as it is settled: ``sent``,
    ``failed`` (it did not go) or ``unknown`` (it may have gone). A transport with
    ``send_all`` (SMTP) sends them its own way; any other, one ``send`` at a time."""
    if hasattr(transport, "send_all"):
        yield from transport.send_all(items)
        return
    for key, message in items:
        try:
            yield key, "sent", transport.send(message)
        except MaybeSent as exc:
            yield key, "unknown", str(exc)
        except SendFailed as exc:
            yield key, "failed", str(exc)
