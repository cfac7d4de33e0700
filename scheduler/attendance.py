"""When attendance may be taken: plain rules, no database.

Attendance is for a group session that has started, never before. Staff may take or
correct it up to ``Policy.attendance_days_back`` days after the day it met; later
corrections need an admin and a reason (they change completed counts and credit).
"""

from __future__ import annotations

from datetime import date, datetime

from scheduler.config import Policy

NOT_YET = "Attendance can be taken once the group session has started"
TOO_LATE = ("This group session met more than {days} days ago; an admin can correct its "
            "attendance, with a reason")
SAY_WHY = "Say why this older attendance is being corrected"


def refusal(starts_at: datetime, session_day: date, now: datetime, today: date,
            policy: Policy, *, role: str | None, reason: str | None) -> tuple[str, str] | None:
    """(field, why) when attendance for this session may not be recorded now by this
    role, else None. ``role`` None is the program itself (imports, the demo)."""
    if now < starts_at:
        return "group_session", NOT_YET
    if role is None or (today - session_day).days <= policy.attendance_days_back:
        return None
    if role != "admin":
        return "group_session", TOO_LATE.format(days=policy.attendance_days_back)
    if not (reason or "").strip():
        return "reason", SAY_WHY
    return None
