"""Benchmark scenarios; each builds its data and prints one line per measurement."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

from charter import demo
from charter.extensions import db


def home_page(app, timed) -> None:
    start = time.perf_counter()
    demo.load_demo()
    db.session.commit()
    print(f"demo data loaded in {(time.perf_counter() - start) * 1000:.0f} ms")
    client = app.test_client()

    def get_home():
        response = client.get("/")
        assert response.status_code == 200

    median, p95 = timed(get_home, repeat=50)
    print(f"GET / (demo data): median {median:.1f} ms, p95 {p95:.1f} ms")


def _report_with_commitments(n: int):
    """A submitted report of a fresh organisation with n commitments, each with two
    progress updates, a milestone and an indicator with four measurements."""
    from decimal import Decimal

    from charter.models import (
    RAG,
        ChangeDomain,
        CommitmentIndicator,
        CommitmentStatus,
        Completion,
        Direction,
        Indicator,
        Measurement,
        Milestone,
        ProgressUpdate,
        ReportStatus,
    )
    from tests import factories as f

    site = f.site(f"bench-{n}", name=f"Bench {n}")
    org = f.organisation(site, f"Bench Trust {n}")
    lead = f.user(f"bench{n}@example.org")
    version = f.charter_version(site)
    f.signature(org, version, lead)
    domains = list(db.session.scalars(db.select(ChangeDomain))) or [f.domain()]
    indicator = Indicator(name=f"Restrictive interventions per 1,000 OBD ({n})", unit="per 1,000 OBD",
                          direction=Direction.LOWER_IS_BETTER, reference="MHS96")
    db.session.add(indicator)
    cycle = f.cycle(site, "2026 Q1", period_start=date(2026, 1, 1), period_end=date(2026, 3, 31),
                    due_date=date(2026, 4, 30))
    for i in range(n):
        c = f.commitment(org, domains[i % len(domains)], title=f"Commitment {i + 1} of {n}",
                         description="We will **reduce** restrictive practice on every ward. " * 4,
                         status=CommitmentStatus.PUBLISHED,
                         published_at=datetime(2025, 1, 1, tzinfo=UTC))
        db.session.add(Milestone(commitment=c, title="Train every ward team", due_date=date(2026, 3, 1)))
        for d in (date(2026, 1, 15), date(2026, 3, 1)):
            db.session.add(ProgressUpdate(
                commitment=c, organisation=org, author=lead, update_date=d,
                report="Figures fell on two wards. " * 8, reflect="Staffing got in the way. " * 5,
                completion=Completion.LIMITED, rag=RAG.AT_RISK, rethink="More peer support. " * 3,
                refresh="Extend to the community teams. " * 3))
        ci = CommitmentIndicator(commitment=c, indicator=indicator, baseline_value=Decimal("12.4"),
                                 baseline_date=date(2025, 1, 1), target_value=Decimal("6"),
                                 target_date=date(2027, 1, 1))
        db.session.add(ci)
        for q, value in enumerate(["11.9", "10.2", "9.8", "8.7"]):
            start = date(2025, 1 + 3 * q, 1)
            db.session.add(Measurement(commitment_indicator=ci, period_start=start,
                                       period_end=date(2025, 3 + 3 * q, 28), value=Decimal(value)))
    report = f.report(org, cycle, status=ReportStatus.SUBMITTED,
                      summary="A summary of the period. " * 40,
                      lived_experience_reflection="What people told us. " * 30)
    db.session.commit()
    return report


def report_pdfs(app, timed) -> None:
    """Rendering a report's PDF at publication, and serving the stored one."""
    from charter.reports.rendering import render_report_pdf
    from charter.reports.services import publish
    from charter.reports.snapshot import build_snapshot
    from tests import factories as f

    admin = f.user("bench-admin@example.org", is_admin=True)
    db.session.commit()
    client = app.test_client()
    for n in (10, 50):
        report = _report_with_commitments(n)
        snapshot = build_snapshot(report)
        snapshot["revision"] = {"number": 1, "published_at": "2026-05-01T09:00:00+00:00",
                                "change_note": ""}
        pdf = render_report_pdf(snapshot)
        median, p95 = timed(lambda s=snapshot: render_report_pdf(s), repeat=5)
        print(f"render report PDF, {n} commitments ({len(pdf) // 1024} KB): "
              f"median {median:.0f} ms, p95 {p95:.0f} ms")
        publish(admin, report)
        db.session.commit()
        url = f"/reports/{report.id}.pdf"

        def get_pdf(url=url):
            response = client.get(url)
            assert response.status_code == 200 and response.data[:4] == b"%PDF"

        median, p95 = timed(get_pdf, repeat=50)
        print(f"GET stored report PDF, {n} commitments: median {median:.1f} ms, p95 {p95:.1f} ms")


ALL = [home_page, report_pdfs]


def generated_data_pages(app, timed) -> None:
    """The main pages on the large generated data set (5 sites, 2,000 organisations,
    40,000 commitments, 200,000 measurements), in a database of their own."""
    import os
    import tempfile
    from pathlib import Path

    from sqlalchemy import select

    from charter import create_app
    from charter.demo.generate import generate, refresh_statistics
    from charter.models import Commitment, CommitmentStatus, ProgressReport, ReportStatus, User

    url = os.environ.get("BENCH_LARGE_DATABASE_URL") or (
        f"sqlite:///{Path(tempfile.mkdtemp(prefix='charter-bench-large-')) / 'large.sqlite3'}")
    from tests.support import CSRFClient

    large = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})
    large.test_client_class = CSRFClient  # for .login(); its per-request commit is a no-op here
    with large.app_context():
        db.drop_all()
        db.create_all()
        start = time.perf_counter()
        counts = generate()
        db.session.commit()
        refresh_statistics()
        print(f"generated {', '.join(f'{n:,} {k}' for k, n in counts.items())} "
              f"in {time.perf_counter() - start:.1f} s")
        commitment_id = db.session.scalar(select(Commitment.id).where(
            Commitment.status == CommitmentStatus.PUBLISHED).limit(1))
        report_id = db.session.scalar(select(ProgressReport.id).where(
            ProgressReport.status == ReportStatus.PUBLISHED).limit(1))
        coordinator = db.session.scalar(select(User).where(
            User.email == "coordinator.cambridge@example.org"))
        public = large.test_client()
        signed_in = large.test_client()
        signed_in.login(coordinator)
        pages = [
            (public, "/"), (public, "/global"), (public, "/sites/cambridge"),
            (signed_in, "/manage/sites/cambridge/dashboard"),
            (signed_in, "/manage/sites/cambridge/reporting"),
            (public, "/signatories"), (public, "/reports"), (public, "/domains"),
            (public, "/domains/least-restrictive-practice"), (public, "/partnerships"),
            (public, "/organisations/synthetic-00001"), (public, f"/commitments/{commitment_id}"),
            (public, f"/reports/{report_id}"), (public, "/api/v1/commitments?per_page=100"),
            (public, "/api/v1/measurements?per_page=100"),
        ]
        for client, path in pages:
            def get(client=client, path=path):
                response = client.get(path)
                assert response.status_code == 200, (path, response.status_code)

            median, p95 = timed(get, repeat=10)
            print(f"GET {path} (large data): median {median:.0f} ms, p95 {p95:.0f} ms")
        # Slow to build (a PDF render, every public row as CSV), then kept (charter/documents.py):
        # a fresh build (the kept copy dropped first; fewer rounds) and the kept copy.
        from charter import documents

        for path in ("/global.pdf", "/sites/cambridge/overview.pdf", "/api/v1/bulk.zip"):
            sizes = []

            def get_whole(path=path, sizes=sizes, fresh=False):
                if fresh:
                    documents.forget()
                response = public.get(path)
                assert response.status_code == 200, (path, response.status_code)
                sizes.append(len(response.get_data()))

            built, _ = timed(lambda get_whole=get_whole: get_whole(fresh=True), repeat=3)
            kept, _ = timed(get_whole, repeat=10)
            print(f"GET {path} (large data, {sizes[-1] / 1e6:.1f} MB): built: median of 3 "
                  f"{built:.0f} ms; kept copy: median {kept:.0f} ms")
        db.session.remove()
        db.engine.dispose()


ALL.append(generated_data_pages)
