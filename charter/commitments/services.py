"""Commitments: the rules for creating, editing, publishing and retiring them, and their
milestones. Partnerships, indicators, progress updates and spreadsheets have their own
modules; all record their audit events against the commitment, so that its public
timeline reads from one place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _

from charter import audit, permissions
from charter.extensions import db
from charter.models import (
    RAG,
    Ambition,
    ChangeDomain,
    Commitment,
    CommitmentStatus,
    Completion,
    Milestone,
    Organisation,
)
from charter.models.base import utcnow
from charter.rules import EditConflict, RuleError
from charter.text import check_printable


class CommitmentError(RuleError):
    """A rule refused the change; `field` names the form field the message belongs to."""




@dataclass
class CommitmentValues:
    title: str
    domain_id: int
    description: str = ""
    start_date: date | None = None
    target_date: date | None = None
    ambition: Ambition = Ambition.ESSENTIAL
    completion: Completion = Completion.NOT_STARTED
    rag: RAG = RAG.ON_TRACK

    def as_dict(self) -> dict:
        return {
            "title": self.title, "domain_id": self.domain_id, "description": self.description,
            "start_date": self.start_date, "target_date": self.target_date,
            "ambition": self.ambition, "completion": self.completion, "rag": self.rag,
        }


def record(actor, action: str, commitment: Commitment, changes=None):
    """Audit an event of a commitment or one of its parts (milestones, partners,
    indicators, updates): always against the commitment, for its timeline."""
    return audit.record(actor, action, commitment, changes,
                        organisation_id=commitment.organisation_id)


# --- the rules a set of values keeps ------------------------------------------------------

STALE_VERSION = "stale_version"  # someone saved the commitment since this person loaded it
UNKNOWN_DOMAIN = "unknown_domain"  # no such change domain
RETIRED_DOMAIN = "retired_domain"  # the domain is retired and the commitment is not under it
DATES_OUT_OF_ORDER = "dates_out_of_order"  # the target date is before the start date


@dataclass(frozen=True)
class Refusal:
    """A rule that a set of commitment values breaks, and the field it belongs beside."""

    rule: str
    field: str


def check_values(values: CommitmentValues, domain: ChangeDomain | None,
                 current: Commitment | None = None,
                 expected_version: int | None = None) -> list[Refusal]:
    """Every rule that `values` break, in the order the form reports them; nothing read from
    the database. `domain` is the change domain of `values` (None: there is none),
    `current` the commitment they would change (None: a new one), `expected_version` the
    version the person started from (None: not checked). The form (create, update) and the
    spreadsheet import both ask this, and each words the answer for its own page."""
    refusals = []
    if current is not None and expected_version is not None and expected_version != current.version:
        refusals.append(Refusal(STALE_VERSION, "version"))
    if domain is None:
        refusals.append(Refusal(UNKNOWN_DOMAIN, "domain"))
    elif not domain.is_active and (current is None or current.domain_id != domain.id):
        refusals.append(Refusal(RETIRED_DOMAIN, "domain"))
    if values.start_date and values.target_date and values.target_date < values.start_date:
        refusals.append(Refusal(DATES_OUT_OF_ORDER, "target_date"))
    return refusals


def _checked(values: CommitmentValues, current: Commitment | None = None,
             expected_version: int | None = None) -> ChangeDomain:
    """The change domain of `values`, once they keep every rule; raises the first rule they
    break, as the form shows it."""
    domain = db.session.get(ChangeDomain, values.domain_id)
    for refusal in check_values(values, domain, current, expected_version):
        if refusal.rule == STALE_VERSION:
            raise EditConflict(current)
        if refusal.rule == UNKNOWN_DOMAIN:
            raise CommitmentError(_("Choose a change domain from the list."), refusal.field)
        if refusal.rule == RETIRED_DOMAIN:
            raise CommitmentError(_("“%(name)s” has been retired: choose another change domain.",
                                    name=domain.name), refusal.field)
        raise CommitmentError(_("The target date must be on or after the start date."),
                              refusal.field)
    check_printable({"title": values.title, "description": values.description}, CommitmentError)
    return domain


# --- creating and changing ----------------------------------------------------------------

Events = list[tuple[Commitment, dict]]


def create(actor, organisation: Organisation, values: CommitmentValues, *,
           events: Events | None = None) -> Commitment:
    """A new draft commitment. With `events`, its audit event (commitment, changes) is added
    to that list instead of being written, and nothing is flushed: the spreadsheet import
    flushes once and writes all of its events in one INSERT."""
    permissions.require(permissions.can_create_commitment(actor, organisation),
                        _("Only members of an approved organisation can add its commitments."))
    _checked(values)
    commitment = Commitment(organisation=organisation, created_by_id=actor.id,
                            status=CommitmentStatus.DRAFT, **values.as_dict())
    db.session.add(commitment)
    changes = {k: [None, v] for k, v in values.as_dict().items() if v not in (None, "")}
    if events is not None:
        events.append((commitment, changes))
        return commitment
    db.session.flush()
    record(actor, "commitment.created", commitment, changes)
    return commitment


def update(actor, commitment: Commitment, values: CommitmentValues,
           expected_version: int | None, *, events: Events | None = None) -> Commitment:
    """Change a commitment's values. With `events`, as for `create`."""
    permissions.require(permissions.can_edit_commitment(actor, commitment))
    old_domain = commitment.domain.name if commitment.domain else None
    domain = _checked(values, commitment, expected_version)
    changes = audit.apply_changes(commitment, values.as_dict())
    if "domain_id" in changes:  # people read names, not ids
        del changes["domain_id"]
        changes["domain"] = [old_domain, domain.name]
    if not changes:
        return commitment
    if events is not None:
        events.append((commitment, changes))
        return commitment
    db.session.flush()
    record(actor, "commitment.updated", commitment, changes)
    return commitment


def publish(actor, commitment: Commitment) -> Commitment:
    permissions.require(permissions.can_publish_commitment(actor, commitment))
    if commitment.is_public:
        raise CommitmentError(_("This commitment is already public."), status=409)
    commitment.status = CommitmentStatus.PUBLISHED
    commitment.published_at = utcnow()
    db.session.flush()
    record(actor, "commitment.published", commitment,
           {"status": [CommitmentStatus.DRAFT, CommitmentStatus.PUBLISHED]})
    return commitment


def retire(actor, commitment: Commitment, reason: str) -> Commitment:
    permissions.require(permissions.can_retire_commitment(actor, commitment))
    if commitment.status == CommitmentStatus.DRAFT:
        raise CommitmentError(_("A draft is not public: delete it instead of retiring it."),
                              status=409)
    if not (reason or "").strip():
        raise CommitmentError(_("Give a reason: it is shown with the commitment."), "reason")
    changes = audit.apply_changes(commitment, {
        "status": CommitmentStatus.RETIRED, "retired_at": utcnow(), "retired_reason": reason.strip(),
    })
    db.session.flush()
    record(actor, "commitment.retired", commitment, changes)
    return commitment


def delete_draft(actor, commitment: Commitment) -> None:
    permissions.require(permissions.can_edit_commitment(actor, commitment))
    if commitment.is_public:
        raise CommitmentError(_("Only drafts can be deleted; public commitments are retired."),
                              status=409)
    record(actor, "commitment.draft_deleted", commitment, {"title": [commitment.title, None]})
    db.session.delete(commitment)
    db.session.flush()


# --- milestones -------------------------------------------------------------------------

def add_milestone(actor, commitment: Commitment, title: str, due_date: date | None) -> Milestone:
    permissions.require(permissions.can_edit_commitment(actor, commitment))
    if not (title or "").strip():
        raise CommitmentError(_("Enter the milestone."), "milestone_title")
    check_printable({"milestone_title": title}, CommitmentError)
    position = max((m.position for m in commitment.milestones), default=0) + 1
    milestone = Milestone(commitment=commitment, title=title.strip(), due_date=due_date,
                          position=position)
    db.session.add(milestone)
    db.session.flush()
    record(actor, "commitment.milestone_added", commitment,
           {"milestone": [None, milestone.title], "due_date": [None, due_date]})
    return milestone


def _milestone_of(commitment: Commitment, milestone_id: int) -> Milestone:
    milestone = db.session.get(Milestone, milestone_id)
    if milestone is None or milestone.commitment_id != commitment.id:
        raise CommitmentError(_("That milestone is not part of this commitment."), status=404)
    return milestone


def set_milestone_done(actor, commitment: Commitment, milestone_id: int,
                       done_date: date | None) -> Milestone:
    permissions.require(permissions.can_edit_commitment(actor, commitment))
    milestone = _milestone_of(commitment, milestone_id)
    before = milestone.done_date
    milestone.done_date = done_date
    db.session.flush()
    record(actor, "commitment.milestone_done" if done_date else "commitment.milestone_reopened",
           commitment, {"milestone": milestone.title, "done_date": [before, done_date]})
    return milestone


def delete_milestone(actor, commitment: Commitment, milestone_id: int) -> None:
    permissions.require(permissions.can_edit_commitment(actor, commitment))
    milestone = _milestone_of(commitment, milestone_id)
    record(actor, "commitment.milestone_removed", commitment, {"milestone": [milestone.title, None]})
    db.session.delete(milestone)
    db.session.flush()


def active_domains(include_id: int | None = None) -> list[ChangeDomain]:
    domains = list(db.session.scalars(ChangeDomain.ordered()))
    return [d for d in domains if d.is_active or d.id == include_id]
