"""Admin: the audit trail (browse and filter) and staff accounts: add people, change
roles, reset passwords, disable (offboard) and enable, issue and revoke API tokens."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from blueprints.web import admin_only, bp
from blueprints.web.helpers import audited, date_arg, int_arg, now
from scheduler.errors import DomainError, InvalidValue
from scheduler.models import ROLES, db
from scheduler.passwords import hash_password
from scheduler.services import console
from scheduler.services import staff as accounts
from scheduler.services.staff import set_password

PAGE_SIZE = 100


@bp.get("/admin/audit")
@admin_only
def audit_trail():
    f = console.AuditFilter(
        staff_id=int_arg("staff_id"), entity=request.args.get("entity") or None,
        entity_id=int_arg("entity_id"), action=request.args.get("action") or None,
        first=date_arg("from"), last=date_arg("to"))
    page = max(int_arg("page") or 1, 1)
    rows, total = console.audit_events(f, page, PAGE_SIZE)
    entities, actions = console.audit_choices(f)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    more = total > console.AUDIT_COUNT_CAP  # counted up to the cap: "more than"
    return render_template("console/audit.html", rows=list(zip(
                               rows, console.audit_sentences(rows), strict=True)),
                           total=total, page=page, more=more, cap=console.AUDIT_COUNT_CAP,
                           pages=None if more else max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
                           older=len(rows) == PAGE_SIZE and (more or page * PAGE_SIZE < total),
                           f=f,
                           entities=entities, actions=actions, staff=console.staff_list(),
                           args=args)


def _staff_page(*, errors: dict | None = None, issued: dict | None = None, status: int = 200,
                form: dict | None = None):
    people = console.staff_list()
    tokens = {p.id: accounts.tokens_of(p.id) for p in people}
    return render_template("console/staff.html", staff=people, tokens=tokens, roles=ROLES,
                           errors=errors or {}, issued=issued, form=form or {},
                           current=now(), token_days=accounts.TOKEN_DAYS), status


@bp.get("/admin/staff")
@admin_only
def staff():
    return _staff_page()


@bp.post("/admin/staff")
@admin_only
def staff_create():
    form = request.form
    password = form.get("password") or ""
    try:
        if password and len(password) < accounts.MIN_PASSWORD_LENGTH:
            raise InvalidValue(f"Use at least {accounts.MIN_PASSWORD_LENGTH} characters",
                               field="password")
        user, token = accounts.create_staff(
            form.get("email") or "", form.get("role") or "", now(),
            name=(form.get("name") or "").strip(),
            password_hash=hash_password(password) if password else None)
    except DomainError as exc:
        db.session.rollback()
        return _staff_page(errors={"new": exc.message}, status=422, form=dict(form))
    audited("create", "staff_user", user.id)
    return _staff_page(issued={"email": user.email, "token": token,
                               "days": accounts.TOKEN_DAYS, "new": True})


def _act(staff_id: int, action, done: str):
    try:
        user = action()
    except DomainError as exc:
        db.session.rollback()
        return _staff_page(errors={staff_id: exc.message}, status=exc.status)
    flash(done.format(email=user.email))
    return redirect(url_for("web.staff", _anchor=f"staff-{staff_id}"))


@bp.post("/admin/staff/<int:staff_id>/role")
@admin_only
def staff_role(staff_id: int):
    role = request.form.get("role") or ""
    return _act(staff_id, lambda: accounts.change_role(staff_id, role, now(),
                                                       by=current_user.id),
                "{email} is now " + role + "; their open sessions ended.")


@bp.post("/admin/staff/<int:staff_id>/disable")
@admin_only
def staff_disable(staff_id: int):
    return _act(staff_id, lambda: accounts.disable_staff(staff_id, now(), by=current_user.id),
                "{email} is disabled: their API tokens and sessions stopped.")


@bp.post("/admin/staff/<int:staff_id>/enable")
@admin_only
def staff_enable(staff_id: int):
    return _act(staff_id, lambda: accounts.enable_staff(staff_id, now(), by=current_user.id),
                "{email} can sign in again.")


@bp.post("/admin/staff/<int:staff_id>/tokens")
@admin_only
def staff_token(staff_id: int):
    days_text = (request.form.get("days") or str(accounts.TOKEN_DAYS)).strip()
    try:
        days = int(days_text) if days_text.isdigit() else 0
        row, token = accounts.new_token_for(staff_id, now(),
                                            label=(request.form.get("label") or "").strip(),
                                            days=days, by=current_user.id)
    except DomainError as exc:
        db.session.rollback()
        return _staff_page(errors={staff_id: exc.message}, status=exc.status)
    return _staff_page(issued={"email": row.staff.email, "token": token, "days": days})


@bp.post("/admin/staff/tokens/<int:token_id>/revoke")
@admin_only
def staff_token_revoke(token_id: int):
    row = accounts.revoke_token(token_id, now(), by=current_user.id)
    flash(f"Token {row.label or row.id} of {row.staff.email} revoked.")
    return redirect(url_for("web.staff", _anchor=f"staff-{row.staff_id}"))


@bp.post("/admin/staff/<int:staff_id>/password")
@admin_only
def staff_password(staff_id: int):
    password = request.form.get("password") or ""
    if password != (request.form.get("password_again") or ""):
        return _staff_error(staff_id, "The two passwords differ.")
    try:
        user = set_password(staff_id, password, now())
    except InvalidValue as exc:
        db.session.rollback()
        return _staff_error(staff_id, exc.message)
    audited("password_set", "staff_user", staff_id)
    flash(f"New password set for {user.email}. Tell them in person or by phone.")
    return redirect(url_for("web.staff"))


def _staff_error(staff_id: int, message: str):
    return _staff_page(errors={staff_id: message}, status=422)
