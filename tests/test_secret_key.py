"""Outside tests the app never signs anything with a constant key (issue 10, point 2)."""

from __future__ import annotations

import multiprocessing
import stat

import pytest
from flask import Flask
from itsdangerous import URLSafeTimedSerializer

import charter
from charter import create_app
from charter.extensions import db
from charter.models import User
from charter.security import load_or_create_secret_key
from tests import factories as f
from tests.support import CSRFClient, text_of

OLD_CONSTANT = "dev-only-not-secret"  # the key every `make run` instance used to share


@pytest.fixture
def dev_app(tmp_path, monkeypatch):
    """An app as `make run` builds it: development settings, no SECRET_KEY in the
    environment, its own instance folder and database."""
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setattr(charter, "INSTANCE_DIR", tmp_path / "instance")

    def make():
        app = create_app("development", {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'dev.sqlite3'}",
        })
        app.test_client_class = CSRFClient
        return app

    app = make()
    app.make_another = make
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.engine.dispose()


def _cookie(key: str, payload: dict) -> str:
    """A session cookie signed with `key`, as Flask would sign it."""
    forger = Flask("forger")
    forger.secret_key = key
    return forger.session_interface.get_signing_serializer(forger).dumps(payload)


def test_a_development_app_makes_a_random_key_once_and_keeps_it(dev_app, tmp_path):
    key = dev_app.config["SECRET_KEY"]
    assert key != OLD_CONSTANT
    assert len(key) >= 32
    key_file = tmp_path / "instance" / "secret_key"
    assert key_file.read_text().strip() == key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # The next start uses the same key, so sessions and emailed links survive restarts.
    assert dev_app.make_another().config["SECRET_KEY"] == key


def test_another_instance_gets_another_key(tmp_path):
    first = load_or_create_secret_key(tmp_path / "one")
    second = load_or_create_secret_key(tmp_path / "two")
    assert first != second


def _start(path, barrier, results):
    barrier.wait()
    results.put(load_or_create_secret_key(path))


def test_processes_starting_at_once_agree_on_one_key(tmp_path):
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(4)
    results = context.Queue()
    workers = [context.Process(target=_start, args=(tmp_path, barrier, results))
               for _ in range(4)]
    for worker in workers:
        worker.start()
    keys = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    assert len(set(keys)) == 1
    assert (tmp_path / "secret_key").read_text().strip() == keys[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret_key"]  # no leftovers


def test_a_key_file_readable_by_others_is_made_private(tmp_path):
    key = load_or_create_secret_key(tmp_path)
    (tmp_path / "secret_key").chmod(0o644)
    assert load_or_create_secret_key(tmp_path) == key
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600


def test_an_empty_key_file_is_refused_not_used(tmp_path):
    (tmp_path / "secret_key").write_text("")
    with pytest.raises(RuntimeError, match="secret key"):
        load_or_create_secret_key(tmp_path)


def test_secret_key_from_the_environment_wins(dev_app, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    assert dev_app.make_another().config["SECRET_KEY"] == "k" * 40


def test_a_cookie_signed_with_the_old_constant_does_not_open_the_outbox(dev_app):
    with dev_app.app_context():
        admin = f.user("admin@example.org", is_admin=True)
        db.session.commit()
        # The cookie an attacker could forge before: the admin's id and password epoch.
        forged = _cookie(OLD_CONSTANT, {"_user_id": f"{admin.id}:0", "_fresh": True})
        client = dev_app.test_client()
        client.set_cookie("session", forged)
        response = client.get("/admin/outbox")
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]
        assert "Mail outbox" not in text_of(client.get("/admin/outbox", follow_redirects=True))


def test_only_the_instance_key_signs_sessions(dev_app):
    """The same live session, signed with the old constant, is refused; signed with the
    instance's key it opens the outbox (so the refusal above is the key's doing)."""
    from charter.auth.sessions import new_session

    with dev_app.app_context():
        admin = f.user("admin@example.org", is_admin=True)
        _row, token = new_session(admin)
        db.session.commit()
        payload = {"_user_id": token, "_fresh": True}
        forged = dev_app.test_client()
        forged.set_cookie("session", _cookie(OLD_CONSTANT, payload))
        assert forged.get("/admin/outbox").status_code == 302
        genuine = dev_app.test_client()
        genuine.set_cookie("session", _cookie(dev_app.config["SECRET_KEY"], payload))
        page = genuine.get("/admin/outbox")
        assert page.status_code == 200 and "Mail outbox" in text_of(page)


def test_reset_links_signed_with_the_old_constant_are_refused(dev_app):
    with dev_app.app_context():
        user = f.user("someone@example.org")
        db.session.commit()
        serializer = URLSafeTimedSerializer(OLD_CONSTANT, salt="charter.password-reset")
        token = serializer.dumps({"u": user.id, "e": 0})
        client = dev_app.test_client()
        response = client.get(f"/password/reset/{token}")
        assert response.status_code == 400
        assert "not valid" in text_of(response)
        response = client.post(f"/password/reset/{token}", data={
            "password": "taken over at last", "confirm": "taken over at last"})
        assert response.status_code == 400
        assert db.session.get(User, user.id).check_password(f.PASSWORD)


@pytest.mark.parametrize(("value", "problem"), [(None, "SECRET_KEY"), ("short", "32 characters")])
def test_production_refuses_to_start_without_a_long_secret_key(monkeypatch, value, problem):
    monkeypatch.setenv("DATABASE_URL", "postgresql://db.invalid/charter")
    if value is None:
        monkeypatch.delenv("SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("SECRET_KEY", value)
    with pytest.raises(RuntimeError, match=problem):
        create_app("production")
