"""/healthz and the human-readable API docs page."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, render_template

from scheduler.models import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(sa.text("SELECT 1"))
        db.session.rollback()
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="unavailable", database="not answering"), 503
    return jsonify(status="ok")


@bp.get("/api/docs")
def api_docs():
    """The OpenAPI document rendered as a plain page (works offline, no CDN)."""
    spec = current_app.extensions["regroup_api"].spec.to_dict()
    return render_template("api_docs.html", spec=spec)
