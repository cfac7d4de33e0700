"""Sign-in and sign-out (email + password; the session cookie is HttpOnly,
SameSite=Lax and Secure in production)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from blueprints.limits import limiter
from blueprints.web import bp
from blueprints.web.helpers import audited, now
from scheduler.errors import InvalidValue
from scheduler.models import ROLES
from scheduler.services.staff import choose_site, end_sessions, staff_for_sign_in


def _safe_next(target: str | None) -> str:
    """Only a path on this site (never another host) may follow sign-in."""
    if not target:
        return url_for("web.today")
    parts = urlsplit(target)
    if (parts.scheme or parts.netloc or not target.startswith("/")
            or target.startswith("//") or "\\" in target):
        return url_for("web.today")
    return target


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(url_for("web.today"))
        return render_template("console/login.html", email="", next=request.args.get("next"))
    email = (request.form.get("email") or "").strip()
    user = staff_for_sign_in(email, request.form.get("password") or "")
    if user is None:
        audited("sign_in_refused", "staff_user", None, email=email[:254])
        return render_template("console/login.html", email=email,
                               next=request.form.get("next"),
                               error="That email and password do not match an account."), 401
    session.clear()  # a fresh session on sign-in: no fixation
    login_user(user)
    session.permanent = True
    audited("sign_in", "staff_user", user.id)
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/logout")
def logout():
    # every role may sign out
    audited("sign_out", "staff_user", current_user.id)
    end_sessions(current_user.id, now())  # a copied cookie stops working too
    logout_user()
    session.clear()
    flash("You are signed out.")
    return redirect(url_for("web.login"))


logout._roles = ("admin", "coordinator", "clinician", "viewer")


@bp.post("/site")
def site():
    """The site this person works at (Today, Cohorts and Director's capacity show
    it); "" for every site."""
    value = (request.form.get("location_id") or "").strip()
    if value and not value.isdigit():
        raise InvalidValue("Choose a site from the list", field="location_id")
    choose_site(current_user.id, int(value) if value else None, now())
    return redirect(_safe_next(request.form.get("next")))


site._roles = ROLES  # where one looks is everyone's own choice
