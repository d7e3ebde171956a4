"""HTML → PDF with WeasyPrint, fetching nothing but the app's own static files.

`render_pdf("certificate.html", **context)` renders `templates/pdf/certificate.html` with
plain values (strings, numbers, dates, lists, dicts: never ORM objects, so a template
cannot wander through relationships or trigger queries) and turns the HTML into PDF.

WeasyPrint would happily fetch any URL a document names (http, https, file). Ours does
not: `SafeURLFetcher` serves only files under the app's static folder, named either with
the private scheme `charter-static:` (what `pdf_static()` builds) or as the app's own
`/static/…` path, and `data:` URLs; every other URL is refused before any I/O.
"""

from __future__ import annotations

import mimetypes
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app, has_request_context, render_template
from flask_babel import force_locale
from markupsafe import Markup
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

STATIC_SCHEME = "charter-static"
PLAIN_TYPES = (str, int, float, bool, Decimal, date, datetime, type(None))


class RefusedURL(ValueError):  # noqa: N818 - reads better where it is raised
    """The PDF asked for a URL outside the app's static files."""


def css_text(value) -> Markup:
    """`value` made safe inside a double-quoted CSS string in a <style> element."""
    out = []
    for char in str(value):
        if char in '\\"<>&\'' or ord(char) < 32 or ord(char) == 127:
            out.append(f"\\{ord(char):x} ")
        else:
            out.append(char)
    return Markup("".join(out))  # noqa: S704 - every special character is escaped above


def pdf_static(filename: str) -> str:
    """The URL a PDF template uses for a file in the static folder."""
    return f"{STATIC_SCHEME}:{filename.lstrip('/')}"


class SafeURLFetcher(URLFetcher):
    """Serves the app's static files and data: URLs; refuses everything else.

    Refused URLs raise `RefusedURL`; WeasyPrint logs them and renders without the
    resource (an image or font is simply missing), so a stray URL in user text can never
    make the server fetch anything.
    """

    def __init__(self, static_folder: str | Path, static_url_path: str = "/static",
                 site_url: str | None = None):
        super().__init__(timeout=1, allowed_protocols={"data"}, allow_redirects=False)
        self.static_root = Path(static_folder).resolve()
        self.static_prefix = "/" + static_url_path.strip("/") + "/"
        own = urlsplit(site_url or "")
        self.own_netloc = own.netloc.lower()
        self.own_path = own.path.rstrip("/")

    def static_path(self, url: str) -> Path | None:
        """The file under the static folder that `url` names, or None."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == STATIC_SCHEME:
            relative = unquote(parts.path)
        elif scheme == "file" and parts.netloc in ("", "localhost"):
            return self._inside(Path(unquote(parts.path)))
        elif scheme in ("http", "https") and self.own_netloc and parts.netloc.lower() == self.own_netloc:
            # The app's own /static/… address: read from disk, never over the network.
            path = unquote(parts.path)
            prefix = self.own_path + self.static_prefix
            if not path.startswith(prefix):
                return None
            relative = path[len(prefix):]
        else:
            return None
        if not relative or "\x00" in relative:
            return None
        return self._inside(self.static_root / relative.lstrip("/"))

    def _inside(self, path: Path) -> Path | None:
        if "\x00" in str(path):
            return None
        try:
            resolved = path.resolve()
        except (OSError, RuntimeError):
            return None
        if resolved == self.static_root or not resolved.is_relative_to(self.static_root):
            return None
        return resolved if resolved.is_file() else None

    def fetch(self, url, headers=None):
        if url.lower().startswith("data:"):
            return super().fetch(url, headers)
        path = self.static_path(url)
        if path is None:
            raise RefusedURL(f"PDFs may only use the app's static files, not {url[:200]!r}")
        mime_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime_type})


def fetcher() -> SafeURLFetcher:
    app = current_app
    return SafeURLFetcher(app.static_folder, app.static_url_path or "/static",
                          app.config.get("SITE_URL"))


def check_plain(value, where: str = "context") -> None:
    """Refuse ORM objects (or anything else that is not plain data) in a PDF's context."""
    if isinstance(value, (Markup, *PLAIN_TYPES)):
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            check_plain(item, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            check_plain(item, f"{where}[{key!r}]")
        return
    raise TypeError(
        f"PDF templates take plain values; {where} is a {type(value).__name__}. "
        "Pass strings, numbers, dates, lists and dicts."
    )


def render_html(template_name: str, **context) -> str:
    for key, value in context.items():
        check_plain(value, key)
    name = template_name if template_name.startswith("pdf/") else f"pdf/{template_name}"
    if not has_request_context():
        # Outside a request (CLI, jobs, tests) there is no request to choose the language.
        with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "en")):
            return render_template(name, pdf_static=pdf_static, css_text=css_text, **context)
    return render_template(name, pdf_static=pdf_static, css_text=css_text, **context)


def render_pdf(template_name: str, **context) -> bytes:
    """Render `templates/pdf/<template_name>` with plain values and return the PDF."""
    return html_to_pdf(render_html(template_name, **context))


def html_to_pdf(html: str) -> bytes:
    """PDF from HTML, with relative URLs resolved against SITE_URL and fetched safely."""
    base_url = current_app.config.get("SITE_URL", "").rstrip("/") + "/"
    document = HTML(string=html, base_url=base_url, url_fetcher=fetcher(), media_type="print")
    return document.write_pdf()
