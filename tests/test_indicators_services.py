"""Indicators on commitments, at the service level: attaching (catalogue, own, both,
neither, duplicates), baselines and targets, measurements and their rules, permissions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from charter.commitments import indicators as ind
from charter.commitments.indicator_forms import quarter_choices
from charter.commitments.services import CommitmentError
from charter.extensions import db
from charter.models import (
    AuditEvent,
    CommitmentIndicator,
    CommitmentStatus,
    Direction,
    Indicator,
    Measurement,
)
from charter.permissions import PermissionDenied
from charter.readers import ReadError, read_decimal, read_quarter
from charter.rules import EditConflict
from tests.access.indicators import catalogue_indicator
from tests.access.indicators import commitment as make_commitment


@pytest.fixture
def c(world):
    return make_commitment(world)


@pytest.fixture
def mhs96(world):
    return catalogue_indicator()


def _events(commitment, action=None):
    query = select(AuditEvent).where(AuditEvent.object_type == "Commitment",
                                     AuditEvent.object_id == commitment.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query.order_by(AuditEvent.id)))


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _own(**kw):
    values = {"name": "Debriefs held within 72 hours", "unit": "%",
              "direction": Direction.HIGHER_IS_BETTER, "definition": "Share of incidents.",
              "reference": ""}
    values.update(kw)
    return ind.OwnIndicator(**values)


def _attach(world, c, *, catalogue=None, own=None, role="editor", **targets):
    return ind.attach_indicator(world.user(role), c, catalogue_id=catalogue.id if catalogue else None,
                                own=own, targets=ind.Targets(**targets))


# --- attaching ---------------------------------------------------------------------------

def test_a_member_attaches_a_catalogue_indicator_with_baseline_and_target(world, c, mhs96):
    ci = _attach(world, c, catalogue=mhs96, baseline_value=Decimal("12.5"),
                 baseline_date=date(2025, 3, 31), target_value=Decimal(8), target_date=date(2027, 3, 31))
    assert ci.indicator is mhs96 and ci.commitment is c
    assert (ci.baseline_value, ci.baseline_date) == (Decimal("12.5"), date(2025, 3, 31))
    assert (ci.target_value, ci.target_date) == (Decimal(8), date(2027, 3, 31))
    [event] = _events(c, "commitment.indicator_attached")
    assert event.changes["indicator"] == [None, mhs96.name]
    assert event.changes["baseline_value"] == [None, "12.5"]
    assert event.changes["target_date"] == [None, "2027-03-31"]
    assert event.actor_id == world.user("editor").id
    assert _count(Indicator) == 1  # no copy of the catalogue indicator


def test_a_member_defines_the_organisations_own_indicator(world, c):
    ci = _attach(world, c, own=_own(name="Ward débriefs 🌿 — 病房"), role="lead", target_value=Decimal(90))
    indicator = ci.indicator
    assert indicator.organisation_id == world.org.id and not indicator.in_catalogue
    assert indicator.name == "Ward débriefs 🌿 — 病房"
    assert indicator.created_by_id == world.user("lead").id
    assert indicator.direction == Direction.HIGHER_IS_BETTER
    assert _events(c, "commitment.indicator_attached")[0].changes["source"] == "own"


def test_catalogue_and_own_together_are_refused(world, c, mhs96):
    with pytest.raises(CommitmentError) as exc:
        _attach(world, c, catalogue=mhs96, own=_own())
    assert "not both" in exc.value.message and exc.value.field == "catalogue_indicator"
    assert _count(CommitmentIndicator) == 0 and _count(Indicator) == 1


def test_neither_catalogue_nor_own_is_refused(world, c):
    with pytest.raises(CommitmentError) as exc:
        _attach(world, c, own=ind.OwnIndicator(name="  ", unit=""))
    assert "Choose an indicator from the catalogue, or define your own" in exc.value.message
    assert _count(CommitmentIndicator) == 0


def test_only_active_catalogue_indicators_can_be_attached(world, c, mhs96):
    retired = catalogue_indicator("Old measure", is_active=False)
    someone_elses = Indicator(name="Theirs", unit="%", direction=Direction.HIGHER_IS_BETTER,
                              organisation_id=world.other_org.id)
    db.session.add(someone_elses)
    db.session.flush()
    for bad in (retired, someone_elses):
        with pytest.raises(CommitmentError) as exc:
            _attach(world, c, catalogue=bad)
        assert exc.value.message == "Choose an indicator from the catalogue list."
    with pytest.raises(CommitmentError):
        ind.attach_indicator(world.user("editor"), c, catalogue_id=999999, own=None, targets=ind.Targets())
    assert ind.attachable_catalogue() == [mhs96]


def test_the_same_indicator_attached_twice_is_refused(world, c, mhs96):
    _attach(world, c, catalogue=mhs96)
    with pytest.raises(CommitmentError) as exc:
        _attach(world, c, catalogue=mhs96)
    assert "already attached to this commitment" in exc.value.message
    assert _count(CommitmentIndicator) == 1


def test_the_database_refuses_a_duplicate_attachment_too(world, c, mhs96):
    _attach(world, c, catalogue=mhs96)
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(insert(CommitmentIndicator).values(commitment_id=c.id, indicator_id=mhs96.id))
    db.session.rollback()


def test_an_own_indicator_with_the_name_of_an_attached_one_is_refused(world, c):
    _attach(world, c, own=_own(name="Debriefs"))
    with pytest.raises(CommitmentError) as exc:
        _attach(world, c, own=_own(name="DEBRIEFS"))
    assert exc.value.field == "name"


@pytest.mark.parametrize(("own", "field"), [
    (ind.OwnIndicator(unit="%", direction=Direction.HIGHER_IS_BETTER), "name"),
    (ind.OwnIndicator(name="Debriefs", direction=Direction.HIGHER_IS_BETTER), "unit"),
    (ind.OwnIndicator(name="Debriefs", unit="%"), "direction"),
    (ind.OwnIndicator(name="x" * 201, unit="%", direction=Direction.HIGHER_IS_BETTER), "name"),
    (ind.OwnIndicator(name="Debriefs", unit="u" * 81, direction=Direction.HIGHER_IS_BETTER), "unit"),
])
def test_an_own_indicator_needs_a_name_unit_and_direction(world, c, own, field):
    with pytest.raises(CommitmentError) as exc:
        _attach(world, c, own=own)
    assert exc.value.field == field
    assert _count(Indicator) == 0


@pytest.mark.parametrize("role", ["other_editor", "other_lead", "coordinator", "admin", "public"])
def test_only_members_of_the_lead_organisation_attach_indicators(world, c, mhs96, role):
    with pytest.raises(PermissionDenied):
        _attach(world, c, catalogue=mhs96, role=role)
    assert _count(CommitmentIndicator) == 0


def test_a_retired_commitment_takes_no_new_indicators(world, c, mhs96):
    c.status = CommitmentStatus.RETIRED
    with pytest.raises(PermissionDenied):
        _attach(world, c, catalogue=mhs96, role="lead")


# --- baseline and target --------------------------------------------------------------------

@pytest.mark.parametrize(("targets", "field", "words"), [
    ({"baseline_date": date(2025, 1, 1)}, "baseline_value", "Enter the baseline value"),
    ({"target_date": date(2027, 1, 1)}, "target_value", "Enter the target value"),
    ({"baseline_value": Decimal(5), "baseline_date": date(2026, 1, 1),
      "target_value": Decimal(2), "target_date": date(2025, 12, 31)}, "target_date",
     "on or after the baseline date"),
    ({"baseline_value": Decimal(-3)}, "baseline_value", "cannot be negative"),
    ({"target_value": Decimal("1E+12")}, "target_value", "smaller than one trillion"),
    ({"target_value": Decimal("0.1234567")}, "target_value", "six decimal places"),
])
def test_baseline_and_target_rules(world, c, mhs96, targets, field, words):
    with pytest.raises(CommitmentError) as exc:
        _attach(world, c, catalogue=mhs96, **targets)
    assert exc.value.field == field
    assert words in exc.value.message
    assert _count(CommitmentIndicator) == 0


def test_each_of_baseline_and_target_is_optional_and_a_value_needs_no_date(world, c, mhs96):
    ci = _attach(world, c, catalogue=mhs96, target_value=Decimal(0))
    assert ci.baseline_value is None and ci.target_value == 0 and ci.target_date is None


def test_negative_values_are_allowed_when_the_unit_is_signed(world, c):
    ci = _attach(world, c, own=_own(name="Change in engagement", unit="± points"),
                 baseline_value=Decimal(-4), target_value=Decimal(2))
    assert ci.baseline_value == Decimal(-4)


@pytest.mark.parametrize(("unit", "signed"), [
    ("%", False), ("per 1,000 occupied bed days", False), ("people", False), ("score", False),
    ("± points", True), ("+/- percentage points", True), ("net change", True), ("Change in %", True),
    ("difference from baseline", True), ("signed score", True), ("network members", False),
])
def test_which_units_allow_negative_values(unit, signed):
    assert ind.unit_allows_negative(unit) is signed


def test_baseline_and_target_are_edited_with_an_audit_of_what_changed(world, c, mhs96):
    ci = _attach(world, c, catalogue=mhs96, baseline_value=Decimal(12))
    token = ind.state_token(ci)
    ind.update_targets(world.user("lead"), c, ci.id,
                       ind.Targets(baseline_value=Decimal("11.5"), target_value=Decimal(8),
                                   target_date=date(2027, 3, 31)), expected_state=token)
    assert (ci.baseline_value, ci.target_value) == (Decimal("11.5"), Decimal(8))
    [event] = _events(c, "commitment.indicator_updated")
    assert event.changes == {"indicator": mhs96.name, "baseline_value": ["12", "11.5"],
                             "target_value": [None, "8"], "target_date": [None, "2027-03-31"]}


def test_a_stale_edit_of_baseline_and_target_is_a_conflict(world, c, mhs96):
    ci = _attach(world, c, catalogue=mhs96, baseline_value=Decimal(12))
    stale = ind.state_token(ci)
    ind.update_targets(world.user("lead"), c, ci.id, ind.Targets(baseline_value=Decimal(13)),
                       expected_state=stale)
    with pytest.raises(EditConflict):
        ind.update_targets(world.user("editor"), c, ci.id, ind.Targets(baseline_value=Decimal(14)),
                           expected_state=stale)
    assert ci.baseline_value == Decimal(13)


def test_the_indicator_of_another_commitment_cannot_be_edited_through_this_one(world, c, mhs96):
    other = make_commitment(world)
    theirs = _attach(world, other, catalogue=mhs96)
    with pytest.raises(CommitmentError) as exc:
        ind.update_targets(world.user("lead"), c, theirs.id, ind.Targets(baseline_value=Decimal(1)))
    assert exc.value.status == 404
    assert theirs.baseline_value is None


def test_an_indicator_without_measurements_is_removed_and_an_own_one_deleted(world, c, mhs96):
    from_catalogue = _attach(world, c, catalogue=mhs96)
    own = _attach(world, c, own=_own())
    own_indicator_id = own.indicator_id
    ind.remove_indicator(world.user("editor"), c, from_catalogue.id)
    ind.remove_indicator(world.user("editor"), c, own.id)
    assert _count(CommitmentIndicator) == 0
    assert db.session.get(Indicator, mhs96.id) is not None  # the catalogue keeps its own
    assert db.session.get(Indicator, own_indicator_id) is None
    assert len(_events(c, "commitment.indicator_removed")) == 2


def test_an_indicator_with_measurements_cannot_be_removed(world, c, mhs96):
    ci = _attach(world, c, catalogue=mhs96)
    ind.add_measurement(world.user("editor"), c, ci.id, ind.MeasurementValues(
        date(2026, 1, 1), date(2026, 3, 31), Decimal(9)))
    with pytest.raises(CommitmentError) as exc:
        ind.remove_indicator(world.user("editor"), c, ci.id)
    assert exc.value.status == 409 and "has measurements" in exc.value.message
    assert _count(CommitmentIndicator) == 1


# --- measurements -----------------------------------------------------------------------------

@pytest.fixture
def ci(world, c, mhs96):
    return _attach(world, c, catalogue=mhs96, baseline_value=Decimal(12))


def _measure(world, c, ci_id, start=date(2026, 1, 1), end=date(2026, 3, 31), value=Decimal("9.5"),
             note="", role="editor"):
    return ind.add_measurement(world.user(role), c, ci_id, ind.MeasurementValues(start, end, value, note))


def test_a_measurement_is_recorded_with_its_period_value_note_and_audit(world, c, ci):
    m = _measure(world, c, ci.id, note="Ward 3 closed for refurbishment in February.")
    assert (m.period_start, m.period_end, m.value) == (date(2026, 1, 1), date(2026, 3, 31), Decimal("9.5"))
    assert m.recorded_by_id == world.user("editor").id
    assert m.note == "Ward 3 closed for refurbishment in February."
    [event] = _events(c, "commitment.measurement_added")
    assert event.changes == {"indicator": ci.indicator.name, "period": [None, "2026-01-01 – 2026-03-31"],
                             "value": [None, "9.5"]}


@pytest.mark.parametrize(("kw", "field", "words"), [
    ({"start": None}, "period_start", "first day"),
    ({"end": None}, "period_end", "last day"),
    ({"start": date(2026, 4, 1), "end": date(2026, 3, 31)}, "period_end", "on or after its start"),
    ({"value": None}, "value", "Enter the value"),
    ({"value": Decimal("-1")}, "value", "cannot be negative"),
    ({"note": "n" * 1001}, "note", "1000 characters"),
])
def test_measurement_rules(world, c, ci, kw, field, words):
    with pytest.raises(CommitmentError) as exc:
        _measure(world, c, ci.id, **kw)
    assert exc.value.field == field and words in exc.value.message
    assert _count(Measurement) == 0


def test_negative_values_are_refused_for_counts_rates_and_percentages_saying_why(world, c):
    for unit in ("%", "per 1,000 occupied bed days", "people"):
        ci = _attach(world, c, own=_own(name=f"Measure in {unit}", unit=unit))
        with pytest.raises(CommitmentError) as exc:
            _measure(world, c, ci.id, value=Decimal("-0.5"))
        assert "cannot go below zero" in exc.value.message and f"“{unit}”" in exc.value.message
    signed = _attach(world, c, own=_own(name="Net change in staff", unit="net change in people"))
    assert _measure(world, c, signed.id, value=Decimal(-3)).value == Decimal(-3)


def test_the_same_period_twice_is_refused(world, c, ci):
    _measure(world, c, ci.id)
    with pytest.raises(CommitmentError) as exc:
        _measure(world, c, ci.id, value=Decimal(1))
    assert "already a measurement for 2026-01-01 to 2026-03-31" in exc.value.message
    assert _count(Measurement) == 1
    # Another period, or the same period of another indicator, is fine.
    _measure(world, c, ci.id, start=date(2026, 4, 1), end=date(2026, 6, 30))
    assert _count(Measurement) == 2


def test_the_database_has_the_last_word_on_duplicate_periods(world, c, ci):
    """Two people saving the same period at once: the second gets the message, not a 500."""
    assert ci.measurements == []  # loaded now, so the service's own check cannot see the row below
    db.session.execute(insert(Measurement).values(
        commitment_indicator_id=ci.id, period_start=date(2026, 1, 1), period_end=date(2026, 3, 31),
        value=Decimal(4), note=""))
    with pytest.raises(CommitmentError) as exc:
        _measure(world, c, ci.id)
    assert "already a measurement" in exc.value.message
    db.session.rollback()


def test_a_measurement_for_an_indicator_of_another_commitment_is_impossible(world, c, ci, mhs96):
    other = make_commitment(world)
    theirs = _attach(world, other, catalogue=mhs96)
    with pytest.raises(CommitmentError) as exc:
        _measure(world, c, theirs.id)
    assert exc.value.status == 404
    with pytest.raises(CommitmentError):
        _measure(world, other, ci.id)
    assert _count(Measurement) == 0


@pytest.mark.parametrize("role", ["other_editor", "coordinator", "admin", "public"])
def test_only_members_record_or_delete_measurements(world, c, ci, role):
    with pytest.raises(PermissionDenied):
        _measure(world, c, ci.id, role=role)
    m = _measure(world, c, ci.id)
    with pytest.raises(PermissionDenied):
        ind.delete_measurement(world.user(role), c, m.id)
    assert _count(Measurement) == 1


def test_a_measurement_is_deleted_with_an_audit_event(world, c, ci):
    m = _measure(world, c, ci.id)
    ind.delete_measurement(world.user("lead"), c, m.id)
    assert _count(Measurement) == 0 and ci.measurements == []
    [event] = _events(c, "commitment.measurement_deleted")
    assert event.changes["value"] == ["9.5", None]


def test_a_measurement_of_another_commitment_cannot_be_deleted_through_this_one(world, c, ci, mhs96):
    other = make_commitment(world)
    theirs = _attach(world, other, catalogue=mhs96)
    m = _measure(world, other, theirs.id)
    with pytest.raises(CommitmentError) as exc:
        ind.delete_measurement(world.user("lead"), c, m.id)
    assert exc.value.status == 404
    assert _count(Measurement) == 1


# --- input shape: numbers and quarters ---------------------------------------------------------

@pytest.mark.parametrize(("text", "number"), [
    ("12", Decimal(12)), ("3.5", Decimal("3.5")), ("3,5", Decimal("3.5")), (" -2 ", Decimal(-2)),
    ("−2,25", Decimal("-2.25")), ("0,125", Decimal("0.125")), ("1,234.5", Decimal("1234.5")),
    ("1.234,5", Decimal("1234.5")), ("12 345", Decimal(12345)), ("1,234,567", Decimal(1234567)),
    (".5", Decimal("0.5")), ("", None), ("   ", None),
])
def test_numbers_are_read_as_people_type_them(text, number):
    assert read_decimal(text) == number


@pytest.mark.parametrize(("text", "words"), [
    ("abc", "Enter a number"), ("12..5", "Enter a number"), ("1e5", "Enter a number"),
    ("NaN", "Enter a number"), ("Infinity", "Enter a number"), ("12%", "without the unit"),
    ("12 people", "without the unit"), ("1,500", "thousands separator"),
    ("1" * 13, "smaller than one trillion"), ("0.1234567", "six decimal places"),
    ("9" * 41, "Enter a number"),
    ("<script>", "Enter a number"), ("١٢", "Enter a number"), ("１２", "Enter a number"),
])
def test_non_numbers_get_a_clear_message(text, words):
    with pytest.raises(ReadError) as exc:
        read_decimal(text)
    assert words in str(exc.value.message)


def test_quarters_fill_both_dates():
    def period(text):
        quarter = read_quarter(text)
        return quarter.start, quarter.end

    assert period("2026-Q3") == (date(2026, 7, 1), date(2026, 9, 30))
    assert period("2024-Q1") == (date(2024, 1, 1), date(2024, 3, 31))
    assert period("2026-Q4") == (date(2026, 10, 1), date(2026, 12, 31))
    assert read_quarter("") is None
    with pytest.raises(ReadError):
        read_quarter("2026-Q5")
    choices = [choice.value for choice in quarter_choices(date(2026, 8, 15))]
    assert choices[0] == "2026-Q3" and "2026-Q4" not in choices and choices[-1] == "2022-Q1"
