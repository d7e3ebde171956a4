"""Rollups: the cross-site figures, kept as summary tables.

PROMISE Global, the site dashboards, the domain counts and the coordinator dashboard read
these small tables instead of scanning commitments and measurements per request. They are
rewritten, a site at a time, by charter.dashboards.rollups.refresh (a task sent after each
commit that changes their inputs, and every ten minutes). Every row belongs to one site; a
site holds rows only once `RollupSite` says it was computed. Values are public data only.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from charter.models.base import Base


class RollupSite(Base):
    """A site whose rollups were computed, and when."""

    __tablename__ = "rollup_site"

    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), primary_key=True)
    computed_at: Mapped[datetime]


class RollupDomain(Base):
    """Per site × change domain: public commitments of public organisations (published,
    retired, completed) and how many active organisations lead at least one."""

    __tablename__ = "rollup_domain"

    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), primary_key=True)
    domain_id: Mapped[int] = mapped_column(primary_key=True)
    commitments: Mapped[int]
    published: Mapped[int]
    retired: Mapped[int]
    completed: Mapped[int]
    organisations: Mapped[int]


class RollupProgress(Base):
    """Per site × change domain × completion level × RAG: public commitments."""

    __tablename__ = "rollup_progress"

    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), primary_key=True)
    domain_id: Mapped[int] = mapped_column(primary_key=True)
    completion: Mapped[str] = mapped_column(String(32), primary_key=True)
    rag: Mapped[str] = mapped_column(String(32), primary_key=True)
    commitments: Mapped[int]


class RollupOrganisations(Base):
    """Per site × sector × tier: active organisations, and those holding a current
    signature (the signatories and supporters)."""

    __tablename__ = "rollup_organisations"

    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), primary_key=True)
    sector: Mapped[str] = mapped_column(String(32), primary_key=True)
    tier: Mapped[str] = mapped_column(String(32), primary_key=True)
    active: Mapped[int]
    signed: Mapped[int]


class RollupCycle(Base):
    """Per reporting cycle: reports owed, published, and published by the due date."""

    __tablename__ = "rollup_cycle"

    cycle_id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), index=True)
    owed: Mapped[int]
    published: Mapped[int]
    on_time: Mapped[int]


class RollupIndicator(Base):
    """Per site × catalogue indicator × quarter (year × 4 + quarter − 1, by the end of the
    measured period): the mean across organisations of each organisation's mean value in the
    quarter (rounded to 2 places, as shown), and how many organisations contributed."""

    __tablename__ = "rollup_indicator"

    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), primary_key=True)
    indicator_id: Mapped[int] = mapped_column(primary_key=True)
    quarter: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[Decimal] = mapped_column(Numeric(18, 6))
    organisations: Mapped[int]


class RollupExample(Base):
    """Per site × change domain: its first public commitments, furthest along first (the
    examples PROMISE Global shows from the strongest site of a domain)."""

    __tablename__ = "rollup_example"

    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), primary_key=True)
    domain_id: Mapped[int] = mapped_column(primary_key=True)
    rank: Mapped[int] = mapped_column(primary_key=True)
    commitment_id: Mapped[int]


ROLLUP_TABLES = (RollupDomain, RollupProgress, RollupOrganisations, RollupCycle, RollupIndicator,
                 RollupExample)
