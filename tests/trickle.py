"""Servers that never deliver, for the suite's deadline tests and bench/chaos.py: an
SMTP server that never finishes its greeting (a byte every ``every`` seconds, each
inside any per-read timeout), a server that accepts and says nothing at all (a
hung database), and a proxy to a real server that can be told to stop passing
anything on (a database that hangs after connections were made)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def trickling_server(every: float = 0.2) -> Iterator[int]:
    """The port of a listening trickler; every connection drips until the block ends."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    stop = threading.Event()

    def drip(conn: socket.socket) -> None:
        with contextlib.suppress(OSError), conn:
            for byte in b"220 slow.example ESMTP ready, eventually\r\n" * 100:
                if stop.wait(every):
                    break
                conn.send(bytes([byte]))

    def accept() -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError):
                conn, _ = listener.accept()
                threading.Thread(target=drip, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        listener.close()


@contextlib.contextmanager
def silent_server() -> Iterator[int]:
    """The port of a listener that accepts every connection and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError):
                held.append(listener.accept()[0])

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        for conn in held:
            conn.close()
        listener.close()


@contextlib.contextmanager
def freezable_proxy(port: int) -> Iterator[tuple[int, threading.Event]]:
    """(the port of a proxy to 127.0.0.1:``port``, an event): once the event is set,
    the proxy passes nothing more either way and keeps every connection open."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    frozen, stop = threading.Event(), threading.Event()
    held: list[socket.socket] = []

    def pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while not stop.is_set():
                data = source.recv(65536)
                if not data:
                    break
                while frozen.is_set() and not stop.is_set():
                    stop.wait(0.05)
                sink.sendall(data)

    def accept() -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError):
                client = listener.accept()[0]
                server = socket.create_connection(("127.0.0.1", port))
                held.extend((client, server))
                for a, b in ((client, server), (server, client)):
                    threading.Thread(target=pipe, args=(a, b), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield listener.getsockname()[1], frozen
    finally:
        stop.set()
        for conn in held:
            with contextlib.suppress(OSError):
                conn.close()
        listener.close()
