"""Enumerations used in models, forms and templates, with their translatable labels."""

from __future__ import annotations

from enum import StrEnum

from flask_babel import lazy_gettext as _l


class LabelledEnum(StrEnum):
    @property
    def label(self) -> str:
        return str(_LABELS[(type(self), self.value)])

    @property
    def lazy_label(self):
        """The label, translated when it is shown rather than now: for choices declared
        on a form class, which are built once at import."""
        return _LABELS[(type(self), self.value)]


class Sector(LabelledEnum):
    STATUTORY = "statutory"
    THIRD_SECTOR = "third_sector"
    COMMISSIONER = "commissioner"
    INDEPENDENT_PROVIDER = "independent_provider"
    ACADEMIC = "academic"
    LIVED_EXPERIENCE = "lived_experience"


class Tier(LabelledEnum):
    SIGNATORY = "signatory"
    SUPPORTER = "supporter"


class OrganisationStatus(LabelledEnum):
    PENDING = "pending"
    ACTIVE = "active"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


# Who and what the public sees: organisations that take part or withdrew (never those
# pending approval or declined), and commitments once published (retired ones stay on record).
PUBLIC_ORGANISATION_STATUSES = (OrganisationStatus.ACTIVE, OrganisationStatus.WITHDRAWN)


class MemberRole(LabelledEnum):
    LEAD = "lead"
    EDITOR = "editor"


class CharterStatus(LabelledEnum):
    DRAFT = "draft"
    OPEN = "open"
    SUPERSEDED = "superseded"


class InvitationKind(LabelledEnum):
    ORGANISATION = "organisation"
    MEMBER = "member"


class SignatureState(LabelledEnum):
    """What /verify/<code> says of a signature (not stored; derived)."""

    VALID = "valid"
    WITHDRAWN = "withdrawn"
    UNKNOWN = "unknown"


class CommitmentStatus(LabelledEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    RETIRED = "retired"


PUBLIC_COMMITMENT_STATUSES = (CommitmentStatus.PUBLISHED, CommitmentStatus.RETIRED)


class Ambition(LabelledEnum):
    ESSENTIAL = "essential"
    DESIRABLE = "desirable"
    ASPIRATIONAL = "aspirational"
    BREAKTHROUGH = "breakthrough"


class Completion(LabelledEnum):
    NOT_STARTED = "not_started"
    LIMITED = "limited"
    SUBSTANTIAL = "substantial"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"


class RAG(LabelledEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OFF_TRACK = "off_track"


class PartnershipStatus(LabelledEnum):
    INVITED = "invited"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    ENDED = "ended"


class Direction(LabelledEnum):
    """Which way an indicator should move."""

    HIGHER_IS_BETTER = "higher"
    LOWER_IS_BETTER = "lower"


class ReportStatus(LabelledEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    PUBLISHED = "published"


class ReportingStatus(LabelledEnum):
    """An organisation's standing in one cycle, derived from records and the date."""

    NOT_STARTED = "not_started"
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    PUBLISHED = "published"
    OVERDUE = "overdue"
    EXEMPT = "exempt"


class ReviewAction(LabelledEnum):
    SUBMITTED = "submitted"
    RETURNED = "returned"
    APPROVED = "approved"
    PUBLISHED = "published"
    CORRECTED = "corrected"
    COMMENT = "comment"


class CorrectionStatus(LabelledEnum):
    """A lead's correction of a published report, when the cycle reviews reports."""

    SUBMITTED = "submitted"
    RETURNED = "returned"
    PUBLISHED = "published"


class OutboxStatus(LabelledEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    HELD = "held"


# Labels by (enum class, value): members of different enums with the same value (draft,
# withdrawn, returned, published…) compare equal, so they cannot share one dict key.
_LABEL_PAIRS = [
    (Sector.STATUTORY, _l("Statutory")),
    (Sector.THIRD_SECTOR, _l("Third sector")),
    (Sector.COMMISSIONER, _l("Commissioner")),
    (Sector.INDEPENDENT_PROVIDER, _l("Independent provider")),
    (Sector.ACADEMIC, _l("Academic")),
    (Sector.LIVED_EXPERIENCE, _l("Lived-experience group")),
    (Tier.SIGNATORY, _l("Signatory")),
    (Tier.SUPPORTER, _l("Supporter")),
    (OrganisationStatus.PENDING, _l("Pending approval")),
    (OrganisationStatus.ACTIVE, _l("Active")),
    (OrganisationStatus.DECLINED, _l("Declined")),
    (OrganisationStatus.WITHDRAWN, _l("Withdrawn")),
    (MemberRole.LEAD, _l("Lead")),
    (MemberRole.EDITOR, _l("Editor")),
    (CharterStatus.DRAFT, _l("Draft")),
    (CharterStatus.OPEN, _l("Open for signature")),
    (CharterStatus.SUPERSEDED, _l("Superseded")),
    (InvitationKind.ORGANISATION, _l("New organisation")),
    (InvitationKind.MEMBER, _l("Member")),
    (SignatureState.VALID, _l("Valid")),
    (SignatureState.WITHDRAWN, _l("Withdrawn")),
    (SignatureState.UNKNOWN, _l("Unknown")),
    (CommitmentStatus.DRAFT, _l("Draft")),
    (CommitmentStatus.PUBLISHED, _l("Published")),
    (CommitmentStatus.RETIRED, _l("Retired")),
    (Ambition.ESSENTIAL, _l("Essential")),
    (Ambition.DESIRABLE, _l("Desirable")),
    (Ambition.ASPIRATIONAL, _l("Aspirational")),
    (Ambition.BREAKTHROUGH, _l("Breakthrough")),
    (Completion.NOT_STARTED, _l("Not started")),
    (Completion.LIMITED, _l("Limited")),
    (Completion.SUBSTANTIAL, _l("Substantial")),
    (Completion.COMPLETED, _l("Completed")),
    (Completion.WITHDRAWN, _l("Withdrawn")),
    (RAG.ON_TRACK, _l("On track")),
    (RAG.AT_RISK, _l("At risk")),
    (RAG.OFF_TRACK, _l("Off track")),
    (PartnershipStatus.INVITED, _l("Invited")),
    (PartnershipStatus.ACCEPTED, _l("Accepted")),
    (PartnershipStatus.DECLINED, _l("Declined")),
    (PartnershipStatus.ENDED, _l("Ended")),
    (Direction.HIGHER_IS_BETTER, _l("Higher is better")),
    (Direction.LOWER_IS_BETTER, _l("Lower is better")),
    (ReportStatus.DRAFT, _l("Draft")),
    (ReportStatus.SUBMITTED, _l("Submitted")),
    (ReportStatus.RETURNED, _l("Returned for changes")),
    (ReportStatus.PUBLISHED, _l("Published")),
    (ReportingStatus.NOT_STARTED, _l("Not started")),
    (ReportingStatus.DRAFT, _l("Draft")),
    (ReportingStatus.SUBMITTED, _l("Submitted")),
    (ReportingStatus.RETURNED, _l("Returned")),
    (ReportingStatus.PUBLISHED, _l("Published")),
    (ReportingStatus.OVERDUE, _l("Overdue")),
    (ReportingStatus.EXEMPT, _l("Exempt")),
    (ReviewAction.SUBMITTED, _l("Submitted")),
    (ReviewAction.RETURNED, _l("Returned with comments")),
    (ReviewAction.APPROVED, _l("Approved")),
    (ReviewAction.PUBLISHED, _l("Published")),
    (ReviewAction.CORRECTED, _l("Correction published")),
    (ReviewAction.COMMENT, _l("Comment")),
    (CorrectionStatus.SUBMITTED, _l("Waiting for review")),
    (CorrectionStatus.RETURNED, _l("Returned with comments")),
    (CorrectionStatus.PUBLISHED, _l("Published")),
    (OutboxStatus.QUEUED, _l("Queued")),
    (OutboxStatus.SENT, _l("Sent")),
    (OutboxStatus.FAILED, _l("Failed")),
    (OutboxStatus.HELD, _l("Held (no mail server)")),
]
_LABELS = {(type(member), member.value): label for member, label in _LABEL_PAIRS}
