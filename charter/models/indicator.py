"""The indicator catalogue, indicators attached to commitments, and measurements."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from charter.models.base import Base, TimestampMixin, VersionedMixin, enum_column
from charter.models.enums import Direction

if TYPE_CHECKING:
    from charter.models.commitment import Commitment
    from charter.models.organisation import Organisation
    from charter.models.user import User

# Values up to 10^12 with six decimals: enough for rates, counts and percentages.
VALUE = Numeric(18, 6)


class Indicator(VersionedMixin, TimestampMixin, Base):
    """A measure: in the global catalogue (organisation_id is NULL), or an organisation's
    own indicator defined for one of its commitments."""

    __tablename__ = "indicator"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    definition: Mapped[str] = mapped_column(Text, default="")
    unit: Mapped[str] = mapped_column(String(80))
    direction: Mapped[Direction] = mapped_column(enum_column(Direction, "direction"))
    reference: Mapped[str] = mapped_column(String(300), default="")
    is_active: Mapped[bool] = mapped_column(default=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    organisation: Mapped[Organisation | None] = relationship()
    created_by: Mapped[User | None] = relationship()

    @property
    def in_catalogue(self) -> bool:
        return self.organisation_id is None


class CommitmentIndicator(VersionedMixin, TimestampMixin, Base):
    """An indicator attached to a commitment, with its baseline and target."""

    __tablename__ = "commitment_indicator"
    __table_args__ = (UniqueConstraint("commitment_id", "indicator_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commitment_id: Mapped[int] = mapped_column(ForeignKey("commitment.id", ondelete="CASCADE"),
                                               index=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id"), index=True)
    baseline_value: Mapped[Decimal | None] = mapped_column(VALUE)
    baseline_date: Mapped[date | None] = mapped_column(Date)
    target_value: Mapped[Decimal | None] = mapped_column(VALUE)
    target_date: Mapped[date | None] = mapped_column(Date)

    commitment: Mapped[Commitment] = relationship(back_populates="indicators")
    indicator: Mapped[Indicator] = relationship()
    measurements: Mapped[list[Measurement]] = relationship(
        back_populates="commitment_indicator", cascade="all, delete-orphan",
        order_by="(Measurement.period_start, Measurement.id)",
    )


class Measurement(TimestampMixin, Base):
    """A value of an attached indicator for one period."""

    __tablename__ = "measurement"
    __table_args__ = (
        UniqueConstraint("commitment_indicator_id", "period_start", "period_end"),
        CheckConstraint("period_end >= period_start", name="period_in_order"),
        # Dashboards read the recent quarters of every indicator of a site.
        Index("ix_measurement_period_end", "period_end"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    commitment_indicator_id: Mapped[int] = mapped_column(
        ForeignKey("commitment_indicator.id", ondelete="CASCADE"), index=True
    )
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    value: Mapped[Decimal] = mapped_column(VALUE)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    commitment_indicator: Mapped[CommitmentIndicator] = relationship(back_populates="measurements")
    recorded_by: Mapped[User | None] = relationship()
