"""Cohorts, their group sessions and rosters."""

from __future__ import annotations

import sqlalchemy as sa
from flask.views import MethodView

from blueprints.api import Blueprint, now, paginate, policy
from blueprints.api.schemas import (
    CohortIn,
    CohortOut,
    CohortPatch,
    CohortQuery,
    GroupSessionOut,
    GroupSessionPatch,
    RosterOut,
    SessionQuery,
)
from scheduler.models import Cohort
from scheduler.services import cohorts as service
from scheduler.services import enrollments
from scheduler.services.common import get

blp = Blueprint("cohorts", __name__, description="Cohorts, group sessions and rosters")


@blp.route("/cohorts")
class Cohorts(MethodView):
    @blp.arguments(CohortQuery, location="query")
    @blp.response(200, CohortOut(many=True))
    @blp.paginate()
    def get(self, filters, pagination_parameters):
        query = sa.select(Cohort).order_by(Cohort.id)
        for name, value in filters.items():
            query = query.where(getattr(Cohort, name) == value)
        return paginate(query, pagination_parameters)

    @blp.arguments(CohortIn)
    @blp.response(201, CohortOut)
    def post(self, data):
        return service.create_cohort(data, now(), policy())


@blp.route("/cohorts/<int:cohort_id>")
class CohortById(MethodView):
    @blp.response(200, CohortOut)
    def get(self, cohort_id):
        return get(Cohort, cohort_id, "Cohort")

    @blp.arguments(CohortPatch, required=False)  # every field optional
    @blp.response(200, CohortOut)
    def patch(self, changes, cohort_id):
        return service.update_cohort(cohort_id, changes, now(), policy())


@blp.route("/cohorts/<int:cohort_id>/sessions")
class CohortSessions(MethodView):
    @blp.arguments(SessionQuery, location="query")
    @blp.response(200, GroupSessionOut(many=True))
    def get(self, window, cohort_id):
        return service.sessions_between(cohort_id, window.get("from_"), window.get("to"))


@blp.route("/cohorts/<int:cohort_id>/roster")
class CohortRoster(MethodView):
    @blp.response(200, RosterOut)
    def get(self, cohort_id):
        cohort, rows, seats_left = enrollments.roster(cohort_id, now())
        return {"cohort_id": cohort.id, "capacity": cohort.capacity,
                "seats_left": seats_left, "enrollments": rows}


@blp.route("/group-sessions/<int:session_id>")
class GroupSessionById(MethodView):
    @blp.arguments(GroupSessionPatch, required=False)  # every field optional
    @blp.response(200, GroupSessionOut)
    def patch(self, changes, session_id):
        """Move, cancel or restore one group session; later pattern changes leave it be."""
        return service.change_session(session_id, now(), **changes)
