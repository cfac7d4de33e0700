"""The client page's calendar feed link (issue, rotate, revoke) and the Director page."""

from datetime import date, timedelta

import sqlalchemy as sa

from calendars import tokens
from scheduler.models import AuditEvent, FeedToken, GroupSession
from scheduler.services import enrollments, returns
from tests.returns_support import ask_to_come_back
from tests.waitlist_support import full_group_with_line


def _feed_writes(db, client_id):
    return [e.detail["what"] for e in db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.entity == "client", AuditEvent.entity_id == client_id,
        AuditEvent.action == "update").order_by(AuditEvent.id))]


def _shown_token(html: str) -> str:
    return html.split('value="https://regroup.test/me/', 1)[1].split('"', 1)[0]


def test_a_feed_link_is_shown_with_https_webcal_and_page_every_time_the_page_opens(
        db, build, console_as):
    client = build.client("Dana Example")
    console = console_as("coordinator")
    page = f"/clients/{client.id}"
    html = console.post_form(page, f"{page}/feed", {},
                             follow_redirects=True).get_data(as_text=True)
    assert 'value="https://regroup.test/feeds/' in html
    assert 'value="webcal://regroup.test/feeds/' in html
    token = _shown_token(html)
    assert tokens.lookup(token).subject_id == client.id
    again = console.get(page).get_data(as_text=True)
    assert _shown_token(again) == token  # never "shown only once"
    assert _feed_writes(db, client.id) == ["feed_link_issued"]


def test_reloading_the_page_after_making_a_link_does_not_make_another(db, build, console_as):
    client = build.client("Dana Example")
    console, page = console_as("coordinator"), f"/clients/{client.id}"
    response = console.post_form(page, f"{page}/feed", {})
    assert response.status_code == 303 or response.status_code == 302
    console.get(page)
    console.get(page)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FeedToken)) == 1


def test_making_a_new_link_turns_the_old_one_off(db, build, console_as):
    client = build.client("Dana Example")
    console, page = console_as("coordinator"), f"/clients/{client.id}"
    old = _shown_token(console.post_form(page, f"{page}/feed", {},
                                         follow_redirects=True).get_data(as_text=True))
    second = console.post_form(page, f"{page}/feed", {},
                               follow_redirects=True).get_data(as_text=True)
    assert "the old one no longer works" in second
    assert tokens.lookup(old) is None and _shown_token(second) != old
    assert _feed_writes(db, client.id) == ["feed_link_issued", "feed_link_rotated"]


def test_staff_send_the_same_calendar_link_by_text_message(app, db, build, clock,
                                                           console_as):
    from scheduler.messages import render
    from scheduler.models import Notification

    client = build.client("Dana Example", phone="617-555-0142")
    token = tokens.issue("client", client.id, clock())
    console, page = console_as("coordinator"), f"/clients/{client.id}"
    response = console.post_form(page, f"{page}/feed/send", {"channel": "sms"},
                                 follow_redirects=True)
    assert "on its way by text message" in response.get_data(as_text=True)
    [sent] = db.session.scalars(sa.select(Notification).where(
        Notification.kind == "calendar_link")).all()
    assert (sent.channel, sent.recipient) == ("sms", "617-555-0142")
    assert f"/me/{token}" in render(sent, app.jinja_env, app.config).text
    assert tokens.lookup(token) is not None  # the same link, still working
    assert db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "calendar_link.send")).one().detail == {"channel": "sms"}


def test_sending_a_link_by_email_to_a_client_without_one_says_so(db, build, clock,
                                                                  console_as):
    client = build.client("Dana Example", phone="617-555-0142")
    tokens.issue("client", client.id, clock())
    console, page = console_as("coordinator"), f"/clients/{client.id}"
    html = console.post_form(page, f"{page}/feed/send", {"channel": "email"},
                             follow_redirects=True).get_data(as_text=True)
    assert "There is no email address on file" in html


def test_turning_the_link_off_revokes_it(db, build, clock, console_as):
    client = build.client("Dana Example")
    token = tokens.issue("client", client.id, clock())
    console, page = console_as("coordinator"), f"/clients/{client.id}"
    response = console.post_form(page, f"{page}/feed/revoke", {}, follow_redirects=True)
    assert "The calendar link is turned off." in response.get_data(as_text=True)
    assert tokens.lookup(token) is None
    assert _feed_writes(db, client.id) == ["feed_link_revoked"]


def test_a_viewer_cannot_issue_a_feed_link(db, build, console_as):
    client = build.client("Dana Example")
    console = console_as("viewer")
    html = console.get(f"/clients/{client.id}").get_data(as_text=True)
    assert "Make a calendar link" not in html
    response = console.post_form(f"/clients/{client.id}", f"/clients/{client.id}/feed", {})
    assert response.status_code == 403
    assert db.session.scalars(sa.select(FeedToken)).all() == []


def test_a_feed_link_for_an_unknown_client_is_404(console_as):
    console = console_as("coordinator")
    assert console.post_form("/clients", "/clients/999/feed", {}).status_code == 404
    assert console.post_form("/clients", "/clients/999/feed/revoke", {}).status_code == 404


def test_the_director_page_is_open_to_a_viewer_and_shows_seats_per_cohort(
        build, clock, console_as):
    cohort, _, _ = full_group_with_line(build, capacity=2, waiting=2, name="Full Evening")
    clock.advance(days=3)
    html = console_as("viewer").get("/director").get_data(as_text=True)
    row = html[html.index("Full Evening</a>"):]
    row = row[:row.index("</tr>")]
    # taken, offered, free (0 in bold), of; waiting, longest wait
    assert ('<td data-label="Taken">2</td><td data-label="Offered">0</td>'
            '<td data-label="Free"><strong>0</strong></td><td data-label="Of">2</td>') in row
    assert '<td data-label="Waiting">2</td><td data-label="Longest wait">3 days</td>' in row
    # nothing to change here but which site it shows
    main = html.split("<main", 1)[1]
    assert main.count("<form") == main.count('<form method="post" action="/site"') == 1


def test_the_director_page_shows_median_days_back_to_group_and_who_is_still_waiting(
        db, build, clock, policy, console_as):
    cohort = build.cohort(name="Monday Evening")
    fast = ask_to_come_back(build.client("Fast", email="fast@example.org"), clock())
    ask_to_come_back(build.client("Still", email="still@example.org"), clock())
    returns.place(fast.id, f"join:{cohort.id}", None, clock(), policy)
    first = db.session.scalars(sa.select(GroupSession).where(
        GroupSession.cohort_id == cohort.id,
        GroupSession.occurs_on == date(2026, 12, 2))).one()
    clock.set(first.ends_at + timedelta(minutes=5))
    enrollments.record_attendance(first.id, [{"client_id": fast.client_id,
                                              "status": "present"}], None, clock(), policy)
    html = console_as("viewer").get("/director").get_data(as_text=True)
    # asked Mon 10 AM: Fast first attended Wed 6 PM (2.3 days); Still has waited since
    # (Wed 9:05 PM, 2.5 days so far) and counts with that wait
    assert '<span class="stat">2.4 days</span> median, everyone counted' in html
    assert '<span class="stat">2.5 days</span> nine in ten back within' in html
    assert '<span class="stat">2.3 days</span> median of those back in a group' in html
    assert '<span class="stat">1</span> person still waiting to attend' in html
    assert "of 2 requests made in the last 90 days are back in a group" in html
    chart = html[html.index("<svg"):html.index("</svg>")]
    assert "1–3 d: 1 back in a group, 1 still waiting." in chart  # readable without JS
    assert "<script" not in html
    assert '<td data-label="Option">Option: join</td>' in html
    assert '<td data-label="Option">Option: not placed yet</td>' in html


def test_the_director_exports_the_requests_as_csv_without_names(
        db, build, clock, policy, console_as):
    cohort = build.cohort(name="Monday Evening")
    placed = ask_to_come_back(build.client("Placed Person", email="p@example.org"), clock())
    ask_to_come_back(build.client("Waiting Person", email="w@example.org"), clock())
    returns.place(placed.id, f"join:{cohort.id}", None, clock(), policy)
    clock.advance(days=3)
    response = console_as("viewer").get("/director/time-back.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0].startswith("return_request_id,stage,location,track,option,requested_at")
    rows = {line.split(",")[0]: line.split(",") for line in lines[1:]}
    assert rows[str(placed.id)][1:5] == ["placed", cohort.location.name, cohort.track.name,
                                         "join"]
    assert rows[str(placed.id)][5].endswith("-05:00")  # local time
    assert "Person" not in response.get_data(as_text=True)
    waiting_row = next(r for k, r in rows.items() if k != str(placed.id))
    assert waiting_row[1] == "requested" and waiting_row[-1] == "3.0"


def test_the_director_page_makes_no_audit_row_for_client_records(db, console_as):
    console_as("viewer").get("/director")
    assert db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.entity == "client")).all() == []
