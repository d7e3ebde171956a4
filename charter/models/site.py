from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from charter.models.base import Base, TimestampMixin

if TYPE_CHECKING:
    from charter.models.organisation import Organisation
    from charter.models.user import User


class Site(TimestampMixin, Base):
    """A PROMISE locality with its own charter, coordinators and reporting cycles."""

    __tablename__ = "site"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    country: Mapped[str] = mapped_column(String(80))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    locale: Mapped[str] = mapped_column(String(16), default="en")
    contact_email: Mapped[str | None] = mapped_column(String(254))
    description: Mapped[str] = mapped_column(Text, default="")
    # Reporting settings: whether supporters owe reports, and after how many consecutive
    # missed cycles an organisation is shown publicly as "not reporting".
    supporters_exempt: Mapped[bool] = mapped_column(default=True)
    missed_cycles_threshold: Mapped[int] = mapped_column(default=2)

    organisations: Mapped[list[Organisation]] = relationship(back_populates="site")
    coordinators: Mapped[list[SiteCoordinator]] = relationship(
        back_populates="site", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Site {self.slug}>"


class SiteCoordinator(TimestampMixin, Base):
    """A user who runs one site."""

    __tablename__ = "site_coordinator"
    __table_args__ = (UniqueConstraint("user_id", "site_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), index=True)

    user: Mapped[User] = relationship(back_populates="coordinator_roles")
    site: Mapped[Site] = relationship(back_populates="coordinators")
