"""Server-side records of signed-in sessions (see charter.auth.sessions)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from charter.models.base import Base, utcnow

if TYPE_CHECKING:
    from charter.models.user import User


class UserSession(Base):
    """One signed-in browser. The browser holds a random token (in the session cookie and,
    with "keep me signed in", the remember cookie); only its SHA-256 is stored here. The
    session works while the row is neither revoked nor expired."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    remember: Mapped[bool] = mapped_column(default=False)
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime | None]
    # Why it ended: signed_out, ended, all_devices, password_changed, password_reset.
    end_reason: Mapped[str | None] = mapped_column(String(32))

    user: Mapped[User] = relationship()

    def is_active_at(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now

    def __repr__(self) -> str:
        return f"<UserSession {self.id} of user {self.user_id}>"
