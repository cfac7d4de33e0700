"""Calendar feed benchmark: prints figures and ratios (never a test).

1. Under gunicorn (2 sync workers) on 127.0.0.1, requests/s for a trivial route
   (/healthz), a warm client feed of 36 group sessions, and its 304, in one run
   (wrk when installed, else a bounded Python client: threads + http.client, a
   fixed request count and a time limit). Targets: feed >= 0.6 x trivial, 304 >= 0.7.
2. Cold build time per event, ours vs a naive icalendar build of the same events.
   Target: ours >= 4x faster per event.

Uses a temporary SQLite database it creates and migrates itself.
Run: .venv/bin/python bench/feeds.py   (options: --seconds, --rounds, --connections)
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import time as clock_time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

UID_KEY = "bench-feed-uid-key"
TARGETS = {"feed": 0.6, "304": 0.7, "cold": 4.0}


def seed(url: str) -> tuple[str, int]:
    """A migrated database with one client in a group of exactly 36 sessions in the
    feed window. Returns (feed token, client id)."""
    from flask_migrate import upgrade

    from calendars import tokens
    from scheduler.app import create_app
    from scheduler.models import db
    from scheduler.services import clients, cohorts, enrollments
    from scheduler.timeutil import local_today, utcnow

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "FEED_UID_KEY": UID_KEY})
    with app.app_context():
        upgrade()
        now, policy = utcnow(), app.config["POLICY"]
        location = cohorts.create_location("Boston", "1 Main St, Boston, MA 02110")
        track = cohorts.create_track("Evening")
        first = local_today(now) - timedelta(days=14)
        first -= timedelta(days=first.weekday())  # a Monday
        cohort = cohorts.create_cohort({
            "location_id": location.id, "track_id": track.id, "name": "Evening A",
            "weekdays": ["mon", "wed", "thu"], "start_time": clock_time(18, 0),
            "minutes": 180, "capacity": 12, "starts_on": first,
            "ends_on": first + timedelta(weeks=12, days=-1), "room": "Room 2",
        }, now, policy)
        client = clients.create_client({"name": "Robin Example", "show_location": True,
                                        "alarm_minutes": 30}, now)
        enrollments.enroll(client.id, cohort.id, now, policy, joined_on=first)
        token = tokens.issue("client", client.id, now)
        client_id = client.id
        db.session.remove()
        db.engine.dispose()
    return token, client_id


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server did not answer {url}")


def wrk_rate(url: str, seconds: int, connections: int, headers: dict[str, str]) -> float:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"wrk saw {errors.group(1)} error responses for {url}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def python_rate(port: int, path: str, seconds: int, connections: int,
                headers: dict[str, str], expect: int, requests: int = 20000) -> float:
    """Threads + http.client: stops at ``requests`` or ``seconds``, whichever first."""
    lock, done = threading.Lock(), [0]
    deadline = time.monotonic() + seconds

    def worker():
        while time.monotonic() < deadline:
            with lock:
                if done[0] >= requests:
                    return
                done[0] += 1
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            conn.close()
            if response.status != expect:
                raise SystemExit(f"{path}: {response.status}")

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return done[0] / (time.monotonic() - started)


def load(args, port: int, token: str) -> None:
    base = f"http://127.0.0.1:{port}"
    feed = f"/feeds/{token}.ics"
    with urllib.request.urlopen(base + feed, timeout=10) as response:
        body, etag = response.read(), response.headers["ETag"]
    events = body.count(b"BEGIN:VEVENT")
    print(f"feed: {events} events, {len(body)} bytes, ETag {etag}")
    args.etag = etag
    if events != 36:
        raise SystemExit("expected a feed of 36 sessions")
    routes = {"trivial": ("/healthz", {}, 200), "feed": (feed, {}, 200),
              "304": (feed, {"If-None-Match": etag}, 304)}
    use_wrk = shutil.which("wrk") is not None and not args.python_client
    print(f"load tool: {'wrk' if use_wrk else 'python threads + http.client'}, "
          f"{args.connections} connections, {args.seconds}s x {args.rounds} rounds per route")
    for path, headers, expect in routes.values():  # warm every worker's cache
        python_rate(port, path, 2, 4, headers, expect, requests=100)
    # Other work on the machine drifts; short interleaved rounds keep the three
    # routes under the same conditions, and each round gives its own ratios.
    rates: dict[str, list[float]] = {name: [] for name in routes}
    for _ in range(args.rounds):
        for name, (path, headers, expect) in routes.items():
            if use_wrk:
                rate = wrk_rate(base + path, args.seconds, args.connections, headers)
            else:
                rate = python_rate(port, path, args.seconds, args.connections, headers, expect)
            rates[name].append(rate)
    for name, values in rates.items():
        print(f"  {name:8s} {statistics.median(values):8.0f} req/s median (rounds: "
              f"{', '.join(f'{v:.0f}' for v in values)})")
    for name in ("feed", "304"):
        ratios = [r / t for r, t in zip(rates[name], rates["trivial"], strict=True)]
        ratio = statistics.median(ratios)
        verdict = "meets" if ratio >= TARGETS[name] else "MISSES"
        print(f"  {name} / trivial = {ratio:.2f} median of rounds "
              f"({', '.join(f'{r:.2f}' for r in ratios)}); {verdict} target {TARGETS[name]}")


def in_process_cpu(url: str, token: str, etag: str, requests: int = 2000) -> None:
    """CPU time per request through the WSGI app, no network: a figure that other
    load on the machine disturbs far less than requests/s."""
    from werkzeug.test import EnvironBuilder

    from scheduler.app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "FEED_UID_KEY": UID_KEY})
    feed = f"/feeds/{token}.ics"
    routes = {"trivial": ("/healthz", {}), "feed": (feed, {}),
              "304": (feed, {"If-None-Match": etag})}

    def call(path, headers):
        environ = EnvironBuilder(path=path, headers=headers).get_environ()
        b"".join(app.wsgi_app(environ, lambda status, headers, exc_info=None: None))

    cpu = {}
    for name, (path, headers) in routes.items():
        call(path, headers)
        started = time.process_time()
        for _ in range(requests):
            call(path, headers)
        cpu[name] = (time.process_time() - started) / requests * 1e6
    print("in-process CPU per request (WSGI call, no network):")
    for name, value in cpu.items():
        print(f"  {name:8s} {value:8.0f} us")
    for name in ("feed", "304"):
        print(f"  trivial / {name} CPU = {cpu['trivial'] / cpu[name]:.2f} "
              f"(the requests/s ratio a CPU-bound server would show)")


def naive_icalendar(name: str, events) -> bytes:
    """What a straightforward icalendar 7 build of the same events looks like."""
    from icalendar import Calendar, Event

    from scheduler.timeutil import PROGRAM_TZ

    calendar = Calendar()
    calendar.add("prodid", "-//naive//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    for e in events:
        event = Event()
        event.add("uid", e.uid)
        event.add("dtstamp", e.modified)
        event.add("created", e.created)
        event.add("last-modified", e.modified)
        event.add("sequence", e.sequence)
        event.add("dtstart", e.starts_at.astimezone(PROGRAM_TZ))
        event.add("dtend", e.ends_at.astimezone(PROGRAM_TZ))
        event.add("summary", e.summary)
        if e.location:
            event.add("location", e.location)
        event.add("status", e.status)
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def per_event(fn, events: int, seconds: float = 2.0) -> float:
    """Microseconds per event, best of several timed batches."""
    fn()
    best, deadline = float("inf"), time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.perf_counter()
        for _ in range(5):
            fn()
        best = min(best, (time.perf_counter() - started) / 5)
    return best / events * 1e6


def cold_build(url: str, client_id: int) -> None:
    from calendars.build import build_feed, feed_events
    from calendars.ical import calendar_bytes
    from scheduler.app import create_app
    from scheduler.models import db
    from scheduler.timeutil import utcnow

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "FEED_UID_KEY": UID_KEY})
    with app.app_context():
        now, policy, key = utcnow(), app.config["POLICY"], UID_KEY.encode()
        name, events = feed_events("client", client_id, now, policy, key)
        n = len(events)

        def ours_full():
            build_feed("client", client_id, now, policy, key)
            db.session.rollback()

        def naive_full():
            naive_icalendar(*feed_events("client", client_id, now, policy, key))
            db.session.rollback()

        figures = {
            "ours, render only": per_event(lambda: calendar_bytes(name, events), n),
            "naive icalendar, render only": per_event(lambda: naive_icalendar(name, events), n),
            "ours, load + render": per_event(ours_full, n),
            "naive icalendar, load + render": per_event(naive_full, n),
        }
    print(f"cold build ({n} events), microseconds per event:")
    for label, value in figures.items():
        print(f"  {label:32s} {value:8.1f}")
    for kind in ("render only", "load + render"):
        ratio = figures[f"naive icalendar, {kind}"] / figures[f"ours, {kind}"]
        verdict = "meets" if ratio >= TARGETS["cold"] else "MISSES"
        print(f"  naive / ours, {kind}: {ratio:.1f}x ({verdict} target {TARGETS['cold']}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--python-client", action="store_true",
                        help="use the Python load client even when wrk is installed")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="regroup-bench-feeds-"))
    url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    server = None
    try:
        token, client_id = seed(url)
        port = free_port()
        env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench", "FEED_UID_KEY": UID_KEY}
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        server = subprocess.Popen(
            [gunicorn, "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning",
             "wsgi:app"], cwd=ROOT, env=env)
        wait_for(f"http://127.0.0.1:{port}/healthz")
        print(f"gunicorn: 2 sync workers on 127.0.0.1:{port}, SQLite at {workdir}")
        load(args, port, token)
        in_process_cpu(url, token, args.etag)
        cold_build(url, client_id)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
