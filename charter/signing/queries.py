"""Read-side questions about charters and signatures, shared by the register, profiles,
site pages and the signing pages. Each runs a fixed number of queries, however many
organisations or signatures there are."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import joinedload

from charter.extensions import db
from charter.models import (
    CharterStatus,
    CharterVersion,
    Organisation,
    OrganisationStatus,
    Sector,
    Signature,
    SignatureWithdrawal,
    Tier,
)


def open_version(site_id: int) -> CharterVersion | None:
    """The site's charter version open for signature, if any."""
    return db.session.scalar(
        select(CharterVersion).where(
            CharterVersion.site_id == site_id, CharterVersion.status == CharterStatus.OPEN
        )
    )


def open_versions_by_site(site_ids: Iterable[int] | None = None) -> dict[int, CharterVersion]:
    query = select(CharterVersion).where(CharterVersion.status == CharterStatus.OPEN)
    if site_ids is not None:
        query = query.where(CharterVersion.site_id.in_(list(site_ids)))
    return {v.site_id: v for v in db.session.scalars(query)}


def not_withdrawn():
    """SQL condition: this signature has no withdrawal."""
    return ~exists().where(SignatureWithdrawal.signature_id == Signature.id)


def has_current_signature():
    """SQL condition on Organisation: it holds a signature that is not withdrawn."""
    return exists().where(and_(Signature.organisation_id == Organisation.id, not_withdrawn()))


@dataclass
class SigningStatus:
    """Where an organisation stands with its site's charter."""

    organisation_id: int
    signatures: list[Signature] = field(default_factory=list)  # newest first, all of them
    open_version: CharterVersion | None = None

    @property
    def current(self) -> list[Signature]:
        return [s for s in self.signatures if s.withdrawal is None]

    @property
    def latest(self) -> Signature | None:
        """The newest signature that is not withdrawn."""
        current = self.current
        return max(current, key=lambda s: s.charter_version.number) if current else None

    @property
    def is_signatory(self) -> bool:
        return self.latest is not None

    @property
    def signed_version_number(self) -> int | None:
        return self.latest.charter_version.number if self.latest else None

    @property
    def signed_open_version(self) -> bool:
        return bool(
            self.open_version
            and any(s.charter_version_id == self.open_version.id for s in self.signatures)
        )

    @property
    def needs_reaffirming(self) -> bool:
        """Signed an earlier version, and a newer one is open for signature."""
        return bool(self.is_signatory and self.open_version and not self.signed_open_version
                    and self.signed_version_number < self.open_version.number)


def signing_statuses(organisations: Iterable[Organisation]) -> dict[int, SigningStatus]:
    """SigningStatus for each organisation, in two queries whatever their number."""
    orgs = list(organisations)
    if not orgs:
        return {}
    statuses = {o.id: SigningStatus(organisation_id=o.id) for o in orgs}
    versions = open_versions_by_site({o.site_id for o in orgs})
    for o in orgs:
        statuses[o.id].open_version = versions.get(o.site_id)
    signatures = db.session.scalars(
        select(Signature)
        .where(Signature.organisation_id.in_(list(statuses)))
        .options(joinedload(Signature.charter_version), joinedload(Signature.withdrawal))
        .order_by(Signature.signed_at.desc(), Signature.id.desc())
    ).unique()
    for s in signatures:
        statuses[s.organisation_id].signatures.append(s)
    return statuses


def signing_status(organisation: Organisation) -> SigningStatus:
    return signing_statuses([organisation])[organisation.id]


def signatories_query(
    *,
    site_id: int | None = None,
    sector: Sector | None = None,
    tier: Tier | None = None,
    search: str | None = None,
):
    """Organisations listed publicly as current signatories or supporters: approved,
    holding a signature that has not been withdrawn."""
    query = select(Organisation).where(
        Organisation.status == OrganisationStatus.ACTIVE, has_current_signature()
    )
    if site_id is not None:
        query = query.where(Organisation.site_id == site_id)
    if sector is not None:
        query = query.where(Organisation.sector == sector)
    if tier is not None:
        query = query.where(Organisation.tier == tier)
    if search:
        from charter.models import fold_name

        folded = fold_name(search)
        if folded:
            query = query.where(Organisation.name_key.contains(folded, autoescape=True))
    return query


def signatory_counts(**filters) -> dict[str, int]:
    """Counts by tier for the same filters (for 'N signatories, M supporters')."""
    base = signatories_query(**filters).subquery()
    rows = db.session.execute(select(base.c.tier, func.count()).group_by(base.c.tier)).all()
    counts = {t.value: 0 for t in Tier}
    for tier, count in rows:
        counts[Tier(tier).value] = count
    return counts
