"""Staff can be offboarded: disabling an account stops its API tokens and console
sessions at once; tokens expire and can be revoked; signing out or a new password
ends every console session, even a copied cookie (issue 13)."""

from __future__ import annotations

import sqlalchemy as sa

from scheduler.models import AuditEvent, StaffUser
from scheduler.services import staff as accounts
from tests.conftest import ApiClient
from tests.web.conftest import PASSWORD, Console


def signed_in(app, user) -> Console:
    console = Console(app.test_client())
    response = console.post_form("/login", "/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return console


def still_in(console: Console) -> bool:
    return console.get("/").status_code == 200


def twin(app, console: Console) -> Console:
    """Another browser holding a copy of the same session cookie."""
    other = Console(app.test_client())
    cookie = console.client.get_cookie("session")
    other.client.set_cookie(cookie.key, cookie.value, domain=cookie.domain)
    return other


def test_disabling_stops_the_accounts_tokens_and_sessions_at_once(
        app, db, clock, staff_user, api_as):
    leaving = staff_user("coordinator", email="leaving@console.test")
    _, token = accounts.new_token_for(leaving.id, clock())
    their_api = ApiClient(app.test_client(), token)
    console = signed_in(app, leaving)
    assert their_api.get("/api/v1/cohorts").status_code == 200 and still_in(console)

    response = api_as("admin").post(f"/api/v1/staff/{leaving.id}/disable")

    assert response.status_code == 200 and response.get_json()["active"] is False
    assert their_api.get("/api/v1/cohorts").status_code == 401
    assert not still_in(console)
    assert console.post_form("/login", "/login", {
        "email": leaving.email, "password": PASSWORD}).status_code != 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "staff.disable", AuditEvent.entity_id == leaving.id)) == 1


def test_a_token_stops_when_it_expires_or_is_revoked(app, clock, staff_user, api_as):
    person = staff_user("viewer", email="reader@console.test")
    admin = api_as("admin")
    issued = admin.post(f"/api/v1/staff/{person.id}/tokens", json={"label": "laptop", "days": 1})
    assert issued.status_code == 201
    short = ApiClient(app.test_client(), issued.get_json()["token"])
    other = admin.post(f"/api/v1/staff/{person.id}/tokens", json={"label": "phone"}).get_json()
    revocable = ApiClient(app.test_client(), other["token"])
    assert short.get("/api/v1/cohorts").status_code == 200
    assert admin.delete(f"/api/v1/staff/tokens/{other['id']}").status_code == 204
    assert revocable.get("/api/v1/cohorts").status_code == 401
    clock.advance(days=1, minutes=1)
    assert short.get("/api/v1/cohorts").status_code == 401
    listed = admin.get(f"/api/v1/staff/{person.id}/tokens").get_json()
    assert all("token" not in row for row in listed) and len(listed) >= 2


def test_signing_out_ends_a_copied_session_too(app, staff_user):
    user = staff_user("clinician")
    console = signed_in(app, user)
    copy = twin(app, console)
    assert still_in(copy)
    console.post_form("/", "/logout", {})
    assert not still_in(copy)


def test_a_new_password_ends_every_session(app, clock, staff_user):
    user = staff_user("coordinator")
    console = signed_in(app, user)
    accounts.set_password(user.id, "another long password", clock())
    assert not still_in(console)


def test_only_admins_manage_staff(staff_user, api_as):
    someone = staff_user("viewer", email="someone@console.test")
    for role in ("coordinator", "clinician", "viewer"):
        assert api_as(role).post(f"/api/v1/staff/{someone.id}/disable").status_code == 403
        assert api_as(role).get("/api/v1/staff").status_code == 403


def test_an_admin_cannot_lock_themselves_out(api_as, db):
    admin = api_as("admin")
    me = db.session.scalar(sa.select(StaffUser).where(StaffUser.role == "admin"))
    assert admin.post(f"/api/v1/staff/{me.id}/disable").status_code == 409


def test_the_command_line_disables_too(app, db, staff_user):
    user = staff_user("coordinator", email="cli@console.test")
    result = app.test_cli_runner().invoke(args=["staff", "disable", user.email])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(StaffUser, user.id).active is False


def test_an_admin_runs_the_whole_staff_lifecycle_from_the_console(app, db, console_as):
    console = console_as("admin")
    made = console.post_form("/admin/staff", "/admin/staff", {
        "email": "New.Person@Console.test", "name": "New Person", "role": "viewer",
        "password": "a long enough password"})
    body = made.get_data(as_text=True)
    assert made.status_code == 200 and "Account made for new.person@console.test" in body
    person = db.session.scalar(sa.select(StaffUser).where(
        StaffUser.email == "new.person@console.test"))
    token = body.split('id="issued-token" readonly value="')[1].split('"')[0]
    their_api = ApiClient(app.test_client(), token)
    assert their_api.get("/api/v1/cohorts").status_code == 200

    assert console.post_form("/admin/staff", f"/admin/staff/{person.id}/role",
                             {"role": "clinician"}).status_code == 302
    issued = console.post_form("/admin/staff", f"/admin/staff/{person.id}/tokens",
                               {"label": "tablet", "days": "30"})
    assert "New API token for new.person@console.test" in issued.get_data(as_text=True)
    assert console.post_form("/admin/staff", f"/admin/staff/{person.id}/disable",
                             {}).status_code == 302
    db.session.expire_all()
    assert (person.role, person.active) == ("clinician", False)
    assert their_api.get("/api/v1/cohorts").status_code == 401
    page = console.get("/admin/staff").get_data(as_text=True)
    assert "disabled" in page and "flask --app wsgi staff create" not in page


def test_a_bad_new_account_is_refused_on_the_page(console_as):
    console = console_as("admin")
    response = console.post_form("/admin/staff", "/admin/staff", {
        "email": "x@console.test", "role": "boss"})
    assert response.status_code == 422 and "Role must be one of" in response.get_data(
        as_text=True)
