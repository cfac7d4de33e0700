"""A live Regroup API on a scratch SQLite database with the demo program, for
contract fuzzing (tests/contract and bench/schemathesis.py)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask_migrate import upgrade
from werkzeug.serving import make_server

from scheduler.app import create_app
from scheduler.demo import load_demo
from scheduler.models import db
from scheduler.services import staff

# revoking tokens by id would revoke the fuzzer's own token half-way through
LOCKS_THE_CALLER_OUT = ("DELETE /api/v1/staff/tokens/{token_id}",)


def demo_with_admin_token(app, label: str) -> str:
    """Migrate the app's (empty) database, load the demo program, and return a new
    API token for the demo admin."""
    with app.app_context():
        upgrade(x_arg=["quiet"])
        now = app.config["CLOCK"]()
        load_demo(now, app.config["POLICY"])
        admin = staff.staff_by_email("admin@demo.regroup.test")
        _row, token = staff.new_token_for(admin.id, now, label=label)
        db.session.remove()
    return token


@contextmanager
def live_api(folder: Path, database_url: str | None = None) -> Iterator[tuple[str, str]]:
    """(base URL, admin bearer token) of a running server; stopped on exit."""
    url = database_url or f"sqlite:///{folder / 'contract.sqlite3'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REGROUP_ENV": "development",
                      "SECRET_KEY": "contract-fuzzing", "OUTBOX_TRANSPORT": "null"})
    token = demo_with_admin_token(app, "contract fuzzing")
    werkzeug_log = logging.getLogger("werkzeug")
    level = werkzeug_log.level
    werkzeug_log.setLevel(logging.ERROR)  # thousands of requests; put back afterwards
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", token
    finally:
        server.shutdown()
        werkzeug_log.setLevel(level)
        with app.app_context():
            for engine in db.engines.values():
                engine.dispose()
