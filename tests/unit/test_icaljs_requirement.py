"""The ical.js cross-check may skip on a laptop without node_modules, never in CI."""

from __future__ import annotations

import pytest

from tests import feed_parsers


def test_a_missing_icaljs_install_fails_under_ci(monkeypatch, tmp_path):
    monkeypatch.setattr(feed_parsers, "JS_DIR", tmp_path)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        feed_parsers.require_icaljs()


def test_a_missing_icaljs_install_skips_outside_ci(monkeypatch, tmp_path):
    monkeypatch.setattr(feed_parsers, "JS_DIR", tmp_path)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        feed_parsers.require_icaljs()
