"""Two unexcused absences in a row: pause kindly, tell staff, one warm message."""

from datetime import date, timedelta

import sqlalchemy as sa

from scheduler.models import Enrollment, FollowUp, db
from scheduler.services import disengagement, enrollments
from scheduler.services.staff import create_staff
from tests.integration.reminder_support import rows, session_at, utc

MON, WED, THU = utc(2026, 11, 23, 23, 0), utc(2026, 11, 25, 23, 0), utc(2026, 11, 26, 23, 0)


def _enrolled(build):
    cohort = build.cohort()
    client = build.client(email="sam@example.test")
    enrollment = build.enroll(client, cohort, joined_on=date(2026, 11, 2))
    return cohort, client, enrollment


def _mark(cohort, client, clock, policy, *marks):
    for starts_at, status in marks:
        enrollments.record_attendance(session_at(cohort, starts_at).id,
                                      [{"client_id": client.id, "status": status}], None,
                                      clock(), policy)


def test_two_unexcused_absences_in_a_row_pause_the_enrollment_and_hold_the_seat(
        build, clock, policy):
    cohort, client, enrollment = _enrolled(build)
    _mark(cohort, client, clock, policy, (MON, "present"), (WED, "absent"), (THU, "absent"))
    assert disengagement.detect_disengagement(clock(), policy) == 1
    row = db.session.get(Enrollment, enrollment.id)
    assert row.status == "paused"
    assert row.hold_until == clock() + timedelta(days=policy.auto_release_days)


def test_staff_get_a_follow_up_item_and_an_email(build, clock, policy):
    create_staff("coord@staff.test", "coordinator", clock())
    cohort, client, enrollment = _enrolled(build)
    _mark(cohort, client, clock, policy, (WED, "absent"), (THU, "absent"))
    disengagement.detect_disengagement(clock(), policy)
    [item] = db.session.scalars(sa.select(FollowUp)).all()
    assert (item.client_id, item.enrollment_id) == (client.id, enrollment.id)
    [mail] = rows(kind="staff_follow_up")
    assert mail.recipient == "coord@staff.test" and mail.payload["follow_up_id"] == item.id


def test_the_client_gets_one_warm_message_however_often_the_job_runs(build, clock, policy):
    cohort, client, _ = _enrolled(build)
    _mark(cohort, client, clock, policy, (WED, "absent"), (THU, "absent"))
    for _ in range(3):
        disengagement.detect_disengagement(clock(), policy)
        clock.advance(minutes=15)
    assert [(n.recipient, n.status) for n in rows(kind="outreach")] == [
        ("sam@example.test", "pending")]


def test_an_excused_absence_between_two_absences_pauses_nothing(build, clock, policy):
    cohort, client, enrollment = _enrolled(build)
    _mark(cohort, client, clock, policy, (MON, "absent"), (WED, "excused"), (THU, "absent"))
    assert disengagement.detect_disengagement(clock(), policy) == 0
    assert db.session.get(Enrollment, enrollment.id).status == "active"


def test_after_coming_back_the_old_absences_do_not_pause_again(build, clock, policy):
    cohort, client, enrollment = _enrolled(build)
    _mark(cohort, client, clock, policy, (WED, "absent"), (THU, "absent"))
    disengagement.detect_disengagement(clock(), policy)
    enrollments.change_status(enrollment.id, "active", clock(), policy)
    clock.advance(hours=1)
    assert disengagement.detect_disengagement(clock(), policy) == 0
    assert len(rows(kind="outreach")) == 1


def test_a_second_pause_later_sends_a_second_message(build, clock, policy):
    cohort, client, enrollment = _enrolled(build)
    _mark(cohort, client, clock, policy, (WED, "absent"), (THU, "absent"))
    disengagement.detect_disengagement(clock(), policy)
    enrollments.change_status(enrollment.id, "active", clock(), policy)
    clock.set(utc(2026, 12, 4, 12, 0))
    _mark(cohort, client, clock, policy, (utc(2026, 12, 2, 23, 0), "absent"),
          (utc(2026, 12, 3, 23, 0), "absent"))
    assert disengagement.detect_disengagement(clock(), policy) == 1
    assert len(rows(kind="outreach")) == 2


def test_the_held_seat_is_freed_automatically_after_the_release_days(build, clock, policy):
    cohort, client, enrollment = _enrolled(build)
    _mark(cohort, client, clock, policy, (WED, "absent"), (THU, "absent"))
    disengagement.detect_disengagement(clock(), policy)
    clock.advance(days=policy.auto_release_days, seconds=1)
    assert enrollments.release_expired_holds(clock()) == 1
    assert db.session.get(Enrollment, enrollment.id).hold_until is None
