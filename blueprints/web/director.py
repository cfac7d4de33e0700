"""Director: capacity, waits and time back to group across both sites (every role
may read it; it shows counts, never a client's name)."""

from __future__ import annotations

from flask import render_template

from blueprints.web import bp
from blueprints.web.helpers import now
from scheduler.services import reports


@bp.get("/director")
def director():
    return render_template("console/director.html", report=reports.director_report(now()),
                           window_days=reports.TIME_BACK_DAYS)
