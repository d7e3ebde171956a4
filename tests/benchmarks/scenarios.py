"""Benchmark scenarios in-process, on data of their own.

`make bench` (tests/benchmarks/__main__.py) calls report_pdfs_json(): report PDF renders of
10 and 50 commitments with distinct charts, and the publish request. The other scenarios
(each builds its data and prints one line per measurement) run on their own:

    .venv/bin/python -m tests.benchmarks.scenarios [home_page report_pdfs spreadsheet_uploads …]
"""

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
        # Distinct charts, as real data have: each commitment its own indicator and values
        # (identical charts would share work and understate a real report).
        indicator = Indicator(name=f"Restrictive interventions per 1,000 OBD, ward {i + 1} ({n})",
                              unit="per 1,000 OBD", direction=Direction.LOWER_IS_BETTER,
                              reference=f"MHS96-{i + 1}")
        db.session.add(indicator)
        baseline = Decimal(12) + Decimal(i % 7) / 2
        ci = CommitmentIndicator(commitment=c, indicator=indicator, baseline_value=baseline,
                                 baseline_date=date(2025, 1, 1), target_value=baseline / 2,
                                 target_date=date(2027, 1, 1))
        db.session.add(ci)
        for q in range(4):
            start = date(2025, 1 + 3 * q, 1)
            value = baseline - Decimal(q * (1 + i % 5)) / 3 + Decimal((i * 7 + q * 3) % 11) / 10
            db.session.add(Measurement(commitment_indicator=ci, period_start=start,
                                       period_end=date(2025, 3 + 3 * q, 28), value=value))
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


def report_pdfs_json(workdir: str, out: str) -> None:
    """For `make bench`: render the PDF of a report of 10 and of 50 commitments (distinct
    charts; median of 3 after one warm-up), and time the publish request, which only queues
    the task (TASK_QUEUE_IMMEDIATE off; no worker: the request alone is timed). Writes JSON."""
    import io
    import json
    import statistics
    from pathlib import Path

    from pypdf import PdfReader

    from charter import create_app
    from charter.reports.rendering import render_report_pdf
    from charter.reports.snapshot import build_snapshot
    from tests import factories as f
    from tests.support import CSRFClient

    folder = Path(workdir)
    app = create_app("testing", {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'render.sqlite3'}",
        "RATELIMIT_ENABLED": False, "TASK_QUEUE_IMMEDIATE": False,
        "TASK_QUEUE_URL": f"sqlite:///{folder / 'render-tasks.sqlite3'}",
        "BLOB_DIR": str(folder / "render-blobs")})
    app.test_client_class = CSRFClient
    figures = {}
    with app.app_context():
        db.create_all()
        admin = f.user("bench-admin@example.org", is_admin=True)
        db.session.commit()
        client = app.test_client()
        client.login(admin)
        client.get("/")  # the first request compiles templates: not timed
        for n in (10, 50):
            report = _report_with_commitments(n)
            snapshot = build_snapshot(report)
            snapshot["revision"] = {"number": 1, "published_at": "2026-05-01T09:00:00+00:00",
                                    "change_note": ""}
            pdf = render_report_pdf(snapshot)
            samples = []
            for _ in range(3):
                start = time.perf_counter()
                render_report_pdf(snapshot)
                samples.append(time.perf_counter() - start)
            start = time.perf_counter()
            response = client.post(f"/reports/{report.id}/publish", data={"version": str(report.version)})
            publish_ms = (time.perf_counter() - start) * 1000
            assert response.status_code in (302, 303), response.status_code
            figures[n] = {"render_s": statistics.median(samples), "publish_ms": publish_ms,
                          "pages": len(PdfReader(io.BytesIO(pdf)).pages), "kb": len(pdf) // 1024}
        db.session.remove()
        db.engine.dispose()
    Path(out).write_text(json.dumps(figures))


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


def spreadsheet_uploads(app, timed) -> None:
    """Checking spreadsheet uploads (read, validate, store, preview page) and confirming
    them: hostile files, a 3 MB CSV, and the largest files the limits accept."""
    import io
    import random
    import re
    import zipfile
    from datetime import timedelta
    from html import unescape

    from openpyxl.utils import get_column_letter

    from charter.models import CommitmentStatus, MemberRole
    from charter.models.base import utcnow
    from tests import factories as f
    from tests.support import CSRFClient
    from tests.test_spreadsheets_data import (
        COMMITMENT_HEADERS,
        attach,
        csv_file,
        header_row,
        indicator,
        inline_cell,
        new_row,
        replace_part,
        workbook_with_sheet,
        xlsx_file,
    )

    site = f.site("bench-uploads", name="Bench uploads")
    org = f.organisation(site, "Bench Upload Trust", slug="bench-upload-trust")
    editor = f.user("bench.uploads@example.org")
    f.member(editor, org, MemberRole.EDITOR)
    domain = f.domain("Least restrictive practice", slug="least-restrictive-practice")
    measured = f.commitment(org, domain, title="Measured", status=CommitmentStatus.PUBLISHED,
                            published_at=utcnow())
    attach(measured, indicator("Prone restraints"))
    db.session.commit()
    app.test_client_class, previous = CSRFClient, app.test_client_class
    client = app.test_client()
    app.test_client_class = previous
    client.login(editor)
    url = f"/organisations/{org.slug}/commitments/import"

    def post_file(content: bytes, name: str, status: int = 200):
        response = client.post(url, data={"file": (io.BytesIO(content), name)},
                               content_type="multipart/form-data")
        assert response.status_code == status, (name, response.status_code)
        return response

    def confirm_once(content: bytes, name: str) -> float:
        html = post_file(content, name).get_data(as_text=True)
        token = unescape(re.search(r'name="token" type="hidden" value="([^"]*)"', html).group(1))
        start = time.perf_counter()
        response = client.post(url, data={"token": token})
        assert response.status_code == 302, response.status_code
        return (time.perf_counter() - start) * 1000

    def report(label: str, content: bytes, name: str, status: int = 200, repeat: int = 5) -> None:
        median, p95 = timed(lambda: post_file(content, name, status), repeat=repeat)
        print(f"upload {label} ({len(content) / 1024:,.0f} KB): median {median:.0f} ms, "
              f"p95 {p95:.0f} ms")

    rows = [header_row()]
    for r in range(2, 1002):
        formatted = "".join(f'<c r="{get_column_letter(c)}{r}" s="1"/>' for c in range(12, 732))
        rows.append(f'<row r="{r}">{inline_cell(f"C{r}", f"Promise {r}")}'
                    f'{inline_cell(f"D{r}", "least-restrictive-practice")}{formatted}</row>')
    report("XLSX, 720,000 formatted cells beyond the used columns, 1,000 rows (previewed)",
           workbook_with_sheet("".join(rows)), "wide.xlsx")
    formatted = '<c s="1"/>' * 720
    rows = [header_row()] + [f'<row><c/><c/>{inline_cell(f"C{r}", "A promise")}{formatted}</row>'
                             for r in range(2, 1002)]
    report("XLSX, the same without cell references (refused: packs 300 to 1)",
           workbook_with_sheet("".join(rows)), "packed.xlsx", status=400)
    base = xlsx_file({"Commitments": [new_row()]})
    sheet = zipfile.ZipFile(io.BytesIO(base)).read("xl/worksheets/sheet1.xml")
    bomb = replace_part(base, "xl/worksheets/sheet1.xml",
                        sheet.replace(b"</worksheet>", b" " * (40 << 20) + b"</worksheet>"))
    report("XLSX, zip bomb: 40 MB of spaces (refused)", bomb, "bomb.xlsx", status=400)
    rows = [header_row()]
    for r in range(2, 1002):
        beyond = "".join(f'<c r="{get_column_letter(c)}{r}"><v>1</v></c>' for c in range(27, 337))
        rows.append(f'<row r="{r}">{inline_cell(f"C{r}", "A promise")}{beyond}</row>')
    report("XLSX, 310,000 values right of column Z (refused at 500,000 XML elements)",
           workbook_with_sheet("".join(rows)), "elements.xlsx", status=400, repeat=3)

    rng = random.Random(10)
    words = [" ".join("".join(rng.choice("abcdefghijklmnopqrstuvwxyz")
                              for _ in range(rng.randint(2, 9))) for _ in range(1700))
             for _ in range(300)]
    big_csv = csv_file([new_row(Title=f"Bench promise {i}", Description=words[i]) for i in range(300)])
    report("CSV, 3 MB: 300 new commitments (previewed)", big_csv, "big.csv")
    confirms = sorted(confirm_once(big_csv, "big.csv") for _ in range(3))
    print(f"confirm CSV, 3 MB: 300 new commitments saved: median of 3: {confirms[1]:.0f} ms")

    filled = {"Start date": "2026-01-01", "Target date": "2027-01-01", "Ambition": "Desirable",
              "Completion": "Limited", "RAG": "On track", "Description": "What we will do. " * 10}
    ten_thousand = csv_file([new_row(Title=f"Row {i}", **filled) for i in range(10_000)])
    report("CSV, 10,000 new commitments (previewed)", ten_thousand, "ten-thousand.csv", repeat=3)

    # The largest workbooks the limits accept, as this service writes them (inline strings):
    # 10,000 rows in all, every column filled.
    start = utcnow().date()

    def measurements(n: int) -> list[dict]:
        return [{"Commitment ID": measured.id, "Indicator": "Prone restraints",
                 "Period start": start - timedelta(days=i), "Period end": start - timedelta(days=i),
                 "Value": i % 97 + 0.5, "Note": f"Counted on ward {i % 12}"} for i in range(n)]

    for commitments, values in ((10_000, 0), (5_000, 5_000)):
        rows = [dict(new_row(Title=f"Largest {commitments}-{i}", **filled), ID="", Version="",
                     Status="Draft") for i in range(commitments)]
        largest = xlsx_file({"Commitments": rows, "Measurements": measurements(values)})
        label = (f"XLSX, largest accepted: {commitments:,} commitments x {len(COMMITMENT_HEADERS)} "
                 f"columns + {values:,} measurements x 6")
        report(f"{label} (previewed)", largest, "largest.xlsx", repeat=3)
        print(f"confirm {label}: {confirm_once(largest, 'largest.xlsx'):.0f} ms")


ALL.append(spreadsheet_uploads)


def main() -> int:
    import os
    import sys
    import tempfile
    from pathlib import Path

    from tests.benchmarks import timed

    tmp = Path(tempfile.mkdtemp(prefix="charter-bench-"))
    url = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{tmp / 'bench.sqlite3'}")
    from charter import create_app

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})
    with app.app_context():
        db.drop_all()
        db.create_all()
        chosen = set(sys.argv[1:])
        for scenario in ALL:
            if not chosen or scenario.__name__ in chosen:
                scenario(app, timed)
        db.session.remove()
        db.drop_all()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
