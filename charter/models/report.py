"""Reporting cycles, progress reports, their review trail and published revisions."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from charter.models.base import Base, TimestampMixin, VersionedMixin, enum_column, utcnow
from charter.models.enums import CorrectionStatus, ReportStatus, ReviewAction

if TYPE_CHECKING:
    from charter.models.organisation import Organisation
    from charter.models.site import Site
    from charter.models.user import User


class ReportingCycle(TimestampMixin, Base):
    """A site's reporting period (e.g. 2026 Q4) with its due date and reminder window."""

    __tablename__ = "reporting_cycle"
    __table_args__ = (
        UniqueConstraint("site_id", "name"),
        CheckConstraint("period_end >= period_start", name="period_in_order"),
        CheckConstraint("due_date >= period_end", name="due_after_period"),
        CheckConstraint("reminder_days_before >= 0 AND reminder_days_after >= 0",
                        name="reminder_days_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    reminder_days_before: Mapped[int] = mapped_column(default=14)
    reminder_days_after: Mapped[int] = mapped_column(default=7)
    review_required: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    site: Mapped[Site] = relationship()

    def __repr__(self) -> str:
        return f"<ReportingCycle {self.site_id} {self.name}>"


class ProgressReport(VersionedMixin, TimestampMixin, Base):
    """One organisation's report for one cycle: draft → submitted → (returned ↔ submitted)
    → published. Publishing freezes it into a ReportRevision; corrections add revisions."""

    __tablename__ = "progress_report"
    __table_args__ = (
        UniqueConstraint("organisation_id", "cycle_id"),
        Index("ix_progress_report_cycle_status", "cycle_id", "status"),
        # /reports: the published ones, newest first (reports.queries.published_reports_query);
        # with the two keys it joins on, the index alone also answers the page's total.
        Index("ix_progress_report_status_published", "status", "published_at", "id",
              "organisation_id", "cycle_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("reporting_cycle.id"), index=True)
    status: Mapped[ReportStatus] = mapped_column(enum_column(ReportStatus, "report_status"),
                                                 default=ReportStatus.DRAFT)
    summary: Mapped[str] = mapped_column(Text, default="")
    lived_experience_reflection: Mapped[str] = mapped_column(Text, default="")
    co_produced_by: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None]
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    published_at: Mapped[datetime | None]  # first publication

    organisation: Mapped[Organisation] = relationship()
    cycle: Mapped[ReportingCycle] = relationship()
    reviews: Mapped[list[ReportReview]] = relationship(
        back_populates="report", order_by="ReportReview.id", cascade="all, delete-orphan"
    )
    revisions: Mapped[list[ReportRevision]] = relationship(
        back_populates="report", order_by="ReportRevision.number"
    )
    corrections: Mapped[list[ReportCorrection]] = relationship(
        back_populates="report", order_by="ReportCorrection.id"
    )


class ReportReview(TimestampMixin, Base):
    """A step in a report's workflow, with the comment that goes with it."""

    __tablename__ = "report_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("progress_report.id", ondelete="CASCADE"),
                                           index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    action: Mapped[ReviewAction] = mapped_column(enum_column(ReviewAction, "review_action"))
    comment: Mapped[str] = mapped_column(Text, default="")

    report: Mapped[ProgressReport] = relationship(back_populates="reviews")
    author: Mapped[User | None] = relationship()


class ReportRevision(TimestampMixin, Base):
    """A published, frozen revision: the snapshot of everything it shows and its PDF,
    each with its SHA-256. Never changed or deleted."""

    __tablename__ = "report_revision"
    __table_args__ = (UniqueConstraint("report_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("progress_report.id"), index=True)
    number: Mapped[int]
    snapshot: Mapped[dict[str, Any]] = deferred(mapped_column(JSON))
    snapshot_sha256: Mapped[str] = mapped_column(String(64))
    pdf: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    pdf_size: Mapped[int] = mapped_column(default=0)
    change_note: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime]
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    report: Mapped[ProgressReport] = relationship(back_populates="revisions")
    published_by: Mapped[User | None] = relationship()


class ReportCorrection(VersionedMixin, TimestampMixin, Base):
    """A lead's correction of a published report when its cycle reviews reports: the
    corrected text and the note for readers, waiting for a coordinator, who publishes it as
    the next revision or returns it with comments. The public reads the current revision
    meanwhile. Kept after the decision, as the record of it."""

    __tablename__ = "report_correction"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("progress_report.id"), index=True)
    status: Mapped[CorrectionStatus] = mapped_column(
        enum_column(CorrectionStatus, "correction_status"), default=CorrectionStatus.SUBMITTED)
    summary: Mapped[str] = mapped_column(Text, default="")
    lived_experience_reflection: Mapped[str] = mapped_column(Text, default="")
    co_produced_by: Mapped[str] = mapped_column(Text, default="")
    change_note: Mapped[str] = mapped_column(Text, default="")
    based_on_revision: Mapped[int]  # the revision that was current when it was submitted
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None]
    comment: Mapped[str] = mapped_column(Text, default="")  # why it was returned
    revision_number: Mapped[int | None]  # the revision it was published as

    report: Mapped[ProgressReport] = relationship(back_populates="corrections")
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    def text(self) -> dict[str, str]:
        return {"summary": self.summary,
                "lived_experience_reflection": self.lived_experience_reflection,
                "co_produced_by": self.co_produced_by}
