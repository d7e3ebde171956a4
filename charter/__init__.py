"""PROMISE Charter: the application factory."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from charter import security
from config import CONFIGS, INSTANCE_DIR, ProductionConfig, normalise_database_url

ROOT = Path(__file__).resolve().parent.parent


def _configure(app: Flask, config_name: str | None, overrides: dict | None) -> None:
    name = config_name or os.environ.get("CHARTER_CONFIG", "development")
    if name not in CONFIGS:
        raise RuntimeError(f"Unknown configuration {name!r}; choose one of {sorted(CONFIGS)}")
    config_cls = CONFIGS[name]
    if config_cls is ProductionConfig:
        ProductionConfig.validate()
    app.config.from_object(config_cls)
    if config_cls is ProductionConfig:
        app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(os.environ["DATABASE_URL"])
        if not app.config["TRUSTED_HOSTS"]:
            app.config["TRUSTED_HOSTS"] = security.trusted_hosts_from_site_url(app.config["SITE_URL"])
    if not app.config["TESTING"] and os.environ.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
    if overrides:
        app.config.update(overrides)
    if not app.config.get("SECRET_KEY"):
        # Never a constant key: outside production (which refused to start above), a
        # random key made once in the instance folder and reused afterwards.
        app.config["SECRET_KEY"] = security.load_or_create_secret_key(app.instance_path)
    app.config["CONFIG_NAME"] = name

    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite"):
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.pop("pool_pre_ping", None)
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("timeout", 15)  # seconds: sqlite3's busy timeout
        connect_args.setdefault("check_same_thread", False)
        options["connect_args"] = connect_args
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """WAL, a busy timeout and foreign keys on every SQLite connection."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_app(config_name: str | None = None, overrides: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(INSTANCE_DIR),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    # Ids in URLs are ASCII digits that fit the database's integers: /commitments/99999999999
    # or /commitments/٣ is a plain 404, never an "integer out of range" error. Control
    # characters in a URL get a 400 before any view reads them.
    from charter import readers

    readers.init_app(app)
    _configure(app, config_name, overrides)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO)
    for noisy in ("weasyprint", "fontTools"):  # step-by-step progress is not news
        logging.getLogger(noisy).setLevel(logging.WARNING)

    from charter import cli, errors, views_support
    from charter.extensions import babel, cache, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    cache.init_app(app)
    # The page cache answers a hit before anything else loads a user or checks a limit.
    from charter import cache as page_cache

    page_cache.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    from charter import tasks

    tasks.init_app(app)
    babel.init_app(
        app,
        locale_selector=views_support.select_locale,
        default_translation_directories=str(Path(__file__).parent / "translations"),
    )
    login_manager.init_app(app)
    views_support.init_login(login_manager)

    from charter.admin import bp as admin_bp
    from charter.auth import bp as auth_bp
    from charter.catalogue import bp as catalogue_bp
    from charter.chart_routes import bp as charts_bp
    from charter.commitments import bp as commitments_bp
    from charter.dashboards import bp as dashboards_bp
    from charter.main import bp as main_bp
    from charter.organisations import bp as organisations_bp
    from charter.reports import bp as reports_bp
    from charter.signing import bp as signing_bp
    from charter.sites import bp as sites_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(sites_bp)
    app.register_blueprint(organisations_bp)
    app.register_blueprint(signing_bp)
    app.register_blueprint(catalogue_bp)
    app.register_blueprint(commitments_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(dashboards_bp)
    app.register_blueprint(charts_bp)
    from charter import api

    api.init_app(app)
    app.register_blueprint(admin_bp, url_prefix="/admin")

    views_support.init_templates(app)
    views_support.init_request_hooks(app)
    security.apply_proxy_fix(app)
    errors.init_app(app)
    cli.init_app(app)
    return app
