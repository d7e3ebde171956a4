from __future__ import annotations

from sqlalchemy import Select, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from charter.models.base import Base, TimestampMixin, VersionedMixin


class ChangeDomain(VersionedMixin, TimestampMixin, Base):
    """A global heading that commitments are recorded against."""

    __tablename__ = "change_domain"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    summary: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    source_note: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)

    @classmethod
    def ordered(cls) -> Select[tuple[ChangeDomain]]:
        """Every change domain in the order people see them everywhere (pages, forms, charts,
        exports): by position; equal positions in the order the domains were added. Add
        .where(ChangeDomain.is_active) for the active ones, or .with_only_columns(...) for
        some columns in the same order."""
        return select(ChangeDomain).order_by(ChangeDomain.position, ChangeDomain.id)

    def __repr__(self) -> str:
        return f"<ChangeDomain {self.slug}>"
