"""Noticing when someone has stopped coming, kindly.

After ``absences_to_pause`` unexcused absences in a row the enrollment is paused
(its seat held for ``auto_release_days``, or until staff release it), staff get
a follow-up item and an email, and the client gets one warm message. The message
is keyed on the enrollment and the moment of the pause, so each pause sends at
most one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from scheduler.config import Policy
from scheduler.models import Attendance, Client, Enrollment, FollowUp, GroupSession, db
from scheduler.reminders import consecutive_unexcused_absences
from scheduler.services import enrollments, outbox
from scheduler.timeutil import human_when

FOLLOW_UP_KIND = "paused_after_absences"


def _marks_latest_first(enrollment: Enrollment, since: datetime | None,
                        now: datetime, limit: int) -> list[str]:
    query = (sa.select(Attendance.status)
             .join(GroupSession, GroupSession.id == Attendance.group_session_id)
             .where(GroupSession.cohort_id == enrollment.cohort_id,
                    Attendance.client_id == enrollment.client_id,
                    GroupSession.status == "scheduled",
                    GroupSession.occurs_on >= enrollment.joined_on,
                    GroupSession.starts_at <= now)
             .order_by(GroupSession.starts_at.desc()).limit(limit))
    if since is not None:  # after an earlier pause, count afresh
        query = query.where(GroupSession.starts_at > since)
    return list(db.session.scalars(query))


def detect_disengagement(now: datetime, policy: Policy) -> int:
    """Job: pause enrollments with N unexcused absences in a row. Returns how many."""
    n = policy.absences_to_pause
    candidates = list(db.session.scalars(
        sa.select(Enrollment.id).where(Enrollment.status == "active")
        .where(sa.select(sa.func.count()).select_from(Attendance)
               .join(GroupSession, GroupSession.id == Attendance.group_session_id)
               .where(GroupSession.cohort_id == Enrollment.cohort_id,
                      Attendance.client_id == Enrollment.client_id,
                      Attendance.status == "absent").scalar_subquery() >= n)
        .order_by(Enrollment.id)))
    db.session.rollback()
    paused = 0
    for enrollment_id in candidates:
        paused += pause_if_disengaged(enrollment_id, now, policy)
    return paused


def pause_if_disengaged(enrollment_id: int, now: datetime, policy: Policy) -> int:
    """Pause one enrollment when its latest marks are N unexcused absences; one commit."""
    enrollment = db.session.get(Enrollment, enrollment_id)
    if enrollment is None or enrollment.status != "active":
        db.session.rollback()
        return 0
    last_pause = db.session.scalar(
        sa.select(sa.func.max(FollowUp.created_at)).where(
            FollowUp.enrollment_id == enrollment_id, FollowUp.kind == FOLLOW_UP_KIND))
    marks = _marks_latest_first(enrollment, last_pause, now, policy.absences_to_pause)
    absences = consecutive_unexcused_absences(marks)
    if absences < policy.absences_to_pause:
        db.session.rollback()
        return 0
    enrollments.set_status(enrollment, "paused", now, policy)
    enrollment.hold_until = now + timedelta(days=policy.auto_release_days)
    follow_up = FollowUp(kind=FOLLOW_UP_KIND, client_id=enrollment.client_id,
                         enrollment_id=enrollment_id, created_at=now, updated_at=now,
                         note=f"Paused after {absences} absences in a row; reach out warmly.")
    db.session.add(follow_up)
    db.session.flush()
    occurrence = enrollment.paused_at.strftime("%Y%m%dT%H%M%SZ")
    ref = f"enrollment:{enrollment_id}"
    client = db.session.get(Client, enrollment.client_id)
    tz = ZoneInfo(enrollment.cohort.location.timezone)
    outbox.queue("outreach", client, subject_ref=ref, occurrence=occurrence, due_at=now,
                 now=now, payload={"enrollment_id": enrollment_id, "tz": tz.key}, tz=tz)
    outbox.queue_for_staff("staff_follow_up", subject_ref=ref, occurrence=occurrence, now=now,
                           payload={"enrollment_id": enrollment_id,
                                    "follow_up_id": follow_up.id, "absences": absences,
                                    "hold_until_when": human_when(enrollment.hold_until, tz)})
    db.session.commit()
    return 1
