"""Forms for change domains and the indicator catalogue (shape only: uniqueness, slugs and
state changes live in charter/catalogue/domains.py and indicators.py)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField
from wtforms.validators import InputRequired

from charter import forms_common as fc
from charter.models import Direction

DOMAIN_NAME_MAX = 120
DOMAIN_SUMMARY_MAX = 300
LONG_TEXT_MAX = 20000
POSITION_MAX = 9999
INDICATOR_NAME_MAX = 200
INDICATOR_UNIT_MAX = 80
INDICATOR_REFERENCE_MAX = 300


POSITION_MESSAGE = _l("Enter a whole number from %(min)d to %(max)d, such as 3.", min=0, max=POSITION_MAX)


class _LoadedForm(FlaskForm):
    # A fingerprint of the record as it was loaded into the form: a save based on an
    # older state is an edit conflict rather than a silent overwrite.
    loaded = HiddenField()

    @property
    def loaded_fingerprint(self) -> str | None:
        value = str(self.loaded.data or "").strip()
        return value if value.isalnum() and value.isascii() and len(value) <= 64 else None


class DomainForm(_LoadedForm):
    name = fc.text(_l("Name"), max_length=DOMAIN_NAME_MAX,
                   required_message=_l("Enter the name of the change domain."),
                   description=_l("Shown wherever commitments are listed, e.g. “Healing environments”."))
    summary = fc.text(_l("Summary"), max_length=DOMAIN_SUMMARY_MAX, required=False,
                      description=_l("One line: the shift this domain asks for."))
    description = fc.long_text(
        _l("Description"), max_length=LONG_TEXT_MAX, required=False, rows=6,
        description=_l("What the domain covers. Markdown: **bold**, *italic*, lists with -."),
    )
    source_note = fc.long_text(
        _l("Source note"), max_length=LONG_TEXT_MAX, required=False, rows=3,
        description=_l("Where the domain comes from, e.g. the PROMISE change agenda."),
    )
    position = fc.WholeNumberField(
        _l("Position in the list"), validators=[InputRequired(message=POSITION_MESSAGE)],
        minimum=0, maximum=POSITION_MAX, message=POSITION_MESSAGE,
        description=_l("Domains are listed from the lowest number up."),
        render_kw={"inputmode": "numeric", "min": 0, "max": POSITION_MAX},
    )
    is_active = BooleanField(
        _l("Active: can be chosen for new commitments"), default=True,
        description=_l("Untick to retire it: it stays on the commitments that use it."))


class IndicatorDefinitionForm(_LoadedForm):
    name = fc.text(_l("Name"), max_length=INDICATOR_NAME_MAX,
                   required_message=_l("Enter the name of the indicator."),
                   description=_l("e.g. “Restrictive interventions per 1,000 occupied bed days”."))
    definition = fc.long_text(
        _l("Definition"), max_length=LONG_TEXT_MAX, required=False, rows=4,
        description=_l("What is counted, over which population and period."),
    )
    unit = fc.text(_l("Unit"), max_length=INDICATOR_UNIT_MAX,
                   required_message=_l("Enter the unit, such as “per 1,000 occupied bed days” or “%”."),
                   description=_l("e.g. “per 1,000 occupied bed days”, “%”, “episodes per month”."))
    direction = SelectField(
        _l("Which direction is better"),
        validators=[InputRequired(message=_l("Say whether higher or lower values are better."))],
    )
    reference = fc.text(_l("Reference"), max_length=INDICATOR_REFERENCE_MAX, required=False,
                        description=_l("e.g. “NHS Mental Health Services Data Set, measure MHS96”."))
    is_active = BooleanField(
        _l("Active: can be attached to commitments"), default=True,
        description=_l("Untick to retire it: it stays on the commitments that use it."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.direction.choices = fc.enum_choices(Direction, empty=_l("Choose one"))
