from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from charter.models.base import Base, TimestampMixin

if TYPE_CHECKING:
    from charter.models.organisation import Membership
    from charter.models.site import SiteCoordinator

# A hash to check against when the email is unknown, so that a wrong email and a
# wrong password take the same time to answer.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


class User(UserMixin, TimestampMixin, Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(120))
    job_title: Mapped[str] = mapped_column(String(120), default="")
    is_admin: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped when the password changes or is reset: invalidates outstanding reset links
    # (sessions are ended explicitly, see charter.auth.sessions).
    auth_epoch: Mapped[int] = mapped_column(default=0)
    last_login_at: Mapped[datetime | None]
    # When the person showed that the address reaches them: by following the link of a
    # join request or of an invitation (accounts older than this column were marked
    # verified by the migration that added it). The app creates accounts only once the
    # address is proven, so it is set on every account the app makes.
    email_verified_at: Mapped[datetime | None]

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )
    coordinator_roles: Mapped[list[SiteCoordinator]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    @staticmethod
    def normalise_email(email: str) -> str:
        return (email or "").strip().lower()

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def mark_email_verified(self, when: datetime) -> None:
        if self.email_verified_at is None:
            self.email_verified_at = when

    @staticmethod
    def spend_equal_time(password: str) -> None:
        check_password_hash(_DUMMY_HASH, password)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return bool(self.active)

    # The token of the server-side session this object was loaded for (or is being signed
    # in with); set by charter.auth.login, never stored on the row.
    session_token = None

    def get_id(self) -> str:
        """Flask-Login's id: the session token, so that the session cookie and the
        remember cookie are each bound to one UserSession row that can be ended."""
        if not self.session_token:
            raise RuntimeError("Sign users in with charter.auth.login.sign_in(), not login_user().")
        return self.session_token

    # Flask-Login's UserMixin compares users by get_id(); the same person is the same id.
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, User):
            return NotImplemented
        if self.id is None or other.id is None:
            return self is other
        return self.id == other.id

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"<User {self.email}>"
