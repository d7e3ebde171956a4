"""Forms for indicators on commitments and their measurements (input shape only; the
rules — one or the other, negative values, dates in order, duplicates — live in
charter/commitments/indicators.py)."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectChoice, SelectField
from wtforms.validators import DataRequired, InputRequired, Optional

from charter import forms_common as fc
from charter import readers
from charter.commitments import indicators
from charter.models import Direction


class NumberField(fc.DecimalField):
    """A text box for a number as people type it (charter.readers.read_decimal): '12', '3.5',
    '3,5', '-2', '1,234.5'; '1,500' alone is refused as ambiguous. `.data` is a Decimal."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, max_abs=indicators.MAX_ABS_VALUE,
                         places=indicators.MAX_DECIMALS, **kwargs)


class TargetsMixin:
    baseline_value = NumberField(_l("Baseline value"),
                                 description=_l("Where you started. Decimals with . or , are fine."))
    baseline_date = fc.DateField(_l("Baseline date"), description=_l("When the baseline was measured."))
    target_value = NumberField(_l("Target value"), description=_l("Where you aim to be."))
    target_date = fc.DateField(
        _l("Target date"), description=_l("When you aim to reach it. On or after the baseline date."))

    def targets(self) -> indicators.Targets:
        return indicators.Targets(
            baseline_value=self.baseline_value.data, baseline_date=self.baseline_date.data,
            target_value=self.target_value.data, target_date=self.target_date.data,
        )


class AttachIndicatorForm(TargetsMixin, FlaskForm):
    catalogue_indicator = SelectField(
        _l("Indicator from the catalogue"), validate_choice=False,
        description=_l("Choose one, or leave this empty and define your own below."),
    )
    name = fc.text(_l("Name"), max_length=indicators.NAME_MAX, required=False)
    definition = fc.long_text(_l("Definition"), max_length=indicators.DEFINITION_MAX, required=False,
                              rows=3, description=_l("What is counted, and how."))
    unit = fc.text(_l("Unit"), max_length=indicators.UNIT_MAX, required=False,
                   description=_l("E.g. “per 1,000 occupied bed days”, “%”, “people”. If values can "
                                  "be below zero (a change or a net balance), say so: “± points”."))
    direction = RadioField(_l("Which way is better?"), choices=fc.enum_choices(Direction),
                           validators=[Optional()], validate_choice=False)
    reference = fc.text(_l("Reference"), max_length=indicators.REFERENCE_MAX, required=False,
                        description=_l("Optional: where the measure comes from, e.g. a national "
                                       "dataset code."))

    def __init__(self, *args, catalogue=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.catalogue_indicator.choices = fc.choices(
            ((str(i.id), f"{i.name} ({i.unit})") for i in catalogue),
            empty=_l("None: we define our own below"),
        )

    def catalogue_id(self) -> int | None:
        """The chosen catalogue indicator's id; None when none is chosen, -1 (no indicator)
        when the value is not an id."""
        try:
            return readers.read_id(self.catalogue_indicator.data)
        except readers.ReadError:
            return -1

    def own(self) -> indicators.OwnIndicator:
        direction = self.direction.data
        return indicators.OwnIndicator(
            name=self.name.data or "", unit=self.unit.data or "",
            direction=Direction(direction) if direction in {d.value for d in Direction} else None,
            definition=self.definition.data or "", reference=self.reference.data or "",
        )


class EditTargetsForm(TargetsMixin, FlaskForm):
    state = HiddenField(validators=[DataRequired(
        message=_l("This form is missing what it needs to save safely: reload the page and try "
                   "again."))])


# --- measurements ------------------------------------------------------------------------

QUARTER_MONTHS = {1: _l("January to March"), 2: _l("April to June"), 3: _l("July to September"),
                  4: _l("October to December")}


def quarter_choices(today: date, years_back: int = 4) -> list[SelectChoice]:
    """The quarters from `years_back` years ago up to the current one, newest first."""
    current = (today.month - 1) // 3 + 1
    out = []
    for year in range(today.year, today.year - years_back - 1, -1):
        for quarter in range(4, 0, -1):
            if year == today.year and quarter > current:
                continue
            label = _l("%(year)d Q%(quarter)d (%(months)s)", year=year, quarter=quarter,
                       months=QUARTER_MONTHS[quarter])
            out.append(SelectChoice(f"{year}-Q{quarter}", label))
    return out


class MeasurementForm(FlaskForm):
    quarter = SelectField(_l("Quarter"), validate_choice=False,
                          description=_l("Quick choice: fills in the period's first and last day."))
    period_start = fc.DateField(_l("Period start"), description=_l("First day of the period."))
    period_end = fc.DateField(_l("Period end"), description=_l("Last day of the period."))
    value = NumberField(_l("Value"),
                        validators=[InputRequired(message=_l("Enter the value for this period."))],
                        description=_l("Decimals with . or , are fine."))
    note = fc.long_text(_l("Note"), max_length=indicators.NOTE_MAX, required=False, rows=2, printed=True,
                        description=_l("Optional: anything a reader needs to know about this figure."))
    commitment_indicator = HiddenField()

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.quarter.choices = [SelectChoice("", _l("None: I enter the dates")), *quarter_choices(today)]

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        choice = (self.quarter.data or "").strip()
        if not choice:
            return ok
        try:
            quarter = readers.read_quarter(choice)
        except readers.ReadError:
            quarter = None
        if quarter is None:
            self.quarter.errors.append(str(_l("Choose a quarter from the list.")))
            return False
        start, end = quarter.start, quarter.end
        given = (self.period_start.data, self.period_end.data)
        if any(given) and given != (start, end):
            self.quarter.errors.append(str(_l(
                "The dates you entered are not those of %(quarter)s: choose a quarter or enter "
                "the dates, not both.", quarter=choice.replace("-", " "))))
            return False
        if not self.period_start.errors and not self.period_end.errors:
            self.period_start.data, self.period_end.data = start, end
        return ok

    def values(self) -> indicators.MeasurementValues:
        return indicators.MeasurementValues(period_start=self.period_start.data,
                                          period_end=self.period_end.data,
                                          value=self.value.data, note=self.note.data or "")

    def indicator_id(self, default: int) -> int | None:
        """The attached indicator the form was for (the page's, unless someone forged it)."""
        if readers.is_blank(self.commitment_indicator.data):
            return default
        return readers.id_or_none(self.commitment_indicator.data)
