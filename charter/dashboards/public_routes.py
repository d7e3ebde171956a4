"""Dashboards: public views. PROMISE Global (/global) and the printable PDFs of it and of a
site's view (the site's page itself is sites.site, which shows the same figures).

Public data only, no sign-in; the figures come from charter.dashboards.metrics as plain
values, so a page and its PDF show the same numbers and the same charts."""

from __future__ import annotations

import re

from flask import Response, render_template

from charter.dashboards import bp, metrics
from charter.lookups import site_or_404
from charter.pdf import render_pdf

PDF_MAX_AGE = 300


def _pdf_response(data: bytes, filename: str) -> Response:
    response = Response(data, mimetype="application/pdf")
    safe = re.sub(r"[^A-Za-z0-9._-]", "-", filename)
    response.headers["Content-Disposition"] = f'inline; filename="{safe}"'
    response.headers["Cache-Control"] = f"public, max-age={PDF_MAX_AGE}"
    return response


@bp.route("/global")
def global_view():
    return render_template("dashboards/public/global.html", v=metrics.global_view())


@bp.route("/global.pdf")
def global_pdf():
    view = metrics.global_view()
    return _pdf_response(render_pdf("global_view.html", v=view),
                         f"promise-global-{view['generated_on'].isoformat()}.pdf")


@bp.route("/sites/<slug>/overview.pdf")
def site_pdf(slug: str):
    view = metrics.site_view(site_or_404(slug))
    return _pdf_response(render_pdf("site_view.html", v=view),
                         f"{view['site']['slug']}-overview-{view['generated_on'].isoformat()}.pdf")
