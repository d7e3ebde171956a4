"""The migration that adds join requests marks the accounts that already exist verified."""

from __future__ import annotations

from flask_migrate import upgrade
from sqlalchemy import text

from charter import create_app
from charter.extensions import db
from tests.test_migrations import empty_database_url  # noqa: F401  (the fixture)


def test_existing_accounts_are_verified_from_when_they_were_made(empty_database_url):  # noqa: F811
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(revision="0007")  # the revision before join requests
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO user_account (email, password_hash, full_name, job_title, is_admin, "
                "active, auth_epoch, created_at) VALUES ('old@example.org', 'x', 'Old Hand', '', "
                ":false, :true, 0, '2025-03-04 05:06:07+00:00')"), {"false": False, "true": True})
        upgrade()
        with db.engine.connect() as conn:
            created, verified = conn.execute(text(
                "SELECT created_at, email_verified_at FROM user_account")).one()
        assert verified is not None and verified == created
        db.engine.dispose()
