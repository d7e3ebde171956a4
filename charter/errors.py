"""Error pages that explain what happened and leak nothing of the inside."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, current_app, render_template, request
from flask.globals import request_ctx
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, SecurityError

from charter.extensions import db
from charter.pdf import PdfRenderError
from charter.permissions import PermissionDenied
from charter.rules import RuleError

MESSAGES = {
    400: (_l("Bad request"),
          _l("The request could not be understood. Please go back and try again.")),
    403: (_l("Not allowed"), _l("You do not have permission to see or do this.")),
    404: (_l("Page not found"),
          _l("There is nothing at this address. It may have moved, or the link may be "
             "mistyped.")),
    405: (_l("Not allowed"), _l("This address does not accept that kind of request.")),
    409: (_l("Someone else changed this"),
          _l("The record changed while you were working on it. Nothing was saved; reload it "
             "and apply your change again.")),
    413: (_l("Too large"),
          _l("What you sent is larger than this service accepts. Nothing was saved.")),
    429: (_l("Too many attempts"),
          _l("You have tried this too many times in a short while. Please wait a minute and "
             "try again.")),
    500: (_l("Something went wrong"),
          _l("An error on our side stopped this page. It has been logged; please try again "
             "later.")),
    503: (_l("Not ready yet"),
          _l("This is being prepared. Please try again in a minute.")),
}


def render_error(status: int, message: str | None = None, title: str | None = None):
    default_title, default = MESSAGES.get(status, MESSAGES[500])
    title = title or default_title
    try:
        html = render_template(
            "errors/error.html", status=status, title=title, message=message or default
        )
    except Exception:  # the error page itself failed: answer in plain text
        current_app.logger.exception("error page for %s failed to render", status)
        return f"{title}\n\n{message or default}\n", status, {"Content-Type": "text/plain"}
    return html, status


def _csrf(exc):
    return render_error(
        400,
        _l(
            "This form had expired or did not come from this site, so nothing was saved. "
            "Go back, reload the page and send it again."
        ),
    )


def _untrusted_host(exc):
    # A Host header outside TRUSTED_HOSTS: Flask could not build a URL adapter for
    # it, so bind one to SITE_URL for the error page's links (they are all relative).
    ctx = request_ctx._get_current_object()
    if ctx.url_adapter is None:
        parts = urlsplit(current_app.config["SITE_URL"])
        ctx.url_adapter = current_app.url_map.bind(
            parts.netloc or "localhost", script_name=parts.path or "/",
            url_scheme=parts.scheme or "https",
        )
    return render_error(400, _l("This service does not answer to that address."))


def _denied(exc):
    return render_error(403, str(exc) or None)


def _pdf_failed(exc: PdfRenderError):
    # Routes that render (publishing, corrections) answer beside the form; this covers
    # every other PDF (certificates, site and global PDFs): a clear page, never a 500.
    db.session.rollback()
    current_app.logger.warning("PDF not made on %s %s: %s", request.method, request.path, exc)
    return render_error(503, exc.message, title=_l("The PDF could not be made"))


def _refused(exc: RuleError):
    # A rule refused a request that has no form to show the message beside (a button,
    # a link): its status and, unless the record is simply not there, its message.
    db.session.rollback()
    return render_error(exc.status, None if exc.status == 404 else exc.message)


def _stale(exc):
    db.session.rollback()
    return render_error(409)


def _http(exc: HTTPException):
    status = exc.code or 500
    if status == 429:
        return render_error(429, _l(
            "Too many attempts from your connection. Please wait a minute before trying "
            "again."
        ))
    if request.path.startswith("/api/"):
        title, default = MESSAGES.get(status, (exc.name, exc.description))
        error = {"status": status, "title": str(title), "message": str(default)}
        return {"error": error}, status
    if status in MESSAGES:
        return render_error(status)
    return exc


def _unexpected(exc: Exception):
    db.session.rollback()
    current_app.logger.exception("Unhandled error on %s %s", request.method, request.path)
    if current_app.testing and not current_app.config.get("RENDER_500_IN_TESTS"):
        raise exc
    return render_error(500)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf)
    app.register_error_handler(SecurityError, _untrusted_host)
    app.register_error_handler(PermissionDenied, _denied)
    app.register_error_handler(PdfRenderError, _pdf_failed)
    app.register_error_handler(RuleError, _refused)
    app.register_error_handler(StaleDataError, _stale)
    app.register_error_handler(HTTPException, _http)
    app.register_error_handler(Exception, _unexpected)
