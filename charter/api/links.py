"""Absolute links to the public pages, from SITE_URL (the canonical address), so the same
record has the same link in the API, in the bulk download and in a citation."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app


class Links:
    """Build links with one URL adapter (binding one per link would be slow in the bulk
    download's tens of thousands of rows). A page whose blueprint is not registered gets
    None rather than an error."""

    def __init__(self) -> None:
        parts = urlsplit(current_app.config["SITE_URL"])
        self._adapter = current_app.url_map.bind(
            parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme or "https")
        self._endpoints = set(current_app.view_functions)

    def __call__(self, endpoint: str, **values) -> str | None:
        if endpoint not in self._endpoints:
            return None
        return self._adapter.build(endpoint, values, force_external=True)

    def site(self, slug: str) -> str | None:
        return self("sites.site", slug=slug)

    def organisation(self, slug: str) -> str | None:
        return self("organisations.profile", slug=slug)

    def signature(self, signature_id: int) -> str | None:
        return self("signing.signed", signature_id=signature_id)

    def commitment(self, commitment_id: int) -> str | None:
        return self("commitments.view", commitment_id=commitment_id)

    def domain(self, slug: str) -> str | None:
        return self("catalogue.domain", slug=slug)

    def report(self, report_id: int) -> str | None:
        return self("reports.view", report_id=report_id)

    def report_pdf(self, report_id: int) -> str | None:
        return self("reports.pdf", report_id=report_id)

    def revision(self, report_id: int, number: int) -> str | None:
        return self("reports.revision", report_id=report_id, number=number)

    def revision_pdf(self, report_id: int, number: int) -> str | None:
        return self("reports.revision_pdf", report_id=report_id, number=number)
