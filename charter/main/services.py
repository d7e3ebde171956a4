"""Figures for the home page and the signed-in dashboard."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from charter.extensions import db
from charter.models import (
    Organisation,
    OrganisationStatus,
    Site,
    Tier,
)
from charter.signing.queries import has_current_signature


@dataclass
class SiteCounts:
    site: Site
    signatories: int = 0
    supporters: int = 0
    pending: int = 0
    by_tier: dict = field(default_factory=dict)


def site_counts() -> list[SiteCounts]:
    """Signatories, supporters and pending applications per site, in two queries."""
    sites = db.session.scalars(select(Site).order_by(Site.created_at, Site.id)).all()
    by_site = {s.id: SiteCounts(site=s) for s in sites}
    signed = has_current_signature()
    rows = db.session.execute(
        select(Organisation.site_id, Organisation.tier, Organisation.status, func.count())
        .where(
            (Organisation.status == OrganisationStatus.PENDING)
            | ((Organisation.status == OrganisationStatus.ACTIVE) & signed)
        )
        .group_by(Organisation.site_id, Organisation.tier, Organisation.status)
    ).all()
    for site_id, tier, status, count in rows:
        counts = by_site.get(site_id)
        if counts is None:
            continue
        if status == OrganisationStatus.PENDING:
            counts.pending += count
        elif tier == Tier.SIGNATORY:
            counts.signatories += count
        else:
            counts.supporters += count
    return list(by_site.values())


def pending_counts(site_ids: list[int]) -> dict[int, int]:
    """Applications waiting for a decision, per site."""
    if not site_ids:
        return {}
    rows = db.session.execute(
        select(Organisation.site_id, func.count())
        .where(Organisation.site_id.in_(site_ids),
               Organisation.status == OrganisationStatus.PENDING)
        .group_by(Organisation.site_id)
    ).all()
    return dict(rows)
