"""Use cases for staff accounts and their API tokens."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from scheduler.errors import InvalidValue, NotFound
from scheduler.models import ROLES, ApiToken, StaffUser, db
from scheduler.security import new_token, token_hash


def create_staff(email: str, role: str, now: datetime, *, name: str = "",
                 password_hash: str | None = None) -> tuple[StaffUser, str]:
    """Create a staff user and a first API token. Returns (user, plaintext token);
    the plaintext is never stored and cannot be shown again."""
    if role not in ROLES:
        raise InvalidValue(f"Role must be one of {', '.join(ROLES)}", field="role")
    email = email.strip().lower()
    if db.session.scalar(sa.select(StaffUser.id).where(StaffUser.email == email)):
        raise InvalidValue(f"{email} already has an account", field="email")
    user = StaffUser(email=email, role=role, name=name or email.split("@")[0],
                     password_hash=password_hash, created_at=now, updated_at=now)
    db.session.add(user)
    db.session.flush()
    token = issue_token(user, now)
    db.session.commit()
    return user, token


def issue_token(user: StaffUser, now: datetime, label: str = "") -> str:
    token = new_token()
    db.session.add(ApiToken(staff_id=user.id, token_hash=token_hash(token), label=label,
                            created_at=now))
    return token


def staff_for_token(token: str, now: datetime) -> StaffUser | None:
    """The active staff user a bearer token belongs to, or None."""
    row = db.session.execute(
        sa.select(ApiToken, StaffUser).join(StaffUser).where(
            ApiToken.token_hash == token_hash(token), ApiToken.revoked_at.is_(None),
            StaffUser.active.is_(True))
    ).first()
    return row.StaffUser if row else None


def token_for_email(email: str, now: datetime, *, create_role: str | None = None,
                    ) -> tuple[StaffUser, str]:
    """A new token for an existing user, or a new user when ``create_role`` is given."""
    user = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == email.lower()))
    if user is None:
        if create_role is None:
            raise NotFound(f"No staff user {email}; pass --role to create one", field="email")
        return create_staff(email, create_role, now)
    token = issue_token(user, now)
    db.session.commit()
    return user, token


def staff_for_sign_in(email: str, password: str) -> StaffUser | None:
    """The active staff user with this email and password, or None.

    An unknown email still costs one hash check, so the answer time does not tell
    which addresses have accounts.
    """
    from scheduler.passwords import check_password, hash_password

    user = db.session.scalar(
        sa.select(StaffUser).where(StaffUser.email == (email or "").strip().lower()))
    if user is None:
        check_password(_dummy_hash(hash_password), password)
        return None
    if not user.active or not check_password(user.password_hash, password):
        return None
    return user


_DUMMY: list[str] = []


def _dummy_hash(hash_password) -> str:
    if not _DUMMY:
        _DUMMY.append(hash_password("not-a-real-password"))
    return _DUMMY[0]


MIN_PASSWORD_LENGTH = 12


def set_password(staff_id: int, password: str, now: datetime) -> StaffUser:
    """Give a staff user a new console password (an admin's reset, or the CLI)."""
    from scheduler.passwords import hash_password

    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise InvalidValue(f"Use at least {MIN_PASSWORD_LENGTH} characters",
                           field="password")
    user = db.session.get(StaffUser, staff_id)
    if user is None:
        raise NotFound(f"Staff user {staff_id} was not found")
    user.password_hash = hash_password(password)
    user.updated_at = now
    db.session.commit()
    return user


def staff_by_email(email: str) -> StaffUser:
    user = db.session.scalar(
        sa.select(StaffUser).where(StaffUser.email == email.strip().lower()))
    if user is None:
        raise NotFound(f"No staff user {email}", field="email")
    return user
