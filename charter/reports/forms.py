"""Report and cycle forms (shape only)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField
from wtforms.validators import InputRequired

from charter import forms_common as fc
from charter.reports.services import TEXT_LIMIT


class ReportForm(FlaskForm):
    summary = fc.long_text(
        _l("Summary"), max_length=TEXT_LIMIT, required=False, rows=10, printed=True,
        description=_l("What your organisation did this period against its commitments, what changed "
                       "for people who use services, and what is next. Markdown is fine."),
    )
    lived_experience_reflection = fc.long_text(
        _l("Lived-experience reflection"), max_length=TEXT_LIMIT, required=False, rows=8,
        printed=True,
        description=_l("Written with or by people who use your services: what they saw, what "
                       "worked, what did not."),
    )
    co_produced_by = fc.long_text(
        _l("Who co-produced this report"), max_length=2000, required=False, rows=2, printed=True,
        description=_l("Names and roles of the people who wrote it with you (with their consent)."),
    )
    version = fc.IdField()

    TEXT_FIELDS = ("summary", "lived_experience_reflection", "co_produced_by")


class CorrectionForm(ReportForm):
    change_note = fc.long_text(
        _l("What does this correction change?"), max_length=2000, rows=3, printed=True,
        required_message=_l("Say what the correction changes: readers see this note."),
        description=_l("Shown with the new revision. The earlier revision stays readable."),
    )


class ReturnForm(FlaskForm):
    comment = fc.long_text(
        _l("Comments for the organisation"), max_length=10000, rows=5,
        required_message=_l("Say what needs to change: the organisation sees your comments beside "
                            "its text."),
    )
    version = fc.IdField()



class CorrectionReturnForm(FlaskForm):
    comment = fc.long_text(
        _l("Comments for the organisation"), max_length=10000, rows=5,
        required_message=_l("Say what needs to change: the organisation sees your comments beside "
                            "its correction."),
    )
    version = fc.IdField()


class CycleForm(FlaskForm):
    name = fc.text(_l("Name"), max_length=80, required_message=_l("Name the cycle, e.g. 2026 Q4."),
                   description=_l("For example “2026 Q4” or “2026–27”."))
    period_start = fc.DateField(_l("Period starts"), validators=[
        InputRequired(message=_l("Enter the first day of the period."))])
    period_end = fc.DateField(_l("Period ends"), validators=[
        InputRequired(message=_l("Enter the last day of the period."))])
    due_date = fc.DateField(_l("Reports due"), validators=[
        InputRequired(message=_l("Enter the date reports are due."))],
        description=_l("On or after the end of the period."))
    reminder_days_before = fc.WholeNumberField(
        _l("Remind this many days before the due date"), default=14,
        validators=[InputRequired(message=_l("Enter a number of days."))],
        minimum=0, maximum=365, message=_l("Use a number of days from 0 to 365."))
    reminder_days_after = fc.WholeNumberField(
        _l("Remind this many days after the due date (overdue)"), default=7,
        validators=[InputRequired(message=_l("Enter a number of days."))],
        minimum=0, maximum=365, message=_l("Use a number of days from 0 to 365."))
    review_required = BooleanField(
        _l("Coordinators review reports before they are published"), default=True)


class SettingsForm(FlaskForm):
    supporters_exempt = BooleanField(_l("Supporters do not have to report"))
    missed_cycles_threshold = fc.WholeNumberField(
        _l("Show an organisation as “not reporting” after this many missed cycles in a row"),
        validators=[InputRequired(message=_l("Enter a number."))],
        minimum=1, maximum=20, message=_l("Use a number from 1 to 20."))


class ReportFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = fc.text(_l("Search"), max_length=100, required=False)
    site = SelectField(_l("Site"), default="")
    cycle = SelectField(_l("Cycle"), default="")
    sector = SelectField(_l("Sector"), default="")
    domain = SelectField(_l("Change domain"), default="")


