"""Feed tokens: the secret in a calendar subscription URL (and the client's page).

A token is 32 random bytes (URL-safe, 43 characters); only its SHA-256 is
stored. Issuing a token for a feed revokes the one before it (rotation). A
revoked token and one never issued are indistinguishable to the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from scheduler.errors import InvalidValue
from scheduler.models import (
    FEED_KINDS,
    Client,
    Cohort,
    Enrollment,
    FeedToken,
    Location,
    StaffUser,
    db,
)
from scheduler.security import new_token, token_hash
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


def issue(kind: str, subject_id: int, now: datetime, *, commit: bool = True) -> str:
    """A new token for this feed; any live one before it is revoked.
    Returns the plaintext, which is never stored and cannot be shown again."""
    if kind not in FEED_KINDS:
        raise InvalidValue(f"Feeds are one of {', '.join(FEED_KINDS)}", field="kind")
    model, what = SUBJECTS[kind]
    get(model, subject_id, what)
    revoke(kind, subject_id, now, commit=False)
    token = new_token()
    db.session.add(FeedToken(token_hash=token_hash(token), kind=kind, subject_id=subject_id,
                             created_at=now))
    if commit:
        db.session.commit()
    return token


def revoke(kind: str, subject_id: int, now: datetime, *, commit: bool = True) -> int:
    """Revoke every live token of this feed. Returns how many were live."""
    result = db.session.execute(
        sa.update(FeedToken).where(
            FeedToken.kind == kind, FeedToken.subject_id == subject_id,
            FeedToken.revoked_at.is_(None)).values(revoked_at=now)
        .execution_options(synchronize_session=False))
    if commit:
        db.session.commit()
    return result.rowcount or 0


def lookup(token: str) -> TokenInfo | None:
    """The live token's facts, or None for unknown, malformed and revoked alike."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    row = db.session.execute(
        sa.select(FeedToken.id, FeedToken.kind, FeedToken.subject_id).where(
            FeedToken.token_hash == token_hash(token), FeedToken.revoked_at.is_(None))
    ).first()
    return TokenInfo(*row) if row else None


def revoke_if_client_left(client_id: int, now: datetime) -> int:
    """Called when an enrollment ends as withdrawn: the client's feed (and page)
    link stops working unless they still belong to another cohort. Does not commit."""
    still_in = db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment).where(
        Enrollment.client_id == client_id, Enrollment.status.in_(("active", "paused"))))
    if still_in:
        return 0
    return revoke("client", client_id, now, commit=False)
