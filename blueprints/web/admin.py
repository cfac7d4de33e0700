"""Admin: the audit trail (browse and filter) and staff accounts (password reset)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from blueprints.web import admin_only, bp
from blueprints.web.helpers import audited, date_arg, int_arg, now
from scheduler.errors import InvalidValue
from scheduler.models import db
from scheduler.services import console
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
    entities, actions = console.audit_choices()
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("console/audit.html", rows=rows, total=total, page=page,
                           pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1), f=f,
                           entities=entities, actions=actions, staff=console.staff_list(),
                           args=args)


@bp.get("/admin/staff")
@admin_only
def staff():
    return render_template("console/staff.html", staff=console.staff_list(), errors={})


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
    return render_template("console/staff.html", staff=console.staff_list(),
                           errors={staff_id: message}), 422
