"""Secrets: random tokens stored only as SHA-256 hashes, and password hashing."""

from __future__ import annotations

import hashlib
import secrets

from itsdangerous import BadData, URLSafeSerializer

TOKEN_BYTES = 32

# Re-entry answers ("using again?", notes) and the clinical-review flag, in any form:
# only the people who care for the client read them; a viewer (a director watching
# numbers) never does. Every API field and console page asks ``may_read_clinical``.
CLINICAL_READERS = ("admin", "coordinator", "clinician")


def may_read_clinical(role: str | None) -> bool:
    return role in CLINICAL_READERS


# A facilitator's own calendar feed: admins and coordinators hand out, rotate and turn
# off anyone's; a clinician only their own (never a colleague's).
FEED_KEEPERS = ("admin", "coordinator")


def may_manage_staff_feed(role: str | None, actor_id: int, subject_id: int) -> bool:
    return role in FEED_KEEPERS or (role == "clinician" and actor_id == subject_id)


def new_token() -> str:
    """A URL-safe secret of 32 random bytes (43 characters)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def sign_id(secret: str, salt: str, ident: int) -> str:
    """A link secret that stands for one row: its id, signed (HMAC-SHA256) with
    the app's secret under a salt of its own. Nothing is stored."""
    return _serializer(secret, salt).dumps(ident)


def signed_id(secret: str, salt: str, token: str) -> int | None:
    """The id a signed link stands for, or None when it is tampered or not ours."""
    try:
        value = _serializer(secret, salt).loads(token)
    except BadData:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def _serializer(secret: str, salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=salt, signer_kwargs={"digest_method": hashlib.sha256})
