"""Immutable files named by their content: charts and stored PDFs served from disk.

A blob is bytes stored once under the hex SHA-256 of its content, in BLOB_DIR (by default
`instance/blobs`), as `<first two hex digits>/<digest><suffix>`. Because the name is the
content, a blob never changes: it is written once (to a temporary file, then renamed, so a
reader never sees half a file), and it is served with `ETag: "<digest>"` and, where asked,
`Cache-Control: public, max-age=31536000, immutable`.

    digest = blobs.put(svg_bytes, ".svg")
    return blobs.send(digest, ".svg", "image/svg+xml")

Blobs are derived copies: the database keeps what must last (a report revision's PDF bytes
and hash); a blob that is missing is simply written again from there. Every worker of one
host shares the folder; several hosts need a shared folder (or object storage behind this
same interface).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from flask import Response, current_app, send_file
from werkzeug.exceptions import NotFound

DIGEST = re.compile(r"[0-9a-f]{64}")
SUFFIX = re.compile(r"\.[a-z0-9]{1,8}")
YEAR = 365 * 24 * 60 * 60


def root() -> Path:
    configured = current_app.config.get("BLOB_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "blobs"


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def path_of(digest: str, suffix: str) -> Path:
    """Where the blob lives (whether or not it exists). Refuses anything but a hex digest
    and a short suffix, so no caller can build a path outside the folder."""
    if not DIGEST.fullmatch(digest or "") or not SUFFIX.fullmatch(suffix or ""):
        raise ValueError("not a blob name")
    return root() / digest[:2] / f"{digest}{suffix}"


def exists(digest: str, suffix: str) -> bool:
    try:
        return path_of(digest, suffix).is_file()
    except ValueError:
        return False


def put(data: bytes, suffix: str, digest: str | None = None) -> str:
    """Store `data` (once) and return its digest. `digest`, when the caller already has it,
    saves hashing again; it must be the SHA-256 of `data`."""
    digest = digest or digest_of(data)
    target = path_of(digest, suffix)
    if target.is_file():
        return digest
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return digest


def send(digest: str, suffix: str, mimetype: str, *, download_name: str | None = None,
         as_attachment: bool = False, immutable: bool = True, max_age: int | None = None) -> Response:
    """The blob as a response streamed from disk: ETag is the digest, a matching
    If-None-Match answers 304, and Range requests work. 404 when it is not stored."""
    try:
        target = path_of(digest, suffix)
    except ValueError:
        raise NotFound() from None
    if not target.is_file():
        raise NotFound()
    response = send_file(target, mimetype=mimetype, download_name=download_name,
                         as_attachment=as_attachment, etag=digest, conditional=True,
                         max_age=YEAR if immutable else max_age)
    response.cache_control.public = True
    if immutable:
        response.cache_control.immutable = True
    return response
