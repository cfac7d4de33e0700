"""Locations, tracks and closures."""

from __future__ import annotations

import sqlalchemy as sa
from flask.views import MethodView

from blueprints.api import Blueprint, now, paginate, policy
from blueprints.api.schemas import (
    ClosureIn,
    ClosureOut,
    LocationIn,
    LocationOut,
    LocationPatch,
    TrackIn,
    TrackOut,
)
from scheduler.models import Closure, Location, Track
from scheduler.services import cohorts as service

blp = Blueprint("program", __name__, description="Locations, tracks and closures")


@blp.route("/locations")
class Locations(MethodView):
    @blp.response(200, LocationOut(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        return paginate(sa.select(Location).order_by(Location.name), pagination_parameters)

    @blp.arguments(LocationIn)
    @blp.response(201, LocationOut)
    def post(self, data):
        return service.create_location(**data)


@blp.route("/locations/<int:location_id>")
class LocationById(MethodView):
    @blp.arguments(LocationPatch, required=False)  # every field optional
    @blp.response(200, LocationOut)
    def patch(self, data, location_id):
        """Change a site's address, or how clients reach it (shown in every message)."""
        return service.update_location(location_id, data)


@blp.route("/tracks")
class Tracks(MethodView):
    @blp.response(200, TrackOut(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        return paginate(sa.select(Track).order_by(Track.name), pagination_parameters)

    @blp.arguments(TrackIn)
    @blp.response(201, TrackOut)
    def post(self, data):
        return service.create_track(**data)


@blp.route("/closures")
class Closures(MethodView):
    @blp.response(200, ClosureOut(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        return paginate(sa.select(Closure).order_by(Closure.date.desc(), Closure.id),
                        pagination_parameters)

    @blp.arguments(ClosureIn)
    @blp.response(201, ClosureOut)
    def post(self, data):
        closure, cancelled = service.create_closure(
            data["location_id"], data["date"], data["reason"], now(), policy())
        closure.cancelled_session_ids = [s.id for s in cancelled]
        return closure
