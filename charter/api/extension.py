"""flask-smorest wired into the app: the OpenAPI document and one error format for /api/.

Errors under /api/ all have one shape, documented in the OpenAPI document as `Error`:

    {"error": {"status": 404, "title": "Page not found", "message": "…",
               "errors": {"query": {"site": ["…"]}}}}

`charter/errors.py` answers HTTP errors raised outside the API's views (an unknown path
under /api/, a method the route does not accept) in that shape already; the handlers here
answer the errors raised inside the API's views the same way and keep the details that
webargs and our own look-ups attach (which parameter, which value).
"""

from __future__ import annotations

import marshmallow as ma
from flask import Flask, current_app, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from charter.errors import MESSAGES
from charter.extensions import db


class ErrorDetailSchema(ma.Schema):
    status = ma.fields.Integer(
        required=True, metadata={"description": "The HTTP status code, repeated in the body."})
    title = ma.fields.String(
        required=True, metadata={"description": "A short name for the kind of error."})
    message = ma.fields.String(
        required=True, metadata={"description": "What went wrong, in a sentence a person can act on."})
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.List(ma.fields.String())),
        metadata={"description": "For bad parameters: where they were (e.g. `query`), then each "
                                 "parameter's name with its messages. Absent for other errors."},
    )


class ErrorSchema(ma.Schema):
    """Every error under /api/ has this shape."""

    error = ma.fields.Nested(ErrorDetailSchema, required=True,
                             metadata={"description": "What went wrong."})


TITLES = {422: _l("Invalid parameters")}


def _title(status: int, default: str | None = None) -> str:
    """The same titles as charter/errors.py gives the errors it answers under /api/."""
    if status in TITLES:
        return str(TITLES[status])
    if status in MESSAGES:
        return str(MESSAGES[status][0])
    return default or "Error"


def error_body(status: int, message: str, errors: dict | None = None, title: str | None = None) -> dict:
    body = {"status": status, "title": title or _title(status), "message": message}
    if errors:
        body["errors"] = errors
    return {"error": body}


def _message_for(exc: HTTPException) -> tuple[str, dict | None]:
    data = getattr(exc, "data", None) or {}
    errors = data.get("errors") or data.get("messages")
    message = data.get("message")
    if not message and errors and exc.code == 422:
        message = _("Some parameters are not valid: see `errors` for each one.")
    if not message:
        message = exc.description or exc.name
    return str(message), errors


def handle_http_exception(exc: HTTPException):
    """Errors raised inside the API's views (a blueprint-level handler)."""
    status = exc.code or 500
    message, errors = _message_for(exc)
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    headers.update((getattr(exc, "data", None) or {}).get("headers") or {})
    return error_body(status, message, errors, _title(status, exc.name)), status, headers


def handle_unexpected(exc: Exception):
    """A bug inside an API view: logged, answered as JSON, nothing of the inside shown."""
    if isinstance(exc, HTTPException):
        return handle_http_exception(exc)
    db.session.rollback()
    current_app.logger.exception("Unhandled error on %s %s", request.method, request.path)
    if current_app.testing and not current_app.config.get("RENDER_500_IN_TESTS"):
        raise exc
    return error_body(500, _("An error on our side stopped this answer. It has been logged; "
                             "please try again later.")), 500


class OpenDataApi(Api):
    """flask-smorest's Api, minus its app-wide error handler.

    flask-smorest registers a handler for every HTTPException of the whole app, which
    would turn the HTML error pages of the site into JSON. The API's own blueprint answers
    its errors instead (see `register_error_handlers`), and charter/errors.py keeps the
    rest of the site.
    """

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        return None


def register_error_handlers(blueprint) -> None:
    blueprint.register_error_handler(HTTPException, handle_http_exception)
    blueprint.register_error_handler(Exception, handle_unexpected)


def add_allow_header(app: Flask) -> None:
    """A 405 under /api/ carries the Allow header (RFC 9110).

    The 405 comes from routing, before any blueprint is known, so charter/errors.py answers
    it; this puts back the Allow header that its JSON answer leaves out.
    """

    @app.after_request
    def _allow(response):
        if response.status_code == 405 and "Allow" not in response.headers \
                and request.path.startswith("/api/"):
            valid = getattr(request.routing_exception, "valid_methods", None)
            if valid:
                response.headers["Allow"] = ", ".join(sorted(valid))
        return response
