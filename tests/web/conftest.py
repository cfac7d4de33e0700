"""Console fixtures: staff users with passwords, and a test client that signs in
through the real form (CSRF token and all)."""

from __future__ import annotations

import pytest

from tests.forms import csrf_from, fresh_g

PASSWORD = "correct horse battery"


class Console:
    """A browser-like test client: ``post_form`` sends the page's CSRF token."""

    def __init__(self, client):
        self.client = client

    def get(self, path, **kw):
        fresh_g()
        return self.client.get(path, **kw)

    def post_form(self, page: str, action: str, data: dict, **kw):
        token = csrf_from(self.get(page).get_data(as_text=True))
        fresh_g()
        return self.client.post(action, data={"csrf_token": token, **data}, **kw)

    def post(self, path, **kw):
        fresh_g()
        return self.client.post(path, **kw)


@pytest.fixture
def staff_user(app, clock):
    from argon2 import PasswordHasher

    from scheduler.services.staff import create_staff

    # cheap argon2 parameters keep sign-in quick in tests; they travel in the hash
    hashed = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)

    def make(role: str = "coordinator", email: str | None = None):
        user, _ = create_staff(email or f"{role}@console.test", role, clock(),
                               password_hash=hashed)
        return user

    return make


@pytest.fixture
def console_as(app, staff_user):
    """``console_as("viewer")`` gives a Console signed in with that role."""

    def make(role: str = "coordinator") -> Console:
        user = staff_user(role)
        console = Console(app.test_client())
        response = console.post_form("/login", "/login",
                                     {"email": user.email, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        return console

    return make
