"""Change domains: the rules for managing them (admins) and what the public pages read.

A domain is global. Admins add, rename, reorder, retire and restore domains; a domain
that any commitment uses (drafts included) cannot be deleted, only retired: it then stays
on those commitments but cannot be chosen for new ones. Every change is audited against
the domain. Services flush; the request commits (charter.transaction).
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from charter import audit, permissions, transaction
from charter.extensions import db
from charter.models import (
    PUBLIC_ORGANISATION_STATUSES,
    ChangeDomain,
    Commitment,
    Organisation,
    Partnership,
    Site,
)
from charter.pagination import Page, remembered, slice_page
from charter.rules import EditConflict, RuleError
from charter.slugs import slugify, unique_slug

NAME_MAX = 120
SUMMARY_MAX = 300
TEXT_MAX = 20000
POSITION_MAX = 9999
SLUG_BASE_MAX = 70  # the slug column holds 80: room for a "-NN" suffix
PER_PAGE = 50

# Organisations whose profile is public: their public commitments are listed publicly.


class DomainError(RuleError):
    """A rule refused the change; `field` names the form field the message belongs to."""


@dataclass
class DomainValues:
    name: str
    summary: str = ""
    description: str = ""
    source_note: str = ""
    position: int = 0
    is_active: bool = True

    def cleaned(self) -> dict:
        return {
            "name": normalise_name(self.name),
            "summary": (self.summary or "").strip(),
            "description": (self.description or "").strip(),
            "source_note": (self.source_note or "").strip(),
            "position": self.position,
            "is_active": bool(self.is_active),
        }


def normalise_name(name: str | None) -> str:
    """Spacing collapsed, Unicode composed: "Healing   environments " → "Healing environments"."""
    return " ".join(unicodedata.normalize("NFC", name or "").split())


def name_key(name: str | None) -> str:
    """What two names must differ in: case and spacing do not count."""
    return normalise_name(name).casefold()


def fingerprint(domain: ChangeDomain) -> str:
    """A short digest of the editable fields, carried by the edit form to detect that
    someone else saved the domain in between (the table has no version column)."""
    state = {k: getattr(domain, k) for k in
             ("name", "summary", "description", "source_note", "position", "is_active")}
    return hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()[:32]


# --- rules ------------------------------------------------------------------------------

def _check(values: dict, exclude_id: int | None = None) -> None:
    name = values["name"]
    if not name:
        raise DomainError(_("Enter the name of the change domain."), "name")
    if len(name) > NAME_MAX:
        raise DomainError(_("Use %(max)d characters or fewer.", max=NAME_MAX), "name")
    if len(values["summary"]) > SUMMARY_MAX:
        raise DomainError(_("Use %(max)d characters or fewer.", max=SUMMARY_MAX), "summary")
    for key in ("description", "source_note"):
        if len(values[key]) > TEXT_MAX:
            raise DomainError(_("Use %(max)d characters or fewer.", max=TEXT_MAX), key)
    position = values["position"]
    if not isinstance(position, int) or isinstance(position, bool) or not 0 <= position <= POSITION_MAX:
        raise DomainError(_("Enter a whole number from %(min)d to %(max)d, such as 3.",
                            min=0, max=POSITION_MAX), "position")
    clash = _same_name(name, exclude_id)
    if clash is not None:
        raise DomainError(_duplicate_message(clash), "name")


def _same_name(name: str, exclude_id: int | None) -> ChangeDomain | None:
    # Domains are few: compare in Python, where case folding knows every alphabet
    # (SQLite's lower() folds ASCII only).
    key = name_key(name)
    for domain in db.session.scalars(select(ChangeDomain)):
        if domain.id != exclude_id and name_key(domain.name) == key:
            return domain
    return None


def _duplicate_message(existing: ChangeDomain) -> str:
    if existing.is_active:
        return _("There is already a change domain called “%(name)s”. Choose another name.",
                 name=existing.name)
    return _("There is already a change domain called “%(name)s” (retired). Restore it "
             "instead, or choose another name.", name=existing.name)


def _flush_or_duplicate(name: str, exclude_id: int | None) -> None:
    """Flush; a simultaneous save of the same name hits the unique constraint, and then
    the request's work is rolled back (nothing half saved) and the person is told."""

    def explain() -> DomainError | None:
        existing = _same_name(name, exclude_id)
        return None if existing is None else DomainError(_duplicate_message(existing), "name")

    with transaction.refusing_duplicates(explain):
        db.session.flush()


def next_position() -> int:
    highest = db.session.scalar(select(func.max(ChangeDomain.position)))
    return min((highest or 0) + 1, POSITION_MAX)


def create_domain(actor, values: DomainValues) -> ChangeDomain:
    permissions.require(permissions.can_manage_domains(actor),
                        _("Only PROMISE Global administrators manage change domains."))
    cleaned = values.cleaned()
    _check(cleaned)
    slug = unique_slug(ChangeDomain, slugify(cleaned["name"], SLUG_BASE_MAX), fallback="domain")
    domain = ChangeDomain(slug=slug, **cleaned)
    db.session.add(domain)
    _flush_or_duplicate(cleaned["name"], None)
    audit.record(actor, "domain.created", domain,
                 {"slug": [None, slug], **{k: [None, v] for k, v in cleaned.items() if v not in ("", None)}})
    return domain


def update_domain(actor, domain: ChangeDomain, values: DomainValues,
                  loaded_fingerprint: str | None) -> ChangeDomain:
    """Change the domain's fields; the slug (its public address) is kept on rename."""
    permissions.require(permissions.can_manage_domains(actor),
                        _("Only PROMISE Global administrators manage change domains."))
    if loaded_fingerprint is not None and loaded_fingerprint != fingerprint(domain):
        raise EditConflict(domain)
    cleaned = values.cleaned()
    _check(cleaned, exclude_id=domain.id)
    changes = audit.apply_changes(domain, cleaned)
    if changes:
        _flush_or_duplicate(cleaned["name"], domain.id)
        action = "domain.updated"
        if set(changes) == {"is_active"}:
            action = "domain.restored" if domain.is_active else "domain.retired"
        audit.record(actor, action, domain, changes)
    return domain


def retire_domain(actor, domain: ChangeDomain) -> ChangeDomain:
    """Retired domains stay on the commitments that use them; new ones cannot choose them."""
    permissions.require(permissions.can_manage_domains(actor),
                        _("Only PROMISE Global administrators manage change domains."))
    if not domain.is_active:
        raise DomainError(_("“%(name)s” is already retired.", name=domain.name), status=409)
    domain.is_active = False
    db.session.flush()
    audit.record(actor, "domain.retired", domain, {"is_active": [True, False]})
    return domain


def restore_domain(actor, domain: ChangeDomain) -> ChangeDomain:
    permissions.require(permissions.can_manage_domains(actor),
                        _("Only PROMISE Global administrators manage change domains."))
    if domain.is_active:
        raise DomainError(_("“%(name)s” is already active.", name=domain.name), status=409)
    domain.is_active = True
    db.session.flush()
    audit.record(actor, "domain.restored", domain, {"is_active": [False, True]})
    return domain


def delete_domain(actor, domain: ChangeDomain) -> None:
    """Only a domain no commitment uses (drafts included) can be deleted."""
    permissions.require(permissions.can_manage_domains(actor),
                        _("Only PROMISE Global administrators manage change domains."))
    used = usage_count(domain)
    if used:
        raise DomainError(
            ngettext("“%(name)s” cannot be deleted: %(num)d commitment uses it (drafts count too). "
                     "Retire it instead: it stays on that commitment but cannot be chosen for "
                     "new ones.",
                     "“%(name)s” cannot be deleted: %(num)d commitments use it (drafts count too). "
                     "Retire it instead: it stays on those commitments but cannot be chosen for "
                     "new ones.", used, name=domain.name),
            status=409,
        )
    audit.record(actor, "domain.deleted", domain,
                 {"name": [domain.name, None], "slug": [domain.slug, None]})
    name = domain.name
    db.session.delete(domain)
    # A commitment was added under it a moment ago: the foreign key refuses the deletion.
    with transaction.refusing_duplicates(lambda: DomainError(
            _("“%(name)s” was chosen for a commitment just now, so it cannot be deleted. "
              "Retire it instead.", name=name), status=409)):
        db.session.flush()


# --- reading ----------------------------------------------------------------------------

def usage_count(domain: ChangeDomain) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Commitment).where(Commitment.domain_id == domain.id)
    ) or 0


def all_domains() -> list[ChangeDomain]:
    return list(db.session.scalars(ChangeDomain.ordered()))


def usage_counts() -> dict[int, int]:
    """Commitments per domain, drafts included (what blocks deletion): one query."""
    rows = db.session.execute(
        select(Commitment.domain_id, func.count()).group_by(Commitment.domain_id))
    return dict(rows.all())


def domain_by_slug(slug: str) -> ChangeDomain | None:
    value = (slug or "").strip().lower()
    if not value or len(value) > 80:
        return None
    return db.session.scalar(select(ChangeDomain).where(ChangeDomain.slug == value))


def public_commitments_filter():
    """Public commitments (published or retired) of organisations whose profile is public."""
    return (
        Commitment.is_public,
        Organisation.status.in_(PUBLIC_ORGANISATION_STATUSES),
    )


@dataclass
class DomainCounts:
    published: int = 0
    completed: int = 0
    retired: int = 0

    @property
    def public(self) -> int:
        return self.published + self.retired


@dataclass
class DomainsOverview:
    active: list[ChangeDomain]
    retired: list[ChangeDomain]
    counts: dict[int, DomainCounts]

    def count(self, domain: ChangeDomain) -> DomainCounts:
        return self.counts.get(domain.id, DomainCounts())


def public_counts() -> dict[int, DomainCounts]:
    """Public commitments per domain: published, completed, retired (from the rollups,
    charter/dashboards/rollups.py, not a scan of the commitments)."""
    from charter.dashboards import rollups

    return {domain_id: DomainCounts(*counts) for domain_id, counts in rollups.domain_counts().items()}


def public_overview() -> DomainsOverview:
    """The /domains page: every domain in order, retired ones apart (two queries)."""
    domains = all_domains()
    return DomainsOverview(
        active=[d for d in domains if d.is_active],
        retired=[d for d in domains if not d.is_active],
        counts=public_counts(),
    )


@dataclass
class OrganisationGroup:
    organisation: Organisation
    commitments: list[Commitment] = field(default_factory=list)


@dataclass
class SiteGroup:
    site: Site
    organisations: list[OrganisationGroup] = field(default_factory=list)


@dataclass
class DomainCommitments:
    page: Page
    groups: list[SiteGroup]
    sites: list[Site]  # the sites with public commitments under this domain (the filter)
    site: Site | None  # the site filtered on, if any


def sites_with_public_commitments(domain: ChangeDomain) -> list[Site]:
    return list(db.session.scalars(
        select(Site)
        .where(Site.id.in_(
            select(Organisation.site_id)
            .join(Commitment, Commitment.organisation_id == Organisation.id)
            .where(Commitment.domain_id == domain.id, *public_commitments_filter())
        ))
        .order_by(Site.name, Site.id)
    ))


def domain_commitment_ids(domain: ChangeDomain, site_id: int | None) -> list[int]:
    """The ids of the public commitments under `domain` (of one site, if given) in the
    page's order: by site, organisation, status, title. One query on the commitments of
    this domain (ix_commitment_domain_status), kept per data version."""
    def compute() -> list[int]:
        query = (
            select(Commitment.id)
            .join(Organisation, Organisation.id == Commitment.organisation_id)
            .join(Site, Site.id == Organisation.site_id)
            .where(Commitment.domain_id == domain.id, *public_commitments_filter())
            .order_by(Site.name, Site.id, Organisation.name, Organisation.id, Commitment.status,
                      Commitment.title, Commitment.id)
        )
        if site_id is not None:
            query = query.where(Organisation.site_id == site_id)
        return list(db.session.scalars(query))

    return remembered("domain-commitments", [domain.id, site_id], compute)


def domain_commitments(domain: ChangeDomain, *, site_slug: str | None = None, page: int = 1,
                       per_page: int = PER_PAGE, after: str | None = None,
                       before: str | None = None) -> DomainCommitments:
    """The public commitments under `domain`, grouped by site and organisation, one page
    at a time; a fixed number of queries (sites, order, page, partners) whatever the data."""
    sites = sites_with_public_commitments(domain)
    chosen = next((s for s in sites if s.slug == (site_slug or "").strip().lower()), None)
    ids, result = slice_page(domain_commitment_ids(domain, chosen.id if chosen else None),
                             per_page, page=page, after=after, before=before)
    if ids:
        loaded = {c.id: c for c in db.session.scalars(
            select(Commitment).where(Commitment.id.in_(ids)).options(
                joinedload(Commitment.organisation).joinedload(Organisation.site),
                selectinload(Commitment.partnerships).joinedload(Partnership.organisation),
            )).unique()}
        result.items = [loaded[i] for i in ids if i in loaded]
    groups: list[SiteGroup] = []
    for commitment in result.items:
        org = commitment.organisation
        if not groups or groups[-1].site.id != org.site_id:
            groups.append(SiteGroup(org.site))
        site_group = groups[-1]
        if not site_group.organisations or site_group.organisations[-1].organisation.id != org.id:
            site_group.organisations.append(OrganisationGroup(org))
        site_group.organisations[-1].commitments.append(commitment)
    return DomainCommitments(page=result, groups=groups, sites=sites, site=chosen)
