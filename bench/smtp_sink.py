"""A local SMTP server in a process of its own (aiosmtpd), so no bench shares its
interpreter with it: bench/sending.py discards what it gets, bench/chaos.py answers
slowly and prints each recipient."""

from __future__ import annotations

import subprocess
import sys

from bench.load import free_port

SCRIPT = '''
import asyncio, sys
from aiosmtpd.controller import Controller

{handler}

controller = Controller(Handler(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
'''

# offers PIPELINING, as Postfix and the large mail providers do (aiosmtpd does not say
# so itself, but it reads commands in order from its stream, so it takes them)
DISCARD = '''
class Handler:
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return responses[:-1] + ["250-PIPELINING"] + responses[-1:]

    async def handle_DATA(self, server, session, envelope):
        return "250 OK"
'''


def start_sink(handler: str = DISCARD) -> tuple[subprocess.Popen, int]:
    """The sink process (closing its stdin stops it) and its port. ``handler`` is the
    source of a class ``Handler`` with aiosmtpd's ``handle_DATA``."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", SCRIPT.format(handler=handler),
                                str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               text=True)
    assert process.stdout.readline().strip() == "ready"
    return process, port
