"""HTML → PDF with WeasyPrint, fetching nothing but the app's own static files.

`render_pdf("certificate.html", **context)` renders `templates/pdf/certificate.html` with
plain values (strings, numbers, dates, lists, dicts: never ORM objects, so a template
cannot wander through relationships or trigger queries) and turns the HTML into PDF.

WeasyPrint would happily fetch any URL a document names (http, https, file). Ours does
not: `SafeURLFetcher` serves only files under the app's static folder, named either with
the private scheme `charter-static:` (what `pdf_static()` builds) or as the app's own
`/static/…` path, and `data:` URLs; every other URL is refused before any I/O.

Every render has a hard time limit (PDF_RENDER_TIMEOUT seconds): WeasyPrint runs in a
child process, forked from a server process that has imported it already (about 20 ms
per render), and the child is killed at the limit; the caller gets `PdfTimeout`. Nothing
renders while the request holds a database write transaction (`RenderInsideWrite`):
slow work must never keep others from writing.
"""

from __future__ import annotations

import logging
import mimetypes
import multiprocessing
import re
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app, has_request_context, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import event
from sqlalchemy.orm import Session
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

STATIC_SCHEME = "charter-static"
PLAIN_TYPES = (str, int, float, bool, Decimal, date, datetime, type(None))
DEFAULT_TIMEOUT = 60.0  # seconds; config PDF_RENDER_TIMEOUT

log = logging.getLogger(__name__)


class RefusedURL(ValueError):  # noqa: N818 - reads better where it is raised
    """The PDF asked for a URL outside the app's static files."""


class PdfRenderError(RuntimeError):
    """A PDF could not be made. `message` is for the person who asked for it."""

    message = _l("The PDF could not be made. Nothing was saved; please try again later.")

    def __init__(self, detail: str = ""):
        super().__init__(detail or str(self.message))
        self.detail = detail


class PdfTimeout(PdfRenderError):  # noqa: N818 - reads better where it is raised
    """The render passed its time limit and was stopped."""

    message = _l("Making the PDF took too long, so it was stopped and nothing was saved. "
                 "Very long or heavily formatted text is the usual cause: shorten or simplify "
                 "it and try again.")


class RenderInsideWrite(RuntimeError):  # noqa: N818
    """A PDF was about to be rendered while the request's database session had written
    (or was about to write): that would hold the write lock for the whole render."""


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


# --- long words -------------------------------------------------------------------------
#
# WeasyPrint breaks a word longer than the line (overflow-wrap: anywhere) by laying out
# the rest of its paragraph again for every line, so 100,000 characters without a space
# take minutes (one paragraph of 120-character words: two minutes). A zero-width space every
# BREAK_EVERY characters of such a word gives it ordinary break opportunities: it prints
# the same, and renders in seconds. Used for documents with long user-written text (reports);
# certificates, whose fields are short, keep their exact line breaks.
BREAK_EVERY = 30
ZWSP = "\u200b"
_TAGS_OR_TEXT = re.compile(
    r"(<(?:style|script|title)\b.*?</(?:style|script|title)\s*>|<!--.*?-->|<[^>]*>)|([^<]+)",
    re.IGNORECASE | re.DOTALL)
_LONG_WORD = re.compile(rf"[^\s<]{{{BREAK_EVERY + 1},}}")  # entities count as one below
_WORD_PIECE = re.compile(rf"(?:&#?\w+;|[^&]|&){{1,{BREAK_EVERY}}}", re.DOTALL)


def _break_word(match: re.Match) -> str:
    return ZWSP.join(_WORD_PIECE.findall(match.group(0)))


def breakable(html: str) -> str:
    """`html` with a zero-width space every BREAK_EVERY characters of every longer word in
    its text (never inside tags, entities, styles or scripts)."""
    def text_only(match: re.Match) -> str:
        tag, text = match.groups()
        return tag if tag is not None else _LONG_WORD.sub(_break_word, text)
    return _TAGS_OR_TEXT.sub(text_only, html)


# --- no slow work inside a write transaction ---------------------------------------------

_WROTE = "charter_wrote"


@event.listens_for(Session, "after_flush")
def _flushed(session, flush_context) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _executed(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


@event.listens_for(Session, "after_transaction_end")
def _ended(session, transaction) -> None:
    if transaction.parent is None:  # committed or rolled back: nothing held any more
        session.info.pop(_WROTE, None)


def assert_no_write_transaction() -> None:
    """Refuse to start slow work while the request's session has written or would write.

    Outside a request (command line, tests that call services) nobody waits on us: the
    demo loader, say, renders inside its one transaction on an empty database."""
    if not has_request_context():
        return
    from charter.extensions import db

    session = db.session()  # this request's session (db.session is its scoped proxy)
    pending = bool(session.new or session.deleted
                   or any(session.is_modified(obj) for obj in session.dirty))
    written = bool(session.info.get(_WROTE))
    if not (pending or written) and session.in_transaction():
        connection = session.connection()
        if connection.dialect.name == "sqlite":  # exact, and free: the driver knows
            written = connection.connection.dbapi_connection.in_transaction
    if pending or written:
        raise RenderInsideWrite(
            "A PDF render was started while the request holds (or is about to take) a "
            "database write transaction; build what to render first, render, then write.")


# --- rendering in a child process with a time limit --------------------------------------

@dataclass(frozen=True)
class RenderJob:
    """All a render needs, as plain values: the child gets nothing else."""

    html: str
    base_url: str
    static_folder: str
    static_url_path: str
    site_url: str | None


def _render_job(job: RenderJob) -> bytes:
    url_fetcher = SafeURLFetcher(job.static_folder, job.static_url_path, job.site_url)
    document = HTML(string=job.html, base_url=job.base_url, url_fetcher=url_fetcher,
                    media_type="print")
    return document.write_pdf()


def _child(connection, job: RenderJob) -> None:
    """Entry point of the render process: the PDF's bytes, or the error, down the pipe."""
    for noisy in ("weasyprint", "fontTools"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    try:
        data = _render_job(job)
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises
        connection.send(("error", f"{type(exc).__name__}: {exc}"[:2000]))
    else:
        connection.send(("ok", data))
    finally:
        connection.close()


_context_lock = threading.Lock()
_context = None


def _process_context():
    """A forkserver: one clean process that imports WeasyPrint (and this module) once, then
    forks a child per render; forking the app's own process would copy its threads' locks."""
    global _context
    with _context_lock:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["weasyprint", "flask", "flask_babel", __name__])
            _context = context
        return _context


def run_job(job: RenderJob, timeout: float) -> bytes:
    """Render `job` in a child process; kill it after `timeout` seconds (PdfTimeout)."""
    context = _process_context()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(sender, job), daemon=True,
                              name="charter-pdf-render")
    try:
        process.start()  # the first one also starts the forkserver: not counted below
        sender.close()
        started = time.monotonic()
        if not receiver.poll(timeout):
            process.kill()
            raise PdfTimeout(f"render stopped after {timeout:g} s")
        try:
            status, payload = receiver.recv()
        except (EOFError, OSError) as exc:
            raise PdfRenderError(f"the render process ended without a result "
                                 f"(exit code {process.exitcode})") from exc
        if status != "ok":
            raise PdfRenderError(payload)
        log.debug("PDF rendered in %.2f s", time.monotonic() - started)
        return payload
    finally:
        receiver.close()
        process.join(5)
        if process.is_alive():  # pragma: no cover - kill() above normally suffices
            process.kill()
            process.join()
        process.close()


def render_job(html: str, break_long_words: bool = False) -> RenderJob:
    """The job for `html` in the current app: relative URLs resolve against SITE_URL and
    only the static folder is served."""
    app = current_app
    return RenderJob(
        html=breakable(html) if break_long_words else html,
        base_url=app.config.get("SITE_URL", "").rstrip("/") + "/",
        static_folder=str(app.static_folder),
        static_url_path=app.static_url_path or "/static",
        site_url=app.config.get("SITE_URL"),
    )


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


def render_pdf(template_name: str, *, break_long_words: bool = False, **context) -> bytes:
    """Render `templates/pdf/<template_name>` with plain values and return the PDF.
    `break_long_words` for documents with long user-written text (see breakable())."""
    assert_no_write_transaction()
    return html_to_pdf(render_html(template_name, **context), break_long_words=break_long_words)


def html_to_pdf(html: str, *, break_long_words: bool = False) -> bytes:
    """PDF from HTML, with relative URLs resolved against SITE_URL and fetched safely, in a
    child process stopped after PDF_RENDER_TIMEOUT seconds (PdfTimeout)."""
    assert_no_write_transaction()
    timeout = float(current_app.config.get("PDF_RENDER_TIMEOUT") or DEFAULT_TIMEOUT)
    return run_job(render_job(html, break_long_words), timeout)
