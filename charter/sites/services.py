"""Site pages and charter versions: the read side of the public pages, and the rules of
writing, editing, opening and deleting charter versions.

Writers check permissions here (again, after the route), record an audit event and
flush; the request layer commits once (charter.transaction).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from flask import current_app, render_template
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from charter import audit, mail, permissions, transaction
from charter.extensions import db
from charter.models import (
    CharterStatus,
    CharterVersion,
    MemberRole,
    Membership,
    Organisation,
    OrganisationStatus,
    Sector,
    Signature,
    Site,
    SiteCoordinator,
    Tier,
    User,
)
from charter.models.base import utcnow
from charter.models.charter import sha256_text
from charter.rules import EditConflict, RuleError
from charter.signing import queries
from charter.signing.queries import SigningStatus
from charter.text import check_printable
from charter.urls import external_url

TITLE_MAX = 200
BODY_MAX = 100_000
SUMMARY_MAX = 2_000
# The largest version number a database integer column holds; bigger numbers in a URL
# are simply unknown versions.
MAX_NUMBER = 2_147_483_647


class CharterVersionError(RuleError):
    """A rule of writing charter versions refused the request. `field` names the form field
    the message belongs to."""


class DraftExists(CharterVersionError):  # noqa: N818 - it is a situation, not a failure
    """The site already has a draft: edit that one rather than start another."""

    def __init__(self, draft: CharterVersion):
        super().__init__(
            _("Version %(n)d is already being drafted. Carry on with that draft (or delete it) "
              "before starting another.", n=draft.number),
            status=409,
        )
        self.draft = draft


class NotADraft(CharterVersionError):  # noqa: N818 - it is a situation, not a failure
    """Open and superseded versions are history: never edited, opened again or deleted."""

    def __init__(self, version: CharterVersion, message: str | None = None):
        super().__init__(message or _(
            "Version %(n)d is %(status)s, so it can no longer be changed. Start a new version "
            "instead.", n=version.number, status=version.status.label.lower()), status=409)
        self.version = version


# --- reading -------------------------------------------------------------------------

def default_site() -> Site | None:
    """The site of /charter: DEFAULT_SITE, else the first site, else None."""
    slug = (current_app.config.get("DEFAULT_SITE") or "").strip().lower()
    site = None
    if slug:
        site = db.session.scalar(select(Site).where(Site.slug == slug))
    if site is None:
        site = db.session.scalar(select(Site).order_by(Site.created_at, Site.id).limit(1))
    return site


def find_version(site: Site, number: int) -> CharterVersion | None:
    if number < 1 or number > MAX_NUMBER:
        return None
    return db.session.scalar(
        select(CharterVersion).where(CharterVersion.site_id == site.id,
                                     CharterVersion.number == number)
    )


def visible_version(user, site: Site, number: int) -> CharterVersion | None:
    """The version when this user may see it; None for unknown and private ones alike."""
    version = find_version(site, number)
    if version is None or not permissions.can_view_charter_version(user, version):
        return None
    return version


def versions_of(site: Site, *, include_drafts: bool = False) -> list[CharterVersion]:
    query = select(CharterVersion).where(CharterVersion.site_id == site.id)
    if not include_drafts:
        query = query.where(CharterVersion.status != CharterStatus.DRAFT)
    return list(db.session.scalars(query.order_by(CharterVersion.number.desc())))


def current_draft(site: Site) -> CharterVersion | None:
    return db.session.scalar(
        select(CharterVersion)
        .where(CharterVersion.site_id == site.id, CharterVersion.status == CharterStatus.DRAFT)
        .order_by(CharterVersion.number.desc())
        .limit(1)
    )


def latest_published(site: Site) -> CharterVersion | None:
    """The newest version that is not a draft (what a new draft starts from)."""
    return db.session.scalar(
        select(CharterVersion)
        .where(CharterVersion.site_id == site.id, CharterVersion.status != CharterStatus.DRAFT)
        .order_by(CharterVersion.number.desc())
        .limit(1)
    )


def signature_counts(version_ids: list[int]) -> dict[int, int]:
    """How many organisations hold a current (not withdrawn) signature of each version."""
    if not version_ids:
        return {}
    rows = db.session.execute(
        select(Signature.charter_version_id, func.count(func.distinct(Signature.organisation_id)))
        .where(Signature.charter_version_id.in_(version_ids), queries.not_withdrawn())
        .group_by(Signature.charter_version_id)
    ).all()
    return dict(rows)


@dataclass
class VersionRow:
    version: CharterVersion
    signed_by: int


@dataclass
class SignAction:
    organisation: Organisation
    reaffirm: bool  # signed an earlier version: the link says "Re-affirm"


@dataclass
class CharterOverview:
    site: Site
    open_version: CharterVersion | None
    history: list[VersionRow]
    sign_actions: list[SignAction] = field(default_factory=list)
    can_manage: bool = False

    @property
    def comparable(self) -> list[CharterVersion]:
        return [row.version for row in self.history]


def sign_actions_for(user, site: Site, open_version: CharterVersion | None) -> list[SignAction]:
    """The organisations of this site the user leads, active, not yet signed the open version."""
    if open_version is None or not permissions.is_authenticated(user):
        return []
    orgs = list(db.session.scalars(
        select(Organisation)
        .join(Membership, Membership.organisation_id == Organisation.id)
        .where(Membership.user_id == user.id, Membership.role == MemberRole.LEAD,
               Organisation.site_id == site.id, Organisation.status == OrganisationStatus.ACTIVE)
        .order_by(Organisation.name_key)
    ))
    orgs = [o for o in orgs if permissions.can_sign(user, o)]
    statuses = queries.signing_statuses(orgs)
    return [
        SignAction(o, reaffirm=statuses[o.id].is_signatory)
        for o in orgs
        if not statuses[o.id].signed_open_version
    ]


def charter_overview(user, site: Site) -> CharterOverview:
    versions = versions_of(site)
    counts = signature_counts([v.id for v in versions])
    open_version = next((v for v in versions if v.status == CharterStatus.OPEN), None)
    return CharterOverview(
        site=site,
        open_version=open_version,
        history=[VersionRow(v, counts.get(v.id, 0)) for v in versions],
        sign_actions=sign_actions_for(user, site, open_version),
        can_manage=permissions.can_manage_charter(user, site),
    )


SITE_SIGNATORIES_SHOWN = 25  # the rest are in the register, filtered by the site


@dataclass
class SiteOverview:
    site: Site
    coordinators: list[User]
    open_version: CharterVersion | None
    signatories: list[Organisation]  # the first SITE_SIGNATORIES_SHOWN, in the register's order
    statuses: dict[int, SigningStatus]
    by_tier: dict[str, int]  # {"signatory": n, "supporter": m}
    by_sector: list[tuple[Sector, int]]  # sectors with at least one, in the usual order

    @property
    def total(self) -> int:
        return sum(self.by_tier.values())

    @property
    def more(self) -> bool:
        """More signatories than the page lists: it links to the register."""
        return self.total > len(self.signatories)


def signatory_counts(site: Site) -> dict[tuple[Sector, Tier], int]:
    """{(sector, tier): n} of the site's current signatories and supporters (one grouped
    query)."""
    counted = queries.signatories_query(site_id=site.id).subquery()
    return {(Sector(sector), Tier(tier)): n for sector, tier, n in db.session.execute(
        select(counted.c.sector, counted.c.tier, func.count())
        .group_by(counted.c.sector, counted.c.tier))}


def counts_from_dashboard(sectors_section: dict) -> dict[tuple[Sector, Tier], int] | None:
    """The same counts from the site dashboard's sectors section (charter.dashboards.metrics,
    which has just counted them), or None if it does not carry them."""
    try:
        counts = {}
        for row in sectors_section["rows"]:
            counts[(Sector(row["sector"]), Tier.SIGNATORY)] = int(row["signatories"])
            counts[(Sector(row["sector"]), Tier.SUPPORTER)] = int(row["supporters"])
        return counts
    except (KeyError, TypeError, ValueError):
        return None


def site_overview(site: Site, counts: dict[tuple[Sector, Tier], int] | None = None) -> SiteOverview:
    """Everything the public site page shows, in a fixed number of queries and rows: the
    first signatories, and their counts by sector and tier (`counts`, if the caller has
    them, else signatory_counts)."""
    coordinators = list(db.session.scalars(
        select(User)
        .join(SiteCoordinator, SiteCoordinator.user_id == User.id)
        .where(SiteCoordinator.site_id == site.id, User.active.is_(True))
        .order_by(User.full_name, User.id)
    ))
    signatories = list(db.session.scalars(
        queries.signatories_query(site_id=site.id).order_by(Organisation.name_key, Organisation.id)
        .limit(SITE_SIGNATORIES_SHOWN)
    ))
    statuses = queries.signing_statuses(signatories)
    open_version = (
        next(iter(statuses.values())).open_version if statuses else queries.open_version(site.id)
    )
    overview = SiteOverview(site=site, coordinators=coordinators, open_version=open_version,
                            signatories=signatories, statuses=statuses, by_tier={}, by_sector=[])
    return with_counts(overview, signatory_counts(site) if counts is None else counts)


def with_counts(overview: SiteOverview, counts: dict[tuple[Sector, Tier], int]) -> SiteOverview:
    """The overview with its counts by tier and sector set from `counts`."""
    tiers: Counter = Counter()
    sectors: Counter = Counter()
    for (sector, tier), n in counts.items():
        tiers[tier] += n
        sectors[sector] += n
    overview.by_tier = {t.value: tiers.get(t, 0) for t in Tier}
    overview.by_sector = [(s, sectors[s]) for s in Sector if sectors.get(s)]
    return overview


# --- writing -------------------------------------------------------------------------

def normalise_body(body: str) -> str:
    """One kind of line ending, so the SHA-256 of the text is the same wherever it is
    checked (browsers send CRLF)."""
    return (body or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def _check_text(site: Site, title: str, body: str, change_summary: str,
                number: int) -> tuple[str, str, str]:
    title = (title or "").strip()
    body = normalise_body(body)
    change_summary = normalise_body(change_summary)
    if not title:
        raise CharterVersionError(_("Enter a title."), field="title")
    if len(title) > TITLE_MAX:
        raise CharterVersionError(_("Use %(max)d characters or fewer.", max=TITLE_MAX), field="title")
    if not body:
        raise CharterVersionError(_("Enter the text of the charter."), field="body")
    if len(body) > BODY_MAX:
        raise CharterVersionError(_("Use %(max)d characters or fewer.", max=BODY_MAX), field="body")
    check_printable({"body": body}, CharterVersionError)
    if len(change_summary) > SUMMARY_MAX:
        raise CharterVersionError(_("Use %(max)d characters or fewer.", max=SUMMARY_MAX),
                           field="change_summary")
    if not change_summary and needs_change_summary(site, number):
        raise CharterVersionError(_("Say in a sentence or two what changed from the previous version."),
                           field="change_summary")
    return title, body, change_summary


def needs_change_summary(site: Site, number: int | None = None) -> bool:
    """A change summary is required when an earlier version exists."""
    query = select(func.count()).select_from(CharterVersion).where(CharterVersion.site_id == site.id)
    if number is not None:
        query = query.where(CharterVersion.number < number)
    return db.session.scalar(query) > 0


def next_number(site: Site) -> int:
    highest = db.session.scalar(
        select(func.max(CharterVersion.number)).where(CharterVersion.site_id == site.id)
    )
    return (highest or 0) + 1


def create_draft(actor, site: Site, title: str, body: str, change_summary: str = "") -> CharterVersion:
    """A new draft numbered after every existing version of the site; one draft at a time."""
    permissions.require(permissions.can_manage_charter(actor, site),
                        _("Only the site's coordinators can write its charter."))
    draft = current_draft(site)
    if draft is not None:
        raise DraftExists(draft)
    number = next_number(site)
    title, body, change_summary = _check_text(site, title, body, change_summary, number)
    version = CharterVersion(
        site=site, number=number, title=title, change_summary=change_summary,
        status=CharterStatus.DRAFT, created_by_id=getattr(actor, "id", None),
    )
    version.set_body(body)
    db.session.add(version)
    with transaction.refusing_duplicates(  # another coordinator took this number a moment ago
            lambda: CharterVersionError(_("Someone else started version %(n)d at the same "
                                          "moment. Reload the page to see it.", n=number),
                                        status=409)):
        db.session.flush()
    audit.record(actor, "charter_version.draft_created", version, {
        "number": [None, number], "title": [None, title], "body_sha256": [None, version.body_sha256],
    })
    return version


def update_draft(actor, version: CharterVersion, expected_version: int | None, title: str,
                 body: str, change_summary: str = "") -> CharterVersion:
    """Save a draft; refuse if it is not a draft or changed since `expected_version`."""
    permissions.require(permissions.can_manage_charter(actor, version.site_id),
                        _("Only the site's coordinators can write its charter."))
    if version.status != CharterStatus.DRAFT:
        raise NotADraft(version)
    if expected_version is None or expected_version != version.version:
        raise EditConflict(version, _("Someone else saved this draft while you were editing it. "
                                      "Nothing of yours was saved yet: compare the two texts, "
                                      "then save again."))
    title, body, change_summary = _check_text(version.site, title, body, change_summary,
                                              version.number)
    changes = audit.apply_changes(version, {
        "title": title, "body_markdown": body, "body_sha256": sha256_text(body),
        "change_summary": change_summary,
    })
    if not changes:
        return version
    changes.pop("body_markdown", None)  # the hash records the change; the text can be long
    db.session.flush()
    audit.record(actor, "charter_version.draft_updated", version, changes)
    return version


def _organisations_to_reaffirm(site: Site, version: CharterVersion) -> list[Organisation]:
    """Active organisations of the site holding a current signature of an earlier version."""
    earlier = (
        select(Signature.organisation_id)
        .join(CharterVersion, CharterVersion.id == Signature.charter_version_id)
        .where(CharterVersion.site_id == site.id, CharterVersion.number < version.number,
               queries.not_withdrawn())
    )
    return list(db.session.scalars(
        select(Organisation)
        .where(Organisation.site_id == site.id, Organisation.status == OrganisationStatus.ACTIVE,
               Organisation.id.in_(earlier))
        .options(joinedload(Organisation.memberships).joinedload(Membership.user))
        .order_by(Organisation.name_key)
    ).unique())


def _invite_to_reaffirm(site: Site, version: CharterVersion, previous: CharterVersion | None) -> int:
    """Queue one message to each lead of each organisation to re-affirm. Returns the count."""
    queued = 0
    for org in _organisations_to_reaffirm(site, version):
        for membership in org.memberships:
            lead = membership.user
            if membership.role != MemberRole.LEAD or not lead.active:
                continue
            body = render_template(
                "email/charter_reaffirm.txt", user=lead, organisation=org, site=site,
                version=version, previous=previous,
                link=external_url("signing.sign", slug=org.slug),
                charter_link=external_url("sites.charter", slug=site.slug),
            )
            message = mail.queue(
                lead.email,
                _("Version %(n)d of the %(site)s charter is open: please re-affirm",
                  n=version.number, site=site.name),
                body,
                kind="charter_reaffirm",
                user=lead,
                dedupe_key=f"charter-reaffirm:{version.id}:{org.id}:{lead.id}",
            )
            queued += message is not None
    return queued


def open_for_signature(actor, version: CharterVersion, expected_version: int | None = None) -> int:
    """Open a draft: the open version (if any) is superseded, the draft opens with its hash
    recomputed, and the leads of earlier signatories are invited to re-affirm.

    Returns how many invitations were queued.
    """
    site = version.site
    permissions.require(permissions.can_manage_charter(actor, site),
                        _("Only the site's coordinators can open a charter version."))
    if version.status != CharterStatus.DRAFT:
        raise NotADraft(version, _("Version %(n)d is %(status)s already; only a draft can be "
                                   "opened for signature.", n=version.number,
                                   status=version.status.label.lower()))
    if expected_version is not None and expected_version != version.version:
        raise EditConflict(version, _("Version %(n)d changed after you last looked at it, so it "
                                      "was not opened. Read it again, then open it.",
                                      n=version.number))
    now = utcnow()
    previous = queries.open_version(site.id)
    # A race (two drafts opened at once) trips the partial unique index or the row
    # version: this request's work is undone and the message says what happened.
    try:
        if previous is not None:
            previous.status = CharterStatus.SUPERSEDED
            previous.superseded_at = now
            db.session.flush()  # before the draft opens: one open version per site
        version.status = CharterStatus.OPEN
        version.opened_at = now
        version.set_body(version.body_markdown)
        db.session.flush()
    except (IntegrityError, StaleDataError) as exc:
        transaction.undo()
        raise CharterVersionError(
            _("Another version of this charter was opened at the same moment, so this one was "
              "not. Reload the page to see which version is open now."), status=409,
        ) from exc
    if previous is not None:
        audit.record(actor, "charter_version.superseded", previous, {
            "status": [CharterStatus.OPEN.value, CharterStatus.SUPERSEDED.value],
            "superseded_at": [None, now],
            "superseded_by": [None, version.number],
        })
    audit.record(actor, "charter_version.opened", version, {
        "status": [CharterStatus.DRAFT.value, CharterStatus.OPEN.value],
        "opened_at": [None, now],
        "body_sha256": [None, version.body_sha256],
    })
    return _invite_to_reaffirm(site, version, previous)


def delete_draft(actor, version: CharterVersion, expected_version: int | None = None) -> None:
    permissions.require(permissions.can_manage_charter(actor, version.site_id),
                        _("Only the site's coordinators can delete a draft."))
    if version.status != CharterStatus.DRAFT:
        raise NotADraft(version, _("Version %(n)d is %(status)s: only drafts can be deleted.",
                                   n=version.number, status=version.status.label.lower()))
    if expected_version is not None and expected_version != version.version:
        raise EditConflict(version, _("Version %(n)d changed after you last looked at it, so it "
                                      "was not deleted. Check it again first.", n=version.number))
    audit.record(actor, "charter_version.draft_deleted", version, {
        "number": [version.number, None], "title": [version.title, None],
        "body_sha256": [version.body_sha256, None],
    })
    db.session.delete(version)
    db.session.flush()
