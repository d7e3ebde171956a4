"""Time the PDFs of issue 12 (points 5 and 7): a report of 10 and of 50 commitments with
distinct charts (as real data have), /global.pdf and a site PDF on the demo data.

    PYTHONPATH=$PWD .venv/bin/python docs/issue-12/measure_pdfs.py [OUT_DIR]

Prints the median of three renders (after one warm-up) and the page count; writes the PDFs
into OUT_DIR (default a new temporary folder) for pdftoppm. Not a test: it prints figures.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path


def timed(fn, repeat=3):
    fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def pages(data: bytes) -> int:
    import io

    from pypdf import PdfReader
    return len(PdfReader(io.BytesIO(data)).pages)


def distinct(snapshot: dict) -> dict:
    """Every indicator of the snapshot gets its own numbers, so every chart differs."""
    n = 0
    for group in snapshot["domains"]:
        for commitment in group["commitments"]:
            for ind in commitment["indicators"]:
                n += 1
                for q, m in enumerate(ind["measurements"]):
                    value = Decimal(m["value"]) + Decimal(n % 17) / 10 + Decimal(q * (n % 5)) / 3
                    m["value"] = str(value.quantize(Decimal("0.1")))
                ind["baseline_value"] = str(Decimal("12.4") + Decimal(n) / 20)
    return snapshot


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="charter-pdfs-out-"))
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="charter-pdfs-"))
    from charter import create_app, demo
    from charter.extensions import db
    from charter.reports.rendering import render_report_pdf
    from charter.reports.snapshot import build_snapshot
    from tests.benchmarks.scenarios import _report_with_commitments

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'm.sqlite3'}",
                                 "RATELIMIT_ENABLED": False, "BLOB_DIR": str(tmp / "blobs")})
    with app.app_context():
        db.drop_all()
        db.create_all()
        demo.load_demo()
        db.session.commit()
        for n in (10, 50):
            report = _report_with_commitments(n)
            snapshot = distinct(build_snapshot(report))
            snapshot["revision"] = {"number": 1, "published_at": "2026-05-01T09:00:00+00:00",
                                    "change_note": ""}
            db.session.commit()
            pdf = render_report_pdf(snapshot)
            (out / f"report-{n}.pdf").write_bytes(pdf)
            seconds = timed(lambda s=snapshot: render_report_pdf(s))
            print(f"report PDF, {n} commitments: {seconds:.2f} s, {pages(pdf)} pages, {len(pdf) // 1024} KB")
        from charter.dashboards import metrics
        from charter.models import Site
        from charter.pdf import render_pdf

        db.session.commit()

        def global_pdf():
            with app.test_request_context("/"):
                return render_pdf("global_view.html", v=metrics.global_view())
        pdf = global_pdf()
        (out / "global.pdf").write_bytes(pdf)
        print(f"/global.pdf: {timed(global_pdf):.2f} s, {pages(pdf)} pages, {len(pdf) // 1024} KB")
        site = db.session.scalars(db.select(Site).order_by(Site.id)).first()
        site_id = site.id
        db.session.commit()

        def site_pdf():
            with app.test_request_context("/"):
                return render_pdf("site_view.html", v=metrics.site_view(db.session.get(Site, site_id)))
        pdf = site_pdf()
        (out / "site.pdf").write_bytes(pdf)
        print(f"site PDF ({site.slug}): {timed(site_pdf):.2f} s, {pages(pdf)} pages, {len(pdf) // 1024} KB")
        db.session.remove()
        db.drop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
