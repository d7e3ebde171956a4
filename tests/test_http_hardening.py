"""HTTP hardening (issue 10, point 10): no caching of signed-in pages, HSTS in
production, trusted hosts, proxy headers, and no server banner from gunicorn."""

from __future__ import annotations

import os
import re
import runpy
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest
from flask import request
from flask_limiter.util import get_remote_address
from werkzeug.middleware.proxy_fix import ProxyFix

from charter import create_app
from charter.extensions import db
from config import ProductionConfig
from tests import factories as f
from tests.support import text_of

ROOT = Path(__file__).resolve().parent.parent


# --- Cache-Control ---------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/dashboard", "/admin/outbox", "/account",
                                  "/sites/cambridge"])
def test_nothing_shown_to_a_signed_in_person_is_stored(client, world, path):
    client.login(world.user("admin"))
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"


def test_public_pages_stay_cacheable_for_the_public(client, world):
    response = client.get("/sites/cambridge")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    assert "private" not in response.headers.get("Cache-Control", "")


def test_the_same_public_page_is_not_stored_for_a_signed_in_person(client, world):
    anonymous = client.get("/").headers.get("Cache-Control", "")
    client.login(world.user("editor"))
    signed_in = client.get("/").headers.get("Cache-Control", "")
    assert "no-store" not in anonymous
    assert signed_in == "private, no-store"


def test_a_reset_link_in_the_outbox_is_not_cached(client, world):
    from charter import mail

    message = mail.queue("someone@example.org", "Reset", "http://localhost/password/reset/x",
                         kind="password_reset")
    client.login(world.user("admin"))
    response = client.get(f"/admin/outbox/{message.id}")
    assert "password/reset" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "private, no-store"


def test_static_files_stay_cacheable_when_signed_in(client, world):
    client.login(world.user("admin"))
    response = client.get("/static/css/charter.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")


# --- HSTS ------------------------------------------------------------------------------

@pytest.fixture
def production_app(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "p" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgresql://db.invalid/charter")
    monkeypatch.setattr(ProductionConfig, "SITE_URL", "https://charter.example.org")
    monkeypatch.setattr(ProductionConfig, "TRUSTED_HOSTS", None, raising=False)
    app = create_app("production", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}"})
    yield app
    with app.app_context():
        db.engine.dispose()


def test_production_sends_hsts(production_app):
    client = production_app.test_client()
    response = client.get("/static/css/charter.css", base_url="https://charter.example.org")
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"] == "max-age=63072000; includeSubDomains"


def test_other_configurations_send_no_hsts(client):
    response = client.get("/static/css/charter.css")
    assert "Strict-Transport-Security" not in response.headers


# --- trusted hosts ---------------------------------------------------------------------

def test_an_unknown_host_gets_our_400_page(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "TRUSTED_HOSTS", ["charter.example.org"])
    response = client.get("/", headers={"Host": "evil.example.com"})
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("text/html")
    page = text_of(response)
    assert "This service does not answer to that address." in page
    assert "Skip to main content" in page  # the site's own layout, not a bare message
    assert "evil.example.com" not in response.get_data(as_text=True)
    assert client.get("/", headers={"Host": "charter.example.org"}).status_code == 200


def test_production_answers_only_to_its_site_url_by_default(production_app):
    assert production_app.config["TRUSTED_HOSTS"] == ["charter.example.org"]
    client = production_app.test_client()
    assert client.get("/static/css/charter.css",
                      base_url="https://charter.example.org").status_code == 200
    response = client.get("/static/css/charter.css", base_url="https://attacker.example")
    assert response.status_code == 400


def test_trusted_hosts_come_from_a_comma_separated_variable(monkeypatch):
    from config import _list

    monkeypatch.setenv("TRUSTED_HOSTS", "charter.example.org, .promise.example ,")
    assert _list("TRUSTED_HOSTS") == ["charter.example.org", ".promise.example"]
    monkeypatch.setenv("TRUSTED_HOSTS", "")
    assert _list("TRUSTED_HOSTS") is None


# --- proxies ---------------------------------------------------------------------------

def _who_am_i_app(tmp_path, **overrides):
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'w.db'}",
                                 **overrides})

    @app.get("/_test/whoami")
    def whoami():
        return {"remote_addr": request.remote_addr, "limiter_key": get_remote_address(),
                "scheme": request.scheme}

    return app


PROXY = {"REMOTE_ADDR": "10.0.0.2"}


def test_without_proxy_settings_forwarded_headers_are_ignored(tmp_path):
    app = _who_am_i_app(tmp_path)
    assert not isinstance(app.wsgi_app, ProxyFix)
    answer = app.test_client().get("/_test/whoami", environ_base=PROXY,
                                   headers={"X-Forwarded-For": "203.0.113.7"}).json
    assert answer["remote_addr"] == answer["limiter_key"] == "10.0.0.2"


def test_behind_one_proxy_the_client_address_is_the_forwarded_one(tmp_path):
    app = _who_am_i_app(tmp_path, PROXY_FIX_X_FOR=1, PROXY_FIX_X_PROTO=1)
    client = app.test_client()
    answer = client.get("/_test/whoami", environ_base=PROXY, headers={
        "X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}).json
    assert answer == {"remote_addr": "203.0.113.7", "limiter_key": "203.0.113.7",
                      "scheme": "https"}
    # A client cannot pick its address by sending its own X-Forwarded-For: the proxy
    # appends the real one, and only the last (the proxy's word) is believed.
    answer = client.get("/_test/whoami", environ_base=PROXY, headers={
        "X-Forwarded-For": "198.51.100.1, 203.0.113.7"}).json
    assert answer["remote_addr"] == answer["limiter_key"] == "203.0.113.7"


def test_the_sign_in_limit_counts_each_client_behind_the_proxy(app, client, world, monkeypatch):
    """Through the proxy, one client's failed attempts do not lock out everyone else."""
    monkeypatch.setattr(app, "wsgi_app", ProxyFix(app.wsgi_app, x_for=1))
    lead = world.user("lead")

    def attempt(address, password=None):
        return client.post("/login", data={"email": lead.email,
                                           "password": password or "wrong password!"},
                           environ_base=PROXY, headers={"X-Forwarded-For": address})

    for _ in range(10):
        assert attempt("203.0.113.7").status_code == 401
    assert attempt("203.0.113.7").status_code == 429
    assert attempt("198.51.100.20", f.PASSWORD).status_code == 302


def test_negative_proxy_counts_are_refused(tmp_path):
    with pytest.raises(RuntimeError, match="PROXY_FIX"):
        _who_am_i_app(tmp_path, PROXY_FIX_X_FOR=-1)


# --- gunicorn --------------------------------------------------------------------------

def test_gunicorn_config_reads_its_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("GUNICORN_BIND", "0.0.0.0:9000")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    import gunicorn.http.wsgi

    monkeypatch.setattr(gunicorn.http.wsgi, "SERVER", gunicorn.http.wsgi.SERVER)
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["bind"] == ["0.0.0.0:9000"]
    assert settings["workers"] == 3
    assert settings["wsgi_app"] == "run:app"
    assert gunicorn.http.wsgi.SERVER == "web"


TINY_APP = '''
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
'''


def test_gunicorn_sends_no_name_or_version(tmp_path):
    """A real gunicorn with the committed settings, serving a tiny app on a free port."""
    (tmp_path / "tinyapp.py").write_text(TINY_APP)
    env = {**os.environ, "GUNICORN_BIND": "127.0.0.1:0", "WEB_CONCURRENCY": "1"}
    env.pop("SERVER_HEADER", None)
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
         "--no-control-socket", "--chdir", str(tmp_path), "tinyapp:app"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        address = _listening_address(process)
        with urllib.request.urlopen(f"http://{address}/", timeout=30) as response:
            headers = response.headers
            assert response.read() == b"ok"
        assert headers["Server"] == "web"
        assert "gunicorn" not in str(headers).lower()
        assert not re.search(r"\d+\.\d+", headers["Server"])
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _listening_address(process) -> str:
    """Read gunicorn's log until it says where it listens (it picks a free port)."""
    found: list[str] = []
    done = threading.Event()

    def read():
        for line in process.stderr:
            match = re.search(r"Listening at: http://(\S+)", line)
            if match and not found:
                found.append(match.group(1))
                done.set()
        done.set()

    threading.Thread(target=read, daemon=True).start()
    done.wait(timeout=60)
    assert found, "gunicorn did not start listening"
    return found[0]


def test_security_txt_names_the_contact_when_one_is_set(app, client):
    response = client.get("/.well-known/security.txt")  # TestConfig names one
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/plain"
    assert "Contact: mailto:security@example.org\n" in body
    assert "Canonical: http://localhost/.well-known/security.txt" in body
    assert re.search(r"^Expires: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", body, re.M)
    app.config["SECURITY_CONTACT"] = None
    try:
        assert client.get("/.well-known/security.txt").status_code == 404  # none configured
    finally:
        app.config["SECURITY_CONTACT"] = "mailto:security@example.org"
