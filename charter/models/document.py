from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from charter.models.base import Base


class CachedDocument(Base):
    """An expensive public document, built once and served until its data change (see
    charter/documents.py). Derived data, not a record: deleting a row only means the document
    is built again when it is next asked for, so rows are neither audited nor versioned.

    A row exists as soon as a request claims the first build (`building_since`, `build_token`
    set, `content` still empty); the claim is cleared when the build is stored.
    """

    __tablename__ = "cached_document"

    # e.g. "global.pdf:en", "site:cambridge:overview.pdf:en", "certificate:12:en", "bulk.zip:en"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    content_type: Mapped[str] = mapped_column(String(100), default="")
    filename: Mapped[str] = mapped_column(String(200), default="")
    sha256: Mapped[str | None] = mapped_column(String(64))  # of content; also the ETag
    fingerprint: Mapped[str | None] = mapped_column(String(64))  # of the data it was built from
    built_at: Mapped[datetime | None]
    building_since: Mapped[datetime | None]  # a request is building it (a claim)
    build_token: Mapped[str | None] = mapped_column(String(32))  # whose claim
