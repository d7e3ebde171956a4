from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import generate_password_hash

from charter.models.base import Base, TimestampMixin, enum_column
from charter.models.enums import Sector, Tier

if TYPE_CHECKING:
    from charter.models.site import Site


class JoinRequest(TimestampMixin, Base):
    """An application to join made by someone without an account, waiting for them to
    confirm their email address.

    Nothing else exists until they follow the emailed link: no account, no organisation,
    no message to the coordinators. Confirming creates the account (its address now
    verified), the pending organisation with them as its lead, and tells the site's
    coordinators. Requests not confirmed by `expires_at` are deleted (see
    `charter.organisations.joining.purge_expired`); so are confirmed ones, once their link
    could no longer be used anyway.
    """

    __tablename__ = "join_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    # A random value carried in the emailed token as well as the id: a link names one
    # request, never a later one that happens to get the same id.
    nonce: Mapped[str] = mapped_column(String(64))
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    full_name: Mapped[str] = mapped_column(String(120))
    job_title: Mapped[str] = mapped_column(String(120), default="")
    # Hashed like an account's; cleared once the account is created from it.
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    organisation_name: Mapped[str] = mapped_column(String(200))
    sector: Mapped[Sector] = mapped_column(enum_column(Sector, "sector"))
    tier: Mapped[Tier] = mapped_column(enum_column(Tier, "tier"))
    website: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    expires_at: Mapped[datetime] = mapped_column(index=True)
    confirmed_at: Mapped[datetime | None]
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL"))

    site: Mapped[Site] = relationship()

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")

    def __repr__(self) -> str:
        return f"<JoinRequest {self.id} {self.email}>"
