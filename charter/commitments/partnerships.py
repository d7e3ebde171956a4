"""Partnerships: the lead organisation invites other organisations (of any site) to share a
commitment; a partner's lead accepts or declines; either side's lead ends it.

Every change checks permissions here (again, after the route), audits against the
commitment (so it appears on the commitment's timeline) and flushes; the route commits.
The read side (the partners page, an organisation's inbox and the public list of joint
commitments) runs a fixed number of queries, however many rows there are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from flask import render_template
from flask_babel import gettext as _
from sqlalchemy import select, union_all
from sqlalchemy.orm import joinedload, selectinload

from charter import mail, permissions, transaction
from charter.commitments.services import CommitmentError, record
from charter.extensions import db
from charter.models import (
    Commitment,
    CommitmentStatus,
    MemberRole,
    Membership,
    Organisation,
    OrganisationStatus,
    Partnership,
    PartnershipStatus,
    Sector,
    User,
    fold_name,
)
from charter.models.base import utcnow
from charter.pagination import Page, remembered, slice_page
from charter.urls import external_url

ROLE_NOTE_MAX = 300
MAX_ID = 2**31 - 1  # ids are 32-bit integers; a larger number typed in a URL or form matches nothing
CANDIDATE_LIMIT = 50
OPEN_STATUSES = (PartnershipStatus.INVITED, PartnershipStatus.ACCEPTED)


# --- reading --------------------------------------------------------------------------------

def _partnership_options():
    return (
        joinedload(Partnership.organisation).joinedload(Organisation.site),
        joinedload(Partnership.commitment).joinedload(Commitment.organisation)
        .joinedload(Organisation.site),
        joinedload(Partnership.commitment).joinedload(Commitment.domain),
        joinedload(Partnership.invited_by),
        joinedload(Partnership.responded_by),
    )


def _valid_id(value: int | None) -> bool:
    return value is not None and 0 < value <= MAX_ID


def load_partnership(partnership_id: int) -> Partnership | None:
    if not _valid_id(partnership_id):
        return None
    return db.session.scalar(
        select(Partnership).where(Partnership.id == partnership_id).options(*_partnership_options())
    )


def partnerships_of(commitment: Commitment) -> list[Partnership]:
    """Every partnership of the commitment, whatever its status, oldest first (one query)."""
    return list(db.session.scalars(
        select(Partnership).where(Partnership.commitment_id == commitment.id)
        .options(*_partnership_options()).order_by(Partnership.id)
    ).unique())


@dataclass
class Candidates:
    organisations: list[Organisation]
    more: bool  # there are more than CANDIDATE_LIMIT: search to narrow


def invitable_organisations(commitment: Commitment, *, search: str | None = None,
                            site_id: int | None = None, sector: Sector | None = None,
                            limit: int = CANDIDATE_LIMIT) -> Candidates:
    """Approved organisations of any site that could be invited: not the lead organisation
    and not already invited or partnered (one query)."""
    taken = select(Partnership.organisation_id).where(
        Partnership.commitment_id == commitment.id, Partnership.status.in_(OPEN_STATUSES)
    )
    query = (
        select(Organisation)
        .where(Organisation.status == OrganisationStatus.ACTIVE,
               Organisation.id != commitment.organisation_id,
               Organisation.id.not_in(taken))
        .options(joinedload(Organisation.site))
        .order_by(Organisation.name_key, Organisation.id)
        .limit(limit + 1)
    )
    folded = fold_name(search or "")
    if folded:
        query = query.where(Organisation.name_key.contains(folded, autoescape=True))
    if site_id is not None:
        query = query.where(Organisation.site_id == site_id)
    if sector is not None:
        query = query.where(Organisation.sector == sector)
    found = list(db.session.scalars(query))
    return Candidates(found[:limit], more=len(found) > limit)


@dataclass
class Inbox:
    """An organisation's partnerships, from its side (as the invited organisation)."""

    waiting: list[Partnership] = field(default_factory=list)
    accepted: list[Partnership] = field(default_factory=list)
    closed: list[Partnership] = field(default_factory=list)  # declined or ended


def inbox(organisation: Organisation) -> Inbox:
    """Invitations waiting, joint commitments accepted, and those declined or ended (one
    query). Another organisation's drafts appear here by title and lead organisation only."""
    rows = db.session.scalars(
        select(Partnership).where(Partnership.organisation_id == organisation.id)
        .options(*_partnership_options())
        .order_by(Partnership.created_at.desc(), Partnership.id.desc())
    ).unique()
    result = Inbox()
    for p in rows:
        if p.status == PartnershipStatus.INVITED:
            result.waiting.append(p)
        elif p.status == PartnershipStatus.ACCEPTED:
            result.accepted.append(p)
        else:
            result.closed.append(p)
    return result


# --- the public list of joint commitments -------------------------------------------------

def _participants():
    """(commitment_id, organisation_id) of every lead organisation and accepted partner
    of a joint commitment (commitments without partners are left out early: most are)."""
    joint_ids = select(Partnership.commitment_id).where(
        Partnership.status == PartnershipStatus.ACCEPTED)
    leads = select(Commitment.id.label("commitment_id"),
                   Commitment.organisation_id.label("organisation_id")).where(
        Commitment.id.in_(joint_ids))
    partners = select(Partnership.commitment_id.label("commitment_id"),
                      Partnership.organisation_id.label("organisation_id")).where(
        Partnership.status == PartnershipStatus.ACCEPTED)
    return union_all(leads, partners).subquery("participant")


@dataclass
class JointFilters:
    site_id: int | None = None
    sectors: Sequence[Sector] = ()
    domain_id: int | None = None
    min_sectors: int | None = None


@dataclass
class JointOrder:
    """The joint commitments matching some filters, in the list's order, and how many
    distinct sectors take part in them."""

    ids: list[int]
    sectors: int


def joint_commitment_order(filters: JointFilters) -> JointOrder:
    """One pass over the participants (lead organisations and accepted partners) of
    published joint commitments: the filters, the sector counts, the order (most sectors
    first, then newest) and the sectors across them are worked out from its rows. Kept per
    data version (charter.pagination.remembered)."""
    def compute() -> JointOrder:
        participant = _participants()
        query = (
            select(participant.c.commitment_id, Commitment.published_at, Organisation.site_id,
                   Organisation.sector)
            .select_from(participant)
            .join(Commitment, Commitment.id == participant.c.commitment_id)
            .join(Organisation, Organisation.id == participant.c.organisation_id)
            .where(Commitment.status == CommitmentStatus.PUBLISHED)
        )
        if filters.domain_id is not None:
            query = query.where(Commitment.domain_id == filters.domain_id)
        found: dict[int, tuple] = {}
        for commitment_id, published_at, site_id, sector in db.session.execute(query):
            entry = found.setdefault(commitment_id, (published_at, set(), set()))
            entry[1].add(Sector(sector))
            entry[2].add(site_id)
        wanted = set(filters.sectors)
        kept = [(cid, published_at, sectors) for cid, (published_at, sectors, sites) in found.items()
                if (filters.site_id is None or filters.site_id in sites)
                and wanted <= sectors
                and len(sectors) >= (filters.min_sectors or 0)]
        kept.sort(key=lambda row: (len(row[2]), row[1] is not None,
                                   row[1].timestamp() if row[1] else 0, row[0]), reverse=True)
        across = set().union(*(row[2] for row in kept)) if kept else set()
        return JointOrder([row[0] for row in kept], len(across))

    parts = {"site": filters.site_id, "sectors": sorted(s.value for s in filters.sectors),
             "domain": filters.domain_id, "min": filters.min_sectors}
    return remembered("joint", parts, compute)


def joint_commitments_page(filters: JointFilters, page: int, per_page: int, *,
                           after: str | None = None, before: str | None = None,
                           order: JointOrder | None = None) -> Page:
    """One page of joint commitments with their lead organisation, domain and partners
    (three queries: the order, the page, the partnerships; the order is cached)."""
    order = order or joint_commitment_order(filters)
    ids, result = slice_page(order.ids, per_page, page=page, after=after, before=before)
    if ids:
        loaded = {c.id: c for c in db.session.scalars(
            select(Commitment).where(Commitment.id.in_(ids)).options(
                joinedload(Commitment.organisation).joinedload(Organisation.site),
                joinedload(Commitment.domain),
                selectinload(Commitment.partnerships).joinedload(Partnership.organisation)
                .joinedload(Organisation.site),
            )).unique()}
        result.items = [loaded[i] for i in ids if i in loaded]
    return result


def sectors_across(filters: JointFilters) -> int:
    """How many distinct sectors take part in the joint commitments matching `filters`."""
    return joint_commitment_order(filters).sectors


def accepted_partners(commitment: Commitment) -> list[Partnership]:
    return [p for p in commitment.partnerships if p.status == PartnershipStatus.ACCEPTED]


def sectors_of(commitment: Commitment) -> list[Sector]:
    """The distinct sectors of the lead organisation and its accepted partners, in the
    order of the sector list."""
    present = {commitment.organisation.sector} | {
        p.organisation.sector for p in accepted_partners(commitment)}
    return [s for s in Sector if s in present]


# --- emails ---------------------------------------------------------------------------------

def _leads_of(organisation_id: int) -> list[User]:
    return list(db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id == organisation_id, Membership.role == MemberRole.LEAD,
               User.active.is_(True))
        .order_by(User.id)
    ))


def _notify(organisation_id: int, subject: str, template: str, kind: str, *,
            skip: User | None = None, **context) -> None:
    for lead in _leads_of(organisation_id):
        if skip is not None and lead.id == skip.id:
            continue
        mail.queue(lead.email, subject, render_template(template, recipient=lead, **context),
                   kind=kind, user=lead)


# --- inviting -------------------------------------------------------------------------------

def _inactive_message(organisation: Organisation) -> str:
    if organisation.status == OrganisationStatus.PENDING:
        return _("%(name)s is still waiting for approval, so it cannot be invited yet.",
                 name=organisation.name)
    if organisation.status == OrganisationStatus.DECLINED:
        return _("The application of %(name)s was declined, so it cannot be invited.",
                 name=organisation.name)
    return _("%(name)s has withdrawn from the charter, so it cannot be invited.",
             name=organisation.name)


def invite(actor: User, commitment: Commitment, organisation_id: int,
           role_note: str = "") -> Partnership:
    """Invite an approved organisation of any site. A declined or ended partnership is
    invited again (the same row, back to invited); an open one is refused."""
    permissions.require(permissions.can_invite_partner(actor, commitment),
                        _("Only members of %(name)s can invite partners to its commitments.",
                          name=commitment.organisation.name))
    organisation = db.session.get(Organisation, organisation_id) if _valid_id(organisation_id) \
        else None
    if organisation is None:
        raise CommitmentError(_("Choose an organisation from the list."), "organisation")
    if organisation.id == commitment.organisation_id:
        raise CommitmentError(_("%(name)s leads this commitment: invite another organisation.",
                                name=organisation.name), "organisation")
    if organisation.status != OrganisationStatus.ACTIVE:
        raise CommitmentError(_inactive_message(organisation), "organisation")
    role_note = (role_note or "").strip()
    if len(role_note) > ROLE_NOTE_MAX:
        raise CommitmentError(_("Use %(max)d characters or fewer.", max=ROLE_NOTE_MAX), "role_note")

    partnership = db.session.scalar(
        select(Partnership).where(Partnership.commitment_id == commitment.id,
                                  Partnership.organisation_id == organisation.id)
        .with_for_update().execution_options(populate_existing=True)
    )
    before = None
    if partnership is not None:
        if partnership.status == PartnershipStatus.INVITED:
            raise CommitmentError(_("%(name)s has already been invited and has not answered yet.",
                                    name=organisation.name), "organisation", status=409)
        if partnership.status == PartnershipStatus.ACCEPTED:
            raise CommitmentError(_("%(name)s is already a partner in this commitment.",
                                    name=organisation.name), "organisation", status=409)
        before = partnership.status
        partnership.status = PartnershipStatus.INVITED
        partnership.role_note = role_note
        partnership.invited_by_id = actor.id
        partnership.responded_by_id = None
        partnership.responded_at = None
        partnership.invited_at = utcnow()
    else:
        partnership = Partnership(commitment=commitment, organisation=organisation,
                                  status=PartnershipStatus.INVITED, role_note=role_note,
                                  invited_by_id=actor.id, invited_at=utcnow())
        db.session.add(partnership)
    org_name = organisation.name
    # the same organisation invited by someone else a moment ago
    with transaction.refusing_duplicates(lambda: CommitmentError(
            _("%(name)s has just been invited by someone else.", name=org_name),
            "organisation", status=409)):
        db.session.flush()
    record(actor, "commitment.partner_invited", commitment, {
        "partner": organisation.name,
        "status": [before, PartnershipStatus.INVITED],
        "role_note": role_note,
    })
    _notify(
        organisation.id,
        _("%(org)s invites %(partner)s to a joint commitment", org=commitment.organisation.name,
          partner=organisation.name),
        "email/partnership_invited.txt", "partnership_invited",
        partnership=partnership, commitment=commitment, organisation=organisation,
        inviter=actor, link=external_url("commitments.partnership_inbox", slug=organisation.slug),
    )
    return partnership


# --- answering and ending -------------------------------------------------------------------

def _locked(partnership: Partnership) -> Partnership:
    """Re-read the partnership under a row lock, so two answers cannot both win."""
    return db.session.scalar(
        select(Partnership).where(Partnership.id == partnership.id)
        .with_for_update().execution_options(populate_existing=True)
    )


def answered_message(partnership: Partnership) -> str:
    org = partnership.organisation.name
    if partnership.status == PartnershipStatus.ACCEPTED:
        return _("%(org)s has already accepted this invitation.", org=org)
    if partnership.status == PartnershipStatus.DECLINED:
        return _("%(org)s has already declined this invitation. The lead organisation can "
                 "invite it again.", org=org)
    return _("This partnership has ended. The lead organisation can invite %(org)s again.",
             org=org)


def _respond(actor: User, partnership: Partnership, accept: bool) -> Partnership:
    permissions.require(permissions.can_respond_to_partnership(actor, partnership),
                        _("Only a lead of %(org)s can answer this invitation.",
                          org=partnership.organisation.name))
    partnership = _locked(partnership)
    if partnership.status != PartnershipStatus.INVITED:
        raise CommitmentError(answered_message(partnership), status=409)
    commitment = partnership.commitment
    if accept and commitment.status == CommitmentStatus.RETIRED:
        raise CommitmentError(_("This commitment has been retired, so it can no longer be joined. "
                                "You can decline the invitation."), status=409)
    new_status = PartnershipStatus.ACCEPTED if accept else PartnershipStatus.DECLINED
    partnership.status = new_status
    partnership.responded_by_id = actor.id
    partnership.responded_at = utcnow()
    db.session.flush()
    record(actor, "commitment.partner_accepted" if accept else "commitment.partner_declined",
           commitment, {"partner": partnership.organisation.name,
                        "status": [PartnershipStatus.INVITED, new_status]})
    subject = (_("%(partner)s accepted your joint commitment", partner=partnership.organisation.name)
               if accept else
               _("%(partner)s declined your joint commitment", partner=partnership.organisation.name))
    _notify(commitment.organisation_id, subject, "email/partnership_answered.txt",
            "partnership_answered", partnership=partnership, commitment=commitment,
            accepted=accept, actor=actor,
            link=external_url("commitments.partners", commitment_id=commitment.id))
    return partnership


def accept(actor: User, partnership: Partnership) -> Partnership:
    return _respond(actor, partnership, accept=True)


def decline(actor: User, partnership: Partnership) -> Partnership:
    return _respond(actor, partnership, accept=False)


def end(actor: User, partnership: Partnership) -> Partnership:
    """A lead of either side ends an accepted partnership; the other side's leads are told."""
    permissions.require(permissions.can_end_partnership(actor, partnership),
                        _("Only a lead of %(org)s or of %(partner)s can end this partnership.",
                          org=partnership.commitment.organisation.name,
                          partner=partnership.organisation.name))
    partnership = _locked(partnership)
    if partnership.status != PartnershipStatus.ACCEPTED:
        if partnership.status == PartnershipStatus.ENDED:
            message = _("This partnership has already ended.")
        else:
            message = _("Only an accepted partnership can be ended: this one is %(status)s.",
                        status=partnership.status.label.lower())
        raise CommitmentError(message, status=409)
    commitment = partnership.commitment
    if commitment.status == CommitmentStatus.RETIRED:
        raise CommitmentError(_("This commitment is retired: its partners stay on record as they "
                                "were when it was retired."), status=409)
    partnership.status = PartnershipStatus.ENDED
    partnership.responded_by_id = actor.id
    partnership.responded_at = utcnow()
    db.session.flush()
    by_partner = permissions.is_lead(actor, partnership.organisation_id)
    record(actor, "commitment.partner_ended", commitment, {
        "partner": partnership.organisation.name,
        "status": [PartnershipStatus.ACCEPTED, PartnershipStatus.ENDED],
        "ended_by": partnership.organisation.name if by_partner else commitment.organisation.name,
    })
    _notify(commitment.organisation_id if by_partner else partnership.organisation_id,
            _("The joint commitment “%(title)s” has ended for %(partner)s", title=commitment.title,
              partner=partnership.organisation.name),
            "email/partnership_ended.txt", "partnership_ended", skip=actor,
            partnership=partnership, commitment=commitment, actor=actor, by_partner=by_partner)
    return partnership

