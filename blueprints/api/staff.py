"""Staff accounts for admins: roles, offboarding (disable stops every token and
console session at once) and API tokens that expire and can be revoked."""

from __future__ import annotations

import sqlalchemy as sa
from flask.views import MethodView
from marshmallow import fields, validate

from blueprints.api import Blueprint, current_staff, now, paginate, paginate_list, roles
from blueprints.api.schemas import OutSchema, StrictSchema
from scheduler.models import ROLES, StaffUser
from scheduler.services import staff as accounts

blp = Blueprint("staff", __name__, description="Staff accounts and API tokens (admins)")


class StaffOut(OutSchema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    role = fields.String()
    active = fields.Boolean()


class StaffPatch(StrictSchema):
    role = fields.String(required=True, validate=validate.OneOf(ROLES))


class TokenIn(StrictSchema):
    label = fields.String(load_default="", validate=validate.Length(max=120))
    days = fields.Integer(load_default=accounts.TOKEN_DAYS,
                          validate=validate.Range(min=1, max=3650))


class TokenOut(OutSchema):
    id = fields.Integer()
    label = fields.String()
    created_at = fields.DateTime()
    expires_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)
    last_used_at = fields.DateTime(allow_none=True)


class TokenIssued(TokenOut):
    token = fields.String(metadata={"description": "the token itself, shown this once"})


@blp.route("/staff")
class StaffList(MethodView):
    @roles("admin")
    @blp.response(200, StaffOut(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        return paginate(sa.select(StaffUser).order_by(StaffUser.email), pagination_parameters)


@blp.route("/staff/<int:staff_id>")
class StaffById(MethodView):
    @roles("admin")
    @blp.arguments(StaffPatch)
    @blp.response(200, StaffOut)
    def patch(self, data, staff_id):
        return accounts.change_role(staff_id, data["role"], now(), by=current_staff().id)


@blp.route("/staff/<int:staff_id>/disable")
class StaffDisable(MethodView):
    @roles("admin")
    @blp.response(200, StaffOut)
    def post(self, staff_id):
        """Offboard: the account, its API tokens and its console sessions stop at once."""
        return accounts.disable_staff(staff_id, now(), by=current_staff().id)


@blp.route("/staff/<int:staff_id>/enable")
class StaffEnable(MethodView):
    @roles("admin")
    @blp.response(200, StaffOut)
    def post(self, staff_id):
        return accounts.enable_staff(staff_id, now(), by=current_staff().id)


@blp.route("/staff/<int:staff_id>/tokens")
class StaffTokens(MethodView):
    @roles("admin")
    @blp.response(200, TokenOut(many=True))
    @blp.paginate()
    def get(self, staff_id, pagination_parameters):
        return paginate_list(accounts.tokens_of(staff_id), pagination_parameters)

    @roles("admin")
    @blp.arguments(TokenIn, required=False)  # every field optional
    @blp.response(201, TokenIssued)
    def post(self, data, staff_id):
        row, token = accounts.new_token_for(staff_id, now(), label=data["label"],
                                            days=data["days"], by=current_staff().id)
        row.token = token
        return row


@blp.route("/staff/tokens/<int:token_id>")
class StaffTokenById(MethodView):
    @roles("admin")
    @blp.response(204)
    def delete(self, token_id):
        accounts.revoke_token(token_id, now(), by=current_staff().id)
