"""Read side of commitments: what pages show, loaded in a fixed number of queries."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from charter.extensions import db
from charter.models import (
    AuditEvent,
    ChangeDomain,
    Commitment,
    CommitmentIndicator,
    Organisation,
    Partnership,
    PartnershipStatus,
    ProgressUpdate,
    User,
)


def commitment_page_options():
    """Everything the commitment page shows, eager-loaded (about ten queries in all)."""
    return (
        joinedload(Commitment.organisation).joinedload(Organisation.site),
        joinedload(Commitment.domain),
        selectinload(Commitment.milestones),
        selectinload(Commitment.partnerships).joinedload(Partnership.organisation)
        .joinedload(Organisation.site),
        selectinload(Commitment.updates).joinedload(ProgressUpdate.author),
        selectinload(Commitment.updates).joinedload(ProgressUpdate.organisation),
        selectinload(Commitment.indicators).joinedload(CommitmentIndicator.indicator),
        selectinload(Commitment.indicators).selectinload(CommitmentIndicator.measurements),
    )


def load_commitment(commitment_id: int) -> Commitment | None:
    return db.session.scalar(
        select(Commitment).where(Commitment.id == commitment_id).options(*commitment_page_options())
    )


@dataclass
class TimelineEntry:
    event: AuditEvent
    actor_name: str


def timeline(commitment: Commitment, *, private: bool = False) -> list[TimelineEntry]:
    """Who changed what, and when. The public sees what happened from publication on;
    the organisation and its coordinators see the drafting too."""
    query = (
        select(AuditEvent, User.full_name)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(AuditEvent.object_type == "Commitment", AuditEvent.object_id == commitment.id)
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    )
    if not private:
        if commitment.published_at is None:
            return []
        query = query.where(AuditEvent.occurred_at >= commitment.published_at)
    return [TimelineEntry(event, name or event.actor_label)
            for event, name in db.session.execute(query)]


@dataclass
class DomainGroup:
    domain: ChangeDomain
    commitments: list[Commitment]


def organisation_commitments(organisation: Organisation, *, include_drafts: bool) -> list[DomainGroup]:
    """The organisation's own commitments and the joint ones it accepted, grouped by
    change domain in domain order (three queries)."""
    joint_ids = select(Partnership.commitment_id).where(
        Partnership.organisation_id == organisation.id,
        Partnership.status == PartnershipStatus.ACCEPTED,
    )
    query = (
        select(Commitment)
        .where(or_(Commitment.organisation_id == organisation.id, Commitment.id.in_(joint_ids)))
        .options(
            joinedload(Commitment.domain),
            joinedload(Commitment.organisation),
            selectinload(Commitment.partnerships).joinedload(Partnership.organisation),
        )
        .order_by(Commitment.id)
    )
    if not include_drafts:
        query = query.where(Commitment.is_public)
    else:
        # Another organisation's drafts are never shown, even if it invited this one.
        query = query.where(
            or_(Commitment.is_public,
                Commitment.organisation_id == organisation.id)
        )
    groups: OrderedDict[int, DomainGroup] = OrderedDict()
    commitments = list(db.session.scalars(query).unique())
    for c in sorted(commitments, key=lambda c: (c.domain.position, c.domain.id, c.status.value, c.id)):
        groups.setdefault(c.domain_id, DomainGroup(c.domain, [])).commitments.append(c)
    return list(groups.values())
