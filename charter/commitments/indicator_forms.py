"""Forms for indicators on commitments and their measurements (input shape only; the
rules — one or the other, negative values, dates in order, duplicates — live in
charter/commitments/indicators.py)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, RadioField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Optional, ValidationError

from charter import forms_common as fc
from charter.commitments import indicators as services
from charter.models import Direction

NUMBER_INPUT_MAX = 40
MIN_YEAR, MAX_YEAR = 1900, 2200

_SPACES = re.compile(r"(?<=\d)[ \u00a0\u202f\u2009'](?=\d)")
_PLAIN = re.compile(r"[+-]?(\d+|\d*[.,]\d+)")
_EN_GROUPED = re.compile(r"[+-]?[1-9]\d{0,2}(,\d{3})+(\.\d+)?")
_EU_GROUPED = re.compile(r"[+-]?[1-9]\d{0,2}(\.\d{3})+,\d+")
_AMBIGUOUS = re.compile(r"[+-]?[1-9]\d{0,2},\d{3}")


class NumberError(ValueError):
    pass


def parse_number(text: str | None) -> Decimal | None:
    """A number as people type it: '12', '3.5', '3,5', '-2', '1,234.5', '1 234,5', '12 345'.

    '1,500' alone is refused: it is one and a half in much of Europe and fifteen hundred in
    the UK. Raises NumberError with a message for the person.
    """
    raw = (text or "").strip()
    if not raw:
        return None
    if len(raw) > NUMBER_INPUT_MAX:
        raise NumberError(_l("Enter a number, such as 12 or 3.5."))
    value = _SPACES.sub("", raw.replace("−", "-"))
    if value.endswith("%") or re.search(r"\d\s*[^\d\s.,+-]+$", value):
        raise NumberError(_l("Enter the number only, without the unit (the unit is shown beside "
                             "the indicator)."))
    if _AMBIGUOUS.fullmatch(value):
        raise NumberError(_l("“%(text)s” could mean a number with decimals or with a thousands "
                             "separator: write it without the separator (e.g. 1500) or with a "
                             "decimal point (e.g. 1.5).", text=raw))
    if _EN_GROUPED.fullmatch(value):
        value = value.replace(",", "")
    elif _EU_GROUPED.fullmatch(value):
        value = value.replace(".", "").replace(",", ".")
    elif _PLAIN.fullmatch(value):
        value = value.replace(",", ".")
    else:
        raise NumberError(_l("Enter a number, such as 12 or 3.5."))
    try:
        number = Decimal(value)
    except InvalidOperation as exc:  # pragma: no cover - the patterns above admit only numbers
        raise NumberError(_l("Enter a number, such as 12 or 3.5.")) from exc
    if abs(number) >= services.MAX_ABS_VALUE:
        raise NumberError(_l("Enter a number smaller than one trillion."))
    exponent = number.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -services.MAX_DECIMALS:
        raise NumberError(_l("Use at most six decimal places."))
    return number


class NumberField(StringField):
    """A text box for a number: keeps what was typed (to show it again) and puts the parsed
    Decimal in `.number` (None when empty)."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "decimal", "autocomplete": "off"})
        super().__init__(label, validators, filters=[lambda v: v.strip() if isinstance(v, str) else v],
                         **kwargs)
        self.number: Decimal | None = None

    def _value(self):
        return self.data or ""

    def pre_validate(self, form):
        self.number = None
        try:
            self.number = parse_number(self.data)
        except NumberError as exc:
            raise ValidationError(str(exc.args[0])) from exc


class FriendlyDateField(DateField):
    """A date picker whose bad input gets a plain message, and only plausible years."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {"type": "date"})
        super().__init__(label, validators or [Optional()], **kwargs)

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(str(_l("Enter the date as year, month and day, e.g. 2026-03-31."))) from exc

    def post_validate(self, form, validation_stopped):
        if self.data and not (MIN_YEAR <= self.data.year <= MAX_YEAR):
            self.errors.append(str(_l("Enter a date between %(low)d and %(high)d.", low=MIN_YEAR,
                                      high=MAX_YEAR)))


class TargetsMixin:
    baseline_value = NumberField(_l("Baseline value"),
                                 description=_l("Where you started. Decimals with . or , are fine."))
    baseline_date = FriendlyDateField(_l("Baseline date"), description=_l("When the baseline was measured."))
    target_value = NumberField(_l("Target value"), description=_l("Where you aim to be."))
    target_date = FriendlyDateField(
        _l("Target date"), description=_l("When you aim to reach it. On or after the baseline date."))

    def targets(self) -> services.Targets:
        return services.Targets(
            baseline_value=self.baseline_value.number, baseline_date=self.baseline_date.data,
            target_value=self.target_value.number, target_date=self.target_date.data,
        )


class AttachIndicatorForm(TargetsMixin, FlaskForm):
    catalogue_indicator = SelectField(
        _l("Indicator from the catalogue"), validate_choice=False,
        description=_l("Choose one, or leave this empty and define your own below."),
    )
    name = fc.text(_l("Name"), max_length=services.NAME_MAX, required=False)
    definition = fc.long_text(_l("Definition"), max_length=services.DEFINITION_MAX, required=False,
                              rows=3, description=_l("What is counted, and how."))
    unit = fc.text(_l("Unit"), max_length=services.UNIT_MAX, required=False,
                   description=_l("E.g. “per 1,000 occupied bed days”, “%”, “people”. If values can "
                                  "be below zero (a change or a net balance), say so: “± points”."))
    direction = RadioField(_l("Which way is better?"), choices=fc.enum_choices(Direction),
                           validators=[Optional()], validate_choice=False)
    reference = fc.text(_l("Reference"), max_length=services.REFERENCE_MAX, required=False,
                        description=_l("Optional: where the measure comes from, e.g. a national "
                                       "dataset code."))

    def __init__(self, *args, catalogue=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.catalogue_indicator.choices = fc.choices(
            ((str(i.id), f"{i.name} ({i.unit})") for i in catalogue),
            empty=_l("None: we define our own below"),
        )

    def catalogue_id(self) -> int | None:
        raw = (self.catalogue_indicator.data or "").strip()
        if not raw:
            return None
        return int(raw) if raw.isdigit() and len(raw) < 10 else -1

    def own(self) -> services.OwnIndicator:
        direction = self.direction.data
        return services.OwnIndicator(
            name=self.name.data or "", unit=self.unit.data or "",
            direction=Direction(direction) if direction in {d.value for d in Direction} else None,
            definition=self.definition.data or "", reference=self.reference.data or "",
        )


class EditTargetsForm(TargetsMixin, FlaskForm):
    state = HiddenField(validators=[DataRequired(
        message=_l("This form is missing what it needs to save safely: reload the page and try "
                   "again."))])


# --- measurements ------------------------------------------------------------------------

def quarter_period(value: str) -> tuple[date, date] | None:
    """'2026-Q3' → (1 July 2026, 30 September 2026); None for anything else."""
    match = re.fullmatch(r"(\d{4})-Q([1-4])", value or "")
    if not match:
        return None
    year, quarter = int(match.group(1)), int(match.group(2))
    start = date(year, 3 * quarter - 2, 1)
    end = date(year, 12, 31) if quarter == 4 else date(year, 3 * quarter + 1, 1) - timedelta(days=1)
    return start, end


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
    period_start = FriendlyDateField(_l("Period start"), description=_l("First day of the period."))
    period_end = FriendlyDateField(_l("Period end"), description=_l("Last day of the period."))
    value = NumberField(_l("Value"),
                        validators=[DataRequired(message=_l("Enter the value for this period."))],
                        description=_l("Decimals with . or , are fine."))
    note = fc.long_text(_l("Note"), max_length=services.NOTE_MAX, required=False, rows=2, printed=True,
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
        period = quarter_period(choice)
        if period is None:
            self.quarter.errors.append(str(_l("Choose a quarter from the list.")))
            return False
        start, end = period
        given = (self.period_start.data, self.period_end.data)
        if any(given) and given != (start, end):
            self.quarter.errors.append(str(_l(
                "The dates you entered are not those of %(quarter)s: choose a quarter or enter "
                "the dates, not both.", quarter=choice.replace("-", " "))))
            return False
        if not self.period_start.errors and not self.period_end.errors:
            self.period_start.data, self.period_end.data = start, end
        return ok

    def values(self) -> services.MeasurementValues:
        return services.MeasurementValues(period_start=self.period_start.data,
                                          period_end=self.period_end.data,
                                          value=self.value.number, note=self.note.data or "")

    def indicator_id(self, default: int) -> int | None:
        """The attached indicator the form was for (the page's, unless someone forged it)."""
        raw = (self.commitment_indicator.data or "").strip()
        if not raw:
            return default
        return int(raw) if raw.isdigit() and len(raw) < 12 else None
