"""The staff console: server-rendered pages behind email + password sign-in.

Every page needs a signed-in staff user. Reads are open to every role; a POST
needs coordinator or admin unless the view says otherwise with ``@allow(...)``
(clinicians take attendance); ``@admin_only`` closes a page to everyone else.
Each module adds its routes to the one ``bp``; round two adds ``returners.py``
and its module name to ``PAGES``.
"""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from markupsafe import Markup, escape

from blueprints.web.helpers import flush_audit
from scheduler.errors import DomainError
from scheduler.models import ROLES, StaffUser, db
from scheduler.security import may_read_clinical
from scheduler.services import outreach
from scheduler.services.console import Seats
from scheduler.services.staff import staff_for_session
from scheduler.timeutil import human_time, human_when, to_local

bp = Blueprint("web", __name__)
login_manager = LoginManager()
csrf = CSRFProtect()

READ_METHODS = {"GET", "HEAD", "OPTIONS"}
WRITERS = ("admin", "coordinator")
PUBLIC_ENDPOINTS = {"web.login"}
PAGES = ("auth", "today", "returners", "check_in_times", "cohorts", "sessions", "clients",
         "closures",
         "director", "admin")
NAV = (("web.today", "Today"), ("web.returners", "Returners"), ("web.cohorts", "Cohorts"),
       ("web.clients", "Clients"), ("web.closures", "Closures"), ("web.director", "Director"))


def allow(*roles: str):
    """Let these roles POST to the decorated view."""

    def mark(view):
        view._roles = roles
        return view

    return mark


def admin_only(view):
    view._roles = view._read_roles = ("admin",)
    return view


def can_write(roles: tuple[str, ...] = WRITERS) -> bool:
    return current_user.is_authenticated and current_user.role in roles


@login_manager.user_loader
def _load_staff(session_id: str) -> StaffUser | None:
    """The session's user while it is active and its session version still holds
    (signing out, a new password, a new role or disabling raise it: every
    session of that person ends at once)."""
    return staff_for_session(session_id)


@bp.before_request
def _require_sign_in_and_role():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        if request.method in READ_METHODS:
            return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
        abort(401)
    view = current_app.view_functions.get(request.endpoint)
    if request.method in READ_METHODS:
        allowed = getattr(view, "_read_roles", ROLES)
    else:
        allowed = getattr(view, "_roles", WRITERS)
    if current_user.role not in allowed:
        abort(403)
    return None


bp.after_request(flush_audit)


@bp.after_request
def _no_store(response):
    # console pages show client records: never cache them in the browser or a proxy
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def _error_page(status: int, title: str, message: str, field: str | None = None):
    return render_template("console/error.html", status=status, title=title,
                           message=message, field=field), status


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError):
    db.session.rollback()
    return _error_page(exc.status, "That could not be done", exc.message, exc.field)


@bp.errorhandler(CSRFError)
def _csrf_error(exc: CSRFError):
    return _error_page(400, "Please try again",
                       "This form had expired or was not sent from Regroup. "
                       "Go back, reload the page and send it again.")


@bp.errorhandler(401)
def _unauthorised(_exc):
    return _error_page(401, "Please sign in", "Your sign-in has ended; sign in again.")


@bp.errorhandler(403)
def _forbidden(_exc):
    return _error_page(403, "Not available to your role",
                       "Your role can read this but not change it. "
                       "Ask a coordinator or an admin.")


@bp.errorhandler(404)
def _not_found(_exc):
    return _error_page(404, "Not found", "There is nothing at this address.")


@bp.errorhandler(429)
def _too_many(_exc):
    return _error_page(429, "Too many tries",
                       "Too many sign-in attempts from here. Wait a minute and try again.")


@bp.app_context_processor
def _console_globals():
    return {"nav": NAV, "can_write": can_write, "needing_reply": outreach.needing_reply,
            "can_read_clinical": current_user.is_authenticated
            and may_read_clinical(current_user.role)}


# Blueprints whose POSTs come from mail clients or gateways, never from our own
# forms, and carry their own proof (a signed link, a shared key): no cookie, no CSRF.
NO_COOKIE_BLUEPRINTS: set[str] = set()


def exempt_from_csrf(blueprint) -> None:
    NO_COOKIE_BLUEPRINTS.add(blueprint.name)


def _csrf_unless_api():
    """CSRF on every form. The JSON API under /api/ uses bearer tokens (no cookies)
    and the public JSON door /api/v1/public/* takes no cookies either."""
    if request.path.startswith("/api/") or request.blueprint in NO_COOKIE_BLUEPRINTS:
        return
    csrf.protect()


def init_web(app) -> None:
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    # a console tab stays open all day: the token lives as long as the sign-in
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    app.config.setdefault("LOGIN_RATE_LIMIT", "10 per minute;50 per hour")
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(
        hours=app.config.get("CONSOLE_SESSION_HOURS", 12))
    csrf.init_app(app)
    app.before_request(_csrf_unless_api)
    login_manager.init_app(app)
    login_manager.login_view = "web.login"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.session_protection = "strong"
    for name in PAGES:
        import_module(f"blueprints.web.{name}")
    app.register_blueprint(bp)


@bp.app_template_global("url_prefix")
def url_prefix(endpoint: str, argument: str) -> str:
    """``endpoint``'s URL up to its trailing id, for long lists to add each row's id
    to: Cohorts and Today link a few hundred rows at ten times the demo, and building
    each URL through the routing map was a tenth of their time."""
    url = url_for(endpoint, **{argument: 0})
    if not url.endswith("/0"):
        raise ValueError(f"{endpoint}'s URL does not end with its {argument}")
    return url[:-1]


@bp.app_template_global("seats_bar")
def seats_bar(seats: Seats) -> Markup:
    """A group's seats as a bar, with the same in words for screen readers. Written in
    one pass (a page at ten times the demo draws three hundred of these; as a macro,
    each was a dozen escaped values). Every value is a number."""
    taken, offered, free, capacity = (int(seats.taken), int(seats.offered), int(seats.free),
                                      int(seats.capacity))
    return Markup(
        f'<div class="seats" role="img" aria-label="{taken} taken, {offered} offered, '
        f'{free} free of {capacity}">\n  <div class="bar" aria-hidden="true">\n'
        f'    <span class="taken" style="width: {float(seats.percent(taken))}%"></span>'
        f'<span class="offered" style="width: {float(seats.percent(offered))}%"></span>\n'
        f'  </div>\n  <span class="seat-text"><span class="nw"><strong>{free} free</strong> '
        f'of {capacity}</span> <span class="nw muted">{taken} taken · {offered} offered'
        f'</span></span>\n</div>')


def _chosen(value) -> str:
    return "" if value is None else str(value)


@bp.app_template_global("option_tags")
def option_tags(pairs, chosen) -> Markup:
    """``<option>`` tags for ``pairs`` ((id, name): sites, groups), ``chosen``
    (an id, as a number or as posted text) selected. Written in one pass: the site
    picker and a check-in's place list every site on every visit (a hundred at fifty
    times the demo), a group's page every other group. Names are typed by staff and
    escaped; ids are numbers."""
    chosen = _chosen(chosen)
    return Markup("".join(
        f'<option value="{int(site_id)}"{" selected" if str(site_id) == chosen else ""}>'
        f'{escape(name)}</option>' for site_id, name in pairs))


@bp.app_template_global("check_tags")
def check_tags(pairs, chosen, name: str, prefix: str) -> Markup:
    """A checkbox with its label for each of ``pairs`` ((id, name)), those in
    ``chosen`` (ids as numbers or posted text) ticked; ``name`` is the field, ``prefix``
    the ids' (both ours, fixed words). One pass, as ``option_tags``."""
    ticked = {_chosen(site_id) for site_id in chosen or ()}
    return Markup("\n".join(
        f'<div class="check"><input type="checkbox" id="{prefix}-{int(site_id)}" '
        f'name="{name}" value="{int(site_id)}"{" checked" if str(site_id) in ticked else ""}>'
        f'<label for="{prefix}-{int(site_id)}">{escape(site_name)}</label></div>'
        for site_id, site_name in pairs))


@bp.app_template_filter("local_time")
def _local_time(value):
    return human_time(value) if value else ""


@bp.app_template_filter("when")
def _when(value):
    return human_when(value) if value else ""


@bp.app_template_filter("day")
def _day(value):
    return f"{value:%a %b} {value.day}, {value.year}" if value else ""


@bp.app_template_filter("clock")
def clock_words(value):
    hour = value.strftime("%I").lstrip("0") or "12"
    return f"{hour}:{value:%M %p}"


@bp.app_template_filter("local_day")
def _local_day(value):
    local = to_local(value)
    return f"{local:%a %b} {local.day}"
