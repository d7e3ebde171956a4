"""Demo data: five PROMISE Global sites, the eight change domains, the Cambridge charter,
about twenty organisations and a user for every role.

Everything here is fictional demonstration data. Every demo account uses the password
DEMO_PASSWORD (documented in README).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from charter import audit
from charter.extensions import db
from charter.models import (
    ChangeDomain,
    CharterStatus,
    CharterVersion,
    MemberRole,
    Membership,
    Organisation,
    OrganisationStatus,
    Sector,
    Signature,
    SignatureWithdrawal,
    Site,
    SiteCoordinator,
    Tier,
    User,
)
from charter.models.base import utcnow
from charter.models.charter import new_verification_code, sha256_text
from charter.slugs import slugify

DEMO_PASSWORD = "promise-demo"  # noqa: S105 - documented demo password
CONTENT = Path(__file__).parent / "content"

SITES = [
    ("cambridge", "Cambridge", "United Kingdom", "Europe/London",
     "The first PROMISE site: the Cambridgeshire and Peterborough health economy."),
    ("yale", "Yale", "United States", "America/New_York",
     "New Haven, Connecticut, with the Yale Program for Recovery and Community Health."),
    ("brisbane", "Brisbane", "Australia", "Australia/Brisbane",
     "Metro North and Metro South, Queensland."),
    ("prague", "Prague", "Czech Republic", "Europe/Prague",
     "Praha: the Czech mental health care reform and its community services."),
    ("cape-town", "Cape Town", "South Africa", "Africa/Johannesburg",
     "The Western Cape: hospital, community and NGO services."),
]

DOMAINS = [
    ("least-restrictive-practice", "Least restrictive practice",
     "From physical intervention to all coercive and restrictive practice",
     "Reduce every form of coercion and restriction, not only physical restraint: "
     "seclusion, rapid tranquillisation, blanket rules, locked doors, enforced observation.",
     "PROMISE change agenda, first shift: from physical intervention to all coercive and "
     "restrictive practice."),
    ("prevention-early-detection", "Prevention and early detection",
     "From incidents to antecedents",
     "Understand and act on what comes before a crisis, and review every intervention "
     "with the person it was used on.",
     "PROMISE change agenda, second shift: from incidents to antecedents."),
    ("integrated-pathways", "Integrated pathways",
     "From inpatients to seamless care across organisations",
     "Join up care across wards, community teams, police, ambulance, primary care and "
     "the voluntary sector so nobody meets force at a service boundary.",
     "PROMISE change agenda, third shift: from inpatients to integrated pathways; "
     "PROMISE Local commitment to seamless care."),
    ("workforce", "Positive and proactive workforce",
     "Including education and training",
     "Education, training, supervision and a just culture that help staff prevent and "
     "de-escalate distress.",
     "PROMISE Local commitment to a positive and proactive workforce."),
    ("accepting-communities", "Accepting communities",
     "Communities that accept mental health challenges",
     "Reduce stigma and build communities that accept and support people living with "
     "mental health challenges.",
     "PROMISE Local commitment to communities that accept mental health challenges."),
    ("healing-environments", "Healing environments",
     "Calm, safe and therapeutic places of care",
     "Design and run places of care that are calm, dignified and therapeutic.",
     "PROMISE programme: environments that prevent distress."),
    ("co-production", "Co-production and lived experience",
     "Nothing about us without us",
     "Design, deliver and judge services with people who use them, their families and carers.",
     "PROMISE programme: recovery, dignity and co-production with people who use services first."),
    ("data-governance-learning", "Data, governance and learning",
     "Report, Reflect, Review, Rethink, Refresh",
     "Measure openly, publish progress, and learn between organisations and sites.",
     "PROMISE governance cycle: Report, Reflect, Review, Rethink, Refresh; PROMISE Global."),
]

# (site, name, sector, tier, status, short email name)
ORGANISATIONS = [
    ("cambridge", "Fenland and Ouse Mental Health NHS Foundation Trust", Sector.STATUTORY,
     Tier.SIGNATORY, OrganisationStatus.ACTIVE, "fomh"),
    ("cambridge", "Cambridgeshire County Council Adult Social Care", Sector.STATUTORY,
     Tier.SIGNATORY, OrganisationStatus.ACTIVE, "ccc"),
    ("cambridge", "East Anglia Constabulary", Sector.STATUTORY, Tier.SIGNATORY,
     OrganisationStatus.ACTIVE, "police"),
    ("cambridge", "Eastern Counties Ambulance Service", Sector.STATUTORY, Tier.SIGNATORY,
     OrganisationStatus.ACTIVE, "ambulance"),
    ("cambridge", "Mind in the Fens", Sector.THIRD_SECTOR, Tier.SIGNATORY,
     OrganisationStatus.ACTIVE, "mindfens"),
    ("cambridge", "Cambridge and Peterborough Integrated Care Board", Sector.COMMISSIONER,
     Tier.SIGNATORY, OrganisationStatus.ACTIVE, "icb"),
    ("cambridge", "Voices of Experience Cambridge", Sector.LIVED_EXPERIENCE, Tier.SUPPORTER,
     OrganisationStatus.ACTIVE, "voices"),
    ("cambridge", "Anglia Ruskin Centre for Restraint Reduction", Sector.ACADEMIC,
     Tier.SUPPORTER, OrganisationStatus.ACTIVE, "arcrr"),
    ("cambridge", "Riverside Independent Hospitals", Sector.INDEPENDENT_PROVIDER,
     Tier.SIGNATORY, OrganisationStatus.PENDING, "riverside"),
    ("yale", "Connecticut Mental Health Center", Sector.STATUTORY, Tier.SIGNATORY,
     OrganisationStatus.ACTIVE, "cmhc"),
    ("yale", "New Haven Peer Support Collective", Sector.LIVED_EXPERIENCE, Tier.SIGNATORY,
     OrganisationStatus.ACTIVE, "nhpeer"),
    ("yale", "Yale Program for Recovery and Community Health", Sector.ACADEMIC,
     Tier.SUPPORTER, OrganisationStatus.ACTIVE, "prch"),
    ("brisbane", "Metro North Mental Health Service", Sector.STATUTORY, Tier.SIGNATORY,
     OrganisationStatus.ACTIVE, "metronorth"),
    ("brisbane", "Queensland Ambulance Service, Brisbane Region", Sector.STATUTORY,
     Tier.SIGNATORY, OrganisationStatus.ACTIVE, "qas"),
    ("brisbane", "Brisbane Lived Experience Network", Sector.LIVED_EXPERIENCE,
     Tier.SUPPORTER, OrganisationStatus.ACTIVE, "blen"),
    ("prague", "Psychiatrická nemocnice Bohnice", Sector.STATUTORY, Tier.SIGNATORY,
     OrganisationStatus.ACTIVE, "bohnice"),
    ("prague", "Centrum duševního zdraví Praha 8", Sector.STATUTORY, Tier.SIGNATORY,
     OrganisationStatus.ACTIVE, "cdz8"),
    ("prague", "Spolek Péče o duševní zdraví – Klub Ústí", Sector.THIRD_SECTOR,
     Tier.SUPPORTER, OrganisationStatus.ACTIVE, "klub"),
    ("cape-town", "Valkenberg Hospital", Sector.STATUTORY, Tier.SIGNATORY,
     OrganisationStatus.ACTIVE, "valkenberg"),
    ("cape-town", "Kaapse Gemeenskap Geestesgesondheid", Sector.THIRD_SECTOR,
     Tier.SIGNATORY, OrganisationStatus.ACTIVE, "kgg"),
    ("cape-town", "Western Cape Health Commissioning Unit", Sector.COMMISSIONER,
     Tier.SIGNATORY, OrganisationStatus.ACTIVE, "wchcu"),
]

LEAD_NAMES = [
    "Amara Okafor", "Tom Whitfield", "Priya Raman", "Gareth Lloyd", "Siobhan Kelly",
    "Daniel Osei", "Ruth Abernethy", "Imran Chaudhry", "Helen Marsh", "Marcus Green",
    "Keisha Morgan", "Ethan Brooks", "Mia Nguyen", "Jack Thompson", "Aroha Walker",
    "Jana Nováková", "Petr Dvořák", "Zuzana Šťastná", "Thandiwe Mokoena", "Pieter van der Merwe",
    "Ayesha Adams",
]


def charter_text(site: Site) -> str:
    if site.slug == "cambridge":
        return (CONTENT / "cambridge_charter_v1.md").read_text(encoding="utf-8")
    base = (CONTENT / "cambridge_charter_v1.md").read_text(encoding="utf-8")
    return base.replace("The Cambridge PROMISE Charter", f"The {site.name} PROMISE Charter").replace(
        "in Cambridgeshire and Peterborough", f"in and around {site.name}"
    )


def is_empty() -> bool:
    return (db.session.scalar(select(func.count()).select_from(Site)) or 0) == 0


_hash_cache: dict[str, str] = {}


def _user(email: str, name: str, title: str, *, admin: bool = False) -> User:
    """A demo user. Hashing is slow by design, so the one demo password is hashed once."""
    user = User(email=email, full_name=name, job_title=title, is_admin=admin,
                email_verified_at=utcnow())
    if DEMO_PASSWORD not in _hash_cache:
        user.set_password(DEMO_PASSWORD)
        _hash_cache[DEMO_PASSWORD] = user.password_hash
    user.password_hash = _hash_cache[DEMO_PASSWORD]
    db.session.add(user)
    return user


def load_demo(now: datetime | None = None) -> dict[str, int]:
    """Load the demo data into an empty database (flushes; the caller commits)."""
    now = now or datetime.now(UTC)
    sites: dict[str, Site] = {}
    for slug, name, country, tz, description in SITES:
        site = Site(slug=slug, name=name, country=country, timezone=tz, description=description,
                    contact_email=f"coordinator.{slug}@example.org")
        db.session.add(site)
        sites[slug] = site
    for position, (slug, name, summary, description, note) in enumerate(DOMAINS, start=1):
        db.session.add(ChangeDomain(slug=slug, name=name, summary=summary,
                                    description=description, source_note=note,
                                    position=position))
    db.session.flush()

    admin = _user("admin@example.org", "Alex Admin", "PROMISE Global administrator", admin=True)
    coordinators = {}
    for slug, site in sites.items():
        coordinator = _user(f"coordinator.{slug}@example.org", f"{site.name} Coordinator",
                            "PROMISE site coordinator")
        db.session.add(SiteCoordinator(user=coordinator, site=site))
        coordinators[slug] = coordinator

    versions: dict[str, CharterVersion] = {}
    opened = now - timedelta(days=700)
    for slug, site in sites.items():
        body = charter_text(site)
        version = CharterVersion(site=site, number=1, title=f"The {site.name} PROMISE Charter",
                                 body_markdown=body, body_sha256=sha256_text(body),
                                 status=CharterStatus.OPEN, opened_at=opened, created_by=admin)
        db.session.add(version)
        versions[slug] = version
    db.session.flush()

    organisations = []
    for index, (site_slug, name, sector, tier, status, short) in enumerate(ORGANISATIONS):
        site = sites[site_slug]
        org = Organisation(site=site, sector=sector, tier=tier, status=status,
                           slug=slugify(name), description=f"{name} is a demo organisation.",
                           website=f"https://{short}.example.org")
        org.set_name(name)
        if status == OrganisationStatus.ACTIVE:
            org.decided_at = opened + timedelta(days=index * 3)
        db.session.add(org)
        lead = _user(f"lead.{short}@example.org", LEAD_NAMES[index % len(LEAD_NAMES)],
                     "Chief Executive" if sector == Sector.STATUTORY else "Director")
        db.session.add(Membership(user=lead, organisation=org, role=MemberRole.LEAD))
        if index % 3 == 0:
            editor = _user(f"editor.{short}@example.org", f"Editor at {short.upper()}",
                           "Quality improvement lead")
            db.session.add(Membership(user=editor, organisation=org, role=MemberRole.EDITOR))
        db.session.flush()
        if status == OrganisationStatus.ACTIVE:
            version = versions[site_slug]
            co_signatory = CO_SIGNATORIES.get(short)
            db.session.add(_signature(org, version, lead, opened + timedelta(days=10 + index * 5),
                                      co_signatory))
        organisations.append(org)
    db.session.flush()
    by_short = {row[5]: org for row, org in zip(ORGANISATIONS, organisations, strict=True)}
    _withdrawn_signature(by_short["nhpeer"], now)
    _cambridge_version_two(sites["cambridge"], versions["cambridge"], by_short, admin, now)
    _open_invitation(sites["cambridge"], now)
    from charter.demo import commitments as demo_commitments

    leads = {short: _lead_of(org) for short, org in by_short.items()}
    counts = demo_commitments.load(by_short, leads, now)
    from charter.demo import reports as demo_reports

    counts.update(demo_reports.load(sites, by_short, leads, coordinators, now))
    audit.record(None, "demo.loaded", sites["cambridge"], {"organisations": len(organisations)})
    return {"sites": len(sites), "domains": len(DOMAINS), "organisations": len(organisations),
            **counts}


# Signatures made with a co-signatory with lived experience.
CO_SIGNATORIES = {
    "fomh": ("Sam Reid", "Peer support worker and expert by experience"),
    "mindfens": ("Laila Haddad", "Chair, service user forum"),
    "cdz8": ("Tereza Malá", "Peer consultant"),
    "valkenberg": ("Sipho Ndlovu", "Family and carer representative"),
}

# Cambridge organisations that have re-affirmed version 2 (the others are still on version 1).
REAFFIRMED_V2 = ["fomh", "police", "mindfens", "voices"]


def _signature(org, version, lead, signed_at, co_signatory=None) -> Signature:
    return Signature(
        organisation=org, charter_version=version, signer=lead,
        signer_name=lead.full_name, signer_job_title=lead.job_title,
        authority_statement=f"I have the authority to sign on behalf of {org.name}",
        co_signatory_name=co_signatory[0] if co_signatory else None,
        co_signatory_role=co_signatory[1] if co_signatory else None,
        signed_at=signed_at, text_sha256=version.body_sha256,
        verification_code=new_verification_code(),
    )


def _lead_of(org) -> User:
    return next(m.user for m in org.memberships if m.role == MemberRole.LEAD)


def _withdrawn_signature(org, now) -> None:
    """One organisation withdrew: its signature stays on record, it leaves the register."""
    signature = db.session.scalar(select(Signature).where(Signature.organisation_id == org.id))
    lead = _lead_of(org)
    db.session.add(SignatureWithdrawal(
        signature=signature, withdrawn_by=lead, withdrawn_at=now - timedelta(days=60),
        reason="The collective has merged into the Connecticut Peer Alliance, which will apply "
               "in its own name.",
    ))
    org.status = OrganisationStatus.WITHDRAWN
    db.session.flush()
    audit.record(lead, "signature.withdrawn", signature, {"reason": [None, "merged"]},
                 organisation_id=org.id)


def _cambridge_version_two(site, v1, by_short, admin, now) -> None:
    """Cambridge opened version 2 ninety days ago; some signatories have re-affirmed it."""
    body = (CONTENT / "cambridge_charter_v2.md").read_text(encoding="utf-8")
    opened = now - timedelta(days=90)
    v1.status = CharterStatus.SUPERSEDED
    v1.superseded_at = opened
    db.session.flush()
    v2 = CharterVersion(
        site=site, number=2, title="The Cambridge PROMISE Charter", body_markdown=body,
        body_sha256=sha256_text(body), status=CharterStatus.OPEN, opened_at=opened,
        created_by=admin,
        change_summary="Post-incident reviews within 72 hours, shared with the person; quarterly "
                       "publication of restrictive practice figures; a lived-experience reflection "
                       "in every report.",
    )
    db.session.add(v2)
    db.session.flush()
    for days, short in enumerate(REAFFIRMED_V2, start=1):
        org = by_short[short]
        db.session.add(_signature(org, v2, _lead_of(org), opened + timedelta(days=days * 6),
                                  CO_SIGNATORIES.get(short)))
    db.session.flush()


def _open_invitation(site, now) -> None:
    from charter.models import Invitation, InvitationKind

    coordinator = db.session.scalar(
        select(User).where(User.email == f"coordinator.{site.slug}@example.org"))
    db.session.add(Invitation(
        kind=InvitationKind.ORGANISATION, email="director@peterborough-housing.example.org",
        site=site, role=MemberRole.LEAD, organisation_name="Peterborough Housing Partnership",
        message="We would love housing to be part of the charter.", invited_by=coordinator,
        expires_at=now + timedelta(days=10),
    ))
