"""Request-layer wiring shared by every blueprint: login loading, template helpers,
security headers and the locale."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from flask import Flask, current_app, g, has_request_context, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from jinja2 import select_autoescape

from charter import formatting, permissions, transaction
from charter.extensions import db
from charter.text import render_markdown


def select_locale() -> str:
    if not has_request_context():  # CLI jobs and emails queued outside a request
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    return request.accept_languages.best_match(current_app.config["LANGUAGES"]) or "en"


def init_login(login_manager) -> None:
    from charter.auth.login import load_user

    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see that page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    # The id in both cookies is a server-side session's token (charter.auth.sessions).
    login_manager.user_loader(load_user)


def is_safe_next(target: str | None) -> bool:
    """Only same-host, relative paths may be redirected to after signing in."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(c) < 32 for c in target):
        return False
    ref = urlsplit(request.host_url)
    test = urlsplit(urljoin(request.host_url, target))
    return test.scheme in ("http", "https") and ref.netloc == test.netloc


def init_templates(app: Flask) -> None:
    app.jinja_env.globals.update(
        perm=permissions,
        get_locale=get_locale,
        site_url=lambda: app.config["SITE_URL"],
        extra_nav_items=extra_nav_items,
        has_endpoint=lambda name: name in app.view_functions,
    )
    app.jinja_env.filters.update(
        markdown=render_markdown,
        local_datetime=formatting.local_datetime,
        local_date=formatting.local_date,
        iso_local=formatting.iso_local,
        change_value=formatting.change_value,
        humanise=formatting.humanise,
        display_date=formatting.display_date,
    )
    # Escape every template but plain-text emails (Flask's default escapes only .html, .xml
    # and .svg, so a feed.atom or an .ics would print user text raw).
    app.jinja_env.autoescape = select_autoescape(
        disabled_extensions=("txt",), default_for_string=True, default=True)
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True


SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


PUBLIC_FILES = {"static", "charts.chart_file"}


def init_request_hooks(app: Flask) -> None:
    from charter.auth.login import touch_after_request

    # Flask runs after-request hooks in the reverse order of registration: the headers
    # (which read the signed-in user) first, then the commit, then mail delivery.
    transaction.init_app(app)

    @app.after_request
    def _headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if app.config.get("HSTS"):
            response.headers.setdefault("Strict-Transport-Security", app.config["HSTS"])
        if getattr(g, "no_store", False) or request.endpoint in {
            "auth.login", "auth.reset_password", "auth.forgot_password",
        }:
            response.headers["Cache-Control"] = "no-store"
        # Nothing shown to a signed-in person is kept by a browser or a shared cache (the
        # outbox holds live reset links); public pages stay cacheable for the public, and
        # the static files are the same for everyone.
        # Chart files (charter/chart_routes.py) hold only public data, named by their content.
        if request.endpoint not in PUBLIC_FILES and current_user.is_authenticated:
            response.headers["Cache-Control"] = "private, no-store"
        return response

    @app.teardown_request
    def _end_request_session(exc):
        # A request that failed before committing leaves nothing half saved; then the
        # request's session is closed (see extensions._session_scope).
        if exc is not None:
            db.session.rollback()
        db.session.remove()
        touch_after_request()  # the session's "last seen", in its own short transaction


# The public navigation; an entry shows once its blueprint is registered.
NAV_ITEMS = [
    ("sites.current_charter", _l("The charter")),
    ("organisations.signatories", _l("Signatories")),
    ("catalogue.domains", _l("Change domains")),
    ("commitments.partnerships", _l("Partnerships")),
    ("reports.index", _l("Reports")),
    ("dashboards.global_view", _l("PROMISE Global")),
]


def extra_nav_items() -> list[dict]:
    from flask import url_for

    items = []
    for endpoint, label in NAV_ITEMS:
        if endpoint in current_app.view_functions:
            items.append(
                {"url": url_for(endpoint), "label": label, "current": request.endpoint == endpoint}
            )
    return items
