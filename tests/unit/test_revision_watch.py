"""A worker's knowledge of feed revisions (calendars.watch) never outlives an
announcement, an error or its age limit. A fake listening connection stands in for
PostgreSQL here; tests/api/test_feeds_http.py polls through the real one."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from calendars.watch import RevisionWatch


class FakeListener:
    def __init__(self):
        self.sql: list[str] = []
        self.waiting: list[str] = []
        self.broken = False
        self.closed = False

    def execute(self, sql):
        self.sql.append(sql)

    def notifies(self, timeout=None):
        assert timeout == 0, "draining must never wait"
        if self.broken:
            raise OSError("connection lost")
        waiting, self.waiting = self.waiting, []
        return iter(SimpleNamespace(payload=p) for p in waiting)

    def close(self):
        self.closed = True


@pytest.fixture
def clock():
    return SimpleNamespace(now=100.0)


@pytest.fixture
def listener():
    return FakeListener()


@pytest.fixture
def watch(listener, clock):
    return RevisionWatch(lambda: listener, max_age=60.0, clock=lambda: clock.now)


def test_a_revision_read_while_listening_is_known_until_announced(watch, listener):
    assert watch.known(7) is None
    assert listener.sql == ["LISTEN feed_token"]
    watch.remember(7, 3)
    assert watch.known(7) == 3
    listener.waiting.append("7")
    assert watch.known(7) is None


def test_an_announcement_for_another_token_leaves_this_one_known(watch, listener):
    watch.known(7)
    watch.remember(7, 3)
    watch.remember(8, 1)
    listener.waiting.append("8")
    assert (watch.known(7), watch.known(8)) == (3, None)


def test_an_emptied_table_forgets_every_token(watch, listener):
    watch.known(7)
    watch.remember(7, 3)
    watch.remember(8, 1)
    listener.waiting.append("*")
    assert (watch.known(7), watch.known(8)) == (None, None)


def test_a_token_no_longer_live_is_not_remembered(watch):
    watch.known(7)
    watch.remember(7, 3)
    watch.remember(7, None)
    assert watch.known(7) is None


def test_what_is_known_ages_out(watch, clock):
    watch.known(7)
    watch.remember(7, 3)
    clock.now += 60.5
    assert watch.known(7) is None


def test_a_lost_connection_forgets_everything_and_retries_later(watch, listener, clock):
    watch.known(7)
    watch.remember(7, 3)
    listener.broken = True
    assert watch.known(7) is None
    assert listener.closed
    fresh = FakeListener()
    watch._connect = lambda: fresh
    clock.now += 1
    assert watch.known(7) is None and fresh.sql == []  # not before the retry time
    clock.now += 5
    watch.known(7)
    assert fresh.sql == ["LISTEN feed_token"]


def test_nothing_is_remembered_while_not_listening(clock):
    def refuse():
        raise OSError("no database")

    watch = RevisionWatch(refuse, clock=lambda: clock.now)
    assert watch.known(7) is None
    watch.remember(7, 3)
    assert watch.known(7) is None


def test_a_database_without_notify_is_never_watched(clock):
    calls = []
    watch = RevisionWatch(lambda: calls.append(1), clock=lambda: clock.now)
    watch.known(7)
    watch.remember(7, 3)
    clock.now += 10
    assert watch.known(7) is None
    assert calls == [1]


def test_a_forked_worker_does_not_use_its_parents_connection(watch, listener, monkeypatch):
    watch.known(7)
    watch.remember(7, 3)
    child = FakeListener()
    watch._connect = lambda: child
    monkeypatch.setattr("calendars.watch.os.getpid", lambda: -1)
    assert watch.known(7) is None
    assert child.sql == ["LISTEN feed_token"] and not listener.closed
