"""Extension objects, created unbound and initialised in `create_app()`."""

from __future__ import annotations

from flask import has_request_context, request
from flask.globals import app_ctx
from flask_babel import Babel
from flask_caching import Cache
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from charter.models.base import Base, UTCDateTime


def _session_scope() -> int:
    """One session per request (or per app context outside requests).

    In production each request has its own app context anyway; scoping by request as
    well keeps a request's session apart from a surrounding app context's (as in tests,
    where the test's own session must not be the one the request commits).
    """
    if has_request_context():
        return id(request._get_current_object())
    return id(app_ctx._get_current_object())


db = SQLAlchemy(model_class=Base, session_options={"scopefunc": _session_scope})


def _render_item(type_, obj, autogen_context):
    """Write our UTCDateTime as a plain timezone-aware DateTime in migration scripts."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


migrate = Migrate(compare_type=True, render_as_batch=True, render_item=_render_item)
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
babel = Babel()
# Shared cache (charter/cache.py decides what goes in it): a folder under instance/ by
# default, so that every worker of `make run` and gunicorn shares it; Redis in production
# (CACHE_TYPE=RedisCache, CACHE_REDIS_URL); SimpleCache in tests, emptied for each test.
cache = Cache()
