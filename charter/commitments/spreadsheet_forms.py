"""Spreadsheet upload and confirmation forms (shape only; the service reads the file)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField

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
    """Carries the checked file back: in `payload` (compressed) when it is small enough,
    otherwise the person chooses the same file again. `token` is signed and names the
    file's SHA-256, so a changed file or payload is refused."""

    token = HiddenField()
    payload = HiddenField()
    file = FileField(
        _l("Choose the same file again"),
        description=_l("The file is too large to keep between the two steps: choose it once more to "
                       "save it."),
        render_kw={"accept": ACCEPT},
    )
