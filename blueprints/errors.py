"""Every error a caller can cause becomes a clear JSON (API) or page answer here."""

from __future__ import annotations

import logging
from http import HTTPStatus

from flask import jsonify, make_response, render_template, request
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from scheduler.errors import DomainError
from scheduler.models import db

log = logging.getLogger("regroup")


def _body(status: int, message: str, field: str | None = None):
    body = {"code": status, "status": _phrase(status), "message": message}
    if field:
        body["errors"] = {"json": {field: [message]}}
    return jsonify(body), status


def _phrase(status: int) -> str:
    return HTTPStatus(status).phrase


# What a client reads when a page of theirs cannot be shown: never their fault.
CLIENT_PAGES = {
    404: ("This page isn't here", "This link doesn't open anything right now. Links can "
          "change when a newer message is sent."),
    405: ("This page isn't here", "This address is not one you can open this way."),
    413: ("That was too much to send", "Please send a shorter message."),
    429: ("Please wait a minute", "Too many tries in a short time. Try again in a minute."),
}


def client_page(exc: HTTPException):
    """An HTML page in the client's style (their pages, unknown addresses)."""
    title, message = CLIENT_PAGES.get(
        exc.code, ("Something went wrong on our side", "Please try again in a little while."))
    return render_template("client_error.html", title=title, message=message), exc.code


def register(app) -> None:
    api_http_error = app.error_handler_spec[None][None].get(HTTPException)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        """The API answers JSON; the console has its own pages (blueprints/web);
        everything else a person opens gets an HTML page in the client's style."""
        if request.path.startswith("/api/") and api_http_error is not None:
            response = make_response(api_http_error(exc))
        elif exc.code is None or exc.code < 400 or request.path == "/healthz":
            return exc
        else:
            response = make_response(client_page(exc))
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)  # RFC 9110
        return response

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
