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


def test_demo_refuses_a_database_with_data_and_if_empty_skips(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["charter", "demo"]).exit_code == 0
    again = runner.invoke(args=["charter", "demo"])
    assert again.exit_code != 0 and "already has data" in again.output
    skipped = runner.invoke(args=["charter", "demo", "--if-empty"])
    assert skipped.exit_code == 0 and "not loaded" in skipped.output
    assert _count(Site) == 5


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


def test_demo_shows_the_signing_journey_at_once(app):
    from charter.models import CharterStatus, OrganisationStatus, SignatureWithdrawal
    from charter.signing.queries import signatories_query, signing_statuses

    assert app.test_cli_runner().invoke(args=["charter", "demo"]).exit_code == 0
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
