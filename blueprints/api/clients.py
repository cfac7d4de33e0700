"""Clients, enrollments and attendance."""

from __future__ import annotations

import sqlalchemy as sa
from flask import request
from flask.views import MethodView

from blueprints.api import Blueprint, current_staff, now, paginate, paginate_list, policy, roles
from blueprints.api.notifications import NotificationOut
from blueprints.api.schemas import (
    AttendanceMark,
    AttendanceOut,
    ClientFields,
    ClientIn,
    ClientOut,
    ClientQuery,
    EnrollmentCreditIn,
    EnrollmentIn,
    EnrollmentMoveIn,
    EnrollmentOut,
    EnrollmentPatch,
)
from scheduler.models import Client
from scheduler.services import clients as service
from scheduler.services import enrollments
from scheduler.services.common import get

blp = Blueprint("clients", __name__, description="Clients, enrollments and attendance")


@blp.route("/clients")
class Clients(MethodView):
    @blp.arguments(ClientQuery, location="query")
    @blp.response(200, ClientOut(many=True))
    @blp.paginate()
    def get(self, filters, pagination_parameters):
        query = sa.select(Client).where(Client.merged_into_id.is_(None)).order_by(
            Client.name, Client.id)
        if filters.get("q"):
            query = query.where(Client.name.ilike(f"%{filters['q']}%"))
        return paginate(query, pagination_parameters)

    @blp.arguments(ClientIn)
    @blp.response(201, ClientOut)
    def post(self, data):
        return service.create_client(data, now())


@blp.route("/clients/<int:client_id>")
class ClientById(MethodView):
    @blp.response(200, ClientOut)
    def get(self, client_id):
        return get(Client, client_id, "Client")

    @blp.arguments(ClientFields, required=False)  # every field optional
    @blp.response(200, ClientOut)
    def patch(self, data, client_id):
        return service.update_client(client_id, data, now())


@blp.route("/enrollments")
class Enrollments(MethodView):
    @blp.arguments(EnrollmentIn)
    @blp.response(201, EnrollmentOut)
    @blp.alt_response(409, description="No seat left, or already enrolled")
    def post(self, data):
        return enrollments.enroll(data["client_id"], data["cohort_id"], now(), policy(),
                                  joined_on=data.get("joined_on"),
                                  credited_sessions=data["credited_sessions"])


@blp.route("/enrollments/<int:enrollment_id>")
class EnrollmentById(MethodView):
    @blp.arguments(EnrollmentPatch)
    @blp.response(200, EnrollmentOut)
    def patch(self, data, enrollment_id):
        return enrollments.change_status(enrollment_id, data["status"], now(), policy(),
                                         release_hold=data["release_hold"],
                                         reason=data.get("reason"))


@blp.route("/enrollments/<int:enrollment_id>/move")
class EnrollmentMove(MethodView):
    @blp.arguments(EnrollmentMoveIn)
    @blp.response(201, EnrollmentOut)
    @blp.alt_response(409, description="No seat left there, or already in that group")
    def post(self, data, enrollment_id):
        """Move the person to another group, keeping every session done."""
        return enrollments.move(enrollment_id, data["cohort_id"], now(), policy(),
                                reason=data.get("reason"))


@blp.route("/enrollments/<int:enrollment_id>/credit")
class EnrollmentCredit(MethodView):
    @blp.arguments(EnrollmentCreditIn)
    @blp.response(200, EnrollmentOut)
    def put(self, data, enrollment_id):
        """Set the sessions credited, with a reason (the only way credit goes down)."""
        return enrollments.set_credit(enrollment_id, data["credited_sessions"],
                                      data["reason"], now(), staff_id=current_staff().id)


@blp.route("/clients/<int:client_id>/enrollments")
class ClientEnrollments(MethodView):
    @blp.response(200, EnrollmentOut(many=True))
    @blp.paginate()
    def get(self, client_id, pagination_parameters):
        """The client's enrollments, newest first, with sessions attended and done."""
        return paginate_list(service.enrollments_of(client_id), pagination_parameters)


@blp.route("/clients/<int:client_id>/messages")
class ClientMessages(MethodView):
    @blp.response(200, NotificationOut(many=True))
    @blp.paginate()
    def get(self, client_id, pagination_parameters):
        """Every message planned or sent to the client, newest first."""
        return paginate(service.messages_of(client_id), pagination_parameters)


@blp.route("/group-sessions/<int:session_id>/attendance")
class SessionAttendance(MethodView):
    @blp.response(200, AttendanceOut(many=True))
    @blp.paginate()
    def get(self, session_id, pagination_parameters):
        return paginate_list(enrollments.attendance_for(session_id), pagination_parameters)

    @roles("admin", "coordinator", "clinician")
    @blp.arguments(AttendanceMark(many=True))
    @blp.response(200, AttendanceOut(many=True))
    def put(self, marks, session_id):
        """Once the session has started; older than ``attendance_days_back`` days
        only for admins, with ``?reason=``."""
        return enrollments.record_attendance(session_id, marks, current_staff().id, now(),
                                             policy(), role=current_staff().role,
                                             reason=request.args.get("reason"))
