"""The indicator catalogue: rules for managing it (admins), what the public page reads,
and the seed list of real measures of restrictive practice and experience.

Catalogue indicators have no organisation (organisation_id is NULL); an organisation's
own indicators are managed with its commitments and only listed here. A retired
indicator stays on the commitments that use it but cannot be newly attached
(`attachable_indicators`, `is_attachable`). An indicator in use cannot be deleted.
Services flush; the request commits (charter.transaction).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from charter import audit, permissions, transaction
from charter.catalogue.domains import name_key, normalise_name, public_commitments_filter
from charter.extensions import db
from charter.models import Commitment, CommitmentIndicator, Direction, Indicator, Organisation
from charter.pagination import Page, paginate
from charter.rules import EditConflict, RuleError

NAME_MAX = 200
UNIT_MAX = 80
REFERENCE_MAX = 300
TEXT_MAX = 20000
OWN_PER_PAGE = 50


class CatalogueError(RuleError):
    """A rule refused the change; `field` names the form field the message belongs to."""


@dataclass
class IndicatorValues:
    name: str
    unit: str
    direction: Direction
    definition: str = ""
    reference: str = ""
    is_active: bool = True

    def cleaned(self) -> dict:
        return {
            "name": normalise_name(self.name),
            "definition": (self.definition or "").strip(),
            "unit": " ".join((self.unit or "").split()),
            "direction": self.direction,
            "reference": " ".join((self.reference or "").split()),
            "is_active": bool(self.is_active),
        }


FIELDS = ("name", "definition", "unit", "direction", "reference", "is_active")


def fingerprint(indicator: Indicator) -> str:
    """A short digest of the editable fields, carried by the edit form to detect that
    someone else saved the indicator in between (the table has no version column)."""
    state = {k: getattr(indicator, k) for k in FIELDS}
    state["direction"] = state["direction"].value if state["direction"] else None
    return hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()[:32]


def _require(actor) -> None:
    permissions.require(permissions.can_manage_indicator_catalogue(actor),
                        _("Only PROMISE Global administrators manage the indicator catalogue."))


def _same_name(name: str, exclude_id: int | None) -> Indicator | None:
    # The catalogue is small; compare in Python, where case folding knows every alphabet.
    key = name_key(name)
    rows = db.session.execute(
        select(Indicator.id, Indicator.name).where(Indicator.organisation_id.is_(None)))
    for indicator_id, existing in rows:
        if indicator_id != exclude_id and name_key(existing) == key:
            return db.session.get(Indicator, indicator_id)
    return None


def _duplicate_message(existing: Indicator) -> str:
    if existing.is_active:
        return _("The catalogue already has an indicator called “%(name)s”. Choose another name, "
                 "or edit that one.", name=existing.name)
    return _("The catalogue already has an indicator called “%(name)s” (retired). Restore it "
             "instead, or choose another name.", name=existing.name)


def _check(values: dict, exclude_id: int | None = None) -> None:
    if not values["name"]:
        raise CatalogueError(_("Enter the name of the indicator."), "name")
    if not values["unit"]:
        raise CatalogueError(_("Enter the unit, such as “per 1,000 occupied bed days” or “%”."), "unit")
    for key, limit in (("name", NAME_MAX), ("unit", UNIT_MAX), ("reference", REFERENCE_MAX),
                       ("definition", TEXT_MAX)):
        if len(values[key]) > limit:
            raise CatalogueError(_("Use %(max)d characters or fewer.", max=limit), key)
    if not isinstance(values["direction"], Direction):
        raise CatalogueError(_("Say whether higher or lower values are better."), "direction")
    clash = _same_name(values["name"], exclude_id)
    if clash is not None:
        raise CatalogueError(_duplicate_message(clash), "name")


def create_indicator(actor, values: IndicatorValues) -> Indicator:
    _require(actor)
    cleaned = values.cleaned()
    _check(cleaned)
    indicator = Indicator(organisation_id=None, created_by_id=getattr(actor, "id", None), **cleaned)
    db.session.add(indicator)
    db.session.flush()
    audit.record(actor, "indicator.created", indicator,
                 {k: [None, v] for k, v in cleaned.items() if v not in ("", None)})
    return indicator


def update_indicator(actor, indicator: Indicator, values: IndicatorValues,
                     loaded_fingerprint: str | None) -> Indicator:
    _require(actor)
    _catalogue_only(indicator)
    if loaded_fingerprint is not None and loaded_fingerprint != fingerprint(indicator):
        raise EditConflict(indicator)
    cleaned = values.cleaned()
    _check(cleaned, exclude_id=indicator.id)
    changes = audit.apply_changes(indicator, cleaned)
    if changes:
        db.session.flush()
        action = "indicator.updated"
        if set(changes) == {"is_active"}:
            action = "indicator.restored" if indicator.is_active else "indicator.retired"
        audit.record(actor, action, indicator, changes)
    return indicator


def _catalogue_only(indicator: Indicator) -> None:
    if not indicator.in_catalogue:
        raise CatalogueError(_("This is an organisation's own indicator: it is managed with that "
                               "organisation's commitment, not in the catalogue."), status=404)


def retire_indicator(actor, indicator: Indicator) -> Indicator:
    """Retired indicators stay on commitments that use them but cannot be newly attached."""
    _require(actor)
    _catalogue_only(indicator)
    if not indicator.is_active:
        raise CatalogueError(_("“%(name)s” is already retired.", name=indicator.name), status=409)
    indicator.is_active = False
    db.session.flush()
    audit.record(actor, "indicator.retired", indicator, {"is_active": [True, False]})
    return indicator


def restore_indicator(actor, indicator: Indicator) -> Indicator:
    _require(actor)
    _catalogue_only(indicator)
    if indicator.is_active:
        raise CatalogueError(_("“%(name)s” is already active.", name=indicator.name), status=409)
    indicator.is_active = True
    db.session.flush()
    audit.record(actor, "indicator.restored", indicator, {"is_active": [False, True]})
    return indicator


def delete_indicator(actor, indicator: Indicator) -> None:
    """Only an indicator that no commitment uses can be deleted."""
    _require(actor)
    _catalogue_only(indicator)
    used = usage_count(indicator)
    if used:
        raise CatalogueError(
            ngettext("“%(name)s” cannot be deleted: %(num)d commitment uses it. Retire it instead: "
                     "it stays on that commitment but cannot be newly attached.",
                     "“%(name)s” cannot be deleted: %(num)d commitments use it. Retire it instead: "
                     "it stays on those commitments but cannot be newly attached.",
                     used, name=indicator.name),
            status=409,
        )
    audit.record(actor, "indicator.deleted", indicator, {"name": [indicator.name, None]})
    name = indicator.name
    db.session.delete(indicator)
    # Attached to a commitment a moment ago: the foreign key refuses the deletion.
    with transaction.refusing_duplicates(lambda: CatalogueError(
            _("“%(name)s” was attached to a commitment just now, so it cannot be deleted. "
              "Retire it instead.", name=name), status=409)):
        db.session.flush()


# --- for the indicators on commitments ---------------------------------------------------

def is_attachable(indicator: Indicator) -> bool:
    """May this catalogue indicator be newly attached to a commitment? (Not once retired.)"""
    return indicator.in_catalogue and indicator.is_active


def attachable_indicators() -> list[Indicator]:
    """The active catalogue, in name order: what a commitment may newly attach."""
    return list(db.session.scalars(
        select(Indicator).where(Indicator.organisation_id.is_(None), Indicator.is_active)
        .order_by(Indicator.name, Indicator.id)))


# --- reading ----------------------------------------------------------------------------

def catalogue_indicator(indicator_id: int) -> Indicator | None:
    """A catalogue indicator by id (None for unknown ids and organisations' own ones)."""
    indicator = db.session.get(Indicator, indicator_id)
    if indicator is None or not indicator.in_catalogue:
        return None
    return indicator


def usage_count(indicator: Indicator) -> int:
    """Commitments this indicator is attached to, drafts included."""
    return db.session.scalar(
        select(func.count()).select_from(CommitmentIndicator)
        .where(CommitmentIndicator.indicator_id == indicator.id)
    ) or 0


def usage_counts() -> dict[int, int]:
    """Commitments per indicator, drafts included (what blocks deletion): one query."""
    rows = db.session.execute(
        select(CommitmentIndicator.indicator_id, func.count(func.distinct(CommitmentIndicator.commitment_id)))
        .group_by(CommitmentIndicator.indicator_id))
    return dict(rows.all())


def public_usage_counts() -> dict[int, int]:
    """Public commitments per indicator (what the public page says): one query."""
    rows = db.session.execute(
        select(CommitmentIndicator.indicator_id,
               func.count(func.distinct(CommitmentIndicator.commitment_id)))
        .join(Commitment, Commitment.id == CommitmentIndicator.commitment_id)
        .join(Organisation, Organisation.id == Commitment.organisation_id)
        .where(*public_commitments_filter())
        .group_by(CommitmentIndicator.indicator_id))
    return dict(rows.all())


def catalogue(*, include_retired: bool) -> list[Indicator]:
    query = select(Indicator).where(Indicator.organisation_id.is_(None)).order_by(
        Indicator.name, Indicator.id)
    if not include_retired:
        query = query.where(Indicator.is_active)
    return list(db.session.scalars(query))


def public_catalogue() -> tuple[list[Indicator], dict[int, int]]:
    """The /indicators page: active catalogue indicators and their public use (two queries)."""
    return catalogue(include_retired=False), public_usage_counts()


def own_indicators_page(page: int, per_page: int = OWN_PER_PAGE) -> Page:
    """Organisations' own indicators, with their organisation (read-only list for admins)."""
    query = (
        select(Indicator).join(Indicator.organisation)
        .where(Indicator.organisation_id.is_not(None))
        .options(joinedload(Indicator.organisation).joinedload(Organisation.site))
        .order_by(Organisation.name, Indicator.name, Indicator.id)
    )
    return paginate(query, page, per_page)


# --- the seed list ------------------------------------------------------------------------

MHSDS = "NHS Mental Health Services Data Set"

SEED_INDICATORS: list[dict] = [
    {
        "name": "Restrictive interventions per 1,000 occupied bed days",
        "definition": "All restrictive interventions (physical, chemical and mechanical restraint, "
                      "seclusion and segregation) used on inpatient wards, divided by the occupied "
                      "bed days in the period and multiplied by 1,000, so that wards of different "
                      "sizes can be compared.",
        "unit": "per 1,000 occupied bed days",
        "direction": Direction.LOWER_IS_BETTER,
        "reference": f"{MHSDS}, measure MHS96",
    },
    {
        "name": "People subject to restrictive intervention",
        "definition": "The number of different people who were subject to at least one "
                      "restrictive intervention in the period; read it with the total number of "
                      "interventions to see whether use is concentrated on a few people.",
        "unit": "people",
        "direction": Direction.LOWER_IS_BETTER,
        "reference": f"{MHSDS}, measure MHS76",
    },
    {
        "name": "Prone restraints",
        "definition": "Physical restraints in which the person was held face down, whatever the "
                      "duration, counted per calendar month. National guidance asks services to "
                      "avoid prone restraint altogether.",
        "unit": "restraints per month",
        "direction": Direction.LOWER_IS_BETTER,
        "reference": "Department of Health, Positive and Proactive Care (2014); "
                     f"{MHSDS}, restrictive intervention type: prone restraint",
    },
    {
        "name": "Seclusion episodes",
        "definition": "Episodes in which a person was supervised in confinement and prevented "
                      "from leaving, in line with the Mental Health Act Code of Practice, counted "
                      "in the period.",
        "unit": "episodes",
        "direction": Direction.LOWER_IS_BETTER,
        "reference": f"Mental Health Act 1983 Code of Practice, chapter 26; {MHSDS}, "
                     "restrictive intervention type: seclusion",
    },
    {
        "name": "Rapid tranquillisation per 1,000 occupied bed days",
        "definition": "Doses of medicine given, usually by injection, to calm a person quickly "
                      "when other approaches have not worked, divided by occupied bed days and "
                      "multiplied by 1,000.",
        "unit": "per 1,000 occupied bed days",
        "direction": Direction.LOWER_IS_BETTER,
        "reference": "NICE guideline NG10, Violence and aggression (2015); "
                     f"{MHSDS}, restrictive intervention type: chemical restraint",
    },
    {
        "name": "Incidents with a post-incident review held with the patient",
        "definition": "The share of incidents involving a restrictive intervention after which a "
                      "debrief was held with the person it was used on, soon after the event, "
                      "to understand what happened and what would help next time.",
        "unit": "%",
        "direction": Direction.HIGHER_IS_BETTER,
        "reference": "NICE guideline NG10, Violence and aggression (2015): post-incident debrief",
    },
    {
        "name": "Overall patient satisfaction",
        "definition": "The share of people using the service who rate their overall experience "
                      "as good or very good in the service's experience survey.",
        "unit": "%",
        "direction": Direction.HIGHER_IS_BETTER,
        "reference": "NHS Friends and Family Test; CQC Community Mental Health Survey",
    },
    {
        "name": "Staff engagement score",
        "definition": "The combined score of the staff survey questions on motivation, "
                      "involvement and advocacy, on a scale from 0 to 10.",
        "unit": "score (0–10)",
        "direction": Direction.HIGHER_IS_BETTER,
        "reference": "NHS Staff Survey, staff engagement theme",
    },
    {
        "name": "Mechanical restraint episodes",
        "definition": "Episodes in which a device (such as a belt, cuffs or a restraint chair) "
                      "was used to prevent or limit a person's movement, counted in the period.",
        "unit": "episodes",
        "direction": Direction.LOWER_IS_BETTER,
        "reference": f"{MHSDS}, restrictive intervention type: mechanical restraint",
    },
    {
        "name": "Use of police powers under section 136 per month",
        "definition": "Times the police removed a person to a place of safety under section 136 "
                      "of the Mental Health Act in the area, per calendar month; fewer means crises "
                      "are met earlier by health and care services.",
        "unit": "detentions per month",
        "direction": Direction.LOWER_IS_BETTER,
        "reference": "Mental Health Act 1983, section 136; Home Office, Police powers and "
                     "procedures statistics",
    },
    {
        "name": "Average length of seclusion",
        "definition": "The mean duration of seclusion episodes that ended in the period, from "
                      "the start of seclusion to its documented end.",
        "unit": "hours",
        "direction": Direction.LOWER_IS_BETTER,
        "reference": "Mental Health Act 1983 Code of Practice, chapter 26 (seclusion reviews)",
    },
    {
        "name": "Segregation episodes",
        "definition": "Episodes of long-term segregation, in which a person is kept apart from "
                      "others on the ward for an extended time to reduce a sustained risk, counted "
                      "in the period.",
        "unit": "episodes",
        "direction": Direction.LOWER_IS_BETTER,
        "reference": "Mental Health Act 1983 Code of Practice, chapter 26 (long-term segregation)",
    },
    {
        "name": "Assaults on staff per 1,000 occupied bed days",
        "definition": "Reported physical assaults on staff by people using the service, divided "
                      "by occupied bed days and multiplied by 1,000: fewer restrictive practices "
                      "should go with fewer assaults, not more.",
        "unit": "per 1,000 occupied bed days",
        "direction": Direction.LOWER_IS_BETTER,
        "reference": "NHS England, Violence Prevention and Reduction Standard (2020)",
    },
    {
        "name": "Staff trained in de-escalation and restraint reduction",
        "definition": "The share of clinical staff whose training in de-escalation and "
                      "restraint reduction is current, under a programme certified against the "
                      "Restraint Reduction Network Training Standards.",
        "unit": "%",
        "direction": Direction.HIGHER_IS_BETTER,
        "reference": "Restraint Reduction Network Training Standards (2019)",
    },
]


def seed_catalogue(actor=None) -> int:
    """Add the SEED_INDICATORS not in the catalogue yet (matched by name, ignoring case);
    returns how many were added. `actor` None is the system (the demo loader)."""
    if actor is not None:
        _require(actor)
    present = {name_key(name) for name in db.session.scalars(
        select(Indicator.name).where(Indicator.organisation_id.is_(None)))}
    added = 0
    for seed in SEED_INDICATORS:
        if name_key(seed["name"]) in present:
            continue
        values = IndicatorValues(**seed).cleaned()
        indicator = Indicator(organisation_id=None, created_by_id=getattr(actor, "id", None), **values)
        db.session.add(indicator)
        db.session.flush()
        audit.record(actor, "indicator.created", indicator,
                     {k: [None, v] for k, v in values.items() if v not in ("", None)})
        present.add(name_key(seed["name"]))
        added += 1
    return added
