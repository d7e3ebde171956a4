"""Commitments, their milestones, partners and progress updates."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql import ColumnElement

from charter.models.base import Base, TimestampMixin, VersionedMixin, enum_column, utcnow
from charter.models.enums import (
    PUBLIC_COMMITMENT_STATUSES,
    RAG,
    Ambition,
    CommitmentStatus,
    Completion,
    PartnershipStatus,
)

if TYPE_CHECKING:
    from charter.models.domain import ChangeDomain
    from charter.models.indicator import CommitmentIndicator
    from charter.models.organisation import Organisation
    from charter.models.user import User


class Commitment(VersionedMixin, TimestampMixin, Base):
    """What one organisation promises under one change domain.

    Drafts are private to the organisation and its site's coordinators; published and
    retired commitments are public. Completion and RAG change through progress updates
    (which keep the history) or an edit (which is audited).
    """

    __tablename__ = "commitment"
    __table_args__ = (
        CheckConstraint("target_date IS NULL OR start_date IS NULL OR target_date >= start_date",
                        name="target_after_start"),
        Index("ix_commitment_org_status", "organisation_id", "status"),
        Index("ix_commitment_domain_status", "domain_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("change_domain.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    start_date: Mapped[date | None] = mapped_column(Date)
    target_date: Mapped[date | None] = mapped_column(Date)
    ambition: Mapped[Ambition] = mapped_column(enum_column(Ambition, "ambition"),
                                               default=Ambition.ESSENTIAL)
    completion: Mapped[Completion] = mapped_column(enum_column(Completion, "completion"),
                                                   default=Completion.NOT_STARTED)
    rag: Mapped[RAG] = mapped_column(enum_column(RAG, "rag"), default=RAG.ON_TRACK)
    status: Mapped[CommitmentStatus] = mapped_column(
        enum_column(CommitmentStatus, "commitment_status"), default=CommitmentStatus.DRAFT
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None]
    retired_at: Mapped[datetime | None]
    retired_reason: Mapped[str | None] = mapped_column(Text)

    organisation: Mapped[Organisation] = relationship()
    domain: Mapped[ChangeDomain] = relationship()
    created_by: Mapped[User | None] = relationship()
    milestones: Mapped[list[Milestone]] = relationship(
        back_populates="commitment", cascade="all, delete-orphan",
        order_by="(Milestone.position, Milestone.id)",
    )
    partnerships: Mapped[list[Partnership]] = relationship(
        back_populates="commitment", cascade="all, delete-orphan", order_by="Partnership.id"
    )
    updates: Mapped[list[ProgressUpdate]] = relationship(
        back_populates="commitment", order_by="(ProgressUpdate.update_date.desc(), ProgressUpdate.id.desc())"
    )
    indicators: Mapped[list[CommitmentIndicator]] = relationship(
        back_populates="commitment", cascade="all, delete-orphan", order_by="CommitmentIndicator.id"
    )

    @hybrid_property
    def is_public(self) -> bool:
        """Published or retired: anyone may read it (a draft is seen only inside its
        organisation and by its site's coordinators). In SQL too: .where(Commitment.is_public)."""
        return self.status in PUBLIC_COMMITMENT_STATUSES

    @is_public.inplace.expression
    @classmethod
    def _is_public_expression(cls) -> ColumnElement[bool]:
        return cls.status.in_(PUBLIC_COMMITMENT_STATUSES)

    def __repr__(self) -> str:
        return f"<Commitment {self.id} {self.title!r}>"


class Milestone(TimestampMixin, Base):
    __tablename__ = "milestone"

    id: Mapped[int] = mapped_column(primary_key=True)
    commitment_id: Mapped[int] = mapped_column(ForeignKey("commitment.id", ondelete="CASCADE"),
                                               index=True)
    title: Mapped[str] = mapped_column(String(200))
    due_date: Mapped[date | None] = mapped_column(Date)
    done_date: Mapped[date | None] = mapped_column(Date)
    position: Mapped[int] = mapped_column(default=0)

    commitment: Mapped[Commitment] = relationship(back_populates="milestones")


class Partnership(TimestampMixin, Base):
    """Another organisation invited to share a commitment; joint once it accepts."""

    __tablename__ = "partnership"
    __table_args__ = (
        UniqueConstraint("commitment_id", "organisation_id"),
        # the participants of joint commitments (accepted partnerships), for /partnerships
        Index("ix_partnership_status_commitment", "status", "commitment_id", "organisation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    commitment_id: Mapped[int] = mapped_column(ForeignKey("commitment.id", ondelete="CASCADE"),
                                               index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    status: Mapped[PartnershipStatus] = mapped_column(
        enum_column(PartnershipStatus, "partnership_status"), default=PartnershipStatus.INVITED
    )
    role_note: Mapped[str] = mapped_column(String(300), default="")
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    invited_at: Mapped[datetime | None]  # the latest invitation (a declined one may be renewed)
    responded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    responded_at: Mapped[datetime | None]

    commitment: Mapped[Commitment] = relationship(back_populates="partnerships")
    organisation: Mapped[Organisation] = relationship()
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])
    responded_by: Mapped[User | None] = relationship(foreign_keys=[responded_by_id])


class ProgressUpdate(TimestampMixin, Base):
    """A dated entry in five parts: Report, Reflect, Review, Rethink, Refresh.

    Review records the completion level and RAG as they were judged at that date (and as
    they were before), so the commitment's history of completion is kept here.
    """

    __tablename__ = "progress_update"
    __table_args__ = (Index("ix_progress_update_commitment_date", "commitment_id", "update_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commitment_id: Mapped[int] = mapped_column(ForeignKey("commitment.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    update_date: Mapped[date] = mapped_column(Date)
    report: Mapped[str] = mapped_column(Text, default="")
    reflect: Mapped[str] = mapped_column(Text, default="")
    completion: Mapped[Completion] = mapped_column(enum_column(Completion, "completion"))
    rag: Mapped[RAG] = mapped_column(enum_column(RAG, "rag"))
    previous_completion: Mapped[Completion | None] = mapped_column(
        enum_column(Completion, "previous_completion"))
    previous_rag: Mapped[RAG | None] = mapped_column(enum_column(RAG, "previous_rag"))
    rethink: Mapped[str] = mapped_column(Text, default="")
    refresh: Mapped[str] = mapped_column(Text, default="")

    commitment: Mapped[Commitment] = relationship(back_populates="updates")
    organisation: Mapped[Organisation] = relationship()
    author: Mapped[User | None] = relationship()
