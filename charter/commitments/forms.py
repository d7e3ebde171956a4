"""Commitment forms (shape only)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import InputRequired

from charter import forms_common as fc
from charter.models import RAG, Ambition, Completion


class CommitmentForm(FlaskForm):
    title = fc.text(_l("Title"), max_length=200, printed=True,
                    required_message=_l("Enter a title for the commitment."),
                    description=_l("What you promise, in one line."))
    domain = SelectField(_l("Change domain"), validators=[
        InputRequired(message=_l("Choose the change domain this commitment belongs to."))])
    description = fc.long_text(
        _l("Description"), max_length=20000, required=False, rows=8, printed=True,
        description=_l("What you will do, with whom and how you will know it worked. "
                       "Markdown: **bold**, *italic*, lists with -, links [text](https://…)."),
    )
    start_date = fc.DateField(_l("Start date"), description=_l("Optional."))
    target_date = fc.DateField(_l("Target date"),
                               description=_l("When it should be done. On or after the start date."))
    ambition = SelectField(_l("Ambition"), choices=fc.enum_choices(Ambition),
                           default=Ambition.ESSENTIAL.value)
    completion = SelectField(_l("Completion"), choices=fc.enum_choices(Completion),
                             default=Completion.NOT_STARTED.value)
    rag = SelectField(_l("Status (RAG)"), choices=fc.enum_choices(RAG), default=RAG.ON_TRACK.value)
    version = fc.IdField()

    def __init__(self, *args, domains=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.domain.choices = fc.choices(((str(d.id), d.name) for d in domains),
                                         empty=_l("Choose a change domain"))


class RetireForm(FlaskForm):
    reason = fc.long_text(_l("Why is this commitment being retired?"), max_length=2000, rows=3,
                          required_message=_l("Give a reason: it is shown with the commitment."))


class MilestoneForm(FlaskForm):
    milestone_title = fc.text(_l("Milestone"), max_length=200, printed=True,
                              required_message=_l("Enter the milestone."))
    due_date = fc.DateField(_l("Due date"))


class MilestoneDoneForm(FlaskForm):
    done_date = fc.DateField(_l("Done on"))
