"""Fixtures: one app per test session, a clean database for every test.

The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL is set
(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from sqlalchemy import text
from wtforms import SelectField

from charter import create_app
from charter.extensions import cache, db, limiter
from charter.models import MemberRole, Organisation, Site, User
from config import normalise_database_url
from tests import factories as f
from tests.support import CSRFClient


def _test_database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return normalise_database_url(url)
    # A file, not :memory:, so that the browser tests' server thread sees the same data.
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


def is_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def reset_schema() -> None:
    """Drop everything and build the models' schema."""
    if is_postgres():
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    else:
        db.drop_all()
    db.create_all()


def empty_tables() -> None:
    # DELETE in dependency order: on tables this small it is much faster than TRUNCATE.
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(scope="session", autouse=True)
def _legacy_choices_warn_when_assigned():
    """WTForms 3.3 warns about (value, label) tuples and dicts as choices only when they are
    passed to the field; make `form.field.choices = ...` warn too, so that the filterwarnings
    in pyproject.toml fail a test on either (SelectChoice objects only: WTForms 3.4 wants them)."""
    choices = SelectField.choices

    def checked(field, value):
        if isinstance(value, (list, tuple, dict)):
            field._warn_legacy_choices(value)
        choices.fset(field, value)

    SelectField.choices = choices.setter(checked)
    yield
    SelectField.choices = choices


def tiny_pdf() -> bytes:
    """A valid one-page PDF with no content, built with exact cross-reference offsets."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


TINY_PDF = tiny_pdf()


@pytest.fixture(autouse=True)
def _pdf_render_stubbed(request, monkeypatch):
    """WeasyPrint renders only in tests marked `@pytest.mark.pdf`: elsewhere charter.pdf's
    render entry point (run_job: the child process that lays out and draws the HTML) returns
    a tiny valid PDF. The template is still rendered to HTML (its errors still fail a test),
    and the checks before a render (no write transaction) still run. A test that reads what
    a PDF says, or times or breaks a render, is marked `pdf`."""
    if request.node.get_closest_marker("pdf"):
        yield
        return
    from charter import pdf

    monkeypatch.setattr(pdf, "run_job", lambda job, timeout: TINY_PDF)
    yield


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": _test_database_url(tmp_path_factory),
                                 "BLOB_DIR": str(tmp_path_factory.mktemp("blobs"))})
    app.test_client_class = CSRFClient
    with app.app_context():
        reset_schema()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _app_context_and_clean_database(app):
    """Every test runs inside an app context and starts with empty tables."""
    ctx = app.app_context()
    ctx.push()
    try:
        yield
    finally:
        db.session.rollback()
        db.session.remove()
        empty_tables()
        limiter.reset()
        cache.clear()
        ctx.pop()


@pytest.fixture
def client(app) -> CSRFClient:
    return app.test_client()


@dataclass
class World:
    """Two sites, two organisations on the first, and a user for every role."""

    site: Site
    other_site: Site
    org: Organisation
    other_org: Organisation
    users: dict[str, User | None]

    def user(self, role: str) -> User | None:
        return self.users[role]


ROLES = [
    "public",
    "editor",
    "lead",
    "other_editor",
    "other_lead",
    "coordinator",
    "other_coordinator",
    "admin",
]


@pytest.fixture
def world() -> World:
    site = f.site("cambridge", name="Cambridge")
    other_site = f.site("brisbane", name="Brisbane", country="Australia",
                        timezone="Australia/Brisbane")
    org = f.organisation(site, "Fenland Trust", slug="fenland-trust")
    other_org = f.organisation(site, "Mind in the Fens", slug="mind-in-the-fens")
    users: dict[str, User | None] = {"public": None}
    for role in ROLES[1:]:
        users[role] = f.user(f"{role.replace('_', '.')}@example.org", full_name=role.title())
    f.member(users["editor"], org, MemberRole.EDITOR)
    f.member(users["lead"], org, MemberRole.LEAD)
    f.member(users["other_editor"], other_org, MemberRole.EDITOR)
    f.member(users["other_lead"], other_org, MemberRole.LEAD)
    f.coordinator(users["coordinator"], site)
    f.coordinator(users["other_coordinator"], other_site)
    users["admin"].is_admin = True
    db.session.commit()
    return World(site, other_site, org, other_org, users)
