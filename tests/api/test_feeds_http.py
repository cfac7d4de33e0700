"""Feeds over HTTP: links from the staff API, what calendar apps get back, caching,
token rotation and revocation, and tokens kept out of logs."""

from __future__ import annotations

import gzip
import logging
import threading
import urllib.request
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from scheduler.models import GroupSession, Location
from scheduler.services import clients, cohorts, enrollments
from tests.feed_fixtures import check_in
from tests.feed_parsers import event_blocks, structural_problems

GOOGLE = "Google-Calendar-Importer"


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[1].removesuffix(".ics")


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


@pytest.fixture
def member(build):
    """A client in a group, and the group."""
    cohort = build.cohort()
    client = build.client("Robin Example")
    build.enroll(client, cohort, joined_on=date(2026, 11, 2))
    return client, cohort


@pytest.fixture
def feed_path(api, member):
    client, _ = member
    return path_of(api.post(f"/api/v1/clients/{client.id}/feed").get_json()["https_url"])


def cache(app):
    return app.extensions["feed_cache"]


def sessions(db, cohort):
    return list(db.session.scalars(sa.select(GroupSession).where(
        GroupSession.cohort_id == cohort.id).order_by(GroupSession.starts_at)))


def test_issuing_a_client_feed_returns_https_and_webcal_links(api, member):
    client, _ = member
    response = api.post(f"/api/v1/clients/{client.id}/feed")
    assert response.status_code == 201
    body = response.get_json()
    token = token_of(body["https_url"])
    assert body["https_url"] == f"https://regroup.test/feeds/{token}.ics"
    assert body["webcal_url"] == f"webcal://regroup.test/feeds/{token}.ics"
    assert body["page_url"] == f"https://regroup.test/me/{token}"
    assert len(token) >= 43


def test_only_a_hash_of_the_token_is_stored(api, member, db):
    client, _ = member
    token = token_of(api.post(f"/api/v1/clients/{client.id}/feed").get_json()["https_url"])
    rows = db.session.execute(sa.text("SELECT * FROM feed_token")).all()
    assert rows and all(token not in str(value) for row in rows for value in row)


def test_rotating_a_feed_link_makes_the_old_one_404(api, app, member):
    client, _ = member
    old = path_of(api.post(f"/api/v1/clients/{client.id}/feed").get_json()["https_url"])
    web = app.test_client()
    assert web.get(old).status_code == 200
    new = path_of(api.post(f"/api/v1/clients/{client.id}/feed").get_json()["https_url"])
    assert web.get(old).status_code == 404
    assert web.get(new).status_code == 200


def test_unknown_and_revoked_tokens_get_the_same_404(api, app, member):
    client, _ = member
    revoked = path_of(api.post(f"/api/v1/clients/{client.id}/feed").get_json()["https_url"])
    assert api.delete(f"/api/v1/clients/{client.id}/feed").status_code == 204
    web = app.test_client()
    a, b = web.get(revoked), web.get("/feeds/" + "x" * 43 + ".ics")
    assert a.status_code == b.status_code == 404
    assert a.data == b.data
    assert {k: v for k, v in a.headers if k != "Date"} == {
        k: v for k, v in b.headers if k != "Date"}


def test_a_feed_is_served_as_a_subscribable_calendar(app, feed_path):
    response = app.test_client().get(feed_path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Cache-Control"] == "private, no-cache"
    assert "Content-Disposition" not in response.headers
    assert "Content-Encoding" not in response.headers
    etag = response.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert structural_problems(response.data) == []


def test_requests_without_accept_and_from_googles_importer_get_200(app, feed_path):
    web = app.test_client()
    bare = web.get(feed_path, headers={"Accept": ""})
    google = web.get(feed_path, headers={"User-Agent": GOOGLE, "Accept": "*/*"})
    assert bare.status_code == google.status_code == 200
    assert bare.data == google.data


def test_a_matching_if_none_match_gets_304_with_no_body(app, feed_path):
    web = app.test_client()
    etag = web.get(feed_path).headers["ETag"]
    again = web.get(feed_path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    assert web.get(feed_path, headers={"If-None-Match": '"other"'}).status_code == 200


def test_head_gives_the_headers_without_the_body(app, feed_path):
    web = app.test_client()
    full, head = web.get(feed_path), web.head(feed_path)
    assert head.status_code == 200 and head.data == b""
    assert head.headers["ETag"] == full.headers["ETag"]
    assert head.headers["Content-Length"] == str(len(full.data))


def test_gzip_only_when_asked(app, feed_path):
    web = app.test_client()
    plain = web.get(feed_path)
    zipped = web.get(feed_path, headers={"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data
    assert zipped.headers["ETag"] != plain.headers["ETag"]
    assert "Accept-Encoding" in zipped.headers["Vary"]
    refused = web.get(feed_path, headers={"Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in refused.headers


def test_a_moved_session_moves_the_etag_and_its_sequence(app, db, clock, member, feed_path):
    _, cohort = member
    web = app.test_client()
    before = web.get(feed_path)
    row = sessions(db, cohort)[-3]
    clock.advance(minutes=3)
    cohorts.change_session(row.id, clock(), starts_at=row.starts_at + timedelta(hours=1))
    after = web.get(feed_path, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert after.headers["ETag"] != before.headers["ETag"]
    assert after.data.count(b"SEQUENCE:1") == 1


def test_a_poll_with_nothing_changed_does_not_rebuild(app, feed_path):
    web = app.test_client()
    first = web.get(feed_path)
    builds = cache(app).builds
    assert web.get(feed_path).data == first.data
    assert web.get(feed_path, headers={"If-None-Match": first.headers["ETag"]}).status_code \
        == 304
    assert cache(app).builds == builds


def statements_of(web, path, headers=None):
    """(response, SQL statements the poll ran: through any engine, and the
    one-round-trip reads that go to the driver directly)."""
    from scheduler import reads

    seen = []

    def hook(_conn, _cursor, statement, *_args):
        seen.append(statement)

    direct = reads.fetch_one

    def counted(sql, params=()):
        seen.append(sql)
        return direct(sql, params)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", hook)
    reads.fetch_one = counted
    try:
        response = web.get(path, headers=headers or {})
    finally:
        reads.fetch_one = direct
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", hook)
    return response, len(seen)


def on_postgresql(db) -> bool:
    return db.engine.dialect.name == "postgresql"


def test_a_warm_poll_asks_the_database_nothing_on_postgresql_and_once_elsewhere(
        app, db, feed_path):
    web = app.test_client()
    first = web.get(feed_path)
    again, count = statements_of(web, feed_path)
    assert again.data == first.data
    assert count == (0 if on_postgresql(db) else 1)
    not_modified, count = statements_of(web, feed_path,
                                        {"If-None-Match": first.headers["ETag"]})
    assert not_modified.status_code == 304
    assert count == (0 if on_postgresql(db) else 1)


def test_a_change_committed_by_another_worker_reaches_the_next_polls(app, db, member,
                                                                     feed_path):
    """Another process's change arrives as an announcement (PostgreSQL NOTIFY); on
    SQLite every poll reads the revision anyway."""
    web = app.test_client()
    before = web.get(feed_path)
    token = db.session.scalar(sa.text("SELECT id FROM feed_token WHERE revoked_at IS NULL"))
    db.session.remove()
    other = sa.create_engine(db.engine.url)  # a second worker's own connection
    with other.begin() as conn:
        conn.execute(sa.text("UPDATE feed_token SET revision = revision + 1 WHERE id = :id"),
                     {"id": token})
    with other.begin() as conn:
        conn.execute(sa.text("UPDATE feed_token SET revoked_at = :now WHERE id = :id"),
                     {"id": token, "now": datetime(2026, 11, 30, tzinfo=UTC)})
    other.dispose()
    # announcements travel between database sessions in a moment, not at once
    for _ in range(200):
        after = web.get(feed_path, headers={"If-None-Match": before.headers["ETag"]})
        if after.status_code == 404:
            break
        threading.Event().wait(0.01)
    assert after.status_code == 404


def test_a_change_made_in_this_process_reaches_the_very_next_poll(app, db, clock, member,
                                                                 feed_path):
    _, cohort = member
    web = app.test_client()
    before = web.get(feed_path)
    row = sessions(db, cohort)[-3]
    cohorts.change_session(row.id, clock(), status="cancelled", cancel_reason="Snow")
    after = web.get(feed_path, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert after.data.count(b"STATUS:CANCELLED") == 1


def update_location(location_id: int, address: str) -> None:
    location = db_session().get(Location, location_id)
    location.address = address
    db_session().commit()


def db_session():
    from scheduler.models import db

    return db.session


def _links(api, client):
    return path_of(api.post(f"/api/v1/clients/{client.id}/feed").get_json()["https_url"])


def test_a_change_rebuilds_exactly_the_feeds_it_touches(api, app, db, clock, build):
    group_a, group_b = build.cohort(), build.cohort()
    alex, blair = build.client("Alex A"), build.client("Blair B")
    build.enroll(alex, group_a)
    build.enroll(blair, group_b)
    web = app.test_client()
    paths = {"alex": _links(api, alex), "blair": _links(api, blair)}
    etags = {name: web.get(path).headers["ETag"] for name, path in paths.items()}

    def rebuilt_after(change) -> set[str]:
        clock.advance(minutes=1)
        change()
        changed = set()
        for name, path in paths.items():
            response = web.get(path)
            if response.headers["ETag"] != etags[name]:
                changed.add(name)
                etags[name] = response.headers["ETag"]
        return changed

    row = sessions(db, group_a)[-1]
    assert rebuilt_after(lambda: cohorts.change_session(
        row.id, clock(), starts_at=row.starts_at + timedelta(hours=2))) == {"alex"}
    assert rebuilt_after(lambda: clients.update_client(
        blair.id, {"calendar_title": "Thursday"}, clock())) == {"blair"}
    assert rebuilt_after(lambda: check_in(
        alex, clock() + timedelta(days=2), clock())) == {"alex"}
    assert rebuilt_after(lambda: build.enroll(blair, group_a)) == {"blair"}
    assert rebuilt_after(lambda: cohorts.create_closure(
        None, date(2026, 12, 24), "Holiday", clock(), build.policy)) == {"alex", "blair"}
    assert rebuilt_after(lambda: [clients.update_client(c.id, {"show_location": True}, clock())
                                  for c in (alex, blair)]) == {"alex", "blair"}
    assert rebuilt_after(lambda: update_location(group_b.location_id, "2 Elm St")) == {
        "blair"}
    before = cache(app).builds
    web.get(paths["alex"])
    web.get(paths["blair"])
    assert cache(app).builds == before


def test_staff_feeds_change_only_when_their_own_groups_or_people_do(app, db, build, clock):
    from calendars import tokens

    group_a, group_b = build.cohort(), build.cohort()
    robin = build.client("Robin Example")
    build.enroll(robin, group_a)
    paths = {name: f"/feeds/{tokens.issue(kind, subject, clock())}.ics" for name, kind, subject
             in (("cohort a", "cohort", group_a.id), ("cohort b", "cohort", group_b.id),
                 ("site a", "location", group_a.location_id))}
    web = app.test_client()
    etags = {name: web.get(path).headers["ETag"] for name, path in paths.items()}
    clock.advance(minutes=1)
    clients.update_client(robin.id, {"name": "Robin Newname"}, clock())  # initials R.N.
    changed = {name for name, path in paths.items()
               if web.get(path).headers["ETag"] != etags[name]}
    assert changed == {"cohort a", "site a"}


def test_changes_within_one_clock_tick_still_reach_the_feed(app, build, api, clock, db):
    client = build.client()
    enrollment = build.enroll(client, build.cohort())
    path = _links(api, client)
    web = app.test_client()
    first = web.get(path).headers["ETag"]
    clients.update_client(client.id, {"alarm_minutes": 15}, clock())  # clock not moved
    second = web.get(path)
    assert second.headers["ETag"] != first and b"TRIGGER:-PT15M" in second.data
    enrollments.change_status(enrollment.id, "paused", clock(), build.policy,
                              release_hold=True)
    assert web.get(path).headers["ETag"] != second.headers["ETag"]


def test_withdrawing_from_the_last_group_turns_the_feed_link_off(api, app, build, clock):
    client = build.client()
    group, other = build.cohort(), build.cohort()
    first, second = build.enroll(client, group), build.enroll(client, other)
    path = _links(api, client)
    web = app.test_client()
    enrollments.change_status(first.id, "withdrawn", clock(), build.policy)
    assert web.get(path).status_code == 200  # still in the other group
    enrollments.change_status(second.id, "withdrawn", clock(), build.policy)
    assert web.get(path).status_code == 404


def test_staff_feed_links_per_cohort_location_and_facilitator(api, api_as, app, build, clock):
    from scheduler.services.staff import create_staff

    staff, _ = create_staff("fac@staff.test", "clinician", clock(), name="Jo F")
    location = build.location("Boston")
    cohort = build.cohort(location, facilitator_id=staff.id)
    build.enroll(build.client("Robin Example"), cohort)
    web = app.test_client()
    for path in (f"/api/v1/cohorts/{cohort.id}/feed", f"/api/v1/locations/{location.id}/feed",
                 f"/api/v1/staff/{staff.id}/feed"):
        caller = api if "/staff/" in path else api_as("clinician")
        response = caller.post(path)
        assert response.status_code == 201, path
        assert set(response.get_json()) == {"https_url", "webcal_url"}
        feed = web.get(path_of(response.get_json()["https_url"]))
        assert feed.status_code == 200 and b"R.E." in feed.data and b"Robin" not in feed.data
    assert api_as("viewer").post(f"/api/v1/cohorts/{cohort.id}/feed").status_code == 403
    assert api.post("/api/v1/cohorts/999/feed").status_code == 404


def test_a_clinician_manages_their_own_feed_but_never_a_colleagues(api_as, db):
    from scheduler.models import StaffUser

    clinician, coordinator = api_as("clinician"), api_as("coordinator")

    def staff_id(email: str) -> int:
        return db.session.scalars(db.select(StaffUser.id).where(StaffUser.email == email)).one()

    me, colleague = staff_id("clinician@staff.test"), staff_id("coordinator@staff.test")
    assert clinician.post(f"/api/v1/staff/{me}/feed").status_code == 201
    assert clinician.delete(f"/api/v1/staff/{me}/feed").status_code == 204
    assert clinician.post(f"/api/v1/staff/{colleague}/feed").status_code == 403
    assert clinician.delete(f"/api/v1/staff/{colleague}/feed").status_code == 403
    assert api_as("viewer").delete(f"/api/v1/staff/{me}/feed").status_code == 403
    assert coordinator.post(f"/api/v1/staff/{me}/feed").status_code == 201


def test_one_session_downloads_as_an_attachment_with_one_event(app, db, member, feed_path):
    _, cohort = member
    token = token_of(feed_path)
    row = sessions(db, cohort)[-1]
    response = app.test_client().get(f"/feeds/{token}/group-sessions/{row.id}.ics")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert len(event_blocks(response.data)) == 1
    assert structural_problems(response.data, event_file=True) == []


def test_a_session_outside_the_feed_cannot_be_downloaded(app, db, build, feed_path):
    other = sessions(db, build.cohort())[-1]
    token = token_of(feed_path)
    assert app.test_client().get(
        f"/feeds/{token}/group-sessions/{other.id}.ics").status_code == 404


def test_a_check_in_downloads_too(app, clock, member, feed_path):
    client, _ = member
    row = check_in(client, datetime(2026, 12, 2, 15, 0, tzinfo=UTC), clock(), mode="video")
    response = app.test_client().get(f"/feeds/{token_of(feed_path)}/check-ins/{row.id}.ics")
    assert response.status_code == 200 and b"SUMMARY:Video check-in" in response.data


def test_the_token_mask_hides_tokens_in_log_lines(caplog, feed_path):
    token = token_of(feed_path)
    with caplog.at_level(logging.INFO):
        logging.getLogger("werkzeug").info('127.0.0.1 - - "%s" %s %s',
                                           f"GET /feeds/{token}.ics HTTP/1.1", "200", "-")
        logging.getLogger("werkzeug").info('"GET /me/%s HTTP/1.1" 200 -', token)
        logging.getLogger("gunicorn.access").info(  # gunicorn passes its atoms as a dict
            '"%(r)s" %(s)s "%(f)s"', {"r": f"GET /feeds/{token}.ics HTTP/1.1", "s": "200",
                                      "f": f"https://regroup.test/me/{token}"})
    assert token not in caplog.text
    assert "/feeds/[token].ics" in caplog.text and "/me/[token]" in caplog.text


def test_the_development_servers_access_log_never_prints_a_token(app, caplog, feed_path):
    from werkzeug.serving import make_server

    token = token_of(feed_path)
    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        thread.start()
        try:
            with urllib.request.urlopen(
                    f"http://127.0.0.1:{server.port}{feed_path}", timeout=10) as response:
                assert response.status == 200
        finally:
            server.shutdown()
            thread.join(timeout=10)
    assert "GET /feeds/[token].ics" in caplog.text
    assert token not in caplog.text
