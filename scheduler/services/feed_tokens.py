"""Feed tokens: the secret in a calendar subscription URL (and the client's page).

A token is an HMAC-SHA256 (43 URL-safe characters) of a 32-byte random nonce under
the server's feed key (``FEED_UID_KEY``); only the token's SHA-256 and the nonce
are stored. So staff can show or send the same link again (``current``) without
the database alone giving it away, and issuing a new one (rotation) revokes the
one before. A revoked token and one never issued are indistinguishable.

Nothing here commits; the use cases and routes that call it do.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa

from scheduler.models import LIVE_ENROLLMENT, Enrollment, FeedToken, db
from scheduler.security import token_hash


def derive(nonce: str, key: str) -> str:
    digest = hmac.new(key.encode("utf-8"), b"feed-token:" + nonce.encode("ascii"),
                      hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def urls(base: str, token: str) -> dict[str, str]:
    """The subscription links for a token (https, webcal) and the client's page."""
    base = base.rstrip("/")
    https_url = f"{base}/feeds/{token}.ics"
    webcal = "webcal://" + https_url.split("://", 1)[1]
    return {"https_url": https_url, "webcal_url": webcal, "page_url": f"{base}/me/{token}"}


def issue(kind: str, subject_id: int, now: datetime, key: str) -> str:
    """A new token for this feed; any live one before it is revoked."""
    revoke(kind, subject_id, now)
    nonce = secrets.token_hex(32)
    token = derive(nonce, key)
    db.session.add(FeedToken(token_hash=token_hash(token), kind=kind, subject_id=subject_id,
                             nonce=nonce, created_at=now))
    db.session.flush()
    return token


def current(kind: str, subject_id: int, key: str) -> str | None:
    """The live token of this feed, derived again; None when there is none (or it
    was made before tokens could be shown again, or under another key)."""
    return live(kind, subject_id, key)[0]


def live(kind: str, subject_id: int, key: str) -> tuple[str | None, datetime | None]:
    """(the live token as ``current`` gives it, when it was made), in one query;
    (None, None) when the feed has no live token."""
    row = db.session.execute(
        sa.select(FeedToken.token_hash, FeedToken.nonce, FeedToken.created_at).where(
            FeedToken.kind == kind, FeedToken.subject_id == subject_id,
            FeedToken.revoked_at.is_(None)).order_by(FeedToken.id.desc()).limit(1)).first()
    if row is None:
        return None, None
    if row.nonce is None:
        return None, row.created_at
    token = derive(row.nonce, key)
    return (token if hmac.compare_digest(token_hash(token), row.token_hash) else None,
            row.created_at)


def subscribed(kind: str, subject_ids: Iterable[int]) -> set[int]:
    """Which of these feeds a calendar app keeps the live link of (their events are
    already in the person's calendar)."""
    ids = set(subject_ids)
    if not ids:
        return set()
    return set(db.session.scalars(sa.select(FeedToken.subject_id).distinct().where(
        FeedToken.kind == kind, FeedToken.subject_id.in_(ids),
        FeedToken.revoked_at.is_(None), FeedToken.subscribed_at.is_not(None))))


def ensure(kind: str, subject_id: int, now: datetime, key: str) -> str:
    """The live token, or a new one when there is none that can be shown."""
    return current(kind, subject_id, key) or issue(kind, subject_id, now, key)


def revoke(kind: str, subject_id: int, now: datetime) -> int:
    """Revoke every live token of this feed. Returns how many were live."""
    result = db.session.execute(
        sa.update(FeedToken).where(
            FeedToken.kind == kind, FeedToken.subject_id == subject_id,
            FeedToken.revoked_at.is_(None)).values(revoked_at=now)
        .execution_options(synchronize_session=False))
    return result.rowcount or 0


def revoke_if_client_left(client_id: int, now: datetime) -> int:
    """When an enrollment ends as withdrawn: the client's feed (and page) link stops
    working unless they still belong to another cohort."""
    still_in = db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment).where(
        Enrollment.client_id == client_id, Enrollment.status.in_(LIVE_ENROLLMENT)))
    if still_in:
        return 0
    return revoke("client", client_id, now)
