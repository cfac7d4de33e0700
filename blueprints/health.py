"""/healthz and the human-readable API docs page."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from flask import Blueprint, current_app, jsonify, render_template

from scheduler import reads

bp = Blueprint("health", __name__)


# a probe that hangs (a database that accepts connections and never answers) is
# given up on after HEALTH_BUDGET_SECONDS: the prober hears 503, never a hung worker
_probes = ThreadPoolExecutor(max_workers=2, thread_name_prefix="healthz")


@bp.get("/healthz")
def healthz():
    """200 when the database answers within the budget: one round trip on the reads
    engine (no transaction, so on SQLite a health check never takes the write lock)."""
    budget = float(current_app.config.get("HEALTH_BUDGET_SECONDS", 2.0))
    try:
        _probes.submit(reads.fetch_one, "SELECT 1", (), reads.engine()).result(timeout=budget)
    except Exception:  # any driver's "cannot connect", or no answer in time
        return jsonify(status="unavailable", database="not answering"), 503
    return jsonify(status="ok")


@bp.get("/api/docs")
def api_docs():
    """The OpenAPI document rendered as a plain page (works offline, no CDN)."""
    spec = current_app.extensions["regroup_api"].spec.to_dict()
    return render_template("api_docs.html", spec=spec)
