"""Browser fixtures: a real server on a free 127.0.0.1 port (werkzeug in a thread,
against the test database) and Debian's headless Chromium driven by Playwright.

Without /usr/bin/chromium the browser tests skip on a workstation but FAIL when
CI=true, so CI can never pass without having run them.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("REGROUP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PHONE = {"width": 360, "height": 780}
DESKTOP = {"width": 1280, "height": 900}


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the whole run."""
    if not os.path.exists(CHROMIUM):
        message = (f"{CHROMIUM} is missing: install Debian's chromium "
                   "(apt-get install -y chromium), or run `make test` which does it")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app):
    """The test app served over real HTTP; yields its base URL."""
    from werkzeug.serving import make_server

    from scheduler.models import db

    # The test thread must not hold SQLite's write lock while the browser works:
    # every write transaction begins IMMEDIATE, and reloading an expired attribute
    # would begin one, so objects keep their values after commit here.
    db.session().expire_on_commit = False
    db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def browser_page(chromium):
    """``browser_page(viewport)`` opens a fresh context (no cookies) and a page."""
    contexts = []

    def make(viewport=DESKTOP):
        context = chromium.new_context(viewport=viewport)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def shot(page, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def fits_width(page) -> bool:
    """No sideways scrolling of the page itself (wide tables scroll in their box).
    Measured once the page has loaded: an element can be in the DOM before the
    stylesheet is (a busy machine showed an unstyled page as too wide)."""
    page.wait_for_load_state("load")
    return page.evaluate(
        "document.documentElement.scrollWidth <= window.innerWidth + 1")


UNLABELLED_FIELDS = """Array.from(document.querySelectorAll(
    'input:not([type=hidden]), select, textarea')).filter(function (el) {
      return !(el.labels && el.labels.length) && !el.getAttribute('aria-label');
    }).length"""


def tour(page, base: str, pages: dict[str, str], label: str) -> None:
    """Open each page: it answers 200, has one h1 and no unlabelled field, fits a
    phone's width when ``label`` is "phone", and leaves a screenshot."""
    for name, path in pages.items():
        response = page.goto(f"{base}{path}")
        assert response.status == 200, path
        assert page.locator("h1").count() == 1, path
        assert page.evaluate(UNLABELLED_FIELDS) == 0, path
        if label == "phone":
            assert fits_width(page), path
        shot(page, f"{name}-{label}")


@pytest.fixture
def staff_with_password(app, clock):
    """``staff_with_password("coordinator")`` -> (email, password)."""
    from argon2 import PasswordHasher

    from scheduler.models import db
    from scheduler.services.staff import create_staff

    password = "correct horse battery"
    hashed = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(password)

    def make(role: str):
        email = f"{role}@browser.test"
        create_staff(email, role, clock(), password_hash=hashed)
        db.session.rollback()  # hold no SQLite lock while the browser works
        return email, password

    return make


def sign_in(page, base: str, email: str, password: str) -> None:
    """Sign in with the keyboard only: type, Tab, type, Enter."""
    page.goto(f"{base}/")
    page.wait_for_url("**/login**")
    page.focus("#email")
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/")
