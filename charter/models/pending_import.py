"""A checked spreadsheet upload, kept on the server until its uploader confirms it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from charter.models.base import Base, TimestampMixin


class PendingImport(TimestampMixin, Base):
    """The file a person uploaded and saw previewed, so that the confirmation form carries
    only a random token (whose SHA-256 is stored, not the token itself).

    Confirming is single-use: the import sets `used_at` with a conditional UPDATE (…WHERE
    used_at IS NULL) in the transaction that saves the rows, so a double click or a replay
    saves them once. The file's bytes are dropped once used; rows are deleted a day after
    they expire (on the next upload)."""

    __tablename__ = "pending_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(200))
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    content_sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<PendingImport {self.id} of organisation {self.organisation_id}>"
