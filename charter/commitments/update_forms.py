"""The progress update form (input shape only; the rules live in
charter/commitments/updates.py)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import InputRequired

from charter import forms_common as fc
from charter.commitments.updates import TEXT_MAX, UpdateValues
from charter.models import RAG, Completion


class ProgressUpdateForm(FlaskForm):
    update_date = fc.DateField(
        _l("Date of this update"), validators=[InputRequired(message=_l("Enter the date of this update."))],
        description=_l("Today or earlier."))
    report = fc.long_text(
        _l("Report"), max_length=TEXT_MAX, rows=6, printed=True,
        required_message=_l("Write the Report: what happened, with figures where you have them."),
        description=_l("What happened since the last update, with figures where you have them."))
    reflect = fc.long_text(
        _l("Reflect"), max_length=TEXT_MAX, required=False, rows=5, printed=True,
        description=_l("Straight talking: what got in the way, and what helped."))
    completion = SelectField(_l("Completion"), choices=fc.enum_choices(Completion),
                             validators=[InputRequired(message=_l("Choose the completion level."))])
    rag = SelectField(_l("Status (RAG)"), choices=fc.enum_choices(RAG),
                      validators=[InputRequired(message=_l("Choose on track, at risk or off track."))])
    rethink = fc.long_text(
        _l("Rethink"), max_length=TEXT_MAX, required=False, rows=4, printed=True,
        description=_l("What changes as a result: in the plan, the approach or the people involved."))
    refresh = fc.long_text(
        _l("Refresh"), max_length=TEXT_MAX, required=False, rows=4, printed=True,
        description=_l("The next steps, with dates where you can."))

    def values(self) -> UpdateValues:
        return UpdateValues(
            update_date=self.update_date.data, report=self.report.data or "",
            reflect=self.reflect.data or "", completion=Completion(self.completion.data),
            rag=RAG(self.rag.data), rethink=self.rethink.data or "", refresh=self.refresh.data or "",
        )
