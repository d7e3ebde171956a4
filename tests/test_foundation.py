"""Configuration, pages, errors, permissions, audit and the text pipeline."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from charter import audit, create_app, permissions
from charter.extensions import db
from charter.formatting import local_datetime
from charter.models import AuditEvent, fold_name
from charter.models.guards import ImmutableRecordError
from charter.text import render_markdown
from tests import factories as f
from tests.support import text_of

# --- configuration -----------------------------------------------------------------

@pytest.mark.parametrize("missing", ["SECRET_KEY", "DATABASE_URL"])
def test_production_refuses_to_start_without_secrets(monkeypatch, missing):
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgresql://db.invalid/charter")
    monkeypatch.delenv(missing)
    with pytest.raises(RuntimeError, match=missing):
        create_app("production")


def test_production_uses_secure_cookies_and_the_given_database(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgres://user@db.invalid/charter")
    app = create_app("production")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://user@db.invalid/charter"
    assert app.config["SECRET_KEY"] == "s" * 40


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas only apply to SQLite")
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 15000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


# --- pages -------------------------------------------------------------------------

def test_home_page_shows_live_counts_per_site(client, world):
    version = f.charter_version(world.site)
    f.signature(world.org, version, world.user("lead"))
    supporter = f.organisation(world.site, "Voices", tier=f.Tier.SUPPORTER)
    f.signature(supporter, version, world.user("lead"))
    pending = f.organisation(world.other_site, "Waiting Org", status=f.OrganisationStatus.PENDING)
    assert pending.id
    page = client.get("/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<span class="figure" id="total-signatories">1</span>' in html
    assert '<span class="figure" id="total-supporters">1</span>' in html
    row = html.split('data-site="brisbane"')[1].split("</tr>")[0]
    assert [c.strip() for c in row.split('<td class="text-end">')[1:]] == [
        "0</td>", "0</td>", "1</td>"]


def test_withdrawn_signature_is_not_counted(client, world):
    from charter.models import SignatureWithdrawal

    version = f.charter_version(world.site)
    sig = f.signature(world.org, version, world.user("lead"))
    db.session.add(SignatureWithdrawal(signature=sig, withdrawn_by=world.user("lead"),
                                       reason="Merged", withdrawn_at=datetime.now(UTC)))
    html = client.get("/").get_data(as_text=True)
    assert '<span class="figure" id="total-signatories">0</span>' in html


def test_pages_have_one_h1_landmarks_and_a_skip_link(client):
    html = client.get("/").get_data(as_text=True)
    assert html.count("<h1") == 1
    assert '<a class="skip-link" href="#main">' in html
    assert '<main id="main"' in html and "<header" in html and "<footer" in html
    assert 'lang="en"' in html


def test_security_headers(client):
    response = client.get("/")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.json == {"status": "ok", "database": "ok"}


def test_healthz_reports_an_unreachable_database(client, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database is down")

    monkeypatch.setattr("charter.main.routes.db.session.execute", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"


def test_not_found_page_is_friendly(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in text_of(response)


def test_server_error_page_leaks_nothing(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "RENDER_500_IN_TESTS", True)

    def explode():
        raise RuntimeError("secret internal detail: password=hunter2")

    monkeypatch.setattr("charter.main.services.site_counts", explode)
    response = client.get("/")
    assert response.status_code == 500
    body = text_of(response)
    assert "Something went wrong" in body
    assert "hunter2" not in body and "Traceback" not in body and "RuntimeError" not in body


def test_method_not_allowed_page(client):
    response = client.post("/healthz")
    assert response.status_code in (400, 405)


# --- permissions -------------------------------------------------------------------

@pytest.mark.parametrize(
    ("role", "manage_site", "member", "lead", "outbox"),
    [
        ("public", False, False, False, False),
        ("editor", False, True, False, False),
        ("lead", False, True, True, False),
        ("other_editor", False, False, False, False),
        ("other_lead", False, False, False, False),
        ("coordinator", True, False, False, False),
        ("other_coordinator", False, False, False, False),
        ("admin", True, False, False, True),
    ],
)
def test_permission_questions_for_each_role(world, role, manage_site, member, lead, outbox):
    user = world.user(role)
    assert permissions.can_manage_site(user, world.site) is manage_site
    assert permissions.is_member(user, world.org) is member
    assert permissions.is_lead(user, world.org) is lead
    assert permissions.can_view_outbox(user) is outbox
    assert permissions.can_view_organisation_private(user, world.org) is (member or manage_site)


def test_pending_organisations_are_private(world):
    pending = f.organisation(world.site, "Pending Org", status=f.OrganisationStatus.PENDING)
    assert not permissions.can_view_organisation(None, pending)
    assert not permissions.can_view_organisation(world.user("other_coordinator"), pending)
    assert permissions.can_view_organisation(world.user("coordinator"), pending)


# --- audit -------------------------------------------------------------------------

def test_audit_records_actor_object_site_and_changes(world):
    event = audit.record(world.user("lead"), "organisation.updated", world.org,
                         {"name": ["Old", "New"]})
    db.session.commit()
    stored = db.session.get(AuditEvent, event.id)
    assert stored.actor_id == world.user("lead").id
    assert stored.organisation_id == world.org.id
    assert stored.site_id == world.site.id
    assert stored.changes == {"name": ["Old", "New"]}


def test_audit_events_and_signatures_cannot_be_changed_or_deleted(world):
    event = audit.record(None, "x.done", world.org)
    db.session.commit()
    event.action = "tampered"
    with pytest.raises(ImmutableRecordError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEvent, event.id))
    with pytest.raises(ImmutableRecordError):
        db.session.flush()
    db.session.rollback()
    version = f.charter_version(world.site)
    sig = f.signature(world.org, version, world.user("lead"))
    db.session.commit()
    sig.signer_name = "Someone else"
    with pytest.raises(ImmutableRecordError):
        db.session.flush()
    db.session.rollback()
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.id == event.id)) == "x.done"


def test_changes_between_reports_only_what_changed(world):
    diff = audit.changes_between(world.org, {"name": "Fenland Trust", "website": "https://x.org"})
    assert diff == {"website": [None, "https://x.org"]}


# --- text and time -----------------------------------------------------------------

def test_markdown_is_rendered_then_sanitised():
    html = str(render_markdown(
        "# Title\n\n<script>alert(1)</script> **bold** [x](javascript:alert(1)) "
        "[ok](https://example.org) <img src=x onerror=alert(1)>"
    ))
    assert "<h2>Title</h2>" in html
    assert "<script>" not in html and "<img" not in html  # shown as text, never as tags
    assert "href=\"javascript:" not in html  # markdown-it refuses the link; left as text
    assert "<strong>bold</strong>" in html
    assert 'href="https://example.org"' in html and 'rel="nofollow noopener noreferrer"' in html
    assert "&lt;script&gt;" in html


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Národní ústav duševního zdraví", "narodni  USTAV dusevniho zdravi"),
        ("Mind in the Fens", "mind-in-the-fens"),
        ("Kaapse Gemeenskap Geestesgesondheid", "KAAPSE gemeenskap geestesgesondheid "),
    ],
)
def test_names_fold_for_duplicate_detection(a, b):
    assert fold_name(a) == fold_name(b)


def test_times_show_in_the_site_time_zone(app, world):
    moment = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    with app.test_request_context():
        assert local_datetime(moment, world.site) == "1 Jul 2026, 13:00 BST"
        assert local_datetime(moment, world.other_site).startswith("1 Jul 2026, 22:00")


def test_datetimes_come_back_aware_in_utc(world):
    event = audit.record(None, "x.done", world.org)
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(AuditEvent, event.id)
    assert stored.occurred_at.tzinfo is not None
    assert stored.occurred_at.utcoffset().total_seconds() == 0


def test_every_enum_member_has_its_own_label(app):
    """Members of different enums with the same value (draft, returned, withdrawn…) compare
    equal; each must still show its own label."""
    from charter.models import enums

    with app.test_request_context():
        for cls in enums.LabelledEnum.__subclasses__():
            for member in cls:
                assert member.label, member
        assert enums.ReportStatus.RETURNED.label == "Returned for changes"
        assert enums.ReviewAction.RETURNED.label == "Returned with comments"
        assert enums.ReportingStatus.RETURNED.label == "Returned"
        assert enums.OrganisationStatus.PENDING.label == "Pending approval"


def test_every_scrolling_table_wrapper_is_a_named_region_keyboards_can_reach():
    """Wide tables scroll sideways inside .table-responsive on small screens; a keyboard
    user can only scroll what can take focus (axe-core's scrollable-region-focusable)."""
    import re
    from pathlib import Path

    templates = Path(__file__).resolve().parent.parent / "templates"
    wrappers = [(path.relative_to(templates), tag)
                for path in templates.rglob("*.html")
                for tag in re.findall(r'<div class="table-responsive[^"]*"[^>]*>', path.read_text())]
    # Every one is the scroll() macro's (templates/macros/tables.html), called for each table.
    assert [str(path) for path, _tag in wrappers] == ["macros/tables.html"]
    assert all(attr in wrappers[0][1] for attr in ('role="region"', 'tabindex="0"',
                                                   'aria-label="{{ label }}"'))
    calls = sum(len(re.findall(r"\{% call scroll\(", path.read_text()))
                for path in templates.rglob("*.html"))
    assert calls > 40


def test_enum_choices_keep_their_labels_lazy_for_translation_per_request():
    """Choices declared on a form class are built once, at import; their labels must stay
    lazy so that each request shows them in its own language."""
    from flask_babel import LazyString

    from charter.forms_common import enum_choices
    from charter.models import Sector

    options = enum_choices(Sector, empty="")
    assert [o.value for o in options] == ["", *(s.value for s in Sector)]
    assert all(isinstance(o.label, LazyString) for o in options[1:])
    assert [str(o.label) for o in options[1:]] == [s.label for s in Sector]
