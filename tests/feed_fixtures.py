"""Helpers for feed tests: check-ins, feeds built straight from the database."""

from __future__ import annotations

from datetime import datetime

from calendars.build import build_feed, feed_events
from scheduler.models import CheckIn, Client, ReturnRequest, db

KEY = b"test-feed-uid-key"
FORBIDDEN_WORDS = ("iop", "addiction", "recovery", "substance", "relapse", "dropped out",
                   "no-show", "non-compliant", "failed", "program")


def check_in(client: Client, at: datetime, now: datetime, *, mode: str = "phone",
             status: str = "booked", location_id: int | None = None,
             staff_id: int | None = None) -> CheckIn:
    request = ReturnRequest(client_id=client.id, name=client.name, channel="phone",
                            requested_at=now, last_contact_at=now, created_at=now,
                            updated_at=now)
    db.session.add(request)
    db.session.flush()
    row = CheckIn(return_request_id=request.id, client_id=client.id, at=at, mode=mode,
                  status=status, location_id=location_id, staff_id=staff_id,
                  created_at=now, updated_at=now)
    db.session.add(row)
    db.session.commit()
    return row


def client_bytes(client_id: int, app) -> bytes:
    return build_feed("client", client_id, app.config["CLOCK"](), app.config["POLICY"], KEY)


def staff_bytes(kind: str, subject_id: int, app) -> bytes:
    return build_feed(kind, subject_id, app.config["CLOCK"](), app.config["POLICY"], KEY)


def expected_instants(kind: str, subject_id: int, app) -> dict[str, tuple]:
    """{uid: (start, end, status)} straight from the rows the feed was built from."""
    _, events = feed_events(kind, subject_id, app.config["CLOCK"](), app.config["POLICY"],
                            KEY)
    return {e.uid: (e.starts_at, e.ends_at, e.status) for e in events}
