"""A publication asked for and not yet done: the task queue freezes, renders and stores it
(charter/reports/publishing.py)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from charter.models.base import Base, enum_column, utcnow


class PublicationKind(StrEnum):
    APPROVED = "approved"      # a coordinator approved a submitted report
    SUBMITTED = "submitted"    # a lead submitted a report whose cycle has no review
    CORRECTED = "corrected"    # a correction published at once: its text is kept here
    CORRECTION = "correction"  # a coordinator published a lead's reviewed correction


class PublicationState(StrEnum):
    QUEUED = "queued"    # waiting for a worker (or for the queue to run again)
    RUNNING = "running"  # a worker is making its PDF
    FAILED = "failed"    # every try failed: a coordinator may try again


class PublicationRequest(Base):
    """At most one per report (`report_id` is unique): while it exists, the report is being
    published and nobody else may publish, return or correct it. It is deleted in the same
    transaction that stores the revision and its PDF, so a report is either published or
    has this row, never half of both. Derived working state, like the outbox: not versioned;
    each change of it is audited on the report."""

    __tablename__ = "publication_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("progress_report.id"), unique=True)
    kind: Mapped[PublicationKind] = mapped_column(enum_column(PublicationKind, "publication_kind"))
    state: Mapped[PublicationState] = mapped_column(
        enum_column(PublicationState, "publication_state"), default=PublicationState.QUEUED,
        index=True)
    correction_id: Mapped[int | None] = mapped_column(ForeignKey("report_correction.id"))
    # The text of a correction published at once (CORRECTED): the form's, until the task
    # freezes it.
    summary: Mapped[str | None] = mapped_column(Text)
    lived_experience_reflection: Mapped[str | None] = mapped_column(Text)
    co_produced_by: Mapped[str | None] = mapped_column(Text)
    change_note: Mapped[str] = mapped_column(Text, default="")
    publish_at: Mapped[datetime | None]  # a backdated publication (demo data, imports)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)  # last sent to the queue
    started_at: Mapped[datetime | None]  # the running try began

    def __repr__(self) -> str:
        return f"<PublicationRequest report={self.report_id} {self.state}>"
