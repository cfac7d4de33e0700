"""Reminders go out in groups (issue 15): what their calendar entries need is read once
for the whole group, so sending costs the same few statements whatever the group's
size, and each person still gets their own entry, worded as in their own feed."""

from __future__ import annotations

import itertools
from datetime import date
from email import message_from_bytes
from email import policy as email_policy

import sqlalchemy as sa
from icalendar import Calendar

from calendars import tokens
from calendars.build import build_feed, feed_uid_key
from scheduler.models import db
from scheduler.services import delivery, outbox
from tests.integration.reminder_support import utc
from tests.integration.test_channels import smtp  # noqa: F401  (the local SMTP server)
from tests.statements import counted

NUMBERS = itertools.count()


def people_with_reminders(build, clock, count: int, **client) -> list:
    """``count`` people, each in a cohort of their own, with tomorrow's reminder due."""
    people = []
    for _ in range(count):
        n = next(NUMBERS)
        person = build.client(f"Person {n}", email=f"person{n}@example.test", **client)
        build.enroll(person, build.cohort(), joined_on=date(2026, 11, 2))
        people.append(person)
    return people


def statements_sending(clock, policy) -> int:
    with counted() as seen:
        counts = delivery.send_due(clock(), policy)
    assert counts.get("sent", 0) >= 2, counts
    return len(seen)


def attached_event(raw: bytes):
    mail = message_from_bytes(raw, policy=email_policy.default)
    [part] = [p for p in mail.iter_attachments() if p.get_filename() == "group-session.ics"]
    [event] = Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")
    return mail["To"], event


def test_a_group_of_eight_reminders_costs_the_same_statements_as_a_group_of_two(
        app, build, clock, policy, smtp):  # noqa: F811
    counted = []
    for count in (2, 8):
        people_with_reminders(build, clock, count)
        outbox.plan_reminders(clock(), policy)
        at = clock()
        clock.set(utc(2026, 11, 30, 21, 0))  # the day before's reminders are due
        counted.append(statements_sending(clock, policy))
        clock.set(at)
    assert counted[0] == counted[1], counted


def test_each_reminder_in_a_group_carries_its_own_persons_entry_as_in_their_feed(
        app, build, clock, policy, smtp):  # noqa: F811
    titled = people_with_reminders(build, clock, 2, calendar_title="Tuesday thing",
                                   show_location=True)
    plain = people_with_reminders(build, clock, 2)
    outbox.plan_reminders(clock(), policy)
    clock.set(utc(2026, 11, 30, 21, 0))
    assert delivery.send_due(clock(), policy)["sent"] == 4
    by_address = dict(attached_event(raw) for _to, raw in smtp.messages)
    for person in titled + plain:
        event = by_address[person.email]
        feed = Calendar.from_ical(build_feed("client", person.id, clock(), policy,
                                             feed_uid_key(app.config)))
        [same] = [e for e in feed.walk("VEVENT") if e["UID"] == event["UID"]]
        assert (str(event["SUMMARY"]), event.get("LOCATION"), event["SEQUENCE"]) == (
            str(same["SUMMARY"]), same.get("LOCATION"), same["SEQUENCE"])
    assert {str(by_address[p.email]["SUMMARY"]) for p in titled} == {"Tuesday thing"}
    assert {str(by_address[p.email]["SUMMARY"]) for p in plain} == {"Group session"}
    assert all(by_address[p.email].get("LOCATION") for p in titled)
    assert not any(by_address[p.email].get("LOCATION") for p in plain)


def test_in_one_group_only_the_person_whose_calendar_follows_their_feed_gets_no_copy(
        app, build, clock, policy, smtp):  # noqa: F811
    following, other = people_with_reminders(build, clock, 2)
    info = tokens.lookup(tokens.issue("client", following.id, clock()))
    tokens.mark_subscribed(info, clock())
    db.session.commit()
    outbox.plan_reminders(clock(), policy)
    clock.set(utc(2026, 11, 30, 21, 0))
    assert delivery.send_due(clock(), policy)["sent"] == 2
    mails = {to[0]: message_from_bytes(raw, policy=email_policy.default)
             for to, raw in smtp.messages}
    assert list(mails[following.email].iter_attachments()) == []
    assert [p.get_filename() for p in mails[other.email].iter_attachments()] == [
        "group-session.ics"]


def only_the_broken_one_fails(clock, policy, inbox, others) -> None:
    """Tomorrow's reminders go out together: one fails, the others arrive."""
    outbox.plan_reminders(clock(), policy)
    clock.set(utc(2026, 11, 30, 21, 0))
    counts = delivery.send_due(clock(), policy)
    assert (counts.get("sent"), counts.get("failed")) == (2, 1)
    assert sorted(to[0] for to, _raw in inbox.messages) == sorted(p.email for p in others)


def test_a_reminder_whose_entry_cannot_be_built_fails_alone_and_the_rest_go_out(
        app, build, clock, policy, smtp, monkeypatch):  # noqa: F811
    from scheduler import messages

    broken, *others = people_with_reminders(build, clock, 3)
    real = messages.client_session_files

    def files(pairs, *args):
        pairs = list(pairs)
        if any(client_id == broken.id for client_id, _ in pairs):
            raise ValueError("an entry that cannot be built")
        return real(pairs, *args)

    monkeypatch.setattr(messages, "client_session_files", files)
    only_the_broken_one_fails(clock, policy, smtp, others)


def test_a_reminder_whose_words_cannot_be_written_fails_alone_and_is_not_left_unknown(
        app, build, clock, policy, smtp, monkeypatch):  # noqa: F811
    from scheduler.models import Notification

    broken, *others = people_with_reminders(build, clock, 3)
    real = delivery.word

    def word(drafted, env):
        if drafted.to == broken.email:
            raise ValueError("a template that cannot be written")
        return real(drafted, env)

    monkeypatch.setattr(delivery, "word", word)
    only_the_broken_one_fails(clock, policy, smtp, others)
    row = db.session.scalars(sa.select(Notification).where(
        Notification.recipient == broken.email, Notification.kind == "reminder")).one()
    assert (row.status, row.sending_at) == ("failed", None)
    assert row.error.startswith("render: a template that cannot be written")
