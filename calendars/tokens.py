"""Feed tokens at the edge: issuing, showing again and revoking for the routes,
and looking a token up for the feed. The rule (an HMAC of a stored nonce, only the
hash kept) lives in ``scheduler.services.feed_tokens``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from scheduler.errors import InvalidValue
from scheduler.models import FEED_KINDS, Client, Cohort, FeedToken, Location, StaffUser, db
from scheduler.security import token_hash
from scheduler.services import feed_tokens
from scheduler.services.common import get

SUBJECTS = {"client": (Client, "Client"), "cohort": (Cohort, "Cohort"),
            "location": (Location, "Location"), "facilitator": (StaffUser, "Staff member")}
MAX_TOKEN_LENGTH = 100


@dataclass(frozen=True)
class TokenInfo:
    """What a token opens. These facts never change for a token row; only
    ``revoked_at`` does, and that is checked on every request."""

    id: int
    kind: str
    subject_id: int
    subscribed: bool = False  # a calendar app has fetched it (``mark_subscribed``)


def _key() -> str:
    return current_app.config["FEED_UID_KEY"]


def issue(kind: str, subject_id: int, now: datetime, *, commit: bool = True) -> str:
    """A new token for this feed; any live one before it is revoked."""
    if kind not in FEED_KINDS:
        raise InvalidValue(f"Feeds are one of {', '.join(FEED_KINDS)}", field="kind")
    model, what = SUBJECTS[kind]
    get(model, subject_id, what)
    token = feed_tokens.issue(kind, subject_id, now, _key())
    if commit:
        db.session.commit()
    return token


def current(kind: str, subject_id: int) -> str | None:
    """The live token of a feed, to show or send again (None when there is none)."""
    return feed_tokens.current(kind, subject_id, _key())


def live(kind: str, subject_id: int) -> tuple[str | None, datetime | None]:
    """(the live token to show again or None, when the live link was made or None)."""
    return feed_tokens.live(kind, subject_id, _key())


def revoke(kind: str, subject_id: int, now: datetime, *, commit: bool = True) -> int:
    """Revoke every live token of this feed. Returns how many were live."""
    count = feed_tokens.revoke(kind, subject_id, now)
    if commit:
        db.session.commit()
    return count


def lookup(token: str) -> TokenInfo | None:
    """The live token's facts, or None for unknown, malformed and revoked alike."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    row = db.session.execute(
        sa.select(FeedToken.id, FeedToken.kind, FeedToken.subject_id,
                  FeedToken.subscribed_at.is_not(None)).where(
            FeedToken.token_hash == token_hash(token), FeedToken.revoked_at.is_(None))
    ).first()
    return TokenInfo(*row) if row else None


def mark_subscribed(info: TokenInfo, now: datetime) -> TokenInfo:
    """Record that a calendar app fetched this feed (once; the caller commits)."""
    db.session.execute(sa.update(FeedToken).where(
        FeedToken.id == info.id, FeedToken.subscribed_at.is_(None))
        .values(subscribed_at=now).execution_options(synchronize_session=False))
    return replace(info, subscribed=True)
