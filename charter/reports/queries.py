"""Read side of published reports: the public list, feeds, revisions."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import joinedload, undefer

from charter import blobs
from charter.extensions import db
from charter.models import (
    Commitment,
    Organisation,
    ProgressReport,
    ReportingCycle,
    ReportRevision,
    ReportStatus,
    fold_name,
)
from charter.pagination import Key

log = logging.getLogger(__name__)


# The list's order (newest first), served by ix_progress_report_status_published.
LIST_KEYS = (Key(ProgressReport.published_at, descending=True, kind="datetime"),
             Key(ProgressReport.id, descending=True))


def published_reports_query(*, site_id=None, cycle_id=None, sector=None, domain_id=None,
                            search: str | None = None):
    query = (
        select(ProgressReport)
        .join(Organisation, Organisation.id == ProgressReport.organisation_id)
        .join(ReportingCycle, ReportingCycle.id == ProgressReport.cycle_id)
        .where(ProgressReport.status == ReportStatus.PUBLISHED)
        .options(joinedload(ProgressReport.organisation).joinedload(Organisation.site),
                 joinedload(ProgressReport.cycle))
    )
    if site_id is not None:
        query = query.where(Organisation.site_id == site_id)
    if cycle_id is not None:
        query = query.where(ProgressReport.cycle_id == cycle_id)
    if sector is not None:
        query = query.where(Organisation.sector == sector)
    if domain_id is not None:
        query = query.where(exists().where(
            Commitment.organisation_id == Organisation.id, Commitment.domain_id == domain_id,
            Commitment.is_public))
    if search:
        folded = fold_name(search)
        conditions = [func.lower(ProgressReport.summary).contains(search.strip().lower(),
                                                                  autoescape=True)]
        if folded:
            conditions.append(Organisation.name_key.contains(folded, autoescape=True))
        query = query.where(or_(*conditions))
    return query.order_by(ProgressReport.published_at.desc(), ProgressReport.id.desc())


def latest_revisions(report_ids: list[int]) -> dict[int, ReportRevision]:
    """The latest revision of each report (without the stored snapshot or PDF)."""
    if not report_ids:
        return {}
    latest = (select(ReportRevision.report_id, func.max(ReportRevision.number).label("n"))
              .where(ReportRevision.report_id.in_(report_ids))
              .group_by(ReportRevision.report_id).subquery())
    rows = db.session.scalars(
        select(ReportRevision).join(latest, (latest.c.report_id == ReportRevision.report_id)
                                    & (latest.c.n == ReportRevision.number))
    )
    return {r.report_id: r for r in rows}


def revision(report_id: int, number: int | None = None, *,
             with_snapshot: bool = False) -> ReportRevision | None:
    query = select(ReportRevision).where(ReportRevision.report_id == report_id)
    if number is None:
        query = query.order_by(ReportRevision.number.desc()).limit(1)
    else:
        query = query.where(ReportRevision.number == number)
    options = []
    if with_snapshot:
        options.append(undefer(ReportRevision.snapshot))
    return db.session.scalar(query.options(*options))


@dataclass(frozen=True)
class StoredPdf:
    """What serving a stored PDF needs besides its bytes: the revision's id, number and
    SHA-256 (the ETag), and the names its file is called after."""

    revision_id: int
    number: int
    sha256: str
    organisation_slug: str
    cycle_name: str


def stored_pdf(report_id: int, number: int | None = None) -> StoredPdf | None:
    """The stored PDF of a published report's revision (`number`, or the latest), without
    its bytes, or None. A report that is not published has no public PDF, whoever asks, so
    the permission check is the WHERE clause: no report object, no snapshot."""
    query = (
        select(ReportRevision.id, ReportRevision.number, ReportRevision.pdf_sha256,
               Organisation.slug, ReportingCycle.name)
        .join(ProgressReport, ProgressReport.id == ReportRevision.report_id)
        .join(Organisation, Organisation.id == ProgressReport.organisation_id)
        .join(ReportingCycle, ReportingCycle.id == ProgressReport.cycle_id)
        .where(ReportRevision.report_id == report_id,
               ProgressReport.status == ReportStatus.PUBLISHED)
    )
    if number is None:
        query = query.order_by(ReportRevision.number.desc()).limit(1)
    else:
        query = query.where(ReportRevision.number == number)
    row = db.session.execute(query).first()
    return StoredPdf(*row) if row else None


def pdf_bytes(revision_id: int) -> bytes:
    """The stored bytes of a revision's PDF: one column of one row."""
    return db.session.scalar(select(ReportRevision.pdf).where(ReportRevision.id == revision_id))


def pdf_on_disk(stored: StoredPdf) -> bool:
    """Make sure the revision's PDF is a file on disk (charter/blobs.py, named by its
    SHA-256): when it is not there yet, its bytes are read from the database once and
    written. False when the stored bytes do not match their hash (then they are served from
    the database, never filed under a name that is not theirs)."""
    if blobs.exists(stored.sha256, ".pdf"):
        return True
    data = pdf_bytes(stored.revision_id)
    if data is None or blobs.digest_of(data) != stored.sha256:
        log.error("report revision %s: its PDF does not match its SHA-256", stored.revision_id)
        return False
    blobs.put(data, ".pdf", digest=stored.sha256)
    return True


def feed_entries(site_id: int | None = None, limit: int = 50) -> list[tuple[ReportRevision, ProgressReport]]:
    query = (
        select(ReportRevision, ProgressReport)
        .join(ProgressReport, ProgressReport.id == ReportRevision.report_id)
        .join(Organisation, Organisation.id == ProgressReport.organisation_id)
        .options(joinedload(ProgressReport.organisation).joinedload(Organisation.site),
                 joinedload(ProgressReport.cycle))
        .order_by(ReportRevision.published_at.desc(), ReportRevision.id.desc())
        .limit(limit)
    )
    if site_id is not None:
        query = query.where(Organisation.site_id == site_id)
    return [(row[0], row[1]) for row in db.session.execute(query)]
