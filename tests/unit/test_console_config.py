"""Console cookie settings come from the environment."""

from scheduler.config import from_environment


def test_production_makes_the_session_cookie_secure_httponly_and_samesite_lax(
        monkeypatch, tmp_path):
    monkeypatch.setenv("REGROUP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    config = from_environment(str(tmp_path))
    assert (config["SESSION_COOKIE_SECURE"], config["SESSION_COOKIE_HTTPONLY"],
            config["SESSION_COOKIE_SAMESITE"]) == (True, True, "Lax")
