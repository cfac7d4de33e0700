"""The console's pages, sign-in, roles, CSRF and audit, through Flask's test client."""

from datetime import date, timedelta

import sqlalchemy as sa

from scheduler.models import Attendance, AuditEvent, Closure, GroupSession
from tests.web.conftest import PASSWORD, Console, csrf_from


def _audit(db, **where):
    query = sa.select(AuditEvent).order_by(AuditEvent.id)
    for name, value in where.items():
        query = query.where(getattr(AuditEvent, name) == value)
    return list(db.session.scalars(query))


def _todays_session(db, cohort):
    # the clock is Mon 2026-11-30; builder cohorts meet Mon/Wed/Thu
    return db.session.scalars(sa.select(GroupSession).where(
        GroupSession.cohort_id == cohort.id,
        GroupSession.occurs_on == date(2026, 11, 30))).one()


def test_the_console_home_sends_a_visitor_who_is_not_signed_in_to_the_login_page(app):
    response = app.test_client().get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_signing_in_with_the_right_password_opens_today(app, staff_user):
    staff_user("coordinator")
    console = Console(app.test_client())
    response = console.post_form("/login", "/login", {
        "email": "Coordinator@Console.test", "password": PASSWORD}, follow_redirects=True)
    assert response.status_code == 200
    assert "Today" in response.get_data(as_text=True)


def test_a_wrong_password_is_refused_and_audited(app, staff_user, db):
    staff_user("coordinator")
    response = Console(app.test_client()).post_form(
        "/login", "/login", {"email": "coordinator@console.test", "password": "nope"})
    assert response.status_code == 401
    assert [e.action for e in _audit(db)] == ["sign_in_refused"]


def test_the_session_cookie_is_httponly_and_samesite_lax(app, staff_user):
    staff_user("coordinator")
    response = Console(app.test_client()).post_form(
        "/login", "/login", {"email": "coordinator@console.test", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_a_form_without_its_csrf_token_is_refused(app, staff_user):
    staff_user("coordinator")
    response = Console(app.test_client()).post("/login", data={
        "email": "coordinator@console.test", "password": PASSWORD})
    assert response.status_code == 400


def test_the_bearer_token_api_needs_no_csrf_token(api):
    assert api.post("/api/v1/clients", json={"name": "Ana"}).status_code == 201


def test_sign_in_attempts_beyond_the_limit_get_429(app, staff_user):
    staff_user("coordinator")
    client = Console(app.test_client())
    token = csrf_from(client.get("/login").get_data(as_text=True))
    codes = [client.post("/login", data={"csrf_token": token,
                                         "email": "coordinator@console.test",
                                         "password": "wrong"}).status_code
             for _ in range(11)]
    assert codes[:10] == [401] * 10 and codes[10] == 429


def test_a_sign_in_link_never_sends_staff_to_another_site(app, staff_user):
    staff_user("coordinator")
    response = Console(app.test_client()).post_form("/login", "/login", {
        "email": "coordinator@console.test", "password": PASSWORD,
        "next": "//evil.example/steal"})
    assert response.headers["Location"] == "/"


def test_a_sign_in_link_with_a_backslash_host_is_ignored(app, staff_user):
    staff_user("coordinator")
    response = Console(app.test_client()).post_form("/login", "/login", {
        "email": "coordinator@console.test", "password": PASSWORD,
        "next": "/\\evil.example/steal"})
    assert response.headers["Location"] == "/"


def test_an_unknown_client_gets_a_404_page_and_no_audit_event(console_as, db):
    response = console_as("viewer").get("/clients/999")
    assert response.status_code == 404
    assert _audit(db, action="read") == []


def test_signing_out_ends_the_session(console_as):
    console = console_as("viewer")
    console.post_form("/", "/logout", {})
    assert console.get("/").status_code == 302


def test_a_name_typed_with_markup_reads_as_text_on_today_and_the_line_links_to_them(
        console_as, build, db):
    cohort, client = build.cohort(), build.client('<b>Eve</b> & "Co"')
    build.enroll(client, cohort)
    _todays_session(db, cohort)
    page = console_as("viewer").get("/").get_data(as_text=True)
    assert "<b>Eve</b>" not in page
    assert f'<a href="/clients/{client.id}">&lt;b&gt;Eve&lt;/b&gt; &amp; &#34;Co&#34;</a>' in page
    assert 'Attendance for &lt;b&gt;' not in page  # a viewer gets no choices to make
    line = page[page.index(f'data-client-id="{client.id}"'):]
    assert '0/36<span class="visually-hidden"> sessions done' in line[:400]


def test_a_coordinator_takes_attendance_and_today_shows_it(console_as, build, db, clock):
    cohort, client = build.cohort(), build.client("Dana Example")
    build.enroll(client, cohort)
    gs = _todays_session(db, cohort)
    clock.set(gs.starts_at + timedelta(minutes=20))
    console = console_as("coordinator")
    response = console.post_form("/", f"/group-sessions/{gs.id}/attendance",
                                 {f"client-{client.id}": "present"})
    assert response.status_code == 302
    assert db.session.scalars(sa.select(Attendance.status)).one() == "present"
    page = console.get("/").get_data(as_text=True)
    assert 'data-mark="present"' in page
    # the saved mark is the chosen radio, and each choice has its label
    for status in ("present", "late", "excused", "absent"):
        ident = f"m-{gs.id}-{client.id}-{status}"
        checked = " checked" if status == "present" else ""
        assert (f'<input type="radio" id="{ident}" name="client-{client.id}" '
                f'value="{status}"{checked}>') in page
        assert f'<label for="{ident}">{status.capitalize()}</label>' in page


def test_a_clinician_may_take_attendance(console_as, build, db, clock):
    cohort, client = build.cohort(), build.client()
    build.enroll(client, cohort)
    gs = _todays_session(db, cohort)
    clock.set(gs.starts_at + timedelta(minutes=20))
    response = console_as("clinician").post_form(
        "/", f"/group-sessions/{gs.id}/attendance", {f"client-{client.id}": "late"})
    assert response.status_code == 302


def test_a_viewer_sees_no_attendance_controls_and_a_post_is_refused(console_as, build, db):
    cohort, client = build.cohort(), build.client()
    build.enroll(client, cohort)
    gs = _todays_session(db, cohort)
    viewer = console_as("viewer")
    page = viewer.get("/").get_data(as_text=True)
    assert 'type="radio"' not in page
    response = viewer.post_form("/clients", f"/group-sessions/{gs.id}/attendance",
                                {f"client-{client.id}": "present"})
    assert response.status_code == 403
    assert db.session.scalars(sa.select(Attendance)).all() == []


def test_reading_a_client_page_appends_one_audit_event(console_as, build, db):
    client = build.client()
    console = console_as("viewer")
    assert console.get(f"/clients/{client.id}").status_code == 200
    [event] = _audit(db, action="read")
    assert (event.entity, event.entity_id, event.detail["via"]) == (
        "client", client.id, "console")


def test_the_closure_preview_lists_the_sessions_and_changes_nothing(console_as, build, db):
    cohort = build.cohort(name="Evening Boston")
    response = console_as("coordinator").get(
        f"/closures?date=2026-12-02&location_id={cohort.location_id}&reason=Holiday")
    assert response.status_code == 200
    assert "cancels <strong>1 group session</strong>" in response.get_data(as_text=True)
    assert db.session.scalars(sa.select(Closure)).all() == []


def test_confirming_a_closure_cancels_its_sessions_and_is_audited(console_as, build, db):
    cohort = build.cohort()
    console = console_as("coordinator")
    page = f"/closures?date=2026-12-02&location_id={cohort.location_id}&reason=Holiday"
    response = console.post_form(page, "/closures", {
        "date": "2026-12-02", "location_id": str(cohort.location_id), "reason": "Holiday"})
    assert response.status_code == 302
    status = db.session.scalar(sa.select(GroupSession.status).where(
        GroupSession.cohort_id == cohort.id, GroupSession.occurs_on == date(2026, 12, 2)))
    assert status == "cancelled"
    assert [e.entity for e in _audit(db, action="create")] == ["closure"]


def test_saving_reminder_preferences_updates_the_client(console_as, build, db):
    client = build.client()
    console = console_as("coordinator")
    response = console.post_form(f"/clients/{client.id}", f"/clients/{client.id}/preferences",
                                 {"reminder_minutes": ["120"], "reminder_channels": ["sms"],
                                  "alarm_minutes": "30"})
    assert response.status_code == 302
    db.session.refresh(client)
    assert (client.reminder_minutes, client.reminder_channels, client.alarm_minutes) == (
        [120], ["sms"], 30)


def test_a_bad_alarm_value_is_shown_beside_its_field(console_as, build):
    client = build.client()
    response = console_as("coordinator").post_form(
        f"/clients/{client.id}", f"/clients/{client.id}/preferences", {"alarm_minutes": "soon"})
    assert response.status_code == 422
    assert 'id="alarm_minutes-error"' in response.get_data(as_text=True)


def test_the_cohorts_page_shows_seats_taken_offered_and_free(console_as, build):
    build.full_cohort(capacity=2, name="Full Group")
    page = console_as("viewer").get("/cohorts").get_data(as_text=True)
    assert "2 taken, 0 offered, 0 free of 2" in page


def test_a_cohort_page_lists_the_waitlist_in_order(console_as, build, clock):
    from scheduler.services.waitlist import add_to_waitlist

    cohort = build.full_cohort(capacity=1)
    first, second = build.client("First Person"), build.client("Second Person")
    add_to_waitlist(second.id, cohort.id, clock())
    add_to_waitlist(first.id, cohort.id, clock(), priority=1)
    page = console_as("viewer").get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert page.index("First Person") < page.index("Second Person")


def test_only_admins_may_open_the_audit_trail(console_as):
    assert console_as("coordinator").get("/admin/audit").status_code == 403
    assert console_as("admin").get("/admin/audit").status_code == 200


def test_the_audit_trail_filters_by_action(console_as, build, db):
    client = build.client()
    admin = console_as("admin")
    admin.get(f"/clients/{client.id}")
    page = admin.get("/admin/audit?action=read&entity=client").get_data(as_text=True)
    assert "1 event." in page


def test_the_audit_filter_menus_offer_every_action_even_one_not_yet_in_the_trail(
        console_as):
    admin = console_as("admin")
    page = admin.get("/admin/audit").get_data(as_text=True)
    assert "<option>check_in.slot_booked</option>" in page  # nobody has done it yet
    assert "<option>return_request</option>" in page
    chosen = admin.get("/admin/audit?action=made_up").get_data(as_text=True)
    assert "<option selected>made_up</option>" in chosen and "0 events." in chosen


def test_a_long_trail_is_counted_up_to_a_bound_and_still_pages_to_older_events(
        console_as, build, monkeypatch):
    from blueprints.web import admin as admin_pages
    from scheduler.services import console as console_service

    monkeypatch.setattr(console_service, "AUDIT_COUNT_CAP", 3)
    monkeypatch.setattr(admin_pages, "PAGE_SIZE", 2)
    client = build.client()
    admin = console_as("admin")
    for _ in range(5):
        admin.get(f"/clients/{client.id}")
    first = admin.get("/admin/audit?action=read&entity=client").get_data(as_text=True)
    assert "More than 3 events. Page 1." in first and "Older →" in first
    third = admin.get("/admin/audit?action=read&entity=client&page=3").get_data(as_text=True)
    assert third.count('<td data-label="When">') == 1 and "Older →" not in third
    few = admin.get("/admin/audit?action=sign_in").get_data(as_text=True)
    assert "1 event. Page 1 of 1." in few and "Older →" not in few


def test_an_admin_sets_a_new_password_that_then_signs_in(app, console_as, staff_user, db):
    user = staff_user("clinician")
    admin = console_as("admin")
    response = admin.post_form("/admin/staff", f"/admin/staff/{user.id}/password",
                               {"password": "a brand new passphrase",
                                "password_again": "a brand new passphrase"})
    assert response.status_code == 302
    fresh = Console(app.test_client())
    assert fresh.post_form("/login", "/login", {
        "email": user.email, "password": "a brand new passphrase"}).status_code == 302
    assert [e.action for e in _audit(db, entity="staff_user", entity_id=user.id)][0] == (
        "password_set")


def test_a_coordinator_cannot_reset_passwords(console_as, staff_user):
    user = staff_user("viewer")
    coordinator = console_as("coordinator")
    response = coordinator.post_form("/", f"/admin/staff/{user.id}/password",
                                     {"password": "x" * 12, "password_again": "x" * 12})
    assert response.status_code == 403


def test_a_short_password_is_refused(console_as, staff_user):
    user = staff_user("viewer")
    response = console_as("admin").post_form(
        "/admin/staff", f"/admin/staff/{user.id}/password",
        {"password": "short", "password_again": "short"})
    assert response.status_code == 422


def test_staff_password_cli_sets_a_password_that_signs_in(app, staff_user):
    user = staff_user("viewer")
    result = app.test_cli_runner().invoke(args=["staff", "password", user.email],
                                          input="another long password\n"
                                                "another long password\n")
    assert result.exit_code == 0, result.output
    response = Console(app.test_client()).post_form("/login", "/login", {
        "email": user.email, "password": "another long password"})
    assert response.status_code == 302


def test_every_console_page_renders_for_the_demo_program(console_as, app, db):
    from scheduler.models import Client, Cohort

    assert app.test_cli_runner().invoke(args=["demo", "load"]).exit_code == 0
    admin = console_as("admin")
    cohort_id = db.session.scalars(sa.select(Cohort.id)).first()
    client_id = db.session.scalars(sa.select(Client.id)).first()
    for path in ("/", "/cohorts", f"/cohorts/{cohort_id}", "/clients",
                 f"/clients/{client_id}", "/closures", "/closures?date=2026-12-25&reason=x",
                 "/admin/audit", "/admin/staff"):
        assert admin.get(path).status_code == 200, path


def test_the_closure_preview_says_when_the_day_is_already_closed(console_as, build, clock):
    from scheduler.services.cohorts import create_closure

    cohort = build.cohort()
    create_closure(None, date(2026, 12, 2), "Snow day", clock(), build.policy)
    page = console_as("coordinator").get(
        f"/closures?date=2026-12-02&location_id={cohort.location_id}&reason=Holiday"
    ).get_data(as_text=True)
    assert "Already closed at every location: Snow day" in page


def test_attendance_waits_for_the_session_to_start(console_as, build, db, clock):
    cohort, client = build.cohort(), build.client()
    build.enroll(client, cohort)
    gs = _todays_session(db, cohort)  # 18:00 tonight; the clock says 10:00
    console = console_as("coordinator")
    response = console.post_form("/", f"/group-sessions/{gs.id}/attendance",
                                 {f"client-{client.id}": "present"})
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == 0
    assert "once the group session has started" in console.get("/").get_data(as_text=True)


def test_a_past_day_is_shown_and_late_corrections_need_an_admin_and_a_reason(
        console_as, build, db, clock):
    cohort, client = build.cohort(), build.client("Dana Example")
    build.enroll(client, cohort, joined_on=date(2026, 11, 2))
    old = db.session.scalars(sa.select(GroupSession).where(
        GroupSession.cohort_id == cohort.id,
        GroupSession.occurs_on == date(2026, 11, 16))).one()  # two weeks ago
    coordinator = console_as("coordinator")
    page = coordinator.get("/?date=2026-11-16").get_data(as_text=True)
    assert "Monday, November 16" in page and "only an admin can correct" in page
    coordinator.post_form("/?date=2026-11-16", f"/group-sessions/{old.id}/attendance",
                          {f"client-{client.id}": "present", "date": "2026-11-16"})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == 0
    admin = console_as("admin")
    admin.post_form("/?date=2026-11-16", f"/group-sessions/{old.id}/attendance",
                    {f"client-{client.id}": "present", "date": "2026-11-16"})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == 0
    admin.post_form("/?date=2026-11-16", f"/group-sessions/{old.id}/attendance",
                    {f"client-{client.id}": "present", "date": "2026-11-16",
                     "reason": "Sign-in sheet found"})
    assert db.session.scalars(sa.select(Attendance.status)).one() == "present"


def test_a_closure_on_a_day_that_has_passed_is_refused_plainly(console_as, build, db):
    from scheduler.models import Closure

    build.cohort()
    console = console_as("coordinator")
    preview = console.get("/closures?date=2026-11-20&reason=Snow")
    assert preview.status_code == 422
    assert "That day has passed" in preview.get_data(as_text=True)
    refused = console.post_form("/closures", "/closures", {"date": "2026-11-20",
                                                           "reason": "Snow"})
    assert refused.status_code == 422
    assert "That day has passed" in refused.get_data(as_text=True)
    assert "cancelled" not in refused.get_data(as_text=True).split("<main", 1)[1].split(
        "Recent closures")[0]
    assert db.session.scalars(db.select(Closure)).all() == []


def test_the_audit_trail_reads_as_sentences_with_short_client_names(console_as, build, db):
    client = build.client("Morgan Placeholder", email="m@example.org")
    admin = console_as("admin")
    admin.get(f"/clients/{client.id}")
    page = admin.get("/admin/audit?action=read&entity=client").get_data(as_text=True)
    assert "opened Morgan P.&#39;s record." in page or "opened Morgan P.'s record." in page
    assert "Placeholder" not in page.split("<tbody>", 1)[1]


def test_the_closure_preview_says_how_many_people_will_be_told(console_as, build):
    from datetime import date as day

    cohort = build.cohort(name="Evening Boston")
    for n in range(3):
        build.enroll(build.client(f"Person {n}", email=f"p{n}@example.org"), cohort,
                     joined_on=day(2026, 11, 2))
    console = console_as("coordinator")
    soon = console.get(f"/closures?date=2026-12-02&location_id={cohort.location_id}"
                       "&reason=Holiday").get_data(as_text=True)
    assert "<strong>3 people</strong> will be told of the cancellation" in soon
    far = console.get(f"/closures?date=2027-01-06&location_id={cohort.location_id}"
                      "&reason=Holiday").get_data(as_text=True)
    assert "Nobody is sent a message now" in far


def test_email_reminders_with_no_email_at_all_is_refused_with_a_message(console_as, build, db):
    from scheduler.models import Client

    client = build.client("Sam Example", email="sam@example.org")
    console = console_as("coordinator")
    page = f"/clients/{client.id}"
    response = console.post_form(page, f"{page}/preferences", {
        "reminder_minutes": "1440", "reminder_channels": "email", "email_opt_out": "on"})
    assert response.status_code == 422
    assert "Email reminders need email" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Client, client.id).email_opt_out is False
