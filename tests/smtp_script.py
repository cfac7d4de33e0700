"""A small hand-written SMTP server for the pipelining tests: it can offer PIPELINING
or not, answer a group of commands only once the whole group is in (so a client that
waits for each reply before sending the next command never gets one), refuse chosen
recipients, take DATA even when no recipient was accepted, and hang up on receiving
the end of a chosen message's content, without answering it."""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass, field


@dataclass
class ScriptedSmtp:
    pipelining: bool = True
    whole_groups: bool = False
    refuse: frozenset[str] = frozenset()
    data_without_recipients: bool = False
    hang_up_after: int | None = None  # the nth message content received (1-based)
    messages: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    connections: int = 0
    contents: int = 0
    port: int = 0

    def __enter__(self) -> ScriptedSmtp:
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(8)
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(OSError):
                conn, _ = self._listener.accept()
                self.connections += 1
                threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError), conn, conn.makefile("rb") as lines:
            conn.sendall(b"220 scripted.example ESMTP\r\n")
            held: list[bytes] = []  # replies kept until the group's last command
            sender, recipients = None, []

            def answer(reply: bytes, last: bool = True) -> None:
                held.append(reply + b"\r\n")
                if last or not self.whole_groups:
                    conn.sendall(b"".join(held))
                    held.clear()

            for raw in lines:
                line = raw.rstrip(b"\r\n").decode()
                verb = line[:4].upper()
                if verb in ("EHLO", "HELO"):
                    offers = ["250-scripted.example"] + (["250-PIPELINING"] if self.pipelining
                                                         else []) + ["250 8BITMIME"]
                    answer("\r\n".join(offers).encode())
                elif verb == "MAIL":
                    sender, recipients = line[10:].strip("<>"), []
                    answer(b"250 sender ok", last=False)
                elif verb == "RCPT":
                    to = line[8:].strip("<>")
                    if to in self.refuse:
                        answer(b"550 no such mailbox here", last=False)
                    else:
                        recipients.append(to)
                        answer(b"250 recipient ok", last=False)
                elif verb == "DATA":
                    if not recipients and not self.data_without_recipients:
                        answer(b"554 no valid recipients")
                        continue
                    answer(b"354 end with a lone dot")
                    body = []
                    for part in lines:
                        if part == b".\r\n":
                            break
                        body.append(part[1:] if part.startswith(b"..") else part)
                    self.contents += 1
                    if self.contents == self.hang_up_after:
                        return  # the content is in; the answer never comes
                    if recipients:
                        self.messages.append((sender, recipients, b"".join(body)))
                        answer(b"250 queued")
                    else:
                        answer(b"554 nothing to deliver")
                    sender, recipients = None, []
                elif verb in ("RSET", "NOOP"):
                    sender, recipients = None, []
                    answer(b"250 ok")
                elif verb == "QUIT":
                    answer(b"221 bye")
                    return
                else:
                    answer(b"500 unknown command")
