from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from charter.models.base import Base, TimestampMixin, VersionedMixin, enum_column
from charter.models.enums import MemberRole, OrganisationStatus, Sector, Tier

if TYPE_CHECKING:
    from charter.models.site import Site
    from charter.models.user import User


def fold_name(name: str) -> str:
    """Key for duplicate detection: case, accents, punctuation and spacing folded.

    "Národní ústav duševního zdraví" and "narodni  ustav dusevniho zdravi" fold alike.
    """
    decomposed = unicodedata.normalize("NFKD", name or "")
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    cleaned = "".join(c if c.isalnum() else " " for c in stripped.casefold())
    return " ".join(cleaned.split())


class Organisation(VersionedMixin, TimestampMixin, Base):
    __tablename__ = "organisation"
    __table_args__ = (
        UniqueConstraint("site_id", "name_key"),
        # the public register's order (charter.organisations.routes.REGISTER_KEYS)
        Index("ix_organisation_register", "status", "name_key", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    sector: Mapped[Sector] = mapped_column(enum_column(Sector, "sector"))
    tier: Mapped[Tier] = mapped_column(enum_column(Tier, "tier"), default=Tier.SIGNATORY)
    status: Mapped[OrganisationStatus] = mapped_column(
        enum_column(OrganisationStatus, "organisation_status"),
        default=OrganisationStatus.PENDING,
        index=True,
    )
    website: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    site: Mapped[Site] = relationship(back_populates="organisations")
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan"
    )

    def set_name(self, name: str) -> None:
        self.name = name.strip()
        self.name_key = fold_name(self.name)

    @property
    def is_active(self) -> bool:
        return self.status == OrganisationStatus.ACTIVE

    def __repr__(self) -> str:
        return f"<Organisation {self.slug}>"


class Membership(TimestampMixin, Base):
    """A user's role (lead or editor) in one organisation."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[MemberRole] = mapped_column(enum_column(MemberRole, "member_role"))

    user: Mapped[User] = relationship(back_populates="memberships")
    organisation: Mapped[Organisation] = relationship(back_populates="memberships")
