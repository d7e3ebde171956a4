"""Spreadsheet upload and confirmation forms (shape only; the service reads the file)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField
from wtforms.validators import InputRequired, Length

ACCEPT = (".xlsx,.csv,text/csv,"
          "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


class UploadForm(FlaskForm):
    file = FileField(
        _l("Spreadsheet file"),
        validators=[FileRequired(message=_l("Choose the file to upload."))],
        description=_l("The XLSX workbook, or one of the two CSV files, as downloaded from this page "
                       "and edited. CSV files must be saved as CSV UTF-8."),
        render_kw={"accept": ACCEPT},
    )


class ConfirmForm(FlaskForm):
    """Names the checked upload, which the server keeps until it is confirmed (or expires)."""

    token = HiddenField(validators=[InputRequired(), Length(max=100)])
