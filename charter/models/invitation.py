from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from charter.models.base import Base, TimestampMixin, enum_column
from charter.models.enums import InvitationKind, MemberRole

if TYPE_CHECKING:
    from charter.models.organisation import Organisation
    from charter.models.site import Site
    from charter.models.user import User


class Invitation(TimestampMixin, Base):
    """An emailed, signed, expiring, single-use link.

    kind = organisation: a coordinator invites someone to bring a new organisation to a
    site; the organisation is created already approved when the link is used.
    kind = member: a lead invites someone to join their organisation as lead or editor.
    """

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[InvitationKind] = mapped_column(enum_column(InvitationKind, "invitation_kind"))
    email: Mapped[str] = mapped_column(String(254), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    role: Mapped[MemberRole] = mapped_column(enum_column(MemberRole, "member_role"))
    organisation_name: Mapped[str | None] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text, default="")
    invited_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    revoked_at: Mapped[datetime | None]

    site: Mapped[Site] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    invited_by: Mapped[User] = relationship(foreign_keys=[invited_by_id])
    used_by: Mapped[User | None] = relationship(foreign_keys=[used_by_id])

    @property
    def is_used(self) -> bool:
        return self.used_at is not None

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
