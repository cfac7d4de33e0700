"""Console cookie settings, production checks and the development key come from the
environment."""

import pytest

from scheduler.config import from_environment


def test_production_makes_the_session_cookie_secure_httponly_and_samesite_lax(
        monkeypatch, tmp_path):
    monkeypatch.setenv("REGROUP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    config = from_environment(str(tmp_path))
    assert (config["SESSION_COOKIE_SECURE"], config["SESSION_COOKIE_HTTPONLY"],
            config["SESSION_COOKIE_SAMESITE"]) == (True, True, "Lax")


def test_production_refuses_to_start_without_shared_rate_limits(monkeypatch, tmp_path):
    monkeypatch.setenv("REGROUP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.delenv("REDIS_URL", raising=False)
    with pytest.raises(RuntimeError, match="REDIS_URL"):
        from_environment(str(tmp_path))
    monkeypatch.setenv("REGROUP_SINGLE_WORKER", "1")
    assert from_environment(str(tmp_path))["REGROUP_ENV"] == "production"


def test_development_keeps_its_secret_key_across_restarts(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("REGROUP_ENV", raising=False)
    first = from_environment(str(tmp_path))["SECRET_KEY"]
    assert from_environment(str(tmp_path))["SECRET_KEY"] == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
