"""Sending the outbox: once, on time, or not at all."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from scheduler.channels import NullChannel
from scheduler.models import Notification
from scheduler.services import delivery, outbox
from tests.integration.reminder_support import rows, utc


@pytest.fixture
def outdir(app, tmp_path):
    app.config.update(OUTBOX_TRANSPORT="file", OUTBOX_DIR=str(tmp_path / "outbox"))
    return tmp_path / "outbox"


def sent_files(outdir) -> list[str]:
    return sorted(p.name for p in outdir.glob("*")) if outdir.exists() else []


def test_a_due_reminder_is_sent_once_and_recorded(build, clock, policy, outdir):
    clock.set(utc(2026, 11, 30, 15, 0))
    build.enroll(build.client(email="a@example.test"), build.cohort(),
                 joined_on=date(2026, 11, 2))
    outbox.plan_reminders(clock(), policy)
    clock.set(utc(2026, 11, 30, 21, 0))
    assert delivery.send_due(clock(), policy)["sent"] == 1
    assert delivery.send_due(clock(), policy).get("sent", 0) == 0
    [row] = rows(kind="reminder")
    assert (row.status, row.sent_at, row.attempts) == ("sent", clock(), 1)
    assert len(sent_files(outdir)) == 1


def test_nothing_is_sent_before_it_is_due(build, clock, policy, outdir):
    build.enroll(build.client(email="a@example.test"), build.cohort(),
                 joined_on=date(2026, 11, 2))
    outbox.plan_reminders(clock(), policy)
    assert delivery.send_due(clock(), policy).get("sent", 0) == 0
    assert sent_files(outdir) == []


def test_a_reminder_still_unsent_when_its_session_starts_expires(build, clock, policy, outdir):
    build.enroll(build.client(email="a@example.test"), build.cohort(),
                 joined_on=date(2026, 11, 2))
    outbox.plan_reminders(clock(), policy)
    clock.set(utc(2026, 11, 30, 23, 0))
    delivery.send_due(clock(), policy)
    assert [n.status for n in rows(kind="reminder")] == ["expired"]
    assert sent_files(outdir) == []


def test_after_two_hours_down_due_messages_go_once_and_stale_ones_expire(
        build, clock, policy, outdir):
    from datetime import time

    early = build.cohort(start_time=time(16, 0))  # 21:00Z, reminder due 19:00Z
    late = build.cohort(start_time=time(18, 0))  # 23:00Z, reminder due 21:00Z
    client = build.client(email="a@example.test")
    build.enroll(client, early, joined_on=date(2026, 11, 2))
    build.enroll(client, late, joined_on=date(2026, 11, 2))
    outbox.plan_reminders(clock(), policy)
    clock.set(utc(2026, 11, 30, 21, 30))  # the runner was down 19:30Z-21:30Z
    delivery.send_due(clock(), policy)
    clock.advance(seconds=20)
    delivery.send_due(clock(), policy)
    assert sorted((n.expires_at.hour, n.status) for n in rows(kind="reminder")) == [
        (21, "expired"), (23, "sent")]
    assert len(sent_files(outdir)) == 1


def test_a_reminder_for_a_session_that_changed_is_cancelled_not_sent(
        build, clock, policy, outdir, db):
    cohort = build.cohort()
    build.enroll(build.client(email="a@example.test"), cohort, joined_on=date(2026, 11, 2))
    outbox.plan_reminders(clock(), policy)
    [row] = rows(kind="reminder")
    db.session.execute(sa.text("UPDATE group_session SET revision = revision + 1 "
                               "WHERE id = :id"), {"id": row.payload["group_session_id"]})
    db.session.commit()
    clock.set(utc(2026, 11, 30, 21, 0))
    delivery.send_due(clock(), policy)
    assert [n.status for n in rows(kind="reminder")] == ["cancelled"]
    assert sent_files(outdir) == []


def test_a_client_who_stopped_email_gets_no_email(build, clock, policy, outdir):
    client = build.client(email="a@example.test")
    build.enroll(client, build.cohort(), joined_on=date(2026, 11, 2))
    outbox.plan_reminders(clock(), policy)
    outbox.opt_out(client.id, "email", clock())
    clock.set(utc(2026, 11, 30, 21, 0))
    delivery.send_due(clock(), policy)
    assert [n.status for n in rows(kind="reminder")] == ["cancelled"]
    assert sent_files(outdir) == []


def test_a_text_due_in_quiet_hours_waits_for_the_morning(build, clock, policy, outdir, db):
    client = build.client(phone="617-555-0100", reminder_channels=["sms"])
    db.session.add(Notification(
        key="outreach:test:1", kind="outreach", client_id=client.id, channel="sms",
        recipient=client.phone, subject_ref="enrollment:1", payload={},
        due_at=utc(2026, 12, 1, 2, 30), status="pending"))
    db.session.commit()
    clock.set(utc(2026, 12, 1, 3, 0))  # 10:00 PM in Boston
    assert delivery.send_due(clock(), policy)["deferred"] == 1
    [row] = rows(kind="outreach")
    assert (row.status, row.due_at) == ("pending", utc(2026, 12, 1, 13, 0))
    clock.set(utc(2026, 12, 1, 13, 0))
    delivery.send_due(clock(), policy)
    assert [n.status for n in rows(kind="outreach")] == ["sent"]


def test_queueing_a_text_at_night_plans_it_for_eight_in_the_morning(build, clock, db):
    client = build.client(phone="617-555-0100", reminder_channels=["sms"])
    clock.set(utc(2026, 12, 1, 4, 0))  # 11:00 PM
    [row] = outbox.queue("welcome_back", client, subject_ref="return_request:1",
                         occurrence="1", due_at=clock(), now=clock())
    db.session.commit()
    assert row.due_at == utc(2026, 12, 1, 13, 0)


def _claimed(db, build, clock, policy, *, sending: bool) -> Notification:
    build.enroll(build.client(email="a@example.test"), build.cohort(),
                 joined_on=date(2026, 11, 2))
    outbox.plan_reminders(clock(), policy)
    clock.set(utc(2026, 11, 30, 21, 0))
    [nid] = delivery.claim("dead-runner", clock(), 10, timedelta(minutes=5))
    if sending:
        db.session.execute(sa.update(Notification).where(Notification.id == nid)
                           .values(sending_at=clock()))
        db.session.commit()
    return nid


def test_a_claimed_row_whose_runner_died_before_sending_is_sent_after_the_lease(
        build, clock, policy, outdir, db):
    _claimed(db, build, clock, policy, sending=False)
    assert delivery.send_due(clock(), policy).get("sent", 0) == 0  # lease still held
    clock.advance(minutes=6)
    assert delivery.send_due(clock(), policy)["sent"] == 1
    assert len(sent_files(outdir)) == 1


def test_a_row_that_may_have_gone_out_is_marked_unknown_not_sent_again(
        build, clock, policy, outdir, db):
    _claimed(db, build, clock, policy, sending=True)
    clock.advance(minutes=6)
    counts = delivery.send_due(clock(), policy)
    assert counts["unknown"] == 1 and counts.get("sent", 0) == 0
    assert [n.status for n in rows(kind="reminder")] == ["unknown"]
    assert sent_files(outdir) == []


def test_a_provider_failure_is_retried_later_then_given_up(build, clock, policy, app):
    app.config.update(OUTBOX_TRANSPORT="auto", SMS_GATEWAY_URL="http://127.0.0.1:9/none")
    client = build.client(phone="617-555-0100", reminder_channels=["sms"])
    outbox.queue("welcome_back", client, subject_ref="return_request:1", occurrence="1",
                 due_at=clock(), now=clock())
    from scheduler.models import db

    db.session.commit()
    outcomes = []
    for _ in range(policy.send_max_attempts):
        outcomes.append(next(k for k in delivery.send_due(clock(), policy)
                             if k in ("pending", "failed")))
        clock.advance(hours=1)
    assert outcomes == ["pending"] * (policy.send_max_attempts - 1) + ["failed"]
    [row] = rows(kind="welcome_back")
    assert row.attempts == policy.send_max_attempts and "SMS gateway" in row.error


def test_a_sending_run_stops_claiming_once_its_time_is_used(app, db, build, clock, policy):
    for n in range(3):
        person = build.client(f"Person {n}", email=f"p{n}@example.org")
        outbox.queue("welcome_back", person, subject_ref=f"client:{person.id}",
                     occurrence="budget", due_at=clock(), now=clock())
    db.session.commit()
    app.config["OUTBOX_SEND_BUDGET_SECONDS"] = 0  # already used up
    counts = delivery.send_due(clock(), policy, transports={"email": NullChannel()})
    assert counts.get("over_budget") == 1 and counts.get("sent", 0) == 0
    assert {n.status for n in db.session.scalars(sa.select(Notification))} == {"pending"}


def test_a_slow_provider_cannot_hold_a_run_past_its_time_and_nothing_is_lost(
        app, db, build, clock, policy, monkeypatch):
    """Each send takes 2 (fake) seconds of a 3-second run: two go, the rest are
    handed back untouched (never given to the provider, so safe to send later)."""
    ticks = {"now": 0.0}
    monkeypatch.setattr(delivery.time, "monotonic", lambda: ticks["now"])

    class Slow(NullChannel):
        def send(self, message):
            ticks["now"] += 2
            return super().send(message)

    for n in range(5):
        person = build.client(f"Person {n}", email=f"p{n}@example.org")
        outbox.queue("welcome_back", person, subject_ref=f"client:{person.id}",
                     occurrence="slow", due_at=clock(), now=clock())
    db.session.commit()
    app.config["OUTBOX_SEND_BUDGET_SECONDS"] = 3
    counts = delivery.send_due(clock(), policy, transports={"email": Slow()})
    assert counts["sent"] == 2 and counts["later"] == 3
    statuses = sorted((n.status, n.sending_at is None, n.attempts)
                      for n in db.session.scalars(sa.select(Notification)))
    assert statuses == [("pending", True, 0)] * 3 + [("sent", False, 1)] * 2
