"""Progress updates: a dated entry on a commitment in five parts — Report, Reflect, Review
(the new completion level and RAG), Rethink, Refresh.

Adding one sets the commitment's completion and RAG and keeps what they were before in
the update, so the history of completion lives in the updates. Updates are not edited
afterwards: a new update corrects an old one. The service checks
`permissions.can_add_progress_update`, audits against the commitment and flushes; the
route commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _

from charter import permissions
from charter.commitments.services import CommitmentError, record
from charter.extensions import db
from charter.formatting import zone
from charter.models import RAG, Commitment, Completion, Organisation, PartnershipStatus, ProgressUpdate
from charter.text import check_printable

TEXT_MAX = 10_000
PARTS = ("report", "reflect", "rethink", "refresh")


@dataclass
class UpdateValues:
    update_date: date | None
    report: str
    completion: Completion
    rag: RAG
    reflect: str = ""
    rethink: str = ""
    refresh: str = ""


def site_today(commitment: Commitment) -> date:
    """Today's date where the commitment's organisation is (its site's time zone)."""
    return datetime.now(zone(commitment.organisation.site.timezone)).date()


def author_organisation(actor, commitment: Commitment) -> Organisation | None:
    """Whom the update is written for: the lead organisation when the author is one of its
    members, otherwise the accepted partner the author belongs to."""
    if permissions.is_member(actor, commitment.organisation):
        return commitment.organisation
    for partnership in commitment.partnerships:
        if (partnership.status == PartnershipStatus.ACCEPTED
                and permissions.is_member(actor, partnership.organisation_id)):
            return partnership.organisation
    return None


def add_update(actor, commitment: Commitment, values: UpdateValues,
               today: date | None = None) -> ProgressUpdate:
    permissions.require(
        permissions.can_add_progress_update(actor, commitment),
        _("Only members of the lead organisation and of its accepted partners can add "
          "progress updates."),
    )
    organisation = author_organisation(actor, commitment)
    if organisation is None:  # pragma: no cover - the permission above implies one
        raise permissions.PermissionDenied(_("You are not a member of an organisation on this "
                                             "commitment."))
    today = today or site_today(commitment)
    if values.update_date is None:
        raise CommitmentError(_("Enter the date of this update."), "update_date")
    if values.update_date > today:
        raise CommitmentError(_("The date cannot be in the future: today is %(today)s.",
                                today=today.isoformat()), "update_date")
    texts = {part: (getattr(values, part) or "").strip() for part in PARTS}
    if not texts["report"]:
        raise CommitmentError(_("Write the Report: what happened, with figures where you have "
                                "them."), "report")
    for part, text in texts.items():
        if len(text) > TEXT_MAX:
            raise CommitmentError(_("Use %(max)s characters or fewer.", max=f"{TEXT_MAX:,}"), part)
    check_printable(texts, CommitmentError)
    completion, rag = Completion(values.completion), RAG(values.rag)

    update = ProgressUpdate(
        commitment=commitment, organisation=organisation, author_id=actor.id,
        update_date=values.update_date, completion=completion, rag=rag,
        previous_completion=commitment.completion, previous_rag=commitment.rag, **texts,
    )
    db.session.add(update)
    changes: dict = {"update_date": values.update_date, "organisation": organisation.name}
    if commitment.completion != completion:
        changes["completion"] = [commitment.completion, completion]
        commitment.completion = completion
    if commitment.rag != rag:
        changes["rag"] = [commitment.rag, rag]
        commitment.rag = rag
    db.session.flush()
    record(actor, "commitment.progress_update_added", commitment, changes)
    return update
