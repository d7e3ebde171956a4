"""Charter version forms: shape only. Numbering, one draft per site, the change summary
rule and state changes live in services."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SubmitField
from wtforms.validators import InputRequired, ValidationError

from charter import forms_common
from charter.sites.services import BODY_MAX, SUMMARY_MAX, TITLE_MAX


class DraftForm(FlaskForm):
    title = forms_common.text(
        _l("Title"), max_length=TITLE_MAX,
        required_message=_l("Enter a title, such as “The Cambridge PROMISE Charter”."),
    )
    body = forms_common.long_text(
        _l("Text of the charter"), max_length=BODY_MAX, rows=24, printed=True,
        required_message=_l("Enter the text of the charter."),
        description=_l("Markdown: “#” starts a heading, a blank line starts a new paragraph, "
                       "“-” starts a list item, **bold** and *italic*. HTML is shown as text."),
    )
    change_summary = forms_common.long_text(
        _l("What changed"), max_length=SUMMARY_MAX, required=False, rows=3,
        description=_l("A sentence or two for the version history. Required when there is a "
                       "previous version."),
    )
    preview = SubmitField(_l("Preview"))
    save = SubmitField(_l("Save draft"))

    def __init__(self, *args, summary_required: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.summary_required = summary_required
        if summary_required:
            self.change_summary.flags.required = True

    def validate_change_summary(self, field):
        # Only when saving: a preview may come before the summary is written.
        if self.summary_required and self.wants_save and not (field.data or "").strip():
            raise ValidationError(_l("Say in a sentence or two what changed from the previous "
                                     "version."))

    @property
    def wants_save(self) -> bool:
        return bool(self.save.data)


class EditDraftForm(DraftForm):
    # The row version the editor loaded: a save based on an older one is a conflict.
    version = forms_common.IdField(
        validators=[InputRequired(message=forms_common.FORM_INFORMATION_MISSING)])

    @property
    def loaded_version(self) -> int | None:
        return self.version.data

