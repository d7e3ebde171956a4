"""GET /charts/<sha256>.svg: a chart drawn by charter.charts, as an immutable file.

Pages link charts by the SHA-256 of their SVG (`Chart.url` stores the SVG in charter.blobs
when the page renders), so every worker serves it, after a restart too, with
`Cache-Control: public, max-age=31536000, immutable`, an ETag and 304 on If-None-Match.
Nothing can be stored through this route: it only reads blobs the app wrote itself, and a
chart holds only public data, so the response stays cacheable for signed-in people too.
"""

from __future__ import annotations

from flask import Blueprint
from werkzeug.exceptions import NotFound

from charter import blobs

bp = Blueprint("charts", __name__)


@bp.route("/charts/<digest>.svg")
def chart_file(digest: str):
    if not blobs.DIGEST.fullmatch(digest):
        raise NotFound()
    response = blobs.send(digest, ".svg", "image/svg+xml")
    # An SVG opened on its own is a document: let it run nothing and load nothing.
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response
