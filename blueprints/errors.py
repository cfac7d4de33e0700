"""Every error a caller can cause becomes a clear JSON (API) or page answer here."""

from __future__ import annotations

import logging

from flask import jsonify, request
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from scheduler.errors import DomainError
from scheduler.models import db

log = logging.getLogger("regroup")


def _body(status: int, message: str, field: str | None = None):
    body = {"code": status, "status": _phrase(status), "message": message}
    if field:
        body["errors"] = {"json": {field: [message]}}
    return jsonify(body), status


def _phrase(status: int) -> str:
    from http import HTTPStatus

    return HTTPStatus(status).phrase


def register(app) -> None:
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        db.session.rollback()
        return _body(exc.status, exc.message, exc.field)

    @app.errorhandler(IntegrityError)
    def integrity_error(exc: IntegrityError):
        db.session.rollback()
        log.info("integrity conflict on %s %s", request.method, request.path)
        return _body(409, "This conflicts with the current state of the record")

    @app.errorhandler(OperationalError)
    def database_busy(exc: OperationalError):
        db.session.rollback()
        log.exception("database error on %s %s", request.method, request.path)
        return _body(503, "The database is busy; please try again")

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return exc
        db.session.rollback()
        log.exception("unexpected error on %s %s", request.method, request.path)
        return _body(500, "Something went wrong on our side")
