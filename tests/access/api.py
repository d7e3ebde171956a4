"""Access table: the open data API, its OpenAPI document, the bulk download and /open-data.

Everything here is public and read-only: every role gets the same answer.
"""

from __future__ import annotations

from tests.access.rules import Route, everyone


def _public_commitment(w):
    from charter.models import CommitmentStatus
    from tests import factories as f

    return f.commitment(w.org, f.domain(), status=CommitmentStatus.PUBLISHED)


def _published_report(w):
    from datetime import date, timedelta
    from unittest.mock import patch

    from tests import factories as f
    from tests.access.rules import signature_of
    from tests.test_api_data import STUB_PDF

    signature_of(w)
    i = f.n()
    start = date(2020, 1, 1) + timedelta(days=i * 10)
    cycle = f.cycle(w.site, f"API cycle {i}", period_start=start,
                    period_end=start + timedelta(days=2), due_date=start + timedelta(days=5))
    with patch("charter.reports.rendering.render_report_pdf", return_value=STUB_PDF):
        return f.published_report(w.org, cycle, w.user("coordinator"))


ACCESS = {
    ("api.sites", "GET"): Route(lambda w: "/api/v1/sites", everyone(200)),
    ("api.site", "GET"): Route(lambda w: f"/api/v1/sites/{w.site.slug}", everyone(200)),
    ("api.organisations", "GET"): Route(lambda w: "/api/v1/organisations", everyone(200)),
    ("api.organisation", "GET"): Route(lambda w: f"/api/v1/organisations/{w.org.slug}", everyone(200)),
    ("api.signatures", "GET"): Route(lambda w: "/api/v1/signatures", everyone(200)),
    ("api.commitments", "GET"): Route(lambda w: "/api/v1/commitments", everyone(200)),
    ("api.commitment", "GET"): Route(
        lambda w: f"/api/v1/commitments/{_public_commitment(w).id}", everyone(200)),
    ("api.domains", "GET"): Route(lambda w: "/api/v1/domains", everyone(200)),
    ("api.indicators", "GET"): Route(lambda w: "/api/v1/indicators", everyone(200)),
    ("api.measurements", "GET"): Route(lambda w: "/api/v1/measurements", everyone(200)),
    ("api.reports", "GET"): Route(lambda w: "/api/v1/reports", everyone(200)),
    ("api.report", "GET"): Route(lambda w: f"/api/v1/reports/{_published_report(w).id}", everyone(200)),
    ("api.bulk_zip", "GET"): Route(lambda w: "/api/v1/bulk.zip", everyone(200)),
    ("api-docs.openapi_json", "GET"): Route(lambda w: "/api/v1/openapi.json", everyone(200)),
    ("open_data.index", "GET"): Route(lambda w: "/open-data", everyone(200)),
}
