"""Someone waiting to be back in a group hears from the program every week until they
are seated (or ask us to stop), and staff see them once they have waited too long."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from scheduler.messages import render
from scheduler.models import Client, Notification, db
from scheduler.services import cohorts, outreach, returns
from tests.returns_support import ask_to_come_back
from tests.waitlist_support import full_group_with_line

NY = ZoneInfo("America/New_York")


def notes() -> list[Notification]:
    return list(db.session.scalars(sa.select(Notification).where(
        Notification.kind == "still_waiting").order_by(Notification.id)))


def at_ten_am(clock, days: int) -> None:
    clock.advance(days=days)
    local = clock().astimezone(NY)
    clock.advance(hours=10 - local.hour, minutes=-local.minute)


def test_a_person_in_line_gets_a_weekly_note_with_their_place_until_they_stop_it(
        app, build, clock, policy, console_as):
    cohort, _, _ = full_group_with_line(build, capacity=1, waiting=0)
    client = build.client("Dana Waiting", email="dana@example.org")
    request = ask_to_come_back(client, clock(), channel="web")
    option = next(o for o in returns.options_for(request.id, clock(), policy).options
                  if o.kind == "waitlist" and o.cohort_id == cohort.id)
    returns.place(request.id, option.id, None, clock(), policy)
    at_ten_am(clock, 3)
    assert outreach.weekly_waiting_notes(clock(), policy) == 0  # heard from us this week
    at_ten_am(clock, 5)
    assert outreach.weekly_waiting_notes(clock(), policy) == 1
    assert outreach.weekly_waiting_notes(clock(), policy) == 0  # once
    note = notes()[0]
    message = render(note, app.jinja_env, app.config)
    assert message.subject == "We haven't forgotten you"
    assert "you are number 1" in message.text and "nothing you need to do" in message.text
    stop = next(line for line in message.text.splitlines() if "stop these weekly notes" in line)
    # staff see them too, once they have waited more than a week
    console = console_as("coordinator")
    returners = console.get("/returners").get_data(as_text=True)
    section = returners[returners.index('id="long-waits"'):returners.index('id="open-h"')]
    assert "Dana Waiting" in section and "waiting for a seat" in section
    today = console.get("/").get_data(as_text=True)
    assert "1 person has waited more than 7 days to be back in a group" in today
    # the stop link asks, then stops only these notes
    path = stop.split(app.config["PUBLIC_BASE_URL"].rstrip("/"))[1].strip()
    assert b"Stop the weekly notes while you wait?" in app.test_client().get(path).data
    app.test_client().post(path)
    db.session.expire_all()
    person = db.session.get(Client, client.id)
    assert person.waiting_notes is False and person.email_opt_out is False
    at_ten_am(clock, 8)
    assert outreach.weekly_waiting_notes(clock(), policy) == 0


def test_someone_not_yet_placed_hears_someone_will_be_in_touch_and_a_seated_person_nothing(
        app, build, clock, policy):
    cohort = build.cohort()
    asked = ask_to_come_back(build.client("Open Person", phone="617-555-0142"), clock())
    seated = ask_to_come_back(build.client("Seated Person", email="s@example.org"), clock())
    returns.place(seated.id, f"join:{cohort.id}", None, clock(), policy)
    at_ten_am(clock, 7)
    assert outreach.weekly_waiting_notes(clock(), policy) == 1
    note = notes()[0]
    assert note.client_id == asked.client_id and note.channel == "sms"
    text = render(note, app.jinja_env, app.config).sms
    assert "someone will be in touch" in text and len(text) <= 320
    at_ten_am(clock, 1)
    assert outreach.weekly_waiting_notes(clock(), policy) == 0  # a week from the last one
    at_ten_am(clock, 6)
    assert outreach.weekly_waiting_notes(clock(), policy) == 1


def test_notes_wait_for_daytime(build, clock, policy):
    ask_to_come_back(build.client("Night Person", email="n@example.org"), clock())
    clock.advance(days=7)
    clock.advance(hours=(21 - clock().astimezone(
        NY).hour) % 24)
    assert outreach.weekly_waiting_notes(clock(), policy) == 0


def test_coordinators_get_each_sites_new_requests_once_a_day_at_its_hour_and_see_a_badge(
        app, build, clock, console_as):
    console = console_as("coordinator")
    boston, needham = build.location("Boston"), build.location("Needham")
    cohorts.update_location(boston.id, {"digest_hour": 8})
    clock.set(datetime(2026, 12, 1, 12, 30, tzinfo=UTC))  # Tue 7:30 AM in Boston
    ask_to_come_back(build.client("Here", email="h@example.org",
                                  preferred_location_ids=[boston.id]), clock())
    ask_to_come_back(build.client("Anywhere", email="a@example.org"), clock())
    ask_to_come_back(build.client("There", email="t@example.org",
                                  preferred_location_ids=[needham.id]), clock())
    badge = console.get("/returners").get_data(as_text=True)
    assert '<span class="badge" id="new-requests-badge">3<span class="visually-hidden">' \
        ' requests need a check-in</span></span>' in badge
    assert outreach.new_requests_digest(clock(), build.policy) == 0  # not 8 AM yet
    clock.advance(minutes=40)
    assert outreach.new_requests_digest(clock(), build.policy) == 1  # one coordinator
    assert outreach.new_requests_digest(clock(), build.policy) == 0  # once a day
    digest = db.session.scalars(sa.select(Notification).where(
        Notification.kind == "new_requests")).one()
    message = render(digest, app.jinja_env, app.config)
    assert message.subject == "2 new requests to come back: Boston"
    assert "2 still need a check-in booked" in message.text
    assert "Here" not in message.text and "Anywhere" not in message.text  # no names
    assert "/returners" in message.text


def test_staff_see_a_long_wait_from_the_first_minute_past_the_alert_and_not_before(
        build, clock, policy, console_as):
    asked = ask_to_come_back(build.client("Edge Person", email="edge@example.org"), clock())
    console = console_as("coordinator")
    clock.advance(days=policy.waiting_alert_days)
    assert outreach.long_wait_count(clock(), policy) == 0
    assert "Edge Person" not in console.get("/returners").get_data(as_text=True).split(
        'id="open-h"')[0]
    clock.advance(minutes=1)
    assert [w.request.id for w in outreach.long_waits(clock(), policy).waits] == [asked.id]
    assert "1 person has waited more than 7 days" in console.get("/").get_data(as_text=True)
