"""Small factories for test data. Each takes the fields a test cares about and fills
in sensible values for the rest; all flush, none commit."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from werkzeug.security import generate_password_hash

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
    Site,
    SiteCoordinator,
    Tier,
    User,
)
from charter.models.charter import new_verification_code, sha256_text

PASSWORD = "correct horse battery staple"
# Hashing is deliberately slow; compute the test password's hash once.
_PASSWORD_HASH = generate_password_hash(PASSWORD, method="scrypt")
_seq = itertools.count(1)


def n() -> int:
    return next(_seq)


def site(slug: str | None = None, **kw) -> Site:
    i = n()
    obj = Site(
        slug=slug or f"site-{i}",
        name=kw.pop("name", f"Site {i}"),
        country=kw.pop("country", "United Kingdom"),
        timezone=kw.pop("timezone", "Europe/London"),
        **kw,
    )
    db.session.add(obj)
    db.session.flush()
    return obj


def user(email: str | None = None, **kw) -> User:
    i = n()
    obj = User(
        email=(email or f"user{i}@example.org").lower(),
        full_name=kw.pop("full_name", f"User {i}"),
        job_title=kw.pop("job_title", "Tester"),
        password_hash=_PASSWORD_HASH,
        **kw,
    )
    db.session.add(obj)
    db.session.flush()
    return obj


def organisation(site_obj: Site, name: str | None = None, **kw) -> Organisation:
    i = n()
    name = name or f"Organisation {i}"
    obj = Organisation(
        site=site_obj,
        slug=kw.pop("slug", f"org-{i}"),
        sector=kw.pop("sector", Sector.STATUTORY),
        tier=kw.pop("tier", Tier.SIGNATORY),
        status=kw.pop("status", OrganisationStatus.ACTIVE),
        **kw,
    )
    obj.set_name(name)
    db.session.add(obj)
    db.session.flush()
    return obj


def member(user_obj: User, org: Organisation, role: MemberRole = MemberRole.EDITOR) -> Membership:
    obj = Membership(user=user_obj, organisation=org, role=role)
    db.session.add(obj)
    db.session.flush()
    return obj


def coordinator(user_obj: User, site_obj: Site) -> SiteCoordinator:
    obj = SiteCoordinator(user=user_obj, site=site_obj)
    db.session.add(obj)
    db.session.flush()
    return obj


def domain(name: str | None = None, **kw) -> ChangeDomain:
    i = n()
    obj = ChangeDomain(
        slug=kw.pop("slug", f"domain-{i}"),
        name=name or f"Domain {i}",
        position=kw.pop("position", i),
        **kw,
    )
    db.session.add(obj)
    db.session.flush()
    return obj


def charter_version(site_obj: Site, number: int = 1, status=CharterStatus.OPEN, **kw):
    body = kw.pop("body", f"# Charter {number}\n\nWe promise to reduce restrictive practice.")
    obj = CharterVersion(
        site=site_obj,
        number=number,
        title=kw.pop("title", f"{site_obj.name} charter v{number}"),
        body_markdown=body,
        body_sha256=sha256_text(body),
        status=status,
        opened_at=kw.pop("opened_at", datetime.now(UTC) if status != CharterStatus.DRAFT else None),
        **kw,
    )
    db.session.add(obj)
    db.session.flush()
    return obj


def signature(org: Organisation, version: CharterVersion, signer: User, **kw) -> Signature:
    obj = Signature(
        organisation=org,
        charter_version=version,
        signer=signer,
        signer_name=kw.pop("signer_name", signer.full_name),
        signer_job_title=kw.pop("signer_job_title", signer.job_title or "Director"),
        authority_statement=f"I have the authority to sign on behalf of {org.name}",
        signed_at=kw.pop("signed_at", datetime.now(UTC)),
        text_sha256=version.body_sha256,
        verification_code=kw.pop("verification_code", new_verification_code()),
        **kw,
    )
    db.session.add(obj)
    db.session.flush()
    return obj


def commitment(org: Organisation, domain_obj: ChangeDomain, **kw):
    from charter.models import Commitment

    obj = Commitment(
        organisation=org,
        domain=domain_obj,
        title=kw.pop("title", f"Commitment {n()}"),
        description=kw.pop("description", "We will reduce restrictive practice."),
        **kw,
    )
    db.session.add(obj)
    db.session.flush()
    return obj


def milestone(commitment_obj, **kw):
    from charter.models import Milestone

    obj = Milestone(commitment=commitment_obj, title=kw.pop("title", f"Milestone {n()}"), **kw)
    db.session.add(obj)
    db.session.flush()
    return obj


def cycle(site_obj: Site, name: str | None = None, **kw):
    from datetime import date

    from charter.models import ReportingCycle

    obj = ReportingCycle(
        site=site_obj,
        name=name or f"Cycle {n()}",
        period_start=kw.pop("period_start", date(2026, 1, 1)),
        period_end=kw.pop("period_end", date(2026, 3, 31)),
        due_date=kw.pop("due_date", date(2026, 4, 30)),
        **kw,
    )
    db.session.add(obj)
    db.session.flush()
    return obj


def report(org: Organisation, cycle_obj, **kw):
    from charter.models import ProgressReport, ReportStatus

    obj = ProgressReport(organisation=org, cycle=cycle_obj,
                         status=kw.pop("status", ReportStatus.DRAFT),
                         summary=kw.pop("summary", "We reduced restraint on two wards."), **kw)
    db.session.add(obj)
    db.session.flush()
    return obj


def published_report(org: Organisation, cycle_obj, publisher, **kw):
    """A report taken through the real workflow to publication (revision 1 stored)."""
    from charter.models import ReportStatus
    from charter.reports import services

    obj = report(org, cycle_obj, status=ReportStatus.SUBMITTED, **kw)
    services.publish(publisher, obj, at_once=True)
    return obj
