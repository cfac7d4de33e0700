"""Someone whose calendar app follows their feed is not sent copies of its events:
once a calendar app has fetched the feed (the feed knows), session emails stop
attaching the entry and say it is already in their calendar, and their page stops
offering "Add just this one", saying why (issue 14)."""

from __future__ import annotations

from datetime import date
from email import message_from_bytes
from email import policy as email_policy

import pytest
import sqlalchemy as sa

from calendars import tokens
from calendars.subscription import fetched_by_calendar_app
from scheduler.models import GroupSession
from scheduler.services import cohorts, delivery, outbox
from tests.integration.reminder_support import utc
from tests.integration.test_channels import smtp  # noqa: F401  (the local SMTP server)

GOOGLE = "Google-Calendar-Importer"
IPHONE = "iOS/17.4 (21E219) dataaccessd/1.0"
MAC = "macOS/14.4 (23E214) CalendarAgent/1043"
OUTLOOK = "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)"
THUNDERBIRD = "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Thunderbird/115.9.0"
CHROME = ("Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/123.0 Mobile Safari/537.36")


@pytest.mark.parametrize(("agent", "download", "subscribed"), [
    (GOOGLE, False, True), (IPHONE, False, True), (MAC, False, True), (OUTLOOK, False, True),
    (THUNDERBIRD, False, True), (CHROME, False, False), ("curl/8.5.0", False, False),
    ("", False, False), (GOOGLE, True, False)])
def test_only_a_calendar_app_keeping_the_link_counts_as_a_subscription(
        agent, download, subscribed):
    assert fetched_by_calendar_app(agent, download) is subscribed


@pytest.fixture
def sam(app, build, clock, policy):
    cohort = build.cohort()
    person = build.client("Sam Rivera", email="sam@example.test")
    build.enroll(person, cohort, joined_on=date(2026, 11, 2))
    token = tokens.issue("client", person.id, clock())
    return person, f"/feeds/{token}.ics", f"/me/{token}"


def reminder_mail(smtp, clock, policy):  # noqa: F811
    outbox.plan_reminders(clock(), policy)
    clock.set(utc(2026, 11, 30, 21, 0))
    assert delivery.send_due(clock(), policy)["sent"] >= 1
    return message_from_bytes(smtp.messages[-1][1], policy=email_policy.default)


def test_before_subscribing_the_reminder_carries_the_entry(app, sam, smtp, clock, policy):  # noqa: F811
    _person, feed, _page = sam
    app.test_client().get(feed, headers={"User-Agent": CHROME})  # a look in a browser
    mail = reminder_mail(smtp, clock, policy)
    assert [p.get_filename() for p in mail.iter_attachments()] == ["group-session.ics"]
    assert "The calendar entry is attached." in mail.get_body(("plain",)).get_content()


def test_after_a_calendar_app_fetches_the_feed_the_reminder_carries_no_copy(
        app, sam, smtp, clock, policy):  # noqa: F811
    _person, feed, _page = sam
    assert app.test_client().get(feed, headers={"User-Agent": IPHONE}).status_code == 200
    mail = reminder_mail(smtp, clock, policy)
    assert list(mail.iter_attachments()) == []
    text = mail.get_body(("plain",)).get_content()
    assert "attached" not in text and "already has it" in text


def test_their_page_offers_single_downloads_only_until_they_subscribe(app, sam):
    _person, feed, page = sam
    web = app.test_client()
    before = web.get(page).get_data(as_text=True)
    assert "Add just this one</a>" in before and "Subscribing (above) adds them all" in before
    web.get(feed, headers={"User-Agent": GOOGLE})
    after = web.get(page).get_data(as_text=True)
    assert "Add just this one</a>" not in after
    assert "already in it" in after


@pytest.mark.parametrize(("agent", "words"), [
    (CHROME, "The updated calendar entry is attached."),
    (OUTLOOK, "Your calendar shows the change by itself: it follows your calendar link.")])
def test_a_cancellation_says_how_their_calendar_learns_of_it(
        app, db, sam, smtp, clock, policy, agent, words):  # noqa: F811
    _person, feed, _page = sam
    app.test_client().get(feed, headers={"User-Agent": agent})
    upcoming = db.session.scalar(sa.select(GroupSession).where(
        GroupSession.starts_at > clock()).order_by(GroupSession.starts_at))
    cohorts.change_session(upcoming.id, clock(), status="cancelled", cancel_reason="Snow")
    delivery.send_due(clock(), policy)
    [mail] = [message_from_bytes(raw, policy=email_policy.default) for _, raw in smtp.messages]
    assert words in " ".join(mail.get_body(("plain",)).get_content().split())
    assert words in " ".join(mail.get_body(("html",)).get_content().split())
