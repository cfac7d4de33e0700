"""Use cases for staff accounts and their API tokens: joining, roles, passwords,
tokens that expire, and offboarding (disable: every token and session stops at once).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from scheduler.errors import AlreadyExists, InvalidTransition, InvalidValue, NotFound
from scheduler.models import ROLES, ApiToken, Location, StaffUser, db
from scheduler.passwords import check_password, hash_password
from scheduler.security import new_token, token_hash
from scheduler.services import audit

TOKEN_DAYS = 90  # an API token's life unless asked otherwise


def create_staff(email: str, role: str, now: datetime, *, name: str = "",
                 password_hash: str | None = None) -> tuple[StaffUser, str]:
    """Create a staff user and a first API token. Returns (user, plaintext token);
    the plaintext is never stored and cannot be shown again."""
    if role not in ROLES:
        raise InvalidValue(f"Role must be one of {', '.join(ROLES)}", field="role")
    email = email.strip().lower()
    if db.session.scalar(sa.select(StaffUser.id).where(StaffUser.email == email)):
        raise AlreadyExists(f"{email} already has an account", field="email")
    user = StaffUser(email=email, role=role, name=name or email.split("@")[0],
                     password_hash=password_hash, created_at=now, updated_at=now)
    db.session.add(user)
    db.session.flush()
    token = issue_token(user, now)
    db.session.commit()
    return user, token


def issue_token(user: StaffUser, now: datetime, label: str = "",
                days: int | None = TOKEN_DAYS) -> str:
    """A new API token for ``user`` (the caller commits); it stops working after
    ``days`` (None: only when revoked). The plaintext is returned, never stored."""
    if days is not None and not 1 <= days <= 3650:
        raise InvalidValue("A token lasts between 1 and 3650 days", field="days")
    if not user.active:
        raise InvalidTransition("This account is disabled; enable it first")
    token = new_token()
    db.session.add(ApiToken(staff_id=user.id, token_hash=token_hash(token), label=label[:120],
                            created_at=now,
                            expires_at=now + timedelta(days=days) if days else None))
    return token


def staff_for_token(token: str, now: datetime) -> StaffUser | None:
    """The active staff user a live bearer token belongs to, or None (unknown,
    revoked, expired, or the account is disabled: all the same)."""
    row = db.session.execute(
        sa.select(ApiToken, StaffUser).join(StaffUser).where(
            ApiToken.token_hash == token_hash(token), ApiToken.revoked_at.is_(None),
            sa.or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now),
            StaffUser.active.is_(True))
    ).first()
    return row.StaffUser if row else None


def staff_for_session(session_id: str) -> StaffUser | None:
    """The console session's user: "<id>:<session version>", active, same version."""
    ident, _, version = (session_id or "").partition(":")
    if not ident.isdigit() or not version.isdigit():
        return None
    user = db.session.get(StaffUser, int(ident))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def _user(staff_id: int) -> StaffUser:
    user = db.session.get(StaffUser, staff_id)
    if user is None:
        raise NotFound(f"Staff user {staff_id} was not found")
    return user


def _record(action: str, user: StaffUser, by: int | None, now: datetime, **detail) -> None:
    audit.stage(action, "staff_user", user.id, staff_id=by, ip=None, now=now,
                detail={"email": user.email, **detail})


def end_sessions(staff_id: int, now: datetime) -> None:
    """Sign this person out everywhere (their console sessions stop at once)."""
    user = _user(staff_id)
    user.session_version += 1
    user.updated_at = now
    db.session.commit()


def disable_staff(staff_id: int, now: datetime, *, by: int | None = None) -> StaffUser:
    """Offboard: the account stops, with every API token and console session."""
    user = _user(staff_id)
    if by == staff_id:
        raise InvalidTransition("You cannot disable your own account")
    user.active = False
    user.session_version += 1
    user.updated_at = now
    revoked = db.session.execute(
        sa.update(ApiToken).where(ApiToken.staff_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now).execution_options(synchronize_session=False)).rowcount
    _record("staff.disable", user, by, now, tokens_revoked=revoked or 0)
    db.session.commit()
    return user


def enable_staff(staff_id: int, now: datetime, *, by: int | None = None) -> StaffUser:
    """Let a disabled account sign in again (old tokens stay revoked)."""
    user = _user(staff_id)
    user.active = True
    user.updated_at = now
    _record("staff.enable", user, by, now)
    db.session.commit()
    return user


def change_role(staff_id: int, role: str, now: datetime, *, by: int | None = None,
                ) -> StaffUser:
    if role not in ROLES:
        raise InvalidValue(f"Role must be one of {', '.join(ROLES)}", field="role")
    user = _user(staff_id)
    if by == staff_id and role != user.role:
        raise InvalidTransition("Ask another admin to change your own role")
    old, user.role, user.updated_at = user.role, role, now
    user.session_version += 1  # pages already open were for the old role
    _record("staff.role", user, by, now, old=old, new=role)
    db.session.commit()
    return user


def choose_site(staff_id: int, location_id: int | None, now: datetime) -> StaffUser:
    """The site this person works at, chosen by themself: Today, Cohorts and
    Director's capacity show it. None: every site. An unknown site is refused
    naming ``location_id``. Audited in the same commit."""
    user = _user(staff_id)
    if location_id is not None and db.session.get(Location, location_id) is None:
        raise InvalidValue(f"Site {location_id} was not found", field="location_id")
    if user.location_id != location_id:
        user.location_id, user.updated_at = location_id, now
        _record("staff.site_chosen", user, staff_id, now, location_id=location_id)
        db.session.commit()
    return user


def new_token_for(staff_id: int, now: datetime, *, label: str = "",
                  days: int | None = TOKEN_DAYS, by: int | None = None) -> tuple[ApiToken, str]:
    """Issue an API token (shown once) and record who asked."""
    user = _user(staff_id)
    token = issue_token(user, now, label, days)
    db.session.flush()
    row = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == token_hash(token)))
    _record("staff.token_issued", user, by, now, token_id=row.id, days=days)
    db.session.commit()
    return row, token


def revoke_token(token_id: int, now: datetime, *, by: int | None = None) -> ApiToken:
    row = db.session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"API token {token_id} was not found")
    if row.revoked_at is None:
        row.revoked_at = now
        _record("staff.token_revoked", row.staff, by, now, token_id=row.id)
    db.session.commit()
    return row


def tokens_of(staff_id: int) -> list[ApiToken]:
    _user(staff_id)
    return list(db.session.scalars(sa.select(ApiToken).where(ApiToken.staff_id == staff_id)
                                   .order_by(ApiToken.id.desc())))


def staff_for_sign_in(email: str, password: str) -> StaffUser | None:
    """The active staff user with this email and password, or None.

    An unknown email still costs one hash check, so the answer time does not tell
    which addresses have accounts.
    """
    user = db.session.scalar(
        sa.select(StaffUser).where(StaffUser.email == (email or "").strip().lower()))
    if user is None:
        check_password(_dummy_hash(), password)
        return None
    if not user.active or not check_password(user.password_hash, password):
        return None
    return user


_DUMMY: list[str] = []


def _dummy_hash() -> str:
    if not _DUMMY:
        _DUMMY.append(hash_password("not-a-real-password"))
    return _DUMMY[0]


MIN_PASSWORD_LENGTH = 12


def set_password(staff_id: int, password: str, now: datetime) -> StaffUser:
    """Give a staff user a new console password (an admin's reset, or the CLI);
    every console session they had ends."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise InvalidValue(f"Use at least {MIN_PASSWORD_LENGTH} characters",
                           field="password")
    user = _user(staff_id)
    user.password_hash = hash_password(password)
    user.session_version += 1
    user.updated_at = now
    db.session.commit()
    return user


def staff_by_email(email: str) -> StaffUser:
    user = db.session.scalar(
        sa.select(StaffUser).where(StaffUser.email == email.strip().lower()))
    if user is None:
        raise NotFound(f"No staff user {email}", field="email")
    return user
