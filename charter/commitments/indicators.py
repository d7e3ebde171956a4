"""Indicators on commitments: attaching one (from the catalogue, or the organisation's
own), its baseline and target, and its measurements.

Every change checks `permissions.can_manage_commitment_indicators` on the commitment,
audits against the commitment (`services.record`, so it shows on the commitment's
timeline) and flushes; the route commits. An attached indicator or a measurement is
always looked up *within* the commitment the caller names, so an id belonging to another
commitment is refused as not found (status 404), whatever the form says.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from charter import permissions
from charter.commitments.services import CommitmentError, record
from charter.extensions import db
from charter.models import Commitment, CommitmentIndicator, Direction, Indicator, Measurement
from charter.rules import EditConflict
from charter.text import check_printable

NAME_MAX = 200
UNIT_MAX = 80
REFERENCE_MAX = 300
DEFINITION_MAX = 5000
NOTE_MAX = 1000
# The measurement columns are NUMERIC(18, 6).
MAX_ABS_VALUE = Decimal(10) ** 12
MAX_DECIMALS = 6

# Counts, rates and percentages cannot be negative; a unit says it can go below zero by
# carrying a sign (±, +/-) or one of these words.
_SIGNED_UNIT = re.compile(r"±|\+\s*/\s*[-−]|[-−]\s*/\s*\+|\b(signed|net|change|difference)\b",
                          re.IGNORECASE)


def unit_allows_negative(unit: str) -> bool:
    """Whether values in `unit` may be below zero (e.g. '± points', 'net change')."""
    return bool(_SIGNED_UNIT.search(unit or ""))


def number_text(value: Decimal | None) -> str | None:
    """A stored number as plain text for audit events: 12.500000 → '12.5'."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


@dataclass
class OwnIndicator:
    """An indicator the organisation defines for this commitment."""

    name: str = ""
    unit: str = ""
    direction: Direction | None = None
    definition: str = ""
    reference: str = ""

    def given(self) -> bool:
        return any((text or "").strip()
                   for text in (self.name, self.unit, self.definition, self.reference))


@dataclass
class Targets:
    baseline_value: Decimal | None = None
    baseline_date: date | None = None
    target_value: Decimal | None = None
    target_date: date | None = None

    def as_dict(self) -> dict:
        return {"baseline_value": self.baseline_value, "baseline_date": self.baseline_date,
                "target_value": self.target_value, "target_date": self.target_date}


@dataclass
class MeasurementValues:
    period_start: date | None
    period_end: date | None
    value: Decimal | None
    note: str = ""


# --- reading ----------------------------------------------------------------------------

def attachable_catalogue() -> list[Indicator]:
    """The active catalogue, in name order: what may newly be attached."""
    return list(db.session.scalars(
        select(Indicator).where(Indicator.organisation_id.is_(None), Indicator.is_active.is_(True))
        .order_by(Indicator.name, Indicator.id)
    ))


def indicator_of(commitment: Commitment, ci_id: int) -> CommitmentIndicator:
    """The attached indicator `ci_id` of this commitment; 404 if it belongs to another."""
    for ci in commitment.indicators:
        if ci.id == ci_id:
            return ci
    raise CommitmentError(_("That indicator is not part of this commitment."), status=404)


def measurement_of(commitment: Commitment, measurement_id: int) -> Measurement:
    for ci in commitment.indicators:
        for m in ci.measurements:
            if m.id == measurement_id:
                return m
    raise CommitmentError(_("That measurement is not part of this commitment."), status=404)


def state_token(ci: CommitmentIndicator) -> str:
    """A short fingerprint of the baseline and target as loaded into an edit form."""
    raw = "|".join(str(v) for v in (number_text(ci.baseline_value), ci.baseline_date,
                                     number_text(ci.target_value), ci.target_date))
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


# --- checks ------------------------------------------------------------------------------

def _require(actor, commitment: Commitment) -> None:
    permissions.require(
        permissions.can_manage_commitment_indicators(actor, commitment),
        _("Only members of the lead organisation can manage this commitment's indicators."),
    )


def _check_value(value: Decimal | None, unit: str, field: str) -> None:
    if value is None:
        return
    if not value.is_finite():
        raise CommitmentError(_("Enter a number, such as 12 or 3.5."), field)
    if abs(value) >= MAX_ABS_VALUE:
        raise CommitmentError(_("Enter a number smaller than one trillion."), field)
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_DECIMALS:
        raise CommitmentError(_("Use at most six decimal places."), field)
    if value < 0 and not unit_allows_negative(unit):
        raise CommitmentError(
            _("The value cannot be negative: “%(unit)s” counts or rates something, which "
              "cannot go below zero. If this indicator can be negative (a change or a net "
              "balance), its unit must say so, e.g. “± points”.", unit=unit),
            field,
        )


def _check_targets(targets: Targets, unit: str) -> None:
    for prefix, label in (("baseline", _("baseline")), ("target", _("target"))):
        value = getattr(targets, f"{prefix}_value")
        when = getattr(targets, f"{prefix}_date")
        if when is not None and value is None:
            raise CommitmentError(
                _("Enter the %(what)s value for the date you gave (or clear the date).", what=label),
                f"{prefix}_value")
        _check_value(value, unit, f"{prefix}_value")
    if (targets.baseline_date and targets.target_date
            and targets.target_date < targets.baseline_date):
        raise CommitmentError(_("The target date must be on or after the baseline date."),
                              "target_date")


def _check_own(own: OwnIndicator) -> OwnIndicator:
    name = (own.name or "").strip()
    unit = (own.unit or "").strip()
    if not name:
        raise CommitmentError(_("Enter a name for your indicator."), "name")
    if len(name) > NAME_MAX:
        raise CommitmentError(_("Use %(max)d characters or fewer.", max=NAME_MAX), "name")
    if not unit:
        raise CommitmentError(_("Enter the unit, such as “per 1,000 occupied bed days” or “%”."),
                              "unit")
    if len(unit) > UNIT_MAX:
        raise CommitmentError(_("Use %(max)d characters or fewer.", max=UNIT_MAX), "unit")
    if own.direction is None:
        raise CommitmentError(_("Say whether higher or lower is better."), "direction")
    if len(own.reference or "") > REFERENCE_MAX:
        raise CommitmentError(_("Use %(max)d characters or fewer.", max=REFERENCE_MAX), "reference")
    if len(own.definition or "") > DEFINITION_MAX:
        raise CommitmentError(_("Use %(max)d characters or fewer.", max=DEFINITION_MAX),
                              "definition")
    return OwnIndicator(name=name, unit=unit, direction=own.direction,
                        definition=(own.definition or "").strip(),
                        reference=(own.reference or "").strip())


def _flush_or(message: str, field: str | None) -> None:
    """Flush inside a savepoint; a unique constraint that fires becomes `message`
    (two people saving the same thing at once: the database has the last word)."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:
        raise CommitmentError(message, field, status=400) from exc


# --- attaching, editing, removing -----------------------------------------------------------

def attach_indicator(actor, commitment: Commitment, *, catalogue_id: int | None,
                     own: OwnIndicator | None, targets: Targets) -> CommitmentIndicator:
    """Attach a catalogue indicator or define the organisation's own: one or the other."""
    _require(actor, commitment)
    own_given = own is not None and own.given()
    if catalogue_id and own_given:
        raise CommitmentError(_("Choose an indicator from the catalogue or define your own, "
                                "not both."), "catalogue_indicator")
    if not catalogue_id and not own_given:
        raise CommitmentError(_("Choose an indicator from the catalogue, or define your own "
                                "below."), "catalogue_indicator")
    if catalogue_id:
        indicator = db.session.get(Indicator, catalogue_id)
        if indicator is None or not indicator.in_catalogue or not indicator.is_active:
            raise CommitmentError(_("Choose an indicator from the catalogue list."),
                                  "catalogue_indicator")
        if any(ci.indicator_id == indicator.id for ci in commitment.indicators):
            raise CommitmentError(_("“%(name)s” is already attached to this commitment: change "
                                    "its baseline and target instead.", name=indicator.name),
                                  "catalogue_indicator")
        _check_targets(targets, indicator.unit)
    else:
        values = _check_own(own)
        folded = values.name.casefold()
        if any(ci.indicator.name.casefold() == folded for ci in commitment.indicators):
            raise CommitmentError(_("This commitment already has an indicator called “%(name)s”.",
                                    name=values.name), "name")
        _check_targets(targets, values.unit)
        indicator = Indicator(name=values.name, unit=values.unit, direction=values.direction,
                              definition=values.definition, reference=values.reference,
                              organisation_id=commitment.organisation_id, created_by_id=actor.id)
        db.session.add(indicator)
    ci = CommitmentIndicator(commitment=commitment, indicator=indicator, **targets.as_dict())
    db.session.add(ci)
    _flush_or(_("“%(name)s” is already attached to this commitment.", name=indicator.name),
              "catalogue_indicator" if catalogue_id else "name")
    changes = {"indicator": [None, indicator.name], "unit": indicator.unit,
               "source": "catalogue" if catalogue_id else "own"}
    for key, value in targets.as_dict().items():
        if value is not None:
            changes[key] = [None, number_text(value) if isinstance(value, Decimal) else value]
    record(actor, "commitment.indicator_attached", commitment, changes)
    return ci


def update_targets(actor, commitment: Commitment, ci_id: int, targets: Targets,
                   expected_state: str | None = None) -> CommitmentIndicator:
    """Change the baseline and target. With `expected_state` (from `state_token` when the
    form was loaded), a change someone else saved meanwhile raises EditConflict."""
    _require(actor, commitment)
    ci = indicator_of(commitment, ci_id)
    if expected_state is not None and expected_state != state_token(ci):
        raise EditConflict(ci)
    _check_targets(targets, ci.indicator.unit)
    new = targets.as_dict()
    changes = {}
    for key, value in new.items():
        old = getattr(ci, key)
        if isinstance(value, Decimal) or isinstance(old, Decimal):
            if (old is None) != (value is None) or (old is not None and old != value):
                changes[key] = [number_text(old), number_text(value)]
        elif old != value:
            changes[key] = [old, value]
        setattr(ci, key, value)
    if changes:
        db.session.flush()
        record(actor, "commitment.indicator_updated", commitment,
               {"indicator": ci.indicator.name, **changes})
    return ci


def remove_indicator(actor, commitment: Commitment, ci_id: int) -> None:
    """Detach an indicator that has no measurements (measurements are never thrown away
    with it). The organisation's own indicator goes too when nothing else uses it."""
    _require(actor, commitment)
    ci = indicator_of(commitment, ci_id)
    if ci.measurements:
        raise CommitmentError(
            _("“%(name)s” has measurements, so it stays: delete its measurements first if it "
              "was attached by mistake.", name=ci.indicator.name), status=409)
    indicator = ci.indicator
    record(actor, "commitment.indicator_removed", commitment, {"indicator": [indicator.name, None]})
    commitment.indicators.remove(ci)
    db.session.delete(ci)
    db.session.flush()
    if not indicator.in_catalogue:
        still_used = db.session.scalar(
            select(func.count()).select_from(CommitmentIndicator)
            .where(CommitmentIndicator.indicator_id == indicator.id))
        if not still_used:
            db.session.delete(indicator)
            db.session.flush()


# --- measurements ---------------------------------------------------------------------------

def add_measurement(actor, commitment: Commitment, ci_id: int,
                    values: MeasurementValues) -> Measurement:
    """Record a value for one period of an indicator attached to *this* commitment."""
    _require(actor, commitment)
    ci = indicator_of(commitment, ci_id)
    if values.period_start is None:
        raise CommitmentError(_("Enter the first day of the period, or choose a quarter."),
                              "period_start")
    if values.period_end is None:
        raise CommitmentError(_("Enter the last day of the period, or choose a quarter."),
                              "period_end")
    if values.period_end < values.period_start:
        raise CommitmentError(_("The end of the period must be on or after its start."),
                              "period_end")
    if values.value is None:
        raise CommitmentError(_("Enter the value for this period."), "value")
    _check_value(values.value, ci.indicator.unit, "value")
    note = (values.note or "").strip()
    if len(note) > NOTE_MAX:
        raise CommitmentError(_("Use %(max)d characters or fewer.", max=NOTE_MAX), "note")
    check_printable({"note": note}, CommitmentError)
    duplicate = _("There is already a measurement for %(start)s to %(end)s: delete it first if "
                  "it needs correcting.", start=values.period_start.isoformat(),
                  end=values.period_end.isoformat())
    if any(m.period_start == values.period_start and m.period_end == values.period_end
           for m in ci.measurements):
        raise CommitmentError(duplicate, "period_start")
    measurement = Measurement(commitment_indicator=ci, period_start=values.period_start,
                              period_end=values.period_end, value=values.value, note=note,
                              recorded_by_id=actor.id)
    db.session.add(measurement)
    _flush_or(duplicate, "period_start")
    record(actor, "commitment.measurement_added", commitment, {
        "indicator": ci.indicator.name,
        "period": [None, f"{values.period_start.isoformat()} – {values.period_end.isoformat()}"],
        "value": [None, number_text(values.value)],
    })
    return measurement


def delete_measurement(actor, commitment: Commitment, measurement_id: int) -> CommitmentIndicator:
    _require(actor, commitment)
    measurement = measurement_of(commitment, measurement_id)
    ci = measurement.commitment_indicator
    record(actor, "commitment.measurement_deleted", commitment, {
        "indicator": ci.indicator.name,
        "period": [f"{measurement.period_start.isoformat()} – {measurement.period_end.isoformat()}",
                   None],
        "value": [number_text(measurement.value), None],
    })
    ci.measurements.remove(measurement)
    db.session.delete(measurement)
    db.session.flush()
    return ci
