"""Cheap public reads (issue 12 point 6): an anonymous GET of a public page sets no cookie
(a Set-Cookie would keep shared caches from storing it), except on the pages whose form
the public fills in, which need a CSRF token in the session."""

from __future__ import annotations

import pytest

from tests.access import ACCESS

# Pages with a form that a person who is not signed in submits: their CSRF token lives in
# the session, so they set the session cookie, as they must.
PUBLIC_FORMS = {
    "auth.login", "auth.forgot_password", "auth.reset_password",
    "organisations.join", "organisations.confirm_join",
    "organisations.accept_invitation", "organisations.join_invited",
}


def _public_200(expected) -> bool:
    return expected == 200 or (isinstance(expected, set) and 200 in expected)


PUBLIC_GETS = sorted(key for key, route in ACCESS.items()
                     if key[1] == "GET" and _public_200(route.expect["public"]))


def test_the_public_forms_named_here_are_public_pages():
    assert {endpoint for endpoint, _method in PUBLIC_GETS} >= PUBLIC_FORMS


@pytest.mark.parametrize(("endpoint", "method"), PUBLIC_GETS)
def test_an_anonymous_get_sets_no_cookie(client, world, endpoint, method):
    url = ACCESS[(endpoint, method)].url(world)
    response = client.get(url)
    assert response.status_code == 200
    if endpoint in PUBLIC_FORMS:
        assert 'name="csrf_token"' in response.get_data(as_text=True), (
            f"{url} is listed as a public form but shows no form with a CSRF token")
        return
    assert "Set-Cookie" not in response.headers, (
        f"{url} sets a cookie for the public: {response.headers.get('Set-Cookie')}")


# --- the stored PDF: one small query, streamed from disk, an ETag, 304 ----------------------

@pytest.fixture(autouse=True)
def _own_blob_folder(app, tmp_path, monkeypatch):
    """Each test starts with no PDF on disk (the session's folder keeps other tests' blobs)."""
    monkeypatch.setitem(app.config, "BLOB_DIR", str(tmp_path / "blobs"))

def _stored_report(world, status=None, revisions=1):
    """A report with stored revisions whose 'PDFs' are a few bytes (no rendering)."""
    import hashlib
    from datetime import date

    from charter.extensions import db
    from charter.models import ReportRevision, ReportStatus
    from charter.models.base import utcnow
    from tests import factories as f

    cycle = f.cycle(world.site, "2026 Q1", period_start=date(2026, 1, 1),
                    period_end=date(2026, 3, 31), due_date=date(2026, 4, 30))
    report = f.report(world.org, cycle, status=status or ReportStatus.PUBLISHED,
                      published_at=utcnow())
    for number in range(1, revisions + 1):
        pdf = b"%PDF-1.7 revision " + str(number).encode()
        db.session.add(ReportRevision(
            report=report, number=number, snapshot={"big": "x" * 1000},
            snapshot_sha256="0" * 64, pdf=pdf, pdf_sha256=hashlib.sha256(pdf).hexdigest(),
            pdf_size=len(pdf), published_at=utcnow()))
    db.session.commit()
    return report


def _pdf_queries(client, url, **headers):
    from tests.support import count_queries

    client.get("/healthz")  # whatever a first request sets up once
    with count_queries() as counter:
        response = client.get(url, headers=headers)
    return response, counter.statements


def _selected_columns(statement: str) -> list[str]:
    import re

    columns = re.search(r"SELECT\s+(.*?)\s+FROM\s", statement, re.S | re.I).group(1)
    return [c.strip().split(" AS ")[0] for c in columns.split(",")]


@pytest.mark.parametrize("url", ["/reports/{id}.pdf", "/reports/{id}/revisions/2.pdf"])
def test_the_stored_pdf_is_filed_on_disk_once_then_streamed_from_there(client, world, url):
    import hashlib

    from charter import blobs

    report = _stored_report(world, revisions=3)
    url = url.format(id=report.id)
    number = 3 if url.endswith(f"{report.id}.pdf") else 2
    expected = b"%PDF-1.7 revision " + str(number).encode()
    digest = hashlib.sha256(expected).hexdigest()
    assert not blobs.exists(digest, ".pdf")
    response, statements = _pdf_queries(client, url)
    assert response.status_code == 200 and response.data == expected
    assert response.headers["ETag"] == f'"{digest}"'
    assert response.headers["X-Content-SHA256"] == digest
    assert f"-r{number}.pdf" in response.headers["Content-Disposition"]
    assert response.headers["Content-Type"] == "application/pdf"
    # The first request reads the names, the number and the hash (checking publication in
    # its WHERE), then the bytes alone, once, and files them under their hash.
    assert len(statements) == 2, statements
    names, data = statements
    assert _selected_columns(names) == [
        "report_revision.id", "report_revision.number", "report_revision.pdf_sha256",
        "organisation.slug", "reporting_cycle.name"]
    assert "progress_report.status" in names.split("WHERE", 1)[1]
    assert _selected_columns(data) == ["report_revision.pdf"]
    assert not any("snapshot" in s for s in statements)
    assert blobs.path_of(digest, ".pdf").read_bytes() == expected
    # Every later request: one query, and the file streamed from disk.
    again, statements = _pdf_queries(client, url)
    assert again.status_code == 200 and again.data == expected
    assert again.headers["ETag"] == f'"{digest}"'
    assert f"-r{number}.pdf" in again.headers["Content-Disposition"]
    assert len(statements) == 1 and _selected_columns(statements[0])[2] == (
        "report_revision.pdf_sha256")


def test_a_pdf_already_on_disk_is_never_read_from_the_database(client, world):
    from charter import blobs

    report = _stored_report(world)
    revision = report.revisions[0]
    blobs.put(revision.pdf, ".pdf")
    response, statements = _pdf_queries(client, f"/reports/{report.id}.pdf")
    assert response.status_code == 200 and response.data == revision.pdf
    assert len(statements) == 1
    assert "public" in response.headers["Cache-Control"]
    partial = client.get(f"/reports/{report.id}.pdf", headers={"Range": "bytes=0-7"})
    assert partial.status_code == 206 and partial.data == revision.pdf[:8]


def test_bytes_that_do_not_match_their_hash_are_served_but_never_filed(client, world):
    from charter import blobs
    from charter.extensions import db
    from charter.models import ReportRevision
    from charter.models.base import utcnow

    report = _stored_report(world, revisions=0)
    db.session.add(ReportRevision(
        report=report, number=1, snapshot={}, snapshot_sha256="0" * 64,
        pdf=b"%PDF-1.7 revision 1", pdf_sha256="1" * 64, pdf_size=19, published_at=utcnow()))
    db.session.commit()
    response = client.get(f"/reports/{report.id}.pdf")
    assert response.status_code == 200 and response.data == b"%PDF-1.7 revision 1"
    assert not blobs.exists("1" * 64, ".pdf")


def test_a_conditional_request_for_the_pdf_gets_304_without_reading_it(client, world):
    report = _stored_report(world)
    first = client.get(f"/reports/{report.id}.pdf")
    etag = first.headers["ETag"]
    response, statements = _pdf_queries(client, f"/reports/{report.id}.pdf", If_None_Match=etag)
    assert response.status_code == 304 and response.data == b""
    assert response.headers["ETag"] == etag
    assert len(statements) == 1 and "report_revision.pdf," not in statements[0] + ","
    weak, _ = _pdf_queries(client, f"/reports/{report.id}.pdf", If_None_Match=f"W/{etag}")
    assert weak.status_code == 304
    other, _ = _pdf_queries(client, f"/reports/{report.id}.pdf", If_None_Match='"other"')
    assert other.status_code == 200 and other.data == first.data


@pytest.mark.parametrize("status", ["draft", "submitted", "returned"])
def test_an_unpublished_report_has_no_pdf_for_anyone(client, world, status):
    from charter.models import ReportStatus

    report = _stored_report(world, status=ReportStatus(status))
    for role in ["public", "lead", "coordinator", "admin"]:
        if world.user(role):
            client.login(world.user(role))
        assert client.get(f"/reports/{report.id}.pdf").status_code == 404
        assert client.get(f"/reports/{report.id}/revisions/1.pdf").status_code == 404


def test_a_missing_report_or_revision_is_404(client, world):
    report = _stored_report(world)
    assert client.get(f"/reports/{report.id + 1}.pdf").status_code == 404
    assert client.get(f"/reports/{report.id}/revisions/2.pdf").status_code == 404


# --- the reports list reads its page from an index -----------------------------------------

def _plan(statement) -> str:
    from sqlalchemy import text

    from charter.extensions import db
    from tests.conftest import is_postgres

    sql = str(statement.compile(db.engine, compile_kwargs={"literal_binds": True}))
    if is_postgres():
        # Tables this small are cheaper to scan; forbid that, and forbid sorting, so that
        # the plan shows whether an index can give the rows in the page's order.
        db.session.execute(text("SET LOCAL enable_seqscan = off"))
        db.session.execute(text("SET LOCAL enable_sort = off"))
        rows = db.session.execute(text("EXPLAIN " + sql)).scalars()
    else:
        rows = (row[3] for row in db.session.execute(text("EXPLAIN QUERY PLAN " + sql)))
    plan = "\n".join(rows)
    db.session.rollback()
    return plan


def test_the_reports_list_takes_its_page_from_the_status_and_date_index(world):
    from sqlalchemy import func, select

    from charter.reports import queries
    from tests.conftest import is_postgres

    _stored_report(world)
    plan = _plan(queries.published_reports_query().limit(25).offset(0))
    assert "ix_progress_report_status_published" in plan, plan
    if is_postgres():
        assert "Sort" not in plan, plan
    else:
        assert "TEMP B-TREE" not in plan, plan  # no sorting of all published reports
        assert "SCAN progress_report" not in plan, plan
        # The total (pagination's COUNT) reads the index alone, not every report's row.
        total = select(func.count()).select_from(
            queries.published_reports_query().order_by(None).subquery())
        assert ("USING COVERING INDEX ix_progress_report_status_published"
                in _plan(total)), _plan(total)
