"""Cohorts: the week grid per location, forming cohorts, and one cohort's page."""

from __future__ import annotations

from flask import render_template

from blueprints.web import bp
from blueprints.web.helpers import audited, now, policy
from scheduler.services import console


@bp.get("/cohorts")
def cohorts():
    return render_template("console/cohorts.html", grids=console.week_grid(now()),
                           forming=console.forming_cohorts(policy()), policy=policy())


@bp.get("/cohorts/<int:cohort_id>")
def cohort(cohort_id: int):
    page = console.cohort_page(cohort_id, now())
    audited("read", "cohort", cohort_id)
    return render_template("console/cohort.html", page=page, now=now())
