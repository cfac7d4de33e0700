"""Director: time back to group across both sites, and capacity and waits at the
site the reader chose or every site (every role may read it; it shows counts, never
a client's name)."""

from __future__ import annotations

import csv
import io

from flask import Response, render_template
from flask_login import current_user

from blueprints.web import bp
from blueprints.web.helpers import int_arg, now
from scheduler.services import reports
from scheduler.timeutil import to_local


@bp.get("/director")
def director():
    report = reports.director_report(now(), location_id=current_user.location_id,
                                     page=int_arg("page") or 1)
    return render_template("console/director.html", report=report, sites=report.sites,
                           window_days=reports.TIME_BACK_DAYS)


CSV_FIELDS = ("return_request_id", "stage", "location", "track", "option", "requested_at",
              "checked_in_at", "placed_at", "first_attended_at", "days_to_check_in",
              "days_to_placed", "days_to_group", "waiting_days")


@bp.get("/director/time-back.csv")
def director_time_back_csv():
    """The Director page's requests, one line each, local times, no names."""
    figures = reports.time_back(now())
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for item in figures.items:
        writer.writerow({k: to_local(v).isoformat(timespec="minutes") if hasattr(v, "tzinfo") else v
                         for k, v in item.items()})
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=time-back-{now():%Y-%m-%d}.csv"})
