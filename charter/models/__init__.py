"""All models, importable from one place (Alembic's autogenerate sees them all here)."""

from charter.models.audit import AuditEvent
from charter.models.base import Base
from charter.models.charter import CharterVersion, Signature, SignatureWithdrawal
from charter.models.commitment import Commitment, Milestone, Partnership, ProgressUpdate
from charter.models.document import CachedDocument
from charter.models.domain import ChangeDomain
from charter.models.enums import (
    PUBLIC_COMMITMENT_STATUSES,
    PUBLIC_ORGANISATION_STATUSES,
    RAG,
    Ambition,
    CharterStatus,
    CommitmentStatus,
    Completion,
    CorrectionStatus,
    Direction,
    InvitationKind,
    MemberRole,
    OrganisationStatus,
    OutboxStatus,
    PartnershipStatus,
    ReportingStatus,
    ReportStatus,
    ReviewAction,
    Sector,
    SignatureState,
    Tier,
)
from charter.models.indicator import CommitmentIndicator, Indicator, Measurement
from charter.models.invitation import Invitation
from charter.models.join_request import JoinRequest
from charter.models.organisation import Membership, Organisation, fold_name
from charter.models.outbox import OutboxMessage
from charter.models.pending_import import PendingImport
from charter.models.publication import PublicationKind, PublicationRequest, PublicationState
from charter.models.report import (
    ProgressReport,
    ReportCorrection,
    ReportingCycle,
    ReportReview,
    ReportRevision,
)
from charter.models.rollups import (
    ROLLUP_TABLES,
    RollupCycle,
    RollupDomain,
    RollupExample,
    RollupIndicator,
    RollupOrganisations,
    RollupProgress,
    RollupSite,
)
from charter.models.session import UserSession
from charter.models.site import Site, SiteCoordinator
from charter.models.user import User

__all__ = [
    "RAG",
    "Ambition",
    "Commitment",
    "CommitmentIndicator",
    "CommitmentStatus",
    "Completion",
    "CorrectionStatus",
    "Direction",
    "Indicator",
    "Measurement",
    "Milestone",
    "Partnership",
    "PartnershipStatus",
    "ProgressReport",
    "ProgressUpdate",
    "ReportCorrection",
    "ReportReview",
    "ReportRevision",
    "ReportStatus",
    "ReportingCycle",
    "ReportingStatus",
    "ROLLUP_TABLES",
    "RollupCycle",
    "RollupDomain",
    "RollupExample",
    "RollupIndicator",
    "RollupOrganisations",
    "RollupProgress",
    "RollupSite",
    "ReviewAction",
    "AuditEvent",
    "Base",
    "CachedDocument",
    "ChangeDomain",
    "CharterStatus",
    "CharterVersion",
    "Invitation",
    "InvitationKind",
    "JoinRequest",
    "MemberRole",
    "Membership",
    "Organisation",
    "OrganisationStatus",
    "PUBLIC_COMMITMENT_STATUSES",
    "PUBLIC_ORGANISATION_STATUSES",
    "OutboxMessage",
    "OutboxStatus",
    "PendingImport",
    "PublicationKind",
    "PublicationRequest",
    "PublicationState",
    "Sector",
    "Signature",
    "SignatureState",
    "SignatureWithdrawal",
    "Site",
    "SiteCoordinator",
    "Tier",
    "User",
    "UserSession",
    "fold_name",
]
from charter.models import guards  # noqa: F401  (registers the immutability listeners)
