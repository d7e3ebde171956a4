"""Configuration classes, read from the environment.

`create_app()` picks one by name (`development`, `testing`, `production`) from its
argument or from the `CHARTER_CONFIG` environment variable.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("CHARTER_INSTANCE_PATH", BASE_DIR / "instance"))


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _list(name: str) -> list[str] | None:
    """A comma-separated list, or None when the variable is unset or empty."""
    items = [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]
    return items or None


def normalise_database_url(url: str) -> str:
    """Let operators paste a plain postgres:// URL; we always talk through psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


class Config:
    """Settings shared by every environment."""

    # No constant default: create_app() takes SECRET_KEY from the environment or, outside
    # production, from instance/secret_key (made once, at random; see charter.security).
    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI = normalise_database_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'charter.sqlite3'}")
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SQLALCHEMY_RECORD_QUERIES = False
    SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:5000").rstrip("/")
    DEFAULT_SITE = os.environ.get("DEFAULT_SITE", "cambridge")

    # Uploads and form bodies: 16 MiB is ample for a spreadsheet of commitments.
    MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 16 * 1024 * 1024)
    MAX_FORM_MEMORY_SIZE = 2 * 1024 * 1024

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    # Server-side session records (charter.auth.sessions) end with these too: a session
    # without "keep me signed in" lasts 12 hours, a remembered one 30 days at most.
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    REMEMBER_COOKIE_DURATION = timedelta(days=30)

    # HTTP hardening (charter.security). Host names this service answers to (comma-
    # separated; ".example.org" allows its subdomains); others get 400. Unset: any host,
    # except in production, where the host of SITE_URL is the default.
    TRUSTED_HOSTS = _list("TRUSTED_HOSTS")
    # How many proxies in front of the app set each X-Forwarded-* header (werkzeug's
    # ProxyFix). 0 = trust none of them (the default: only right with no proxy).
    PROXY_FIX_X_FOR = _int("PROXY_FIX_X_FOR", 0)
    PROXY_FIX_X_PROTO = _int("PROXY_FIX_X_PROTO", 0)
    PROXY_FIX_X_HOST = _int("PROXY_FIX_X_HOST", 0)
    PROXY_FIX_X_PORT = _int("PROXY_FIX_X_PORT", 0)
    PROXY_FIX_X_PREFIX = _int("PROXY_FIX_X_PREFIX", 0)
    HSTS: str | None = None  # the Strict-Transport-Security value, production only

    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = 60 * 60 * 8

    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute;50 per hour")
    RESET_RATE_LIMIT = os.environ.get("RESET_RATE_LIMIT", "5 per minute;20 per hour")
    # Applying to join (per client address) and sending invitations (per signed-in user,
    # organisation and member invitations counted together): each one emails someone.
    JOIN_RATE_LIMIT = os.environ.get("JOIN_RATE_LIMIT", "10 per minute;50 per hour")
    INVITE_RATE_LIMIT = os.environ.get("INVITE_RATE_LIMIT", "10 per minute;100 per day")

    # Expensive public documents (PDFs of PROMISE Global and of each site, certificates, the
    # bulk ZIP) are kept in the database and rebuilt when their data change: see
    # charter/documents.py. Times in seconds.
    DOCUMENT_CACHE_MIN_AGE = _int("DOCUMENT_CACHE_MIN_AGE", 5 * 60)  # a copy is kept at least this long
    DOCUMENT_CACHE_MAX_AGE = _int("DOCUMENT_CACHE_MAX_AGE", 24 * 60 * 60)  # and rebuilt after this
    DOCUMENT_HTTP_MAX_AGE = _int("DOCUMENT_HTTP_MAX_AGE", 5 * 60)  # Cache-Control max-age
    DOCUMENT_BUILD_WAIT = _int("DOCUMENT_BUILD_WAIT", 30)  # wait for another request's first build
    DOCUMENT_BUILD_TIMEOUT = _int("DOCUMENT_BUILD_TIMEOUT", 10 * 60)  # then a claim is abandoned
    DOCUMENT_RATE_LIMIT = os.environ.get("DOCUMENT_RATE_LIMIT", "20 per minute")

    # The shared cache (Flask-Caching; charter/cache.py). Default: files in instance/cache,
    # shared by every worker of one host. Production: CACHE_TYPE=RedisCache and
    # CACHE_REDIS_URL=redis://host:6379/0.
    CACHE_TYPE = os.environ.get("CACHE_TYPE", "FileSystemCache")
    CACHE_DIR = os.environ.get("CACHE_DIR", str(INSTANCE_DIR / "cache"))
    CACHE_REDIS_URL = os.environ.get("CACHE_REDIS_URL", "")
    CACHE_DEFAULT_TIMEOUT = _int("CACHE_DEFAULT_TIMEOUT", 24 * 60 * 60)
    CACHE_THRESHOLD = _int("CACHE_THRESHOLD", 5000)  # files kept by FileSystemCache
    # The page cache (charter/cache.py): anonymous GETs of public pages, keyed by the data
    # version. PAGE_CACHE_MAX_AGE is the Cache-Control max-age (seconds) that browsers and
    # shared caches in front of the app may keep a page without asking again; the app's own
    # cache is invalidated at once by any write. PAGE_CACHE_LIFETIME: a page is rendered
    # again at least this often (pages that show dates change with the clock).
    PAGE_CACHE = _bool("PAGE_CACHE", True)
    # Totals and orders of long public lists kept per data version (charter.pagination).
    LIST_COUNT_CACHE = _bool("LIST_COUNT_CACHE", True)
    PAGE_CACHE_MAX_AGE = _int("PAGE_CACHE_MAX_AGE", 10)
    PAGE_CACHE_LIFETIME = _int("PAGE_CACHE_LIFETIME", 60 * 60)
    PAGE_CACHE_TIMEOUT = _int("PAGE_CACHE_TIMEOUT", 24 * 60 * 60)  # an unused entry is dropped
    PAGE_CACHE_MAX_BYTES = _int("PAGE_CACHE_MAX_BYTES", 5 * 1024 * 1024)  # larger: not kept

    # Immutable files named by their SHA-256 (charts, stored PDFs): charter/blobs.py.
    # Unset: instance/blobs. Several hosts need one shared folder.
    BLOB_DIR = os.environ.get("BLOB_DIR") or None

    # Every PDF render is stopped after this many seconds (the user gets a clear message and
    # nothing is saved). A 40-page report takes a few seconds.
    PDF_RENDER_TIMEOUT = float(os.environ.get("PDF_RENDER_TIMEOUT") or 60)
    # The task queue (Huey, charter/tasks.py): publishing and the Global, site and bulk
    # downloads are built by `flask charter worker` (which `make run` starts beside the app).
    # Unset: a SQLite file in the instance folder, no other server needed. Production:
    # TASK_QUEUE_URL=redis://host:6379/1 or
    # TASK_QUEUE_URL=postgresql://user@host/db (psycopg, already installed).
    TASK_QUEUE_URL = os.environ.get("TASK_QUEUE_URL", "")
    TASK_QUEUE_IMMEDIATE = _bool("TASK_QUEUE_IMMEDIATE", False)  # run tasks in the caller
    TASK_WORKERS = _int("TASK_WORKERS", 2)  # threads of `flask charter worker`
    # The worker starts afresh (a graceful restart, as on SIGHUP) after this many tasks, so
    # that memory a long run gathers is given back; 0: never.
    TASK_WORKER_MAX_TASKS = _int("TASK_WORKER_MAX_TASKS", 500)
    TASK_RETRIES = _int("TASK_RETRIES", 2)  # a failed publication is tried this many more times
    TASK_RETRY_DELAY = _int("TASK_RETRY_DELAY", 30)  # seconds between tries
    # A lead's correction that publishes at once (the cycle has no review) is rate limited.
    REPORT_CORRECTION_RATE_LIMIT = os.environ.get("REPORT_CORRECTION_RATE_LIMIT",
                                                  "5 per hour;20 per day")

    # A checked spreadsheet upload waits this long (seconds) for its uploader to confirm it.
    SPREADSHEET_CONFIRM_MAX_AGE = _int("SPREADSHEET_CONFIRM_MAX_AGE", 2 * 60 * 60)

    PASSWORD_RESET_MAX_AGE = _int("PASSWORD_RESET_MAX_AGE", 60 * 60)  # seconds
    INVITATION_MAX_AGE = _int("INVITATION_MAX_AGE", 14 * 24 * 60 * 60)
    # An application made without an account waits this long for its email address to be
    # confirmed, then is deleted; one address gets at most this many joining emails a day.
    JOIN_CONFIRMATION_MAX_AGE = _int("JOIN_CONFIRMATION_MAX_AGE", 48 * 60 * 60)
    JOIN_EMAILS_PER_ADDRESS_PER_DAY = _int("JOIN_EMAILS_PER_ADDRESS_PER_DAY", 5)

    # Where to report a vulnerability: published at /.well-known/security.txt (RFC 9116),
    # e.g. "mailto:security@example.org" or an https:// form. Unset: that address is a 404.
    SECURITY_CONTACT = os.environ.get("SECURITY_CONTACT", "").strip() or None

    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = _int("MAIL_PORT", 587)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", True)
    MAIL_USE_SSL = _bool("MAIL_USE_SSL", False)
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "PROMISE Charter <noreply@localhost>")
    MAIL_TIMEOUT = _int("MAIL_TIMEOUT", 10)

    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    LANGUAGES = ["en"]

    TESTING = False
    DEBUG = False


class DevelopmentConfig(Config):
    DEBUG = False  # the reloader and debugger are switched on by `python run.py --debug`
    TEMPLATES_AUTO_RELOAD = True


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-key"  # noqa: S105 - a fixed key for tests only
    SQLALCHEMY_DATABASE_URI = normalise_database_url(
        os.environ.get("TEST_DATABASE_URL", "sqlite:///:memory:")
    )
    SITE_URL = "http://localhost"
    SECURITY_CONTACT = "mailto:security@example.org"
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    MAIL_SERVER = ""
    SERVER_NAME = None
    CACHE_TYPE = "SimpleCache"
    # Tests write with factories (no audit event, so no new data version): the page cache is
    # switched on by the tests about it (tests/test_page_cache.py).
    PAGE_CACHE = False
    LIST_COUNT_CACHE = False  # exact counts after factory writes (tests/test_list_pages.py turns it on)
    TASK_QUEUE_IMMEDIATE = True  # tasks run at once, in the process that sends them
    TASK_RETRY_DELAY = 0


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    HSTS = "max-age=63072000; includeSubDomains"

    @classmethod
    def validate(cls) -> None:
        missing = [name for name in ("SECRET_KEY", "DATABASE_URL") if not os.environ.get(name)]
        if missing:
            raise RuntimeError(
                "ProductionConfig refuses to start without " + " and ".join(missing)
                + " set in the environment."
            )
        if len(os.environ["SECRET_KEY"]) < 32:
            raise RuntimeError("SECRET_KEY must be at least 32 characters in production.")


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestConfig,
    "production": ProductionConfig,
}
