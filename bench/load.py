"""Regroup under load on PostgreSQL, beside a trivial Flask app (the *trivial peer*)
under the same gunicorn settings, in one run: prints figures and ratios (never a test).

For each program size (10x and 50x the demo, built through the real use cases in a
scratch PostgreSQL database) it starts both apps under gunicorn (4 sync workers by
default; Regroup as wsgi.py builds it, with its clock at the instant the program was
built for, as in process), then for each route runs wrk against the trivial peer and against Regroup
one after the other (16 and 50 connections) and prints requests/s, p50/p95/p99, the
ratio to the trivial peer run just before it, SQL statements per request and CPU per
request in process (the app's test client, the same data). Each program carries
past requests too (--history; 250 per copy of the demo by default), as a program
that keeps every request does.

Routes: /healthz, a client's warm feed and its 304, placement options, the API's
cohort list, and the console pages Today, Returners, a returner's page, Cohorts, a
cohort, a client, Director and Audit (as an admin who sees every site), and Today and
Cohorts again as a coordinator who chose one site. The trivial peer also serves the
same feed's bytes from memory (the static ceiling).

Needs wrk (Debian package `wrk`) and a PostgreSQL server; it creates and drops the
database named by --database (default regroup_bench) on BENCH_PG (default
postgresql+psycopg://postgres@127.0.0.1:5432). Run with nothing else busy:
    .venv/bin/python bench/load.py --scales 10,50 --seconds 5
"""

from __future__ import annotations

import argparse
import gc
import http.cookiejar
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time as clock
import urllib.parse
import urllib.request
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from scratch import recreate_pg  # noqa: E402

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)  # Mon 10:00 in Boston
PASSWORD = "bench-password"
SITE_USER = "site@regroup.test"
TRIVIAL = '''
from flask import Flask, Response
app = Flask(__name__)
FEED = open(__import__("os").environ["BENCH_FEED_FILE"], "rb").read()

@app.get("/")
def index():
    return {"status": "ok"}

@app.get("/feed.ics")
def feed():
    return Response(FEED, mimetype="text/calendar")
'''
# Regroup as wsgi.py serves it, at the instant the program was built for (as the
# in-process figures are): with the real clock, the figures would change with the
# date the bench runs on, as requests age past the alerts
SERVED = '''
import gc
from datetime import datetime

from scheduler.app import create_app

NOW = datetime.fromisoformat("{now}")
app = create_app({{"CLOCK": lambda: NOW}})
gc.freeze()
'''


# --- data --------------------------------------------------------------------------

def build_program(app, scale: int) -> dict:
    """``scale`` copies of a demo-sized program, through the use cases: per copy two
    sites, five running groups with attendance history, 60 clients, people in line,
    return requests at each step, asked 0 to 10 days ago (two past the 7-day alert, as
    Returners lists them). Returns ids the routes need."""
    from calendars import tokens
    from scheduler.models import GroupSession, db
    from scheduler.services import clients, cohorts, enrollments, returns, staff, waitlist

    policy = app.config["POLICY"]
    rng = random.Random(11)
    out: dict = {}
    with app.app_context():
        user, token = staff.create_staff("bench@regroup.test", "admin", NOW)
        staff.set_password(user.id, PASSWORD, NOW)
        out["api_token"] = token
        # a coordinator who works at one site (Today and Cohorts show it)
        local, _ = staff.create_staff(SITE_USER, "coordinator", NOW)
        staff.set_password(local.id, PASSWORD, NOW)
        evening = cohorts.create_track("Evening", 36)
        for copy in range(scale):
            sites = [cohorts.create_location(f"Boston {copy}", "100 Example Street",
                                             phone="617-555-0100"),
                     cohorts.create_location(f"Needham {copy}", "25 Sample Avenue",
                                             phone="781-555-0100")]
            groups = []
            for n, (weekdays, start) in enumerate(
                    [(["mon", "wed", "thu"], time(18)), (["tue", "wed", "fri"], time(17, 30)),
                     (["mon", "wed", "fri"], time(9, 30)), (["tue", "wed", "thu"], time(18)),
                     (["mon", "tue", "thu"], time(10))]):
                groups.append(cohorts.create_cohort({
                    "location_id": sites[n % 2].id, "track_id": evening.id,
                    "name": f"Group {copy}-{n}", "weekdays": weekdays, "start_time": start,
                    "minutes": 180, "capacity": 10 if n else 8,
                    "starts_on": date(2026, 9, 7) + timedelta(days=7 * n)}, NOW, policy))
            people = [clients.create_client({
                "name": f"Person {copy}-{i}", "email": f"p{copy}.{i}@example.org",
                "phone": f"617-{copy % 1000:03d}-{i:04d}"}, NOW) for i in range(60)]
            queue = iter(people)
            for cohort in groups:
                members = [next(queue) for _ in range(8 if cohort is groups[0] else 7)]
                for person in members:
                    enrollments.enroll(person.id, cohort.id, NOW, policy,
                                       joined_on=cohort.starts_on)
                past = db.session.scalars(db.select(GroupSession.id).where(
                    GroupSession.cohort_id == cohort.id, GroupSession.ends_at <= NOW)
                    .order_by(GroupSession.starts_at)).all()
                for session_id in past:
                    enrollments.record_attendance(session_id, [
                        {"client_id": p.id, "status": rng.choice(
                            ["present", "present", "present", "late", "absent", "excused"])}
                        for p in members], None, NOW, policy)
            for person in [next(queue) for _ in range(5)]:
                waitlist.add_to_waitlist(person.id, groups[0].id, NOW)
            for index, person in enumerate([next(queue) for _ in range(6)]):
                request, _ = returns.submit_return(
                    {"name": person.name, "email": person.email, "phone": person.phone},
                    "phone", NOW - timedelta(days=2 * index))
                if index >= 2:
                    returns.book_check_in(request.id, NOW + timedelta(days=1), "phone", NOW)
                if index >= 4:
                    returns.record_reentry(request.id, {"dayparts": ["evening"]}, None, NOW)
                out.setdefault("return_id", request.id)
            if not copy:
                staff.choose_site(local.id, sites[0].id, NOW)
            out.setdefault("cohort_id", groups[0].id)
            out.setdefault("client_id", people[0].id)
        out["feed_token"] = tokens.issue("client", out["client_id"], NOW)
        db.session.remove()
    return out


def add_history(app, count: int) -> None:
    """``count`` requests from the past two years, each checked in and closed: what a
    program that keeps every request has piled up. Written as plain rows (through
    the use cases it would take longer than the rest of the run); the pages must not
    read them all on every visit."""
    if not count:
        return
    from scheduler.models import db

    with app.app_context(), db.engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO return_request (client_id, name, channel, status, contacts, "
            "requested_at, last_contact_at, checked_in_at, closed_at, created_at, updated_at) "
            "SELECT (SELECT min(id) FROM client) + mod(g, (SELECT count(*) FROM client)), "
            "'Past Person', 'phone', 'closed', 1, t, t, t + interval '1 day', "
            "t + interval '2 days', t, t + interval '2 days' FROM generate_series(1, %(n)s) g, "
            "LATERAL (SELECT %(now)s - interval '2 years' + g * (interval '700 days' / %(n)s) "
            "AS t) past", {"n": count, "now": NOW.replace(tzinfo=None)})
        connection.exec_driver_sql(
            "INSERT INTO check_in (return_request_id, client_id, at, minutes, mode, status, "
            "revision, created_at, updated_at) SELECT id, client_id, checked_in_at, 30, "
            "'phone', 'done', 0, requested_at, checked_in_at FROM return_request "
            "WHERE name = 'Past Person'")


# --- servers -----------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(module: str, workers: int, env: dict, cwd: Path) -> tuple:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
         "--log-level", "warning", module], cwd=cwd, env=env)
    deadline = clock.monotonic() + 30
    while clock.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process, port
        except OSError:
            clock.sleep(0.2)
    process.kill()
    raise SystemExit(f"{module} did not start")


def console_cookie(base: str, email: str = "bench@regroup.test") -> str:
    """Sign in as the bench admin (or ``email``); the session cookie for wrk."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login").read().decode()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"csrf_token": csrf, "email": email,
                                   "password": PASSWORD}).encode()
    opener.open(base + "/login", data)
    return "; ".join(f"{c.name}={c.value}" for c in jar)


PERCENTILES = """
done = function(summary, latency, requests)
  for _, p in ipairs({50, 95, 99}) do
    io.write(string.format("p%d %d\\n", p, latency:percentile(p)))
  end
end
"""


def wrk(url: str, seconds: int, connections: int, headers: dict[str, str],
        script: Path) -> dict:
    """Requests/s and p50/p95/p99 (ms) from wrk, its percentiles from a Lua hook."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", str(script)]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if bad:
        raise SystemExit(f"wrk saw {bad.group(1)} error responses for {url}")
    marks = {p: int(us) / 1000 for p, us in re.findall(r"^p(\d+) (\d+)$", out, re.M)}
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50": marks["50"], "p95": marks["95"], "p99": marks["99"]}


# --- in process ---------------------------------------------------------------------

def in_process(app, routes: dict, headers: dict, etag: str, repeat: int = 10,
               batches: int = 5):
    """SQL statements and CPU milliseconds per request (the least of ``batches``
    batches of ``repeat``), through the test client (signed in for the console
    pages: the admin, or the one-site coordinator)."""
    from scheduler.models import db
    from tests.forms import csrf_from

    figures = {}
    signed_in = {}
    for kind, email in (("console", "bench@regroup.test"), ("site", SITE_USER)):
        client = signed_in[kind] = app.test_client()
        csrf = csrf_from(client.get("/login").get_data(as_text=True))
        client.post("/login", data={"csrf_token": csrf, "email": email,
                                    "password": PASSWORD})
    count = [0]

    class Counted:
        """Passes everything to ``inner``; calls of the ``counted`` methods are
        statements sent: a DBAPI cursor's execute, and libpq's own send_query
        (the health check's deadline-timed round trip)."""

        def __init__(self, inner, counted=("execute", "executemany")):
            self._inner, self._counted = inner, counted

        def __getattr__(self, name):
            found = getattr(self._inner, name)
            if name not in self._counted:
                return found

            def counting(*args, **kwargs):
                count[0] += 1
                return found(*args, **kwargs)

            return counting

    class CountedConnection:
        def __init__(self, inner):
            self._inner = inner

        def __getattr__(self, name):
            return getattr(self._inner, name)

        def cursor(self, *args, **kwargs):
            return Counted(self._inner.cursor(*args, **kwargs))

        @property
        def dbapi_connection(self):
            return CountedConnection(self._inner.dbapi_connection)

        @property
        def pgconn(self):
            return Counted(self._inner.pgconn, ("send_query",))

    # every engine (the session's and the reads bind); SQLAlchemy's own
    # connections come through raw_connection too, so this counts everything. The
    # app context is only for finding them: each request gets its own, as under
    # gunicorn (inside one, every request would share the first signed-in user and
    # one database session)
    with app.app_context():
        engines = list(db.engines.values())
    raws = [engine.raw_connection for engine in engines]
    for engine, raw in zip(engines, raws, strict=True):
        engine.raw_connection = lambda raw=raw: CountedConnection(raw())
    try:
        for name, (path, kind) in routes.items():
            client = signed_in.get(kind) or app.test_client()
            extra = {"api": headers, "304": {"If-None-Match": etag}}.get(kind, {})
            client.get(path, headers=extra)  # warm
            count[0] = 0
            client.get(path, headers=extra)
            statements = count[0]
            best = float("inf")
            for _batch in range(batches):  # the quietest batch: this machine is shared
                started = clock.process_time()
                for _ in range(repeat):
                    client.get(path, headers=extra)
                best = min(best, (clock.process_time() - started) * 1000 / repeat)
            figures[name] = (statements, best)
    finally:
        for engine, raw in zip(engines, raws, strict=True):
            engine.raw_connection = raw
    return figures


# --- main --------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scales", default="10,50")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--connections", default="16,50")
    parser.add_argument("--database", default="regroup_bench")
    parser.add_argument("--history", type=int, default=None,
                        help="past requests, checked in and closed (default 250 per copy "
                             "of the demo: a few years of them)")
    parser.add_argument("--routes", default="",
                        help="only the routes whose names contain one of these (comma-separated)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("bench/load.py needs wrk: apt-get install wrk")
    server = os.environ.get("BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
    for scale in [int(s) for s in args.scales.split(",")]:
        run_scale(scale, server, args)


def run_scale(scale: int, server: str, args) -> None:
    from flask_migrate import upgrade

    from scheduler.app import create_app
    from scheduler.models import db

    url = recreate_pg(args.database, server)
    config = {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-secret",
              "FEED_UID_KEY": "bench-feed-key", "CLOCK": lambda: NOW,
              "RATELIMIT_ENABLED": False}
    app = create_app(config)
    with app.app_context():
        upgrade()
    started = clock.monotonic()
    ids = build_program(app, scale)
    history = args.history if args.history is not None else scale * 250
    add_history(app, history)
    # what autovacuum would have done by now in production; without it the planner
    # guesses the sizes of tables it has never looked at
    with app.app_context(), db.engine.connect().execution_options(
            isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("ANALYZE")
    print(f"\n== {scale}x the demo ({scale * 60} clients, {scale * 5} groups, {history:,} "
          f"past requests), built in {clock.monotonic() - started:.0f} s")
    feed_path = f"/feeds/{ids['feed_token']}.ics"
    with app.test_client() as client:
        feed = client.get(feed_path)
    etag = feed.headers["ETag"]
    work = Path(tempfile.mkdtemp(prefix="regroup-load-"))
    (work / "trivial.py").write_text(TRIVIAL)
    (work / "served.py").write_text(SERVED.format(now=NOW.isoformat()))
    (work / "feed.ics").write_bytes(feed.data)
    script = work / "percentiles.lua"
    script.write_text(PERCENTILES)
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-secret",
           "FEED_UID_KEY": "bench-feed-key", "BENCH_FEED_FILE": str(work / "feed.ics"),
           "PYTHONPATH": str(ROOT)}
    regroup, regroup_port = start_gunicorn("served:app", args.workers, env, work)
    trivial, trivial_port = start_gunicorn("trivial:app", args.workers, env, work)
    try:
        base = f"http://127.0.0.1:{regroup_port}"
        cookie = console_cookie(base)
        api = {"Authorization": f"Bearer {ids['api_token']}"}
        console = {"Cookie": cookie}
        site = {"Cookie": console_cookie(base, SITE_USER)}
        routes = {
            "/healthz": ("/healthz", "open"),
            "client feed, warm": (feed_path, "open"),
            "client feed, 304": (feed_path, "304"),
            "placement options": (f"/api/v1/returns/{ids['return_id']}/options", "api"),
            "API cohorts list": ("/api/v1/cohorts", "api"),
            "console Today": ("/", "console"),
            "Today, one site": ("/", "site"),
            "console Returners": ("/returners", "console"),
            "a returner's page": (f"/returners/{ids['return_id']}", "console"),
            "console Cohorts": ("/cohorts", "console"),
            "Cohorts, one site": ("/cohorts", "site"),
            "a cohort": (f"/cohorts/{ids['cohort_id']}", "console"),
            "a client": (f"/clients/{ids['client_id']}", "console"),
            "Director": ("/director", "console"),
            "Audit": ("/admin/audit", "console"),
        }
        wanted = [w.strip().lower() for w in args.routes.split(",") if w.strip()]
        if wanted:
            routes = {name: route for name, route in routes.items()
                      if any(w in name.lower() for w in wanted)}
        trivial_base = f"http://127.0.0.1:{trivial_port}"
        print(f"{'route':<22} {'conns':>5} {'req/s':>8} {'ratio':>6} {'p50 ms':>8} "
              f"{'p95 ms':>8} {'p99 ms':>8}")
        for conns in [int(c) for c in args.connections.split(",")]:
            peer = wrk(trivial_base + "/", args.seconds, conns, {}, script)
            static = wrk(trivial_base + "/feed.ics", args.seconds, conns, {}, script)
            _row("trivial peer", conns, peer, peer)
            _row("static feed bytes", conns, static, peer)
            for name, (path, kind) in routes.items():
                headers = {"api": api, "console": console, "site": site,
                           "304": {"If-None-Match": etag}}.get(kind, {})
                peer = wrk(trivial_base + "/", args.seconds, conns, {}, script)
                _row(name, conns, wrk(base + path, args.seconds, conns, headers, script),
                     peer)
        served = create_app(config)
        gc.freeze()  # as wsgi.py does once the app is loaded
        figures = in_process(served, routes, api, etag)
        print(f"\n{'route':<22} {'SQL statements':>15} {'CPU ms/request':>15} (best of 5 batches)")
        for name, (statements, cpu) in figures.items():
            print(f"{name:<22} {statements:>15} {cpu:>15.2f}")
    finally:
        for process in (regroup, trivial):
            process.terminate()
            process.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


def _row(name: str, conns: int, figures: dict, peer: dict) -> None:
    ratio = figures["rps"] / peer["rps"] if peer["rps"] else 0.0
    print(f"{name:<22} {conns:>5} {figures['rps']:>8.0f} {ratio:>6.2f} {figures['p50']:>8.1f} "
          f"{figures['p95']:>8.1f} {figures['p99']:>8.1f}")


if __name__ == "__main__":
    main()
