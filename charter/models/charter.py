from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from charter.models.base import Base, TimestampMixin, VersionedMixin, enum_column
from charter.models.enums import CharterStatus

if TYPE_CHECKING:
    from charter.models.organisation import Organisation
    from charter.models.site import Site
    from charter.models.user import User


def sha256_text(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


class CharterVersion(VersionedMixin, TimestampMixin, Base):
    """The Markdown text of a site's charter at one time: draft → open → superseded."""

    __tablename__ = "charter_version"
    __table_args__ = (
        UniqueConstraint("site_id", "number"),
        # Only one open version per site, enforced by the database.
        Index(
            "uq_charter_version_one_open_per_site",
            "site_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    body_markdown: Mapped[str] = mapped_column(Text)
    body_sha256: Mapped[str] = mapped_column(String(64))
    # What changed from the previous version, in a sentence or two, for the history.
    change_summary: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[CharterStatus] = mapped_column(
        enum_column(CharterStatus, "charter_status"), default=CharterStatus.DRAFT
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    opened_at: Mapped[datetime | None]
    superseded_at: Mapped[datetime | None]

    site: Mapped[Site] = relationship()
    created_by: Mapped[User | None] = relationship()

    def set_body(self, body: str) -> None:
        self.body_markdown = body
        self.body_sha256 = sha256_text(body)

    def __repr__(self) -> str:
        return f"<CharterVersion site={self.site_id} v{self.number} {self.status}>"


class Signature(TimestampMixin, Base):
    """An organisation's signing of one charter version. Never changed or deleted."""

    __tablename__ = "signature"
    __table_args__ = (
        UniqueConstraint("organisation_id", "charter_version_id"),
        # Reporting compliance asks when each organisation first signed.
        Index("ix_signature_organisation_signed_at", "organisation_id", "signed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    charter_version_id: Mapped[int] = mapped_column(ForeignKey("charter_version.id"), index=True)
    signer_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    signer_name: Mapped[str] = mapped_column(String(120))
    signer_job_title: Mapped[str] = mapped_column(String(120))
    authority_statement: Mapped[str] = mapped_column(Text)
    co_signatory_name: Mapped[str | None] = mapped_column(String(120))
    co_signatory_role: Mapped[str | None] = mapped_column(String(120))
    signed_at: Mapped[datetime]
    text_sha256: Mapped[str] = mapped_column(String(64))
    verification_code: Mapped[str] = mapped_column(String(32), unique=True)

    organisation: Mapped[Organisation] = relationship()
    charter_version: Mapped[CharterVersion] = relationship()
    signer: Mapped[User] = relationship()
    withdrawal: Mapped[SignatureWithdrawal | None] = relationship(
        back_populates="signature", uselist=False
    )

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawal is not None


class SignatureWithdrawal(TimestampMixin, Base):
    """The withdrawal of a signature: a record added beside it, never an edit of it."""

    __tablename__ = "signature_withdrawal"

    id: Mapped[int] = mapped_column(primary_key=True)
    signature_id: Mapped[int] = mapped_column(ForeignKey("signature.id"), unique=True)
    withdrawn_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    reason: Mapped[str] = mapped_column(Text)
    withdrawn_at: Mapped[datetime]

    signature: Mapped[Signature] = relationship(back_populates="withdrawal")
    withdrawn_by: Mapped[User] = relationship()


# Crockford-style alphabet: no I, L, O or U, so codes survive being read aloud or retyped.
_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_verification_code() -> str:
    """A random code such as 'PRM-7KQ2-9XHD-M4TB' (60 bits)."""
    import secrets

    chars = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(12))
    return f"PRM-{chars[0:4]}-{chars[4:8]}-{chars[8:12]}"


def normalise_verification_code(code: str) -> str:
    cleaned = "".join(c for c in (code or "").upper() if c.isalnum())
    cleaned = cleaned.replace("O", "0").replace("I", "1").replace("L", "1")
    if cleaned.startswith("PRM"):
        cleaned = cleaned[3:]
    if len(cleaned) != 12:
        return ""
    return f"PRM-{cleaned[0:4]}-{cleaned[4:8]}-{cleaned[8:12]}"
