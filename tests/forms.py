"""Posting HTML forms in tests the way a browser does: with the page's CSRF token."""

from __future__ import annotations

import re


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def fresh_g() -> None:
    """The app fixture keeps one app context open, so requests would share ``g``;
    forget what Flask-WTF and Flask-Login cache there, as a real server would."""
    from flask import g

    for name in ("csrf_token", "_login_user"):
        g.pop(name, None)


def post_form(http, page: str, data: dict, action: str | None = None):
    """GET ``page``, then POST ``data`` with its CSRF token to ``action`` (default: page)."""
    fresh_g()
    token = csrf_from(http.get(page).get_data(as_text=True))
    fresh_g()
    return http.post(action or page, data={"csrf_token": token, **data})
