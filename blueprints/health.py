"""/healthz and the human-readable API docs page."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template

from scheduler import reads

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """200 when the database answers within HEALTH_BUDGET_SECONDS: one round trip on
    the reads engine (no transaction, so on SQLite a health check never takes the
    write lock). A database that accepts connections and never answers gets the
    prober a 503 at the deadline, never a hung worker."""
    budget = float(current_app.config.get("HEALTH_BUDGET_SECONDS", 2.0))
    if not reads.answers_within(budget, reads.engine()):
        return jsonify(status="unavailable", database="not answering"), 503
    return jsonify(status="ok")


@bp.get("/api/docs")
def api_docs():
    """The OpenAPI document rendered as a plain page (works offline, no CDN)."""
    spec = current_app.extensions["regroup_api"].spec.to_dict()
    return render_template("api_docs.html", spec=spec)
