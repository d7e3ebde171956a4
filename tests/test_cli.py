"""`flask charter …` commands."""

from __future__ import annotations

from sqlalchemy import func, select

from charter.demo import DEMO_PASSWORD
from charter.extensions import db
from charter.models import (
    ChangeDomain,
    CharterVersion,
    MemberRole,
    Membership,
    Organisation,
    Sector,
    Site,
    SiteCoordinator,
    User,
)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_demo_loads_sites_domains_charter_organisations_and_users(app):
    result = app.test_cli_runner().invoke(args=["charter", "demo"])
    assert result.exit_code == 0, result.output
    assert "promise-demo" in result.output
    sites = {s.slug: s for s in db.session.scalars(select(Site))}
    assert set(sites) == {"cambridge", "yale", "brisbane", "prague", "cape-town"}
    assert sites["brisbane"].timezone == "Australia/Brisbane"
    assert _count(ChangeDomain) == 8
    assert all(d.source_note for d in db.session.scalars(select(ChangeDomain)))
    assert 18 <= _count(Organisation) <= 25
    sectors = set(db.session.scalars(select(Organisation.sector)).all())
    assert sectors == set(Sector)
    cambridge_v1 = db.session.scalar(
        select(CharterVersion).where(CharterVersion.site_id == sites["cambridge"].id)
    )
    assert "end reliance on force" in cambridge_v1.body_markdown
    admin = db.session.scalar(select(User).where(User.email == "admin@example.org"))
    assert admin.is_admin and admin.check_password(DEMO_PASSWORD)
    assert _count(SiteCoordinator) == 5
    roles = set(db.session.scalars(select(Membership.role)).all())
    assert roles == {MemberRole.LEAD, MemberRole.EDITOR}
    # One load of the demo, checked for every feature (it publishes real PDFs: slow).
    _check_signing_demo()
    _check_commitments_demo()
    _check_reports_demo()


def test_demo_refuses_a_database_with_data_and_if_empty_skips(app):
    from tests import factories as f

    f.site("existing")
    db.session.commit()
    runner = app.test_cli_runner()
    again = runner.invoke(args=["charter", "demo"])
    assert again.exit_code != 0 and "already has data" in again.output
    skipped = runner.invoke(args=["charter", "demo", "--if-empty"])
    assert skipped.exit_code == 0 and "not loaded" in skipped.output
    assert _count(Site) == 1


def test_create_admin(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["charter", "create-admin", "--email", "Boss@Example.org", "--name", "Boss"],
        input="a long enough password\na long enough password\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "boss@example.org"))
    assert user.is_admin and user.check_password("a long enough password")


def test_create_admin_refuses_a_short_password(app):
    result = app.test_cli_runner().invoke(
        args=["charter", "create-admin", "--email", "b@example.org", "--name", "B"],
        input="short\nshort\n",
    )
    assert result.exit_code != 0
    assert _count(User) == 0


def _check_signing_demo():
    from charter.models import CharterStatus, OrganisationStatus, SignatureWithdrawal
    from charter.signing.queries import signatories_query, signing_statuses

    cambridge = db.session.scalar(select(Site).where(Site.slug == "cambridge"))
    versions = db.session.scalars(select(CharterVersion).where(
        CharterVersion.site_id == cambridge.id).order_by(CharterVersion.number)).all()
    assert [v.status for v in versions] == [CharterStatus.SUPERSEDED, CharterStatus.OPEN]
    assert versions[1].change_summary
    orgs = db.session.scalars(signatories_query(site_id=cambridge.id)).all()
    statuses = signing_statuses(orgs)
    reaffirmed = [o for o in orgs if statuses[o.id].signed_open_version]
    waiting = [o for o in orgs if statuses[o.id].needs_reaffirming]
    assert reaffirmed and waiting
    assert _count(SignatureWithdrawal) == 1
    assert db.session.scalar(select(func.count()).select_from(Organisation).where(
        Organisation.status == OrganisationStatus.PENDING)) == 1
    assert db.session.scalar(select(func.count()).select_from(Organisation).where(
        Organisation.status == OrganisationStatus.WITHDRAWN)) == 1
    sites_with_signatories = {o.site_id for o in db.session.scalars(signatories_query())}
    assert len(sites_with_signatories) == 5


def _check_commitments_demo():
    from charter.models import (
        Commitment,
        CommitmentIndicator,
        CommitmentStatus,
        Measurement,
        Partnership,
        PartnershipStatus,
        ProgressUpdate,
    )

    published = db.session.scalars(select(Commitment).where(
        Commitment.status == CommitmentStatus.PUBLISHED)).all()
    assert {c.domain_id for c in published} == set(db.session.scalars(select(ChangeDomain.id)))
    joint = db.session.scalars(select(Partnership).where(
        Partnership.status == PartnershipStatus.ACCEPTED)).all()
    assert any(p.organisation.sector != p.commitment.organisation.sector for p in joint)
    assert any(p.organisation.site_id != p.commitment.organisation.site_id for p in joint)
    per_indicator = db.session.execute(
        select(CommitmentIndicator.id, func.count(Measurement.id))
        .join(Measurement).group_by(CommitmentIndicator.id)).all()
    assert per_indicator and all(n >= 4 for _, n in per_indicator)
    assert _count(ProgressUpdate) >= 2 * len(published)


def _check_reports_demo():
    from charter.models import ProgressReport, ReportingCycle, ReportRevision, ReportStatus
    from charter.reports import status

    for site in db.session.scalars(select(Site)):
        reporting = status.site_reporting(site)
        past = [c for c in reporting.cycles if c.due_date < reporting.today]
        assert len(past) >= 3, site.slug
    assert _count(ReportingCycle) >= 20  # four per site: three past, one current
    statuses = set(db.session.scalars(select(ProgressReport.status)))
    assert {ReportStatus.PUBLISHED, ReportStatus.RETURNED, ReportStatus.DRAFT} <= statuses
    assert db.session.scalar(select(func.max(ReportRevision.number))) == 2
    cambridge = db.session.scalar(select(Site).where(Site.slug == "cambridge"))
    reporting = status.site_reporting(cambridge)
    not_reporting = [o.slug for o in reporting.organisations if reporting.not_reporting(o)]
    assert not_reporting == ["eastern-counties-ambulance-service"]
    overdue = [o for o in reporting.organisations
               if any(reporting.status(o, c).value == "overdue" for c in reporting.cycles)]
    assert len(overdue) >= 2


def test_generate_builds_a_consistent_synthetic_data_set(app):
    from charter.models import (
        Commitment,
        CommitmentStatus,
        Measurement,
        Organisation,
        ProgressReport,
        ReportRevision,
    )

    runner = app.test_cli_runner()
    result = runner.invoke(args=["charter", "generate", "--organisations", "50",
                                 "--commitments", "400", "--measurements", "2000"])
    assert result.exit_code == 0, result.output
    assert _count(Site) == 5
    assert _count(Organisation) == 50
    assert _count(Commitment) == 400
    assert _count(Measurement) == 2000
    drafts = db.session.scalar(select(func.count()).select_from(Commitment).where(
        Commitment.status == CommitmentStatus.DRAFT))
    assert 0 < drafts < 400
    assert _count(ProgressReport) > 0 and _count(ReportRevision) > 0
    again = runner.invoke(args=["charter", "generate"])
    assert again.exit_code != 0 and "empty" in again.output
