"""Export: an organisation's commitments and measurements as an XLSX workbook (sheets
Commitments, Measurements and About) and as two CSV files with the same columns."""

from __future__ import annotations

import io
from typing import Any

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import select

from charter import permissions, tabular
from charter.commitments.spreadsheets.columns import (
    ABOUT_SHEET,
    COMMITMENT_COLUMNS,
    COMMITMENTS,
    MAX_DATA_ROWS,
    MAX_UPLOAD_BYTES,
    MEASUREMENT_COLUMNS,
    MEASUREMENTS,
    SHEETS,
    megabytes,
)
from charter.extensions import db
from charter.models import (
    RAG,
    Ambition,
    ChangeDomain,
    Commitment,
    CommitmentIndicator,
    Completion,
    Indicator,
    Measurement,
    Organisation,
)
from charter.tabular import Column


def _commitment_rows(organisation: Organisation) -> list[list[Any]]:
    domains = {d.id: d for d in db.session.scalars(select(ChangeDomain))}
    commitments = db.session.scalars(
        select(Commitment).where(Commitment.organisation_id == organisation.id).order_by(Commitment.id)
    )
    return [
        [c.id, c.version, c.title, domains[c.domain_id].slug, c.description or "", c.start_date,
         c.target_date, c.ambition.label, c.completion.label, c.rag.label, c.status.label]
        for c in commitments
    ]


def _measurement_rows(organisation: Organisation) -> list[list[Any]]:
    query = (
        select(CommitmentIndicator.commitment_id, Indicator.name, Measurement.period_start,
               Measurement.period_end, Measurement.value, Measurement.note)
        .join(CommitmentIndicator, Measurement.commitment_indicator_id == CommitmentIndicator.id)
        .join(Indicator, CommitmentIndicator.indicator_id == Indicator.id)
        .join(Commitment, CommitmentIndicator.commitment_id == Commitment.id)
        .where(Commitment.organisation_id == organisation.id)
        .order_by(CommitmentIndicator.commitment_id, Indicator.name, Measurement.period_start,
                  Measurement.period_end, Measurement.id)
    )
    return [[cid, name, start, end, value, note or ""]
            for cid, name, start, end, value, note in db.session.execute(query)]


def _require_export(actor, organisation: Organisation) -> None:
    permissions.require(permissions.can_export_commitments(actor, organisation),
                        _("Only the organisation's members and its site's coordinators can download "
                          "its commitments."))


def export_csv(actor, organisation: Organisation) -> bytes:
    """The organisation's own commitments (drafts and retired ones included), as CSV."""
    _require_export(actor, organisation)
    return tabular.csv_bytes(COMMITMENT_COLUMNS, _commitment_rows(organisation))


def export_measurements_csv(actor, organisation: Organisation) -> bytes:
    """The measurements of the organisation's own commitments, as CSV."""
    _require_export(actor, organisation)
    return tabular.csv_bytes(MEASUREMENT_COLUMNS, _measurement_rows(organisation))


def _add_choice_lists(sheet, columns, rows: int) -> None:
    """Drop-down lists for the enumerations (a warning, not a block, for other spellings)."""
    lists = {"ambition": Ambition, "completion": Completion, "rag": RAG}
    last = max(rows + 1, 2) + 500
    for index, column in enumerate(columns, start=1):
        enum_cls = lists.get(column.key)
        if enum_cls is None:
            continue
        labels = ",".join(m.label for m in enum_cls)
        validation = DataValidation(type="list", formula1=f'"{labels}"', allow_blank=True,
                                    errorStyle="warning")
        letter = get_column_letter(index)
        validation.add(f"{letter}2:{letter}{last}")
        sheet.add_data_validation(validation)


def _about_rows(domains: list[ChangeDomain]) -> list[list[str]]:
    def choices(enum_cls) -> str:
        return _("%(labels)s (or the values %(values)s), in any case.",
                 labels=", ".join(m.label for m in enum_cls),
                 values=", ".join(m.value for m in enum_cls))

    active = ", ".join(d.slug for d in domains if d.is_active)
    retired = ", ".join(d.slug for d in domains if not d.is_active)
    domain_values = active + ("; " + _("retired (kept only by commitments already under them): %(slugs)s",
                                       slugs=retired) if retired else "")
    c, m = "Commitments", "Measurements"
    return [
        [c, "ID", _("The commitment's number. Leave it empty to add a new commitment: it is saved "
                    "as a draft."), _("A number from this file, or empty.")],
        [c, "Version", _("The version of the commitment when you downloaded the file. If someone "
                         "changes the commitment after that, your change to it is refused: download "
                         "the file again."), _("Leave it as downloaded; empty for new rows.")],
        [c, "Title", _("What you promise, in one line."), _("Required; up to 200 characters.")],
        [c, "Change domain", _("The change domain, by its short name."), domain_values],
        [c, "Description", _("What you will do, with whom and how you will know it worked "
                             "(Markdown)."), _("Up to 20,000 characters; may be empty.")],
        [c, "Start date", _("When the work starts."), _("A date (YYYY-MM-DD), or empty.")],
        [c, "Target date", _("When it should be done."),
         _("A date (YYYY-MM-DD) on or after the start date, or empty.")],
        [c, "Ambition", _("How far the commitment reaches."), choices(Ambition)],
        [c, "Completion", _("How much of it is done."), choices(Completion)],
        [c, "RAG", _("Whether it is on track."), choices(RAG)],
        [c, "Status", _("Draft, published or retired: shown for information. Publish and retire "
                        "commitments on their own page."),
         _("Leave it as downloaded; empty or Draft for new rows.")],
        [m, "Commitment ID", _("The number of one of your commitments (see the Commitments sheet)."),
         _("Required.")],
        [m, "Indicator", _("The name of an indicator already attached to that commitment, as shown "
                           "on the commitment's page."), _("Required.")],
        [m, "Period start", _("The first day the value covers."), _("A date (YYYY-MM-DD).")],
        [m, "Period end", _("The last day the value covers."),
         _("A date (YYYY-MM-DD) on or after the period start.")],
        [m, "Value", _("The measurement for that period."),
         _("A number, zero or more, with a dot for decimals (like 12.5).")],
        [m, "Note", _("Anything that helps read the value."), _("Up to 2,000 characters; may be empty.")],
        ["", "", "", ""],
        ["", "", _("Every row is checked before anything is saved: if one row has a problem, nothing "
                   "is saved, and every problem is listed by row and column."), ""],
        ["", "", _("Rows you leave as they are change nothing. Rows you delete from the file are not "
                   "deleted from the service."), ""],
        ["", "", _("A measurement with the same commitment, indicator and period as a saved one "
                   "replaces its value and note; any other measurement is added."), ""],
        ["", "", _("Text that begins with =, +, -, or @ is shown with a ' in front, so that "
                   "spreadsheet programs do not run it as a formula. The ' is removed again when you "
                   "upload the file."), ""],
        ["", "", _("CSV files must be saved as CSV UTF-8."), ""],
        ["", "", _("A file may be up to %(size)s MB and hold up to %(rows)s rows, its sheets "
                   "together; columns after Z are not read.", size=megabytes(MAX_UPLOAD_BYTES),
                   rows=f"{MAX_DATA_ROWS:,}"), ""],
    ]


def export_xlsx(actor, organisation: Organisation) -> bytes:
    """A workbook with the organisation's commitments, their measurements and an About sheet."""
    _require_export(actor, organisation)
    commitment_rows = _commitment_rows(organisation)
    measurement_rows = _measurement_rows(organisation)
    domains = list(db.session.scalars(ChangeDomain.ordered()))
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEETS[COMMITMENTS][0]
    tabular.write_sheet(sheet, COMMITMENT_COLUMNS, commitment_rows, wrap=("description",))
    _add_choice_lists(sheet, COMMITMENT_COLUMNS, len(commitment_rows))
    tabular.write_sheet(workbook.create_sheet(SHEETS[MEASUREMENTS][0]), MEASUREMENT_COLUMNS,
                 measurement_rows, wrap=("note",))
    about_columns = (Column(_("Sheet"), width=16, key="sheet"),
                     Column(_("Column"), width=16, key="column"),
                     Column(_("What it holds"), width=70, key="meaning"),
                     Column(_("Allowed values"), width=60, key="allowed"))
    tabular.write_sheet(workbook.create_sheet(ABOUT_SHEET), about_columns, _about_rows(domains),
                 wrap=("meaning", "allowed"))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

