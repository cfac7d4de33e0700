"""The outbox for staff: find messages that need a decision (``unknown``, ``failed``)
and settle them."""

from __future__ import annotations

import sqlalchemy as sa
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from blueprints.api import Blueprint, now, paginate
from blueprints.api.schemas import LocalDateTime, OutSchema, StrictSchema
from scheduler.models import NOTIFICATION_STATUSES, Notification
from scheduler.services import outbox

blp = Blueprint("notifications", __name__, description="Messages (the outbox)")


class NotificationQuery(Schema):
    status = fields.String(validate=validate.OneOf(NOTIFICATION_STATUSES))
    client_id = fields.Integer()
    kind = fields.String()


class NotificationOut(OutSchema):
    id = fields.Integer()
    kind = fields.String()
    client_id = fields.Integer(allow_none=True)
    staff_id = fields.Integer(allow_none=True)
    channel = fields.String()
    recipient = fields.String()
    subject_ref = fields.String(allow_none=True)
    status = fields.String()
    due_at = LocalDateTime()
    expires_at = LocalDateTime(allow_none=True)
    sending_at = LocalDateTime(allow_none=True)
    sent_at = LocalDateTime(allow_none=True)
    attempts = fields.Integer()
    error = fields.String(allow_none=True)


class ResolveIn(StrictSchema):
    class Meta:
        unknown = "raise"

    outcome = fields.String(required=True, validate=validate.OneOf(outbox.RESOLUTIONS))


@blp.route("/notifications")
class Notifications(MethodView):
    @blp.arguments(NotificationQuery, location="query")
    @blp.response(200, NotificationOut(many=True))
    @blp.paginate()
    def get(self, filters, pagination_parameters):
        query = sa.select(Notification).order_by(Notification.due_at.desc(), Notification.id)
        for name in ("status", "client_id", "kind"):
            if filters.get(name) is not None:
                query = query.where(getattr(Notification, name) == filters[name])
        return paginate(query, pagination_parameters)


@blp.route("/notifications/<int:notification_id>/resolve")
class ResolveNotification(MethodView):
    @blp.arguments(ResolveIn)
    @blp.response(200, NotificationOut)
    def post(self, data, notification_id):
        return outbox.resolve(notification_id, data["outcome"], now())
