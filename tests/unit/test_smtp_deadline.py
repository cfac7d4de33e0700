"""Each SMTP message has a deadline, watched by one thread for the whole run (a new
thread per message cost more than a tenth of sending one)."""

from __future__ import annotations

import threading
import time

from scheduler.channels import _Watchdog


def watchers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "smtp-deadline"]


def wait_until(condition, seconds: float = 5.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.005)
    return condition()


def test_a_deadline_that_passes_calls_expire_once():
    fired = threading.Event()
    calls = []
    watchdog = _Watchdog(lambda: (calls.append(1), fired.set()))
    watchdog.arm(0.05)
    assert fired.wait(5)
    time.sleep(0.1)
    assert calls == [1]
    watchdog.stop()


def test_a_message_done_in_time_is_never_cut():
    calls = []
    watchdog = _Watchdog(lambda: calls.append(1))
    for _ in range(3):
        watchdog.arm(0.2)
        watchdog.disarm()
    time.sleep(0.4)  # past every deadline that was armed
    assert calls == []
    watchdog.stop()


def test_a_later_message_keeps_its_own_full_deadline():
    fired = threading.Event()
    watchdog = _Watchdog(fired.set)
    watchdog.arm(0.3)
    watchdog.disarm()
    time.sleep(0.2)
    watchdog.arm(0.3)  # the first deadline passes while this one still runs
    assert not fired.wait(0.15)
    assert fired.wait(5)
    watchdog.stop()


def test_a_run_of_many_messages_uses_one_thread_and_stop_ends_it():
    before = set(watchers())
    watchdog = _Watchdog(lambda: None)
    for _ in range(200):
        watchdog.arm(60)
        watchdog.disarm()
    [thread] = set(watchers()) - before
    watchdog.stop()
    assert wait_until(lambda: not thread.is_alive())
    watchdog.arm(0.01)  # a message after a closed connection starts one again
    assert len(set(watchers()) - before - {thread}) == 1
    watchdog.stop()
