"""Test data for the open data API tests: public records to find, and private ones with
distinctive strings planted in them that must never come out of the API or the ZIP.

`build(world)` is imported by the other tests/test_api*.py files; the test at the end
checks the builder itself made what the others rely on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from unittest.mock import patch

from charter import mail
from charter.extensions import db
from charter.models import (
    RAG,
    AuditEvent,
    CharterStatus,
    Commitment,
    CommitmentIndicator,
    CommitmentStatus,
    Completion,
    Direction,
    Indicator,
    Invitation,
    InvitationKind,
    Measurement,
    MemberRole,
    OrganisationStatus,
    Partnership,
    PartnershipStatus,
    ReportStatus,
    Sector,
    SignatureWithdrawal,
    Tier,
)
from tests import factories as f

# Strings that exist only in private records. None may appear in any API answer or file.
SECRETS = {
    "draft_title": "DraftTitleQX81",
    "draft_description": "DraftDescriptionQX82",
    "draft_milestone": "DraftMilestoneQX83",
    "draft_indicator": "DraftOwnIndicatorQX84",
    "draft_measurement_note": "DraftMeasurementNoteQX85",
    "pending_org_name": "PendingOrgNameQX86",
    "pending_org_slug": "pending-org-qx87",
    "pending_org_description": "PendingOrgDescriptionQX88",
    "pending_org_commitment": "PendingOrgCommitmentQX89",
    "declined_org_name": "DeclinedOrgNameQX90",
    "declined_org_slug": "declined-org-qx91",
    "decision_reason": "DecisionReasonQX92",
    "user_email": "secret.signer.qx93@private-mail.example",
    "report_draft_summary": "ReportDraftSummaryQX94",
    "report_submitted_summary": "ReportSubmittedSummaryQX95",
    "review_comment": "ReviewCommentQX96",
    "invited_partner_note": "InvitedPartnerNoteQX97",
    "draft_charter_title": "DraftCharterTitleQX98",
    "outbox_body": "OutboxBodyQX99",
    "pending_signer_name": "PendingSignerNameQX100",
    "own_indicator_of_draft_only": "OwnIndicatorOfDraftOnlyQX101",
    "invitation_email": "invitee.qx102@private-mail.example",
    "invitation_org": "InvitedOrgQX103",
    "invitation_message": "InvitationMessageQX104",
    "audit_actor": "AuditActorQX105",
    "audit_label": "AuditLabelQX106",
    "audit_change": "AuditChangeQX107",
}


@dataclass
class ApiWorld:
    world: object
    domain: object
    other_domain: object
    published: Commitment
    retired: Commitment
    draft: Commitment
    brisbane_commitment: Commitment
    catalogue_indicator: Indicator
    own_indicator: Indicator
    attachment: CommitmentIndicator
    measurements: list[Measurement]
    signature: object
    withdrawn_signature: object
    report: object
    pending_org: object
    declined_org: object
    brisbane_org: object
    extra: dict = field(default_factory=dict)


def _attach(commitment, indicator, **kw) -> CommitmentIndicator:
    ci = CommitmentIndicator(commitment=commitment, indicator=indicator, **kw)
    db.session.add(ci)
    db.session.flush()
    return ci


def _measure(ci, start: date, end: date, value: str, note: str = "") -> Measurement:
    m = Measurement(commitment_indicator=ci, period_start=start, period_end=end, value=Decimal(value),
                    note=note)
    db.session.add(m)
    db.session.flush()
    return m


STUB_PDF = b"%PDF-1.4\n% a stand-in: rendering real PDFs is the reports' tests' business\n"


def build(w, *, real_pdf: bool = False) -> ApiWorld:
    """Public and private records around the conftest world (committed). The report is
    published through the real workflow; its PDF is a stand-in unless `real_pdf`."""
    if real_pdf:
        return _build(w)
    with patch("charter.reports.rendering.render_report_pdf", return_value=STUB_PDF):
        return _build(w)


def _build(w) -> ApiWorld:
    site, org, other_org = w.site, w.org, w.other_org
    site.contact_email = "hello@cambridge-promise.example"
    org.decision_reason = SECRETS["decision_reason"]
    other_org.sector = Sector.THIRD_SECTOR
    other_org.tier = Tier.SUPPORTER
    domain = f.domain("Least restrictive practice", slug="least-restrictive-practice", position=1)
    other_domain = f.domain("Accepting communities", slug="accepting-communities", position=5)
    brisbane_org = f.organisation(w.other_site, "Brisbane Mind", slug="brisbane-mind",
                                  sector=Sector.LIVED_EXPERIENCE)

    # Charters and signatures: the open version, a draft one (private) and a withdrawal.
    version = f.charter_version(site, 1, CharterStatus.OPEN)
    f.charter_version(site, 2, CharterStatus.DRAFT, title=SECRETS["draft_charter_title"])
    signer = f.user(SECRETS["user_email"], full_name="Ada Signer")
    signature = f.signature(org, version, signer, signer_name="Ada Signer",
                            signer_job_title="Chief Executive")
    withdrawn_signature = f.signature(other_org, version, w.user("other_lead"))
    db.session.add(SignatureWithdrawal(signature=withdrawn_signature, withdrawn_by=w.user("other_lead"),
                                       reason="We merged with another trust.",
                                       withdrawn_at=datetime(2026, 2, 1, 9, 30, tzinfo=UTC)))

    # Organisations that are not public, each with what would otherwise be public.
    pending_org = f.organisation(site, SECRETS["pending_org_name"], slug=SECRETS["pending_org_slug"],
                                 status=OrganisationStatus.PENDING,
                                 description=SECRETS["pending_org_description"])
    declined_org = f.organisation(site, SECRETS["declined_org_name"], slug=SECRETS["declined_org_slug"],
                                  status=OrganisationStatus.DECLINED,
                                  decision_reason=SECRETS["decision_reason"])
    pending_signer = f.user(full_name=SECRETS["pending_signer_name"])
    f.signature(pending_org, version, pending_signer, signer_name=SECRETS["pending_signer_name"])
    f.commitment(pending_org, domain, title=SECRETS["pending_org_commitment"],
                 status=CommitmentStatus.PUBLISHED)

    now = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    published = f.commitment(org, domain, title="Halve restraint on the wards",
                             description="=HYPERLINK(\"http://evil.example\")",
                             status=CommitmentStatus.PUBLISHED, published_at=now,
                             completion=Completion.SUBSTANTIAL, rag=RAG.AT_RISK,
                             start_date=date(2026, 1, 1), target_date=date(2027, 12, 31))
    f.milestone(published, title="Train every ward team", due_date=date(2026, 6, 30), position=1)
    retired = f.commitment(other_org, other_domain, title="Café for carers — 咖啡 ☕",
                           status=CommitmentStatus.RETIRED, published_at=now,
                           retired_at=now, retired_reason="Merged into a wider programme.")
    draft = f.commitment(org, domain, title=SECRETS["draft_title"],
                         description=SECRETS["draft_description"], status=CommitmentStatus.DRAFT)
    f.milestone(draft, title=SECRETS["draft_milestone"])
    brisbane_commitment = f.commitment(brisbane_org, other_domain, title="Peer support in Brisbane",
                                       status=CommitmentStatus.PUBLISHED, published_at=now)

    # Partners: accepted (public) and invited (private).
    db.session.add_all([
        Partnership(commitment=published, organisation=other_org, status=PartnershipStatus.ACCEPTED,
                    role_note="Runs the carers' forum"),
        Partnership(commitment=published, organisation=brisbane_org, status=PartnershipStatus.INVITED,
                    role_note=SECRETS["invited_partner_note"]),
    ])

    # Indicators and measurements.
    catalogue_indicator = Indicator(name="Restrictive interventions per 1,000 bed days",
                                    unit="per 1,000 occupied bed days",
                                    direction=Direction.LOWER_IS_BETTER, reference="MHS96")
    own_indicator = Indicator(name="Ward debriefs held", unit="debriefs",
                              direction=Direction.HIGHER_IS_BETTER, organisation_id=org.id)
    draft_indicator = Indicator(name=SECRETS["draft_indicator"], unit="things",
                                direction=Direction.HIGHER_IS_BETTER, organisation_id=org.id)
    orphan_indicator = Indicator(name=SECRETS["own_indicator_of_draft_only"], unit="things",
                                 direction=Direction.HIGHER_IS_BETTER, organisation_id=org.id)
    db.session.add_all([catalogue_indicator, own_indicator, draft_indicator, orphan_indicator])
    db.session.flush()
    attachment = _attach(published, catalogue_indicator, baseline_value=Decimal("12.5"),
                         baseline_date=date(2025, 12, 31), target_value=Decimal("6"),
                         target_date=date(2027, 12, 31))
    own_attachment = _attach(published, own_indicator)
    measurements = [
        _measure(attachment, date(2026, 1, 1), date(2026, 1, 31), "11.25", "-1 because of a new ward"),
        _measure(attachment, date(2026, 2, 1), date(2026, 2, 28), "-0.5"),
        _measure(own_attachment, date(2026, 1, 1), date(2026, 3, 31), "14"),
    ]
    draft_attachment = _attach(draft, draft_indicator)
    _measure(draft_attachment, date(2026, 1, 1), date(2026, 1, 31), "99",
             SECRETS["draft_measurement_note"])
    _attach(draft, orphan_indicator)
    _attach(draft, catalogue_indicator)

    # Reports: one published (with a review comment), one draft, one submitted.
    cycle = f.cycle(site, "2026 Q1")
    other_cycle = f.cycle(site, "2026 Q2", period_start=date(2026, 4, 1), period_end=date(2026, 6, 30),
                          due_date=date(2026, 7, 31))
    report = f.published_report(org, cycle, w.user("coordinator"),
                                summary="We reduced restraint on two wards.")
    from charter.models import ReportReview, ReviewAction

    db.session.add(ReportReview(report=report, author=w.user("coordinator"),
                                action=ReviewAction.COMMENT, comment=SECRETS["review_comment"]))
    f.report(other_org, cycle, status=ReportStatus.DRAFT, summary=SECRETS["report_draft_summary"])
    f.report(org, other_cycle, status=ReportStatus.SUBMITTED,
             summary=SECRETS["report_submitted_summary"])
    f.report(pending_org, cycle, status=ReportStatus.DRAFT, summary=SECRETS["pending_org_name"])
    # An "accepted" partnership of an organisation that is not public (the services do not let a
    # pending organisation accept; the API must not show it even so). Added after publication:
    # a published report's snapshot is frozen, and what it shows is the reports' rules.
    db.session.add(Partnership(commitment=published, organisation=pending_org,
                               status=PartnershipStatus.ACCEPTED, role_note=SECRETS["pending_org_name"]))

    mail.queue("someone@example.org", "Hello", SECRETS["outbox_body"], kind="test")
    db.session.add_all([
        Invitation(kind=InvitationKind.ORGANISATION, email=SECRETS["invitation_email"], site=site,
                   role=MemberRole.LEAD, organisation_name=SECRETS["invitation_org"],
                   message=SECRETS["invitation_message"], invited_by=w.user("coordinator"),
                   expires_at=datetime(2030, 1, 1, tzinfo=UTC)),
        AuditEvent(actor_label=SECRETS["audit_actor"], action="commitment.updated",
                   object_type="Commitment", object_id=published.id,
                   object_label=SECRETS["audit_label"], changes={"title": SECRETS["audit_change"]}),
    ])
    db.session.commit()
    return ApiWorld(w, domain, other_domain, published, retired, draft, brisbane_commitment,
                    catalogue_indicator, own_indicator, attachment, measurements, signature,
                    withdrawn_signature, report, pending_org, declined_org, brisbane_org)


def grow(data: ApiWorld, n: int) -> None:
    """Add n more of everything public (organisations, signatures, withdrawals, commitments
    with partners, milestones and indicators, measurements, published reports), quickly:
    reports get their revision rows directly, without rendering a PDF."""
    from charter.models import ProgressReport, ReportRevision

    w = data.world
    version = data.signature.charter_version
    cycle = data.report.cycle
    now = datetime(2026, 3, 1, tzinfo=UTC)
    signer = w.user("lead")
    for i in range(n):
        org = f.organisation(w.site if i % 2 else w.other_site, f"Grown organisation {i} ✓",
                             sector=list(Sector)[i % len(Sector)])
        sig = f.signature(org, version, signer)
        if i % 3 == 0:
            db.session.add(SignatureWithdrawal(signature=sig, withdrawn_by=signer, reason=f"Reason {i}",
                                               withdrawn_at=now))
        for j in range(2):
            c = f.commitment(org, data.domain if j else data.other_domain, title=f"Grown {i}.{j}",
                             status=CommitmentStatus.PUBLISHED, published_at=now)
            f.milestone(c, title=f"Milestone {i}.{j}")
            db.session.add(Partnership(commitment=c, organisation=data.world.org,
                                       status=PartnershipStatus.ACCEPTED))
            ci = _attach(c, data.catalogue_indicator, baseline_value=Decimal(i))
            for k in range(3):
                db.session.add(Measurement(commitment_indicator=ci, period_start=date(2025, k + 1, 1),
                                           period_end=date(2025, k + 1, 28), value=Decimal(i * k)))
        f.commitment(org, data.domain, title=f"Grown draft {i}")
        report = ProgressReport(organisation=org, cycle=cycle, status=ReportStatus.PUBLISHED,
                                summary=f"Grown report {i}", published_at=now)
        db.session.add(report)
        db.session.flush()
        for number in (1, 2):
            db.session.add(ReportRevision(report=report, number=number, snapshot={"report_id": report.id},
                                          snapshot_sha256="0" * 64, pdf=b"%PDF-1.4", pdf_sha256="1" * 64,
                                          pdf_size=8, change_note="Fixed a figure" if number == 2 else "",
                                          published_at=now))
    db.session.commit()


def test_the_builder_makes_public_and_private_records(world):
    data = build(world)
    assert data.published.status == CommitmentStatus.PUBLISHED
    assert data.draft.status == CommitmentStatus.DRAFT
    assert data.report.status == ReportStatus.PUBLISHED
    assert len(data.report.revisions) == 1
    assert data.pending_org.status == OrganisationStatus.PENDING
    assert data.withdrawn_signature.withdrawal is not None
