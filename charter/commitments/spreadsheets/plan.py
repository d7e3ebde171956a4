"""What checking a file comes to: the problems, row by row, or the changes it would make."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext

from charter.commitments import services
from charter.models import ChangeDomain, Commitment, CommitmentIndicator, Measurement, Organisation
from charter.tabular import decimal_text


@dataclass
class RowError:
    sheet: str
    row: int | None
    column: str | None
    message: str

    @property
    def sentence(self) -> str:
        if self.row and self.column:
            return _("Row %(row)d, %(column)s: %(message)s", row=self.row, column=self.column,
                     message=self.message)
        if self.row:
            return _("Row %(row)d: %(message)s", row=self.row, message=self.message)
        return self.message


@dataclass
class NewCommitment:
    row: int
    values: services.CommitmentValues
    domain: ChangeDomain


@dataclass
class Change:
    column: str
    old: str
    new: str


@dataclass
class CommitmentUpdate:
    row: int
    commitment: Commitment
    values: dict[str, Any]  # only the fields that change
    shown: list[Change]
    all_values: services.CommitmentValues  # what services.update is given
    version: int  # the commitment's version when the file was downloaded


@dataclass
class MeasurementChange:
    row: int
    commitment: Commitment
    link: CommitmentIndicator
    indicator_name: str
    period_start: date
    period_end: date
    value: Decimal
    note: str
    measurement: Measurement | None  # None: a new measurement
    value_changed: bool = True

    @property
    def shown_value(self) -> str:
        return decimal_text(self.value)

    @property
    def shown_old_value(self) -> str:
        return decimal_text(self.measurement.value) if self.measurement else ""


@dataclass
class ImportPlan:
    organisation: Organisation
    errors: list[RowError] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    creates: list[NewCommitment] = field(default_factory=list)
    updates: list[CommitmentUpdate] = field(default_factory=list)
    measurement_creates: list[MeasurementChange] = field(default_factory=list)
    measurement_updates: list[MeasurementChange] = field(default_factory=list)
    unchanged_commitments: int = 0
    unchanged_measurements: int = 0
    applied: bool = False
    errors_cut: bool = False  # checking stopped after MAX_ERRORS problems

    @property
    def is_valid(self) -> bool:
        return not self.errors

    @property
    def has_changes(self) -> bool:
        return bool(self.creates or self.updates or self.measurement_creates
                    or self.measurement_updates)

    def summary(self) -> list[str]:
        lines = []
        if self.creates:
            lines.append(ngettext("%(num)d new commitment (saved as a draft)",
                                  "%(num)d new commitments (saved as drafts)", len(self.creates)))
        if self.updates:
            lines.append(ngettext("%(num)d commitment updated", "%(num)d commitments updated",
                                  len(self.updates)))
        if self.measurement_creates:
            lines.append(ngettext("%(num)d measurement added", "%(num)d measurements added",
                                  len(self.measurement_creates)))
        if self.measurement_updates:
            lines.append(ngettext("%(num)d measurement changed", "%(num)d measurements changed",
                                  len(self.measurement_updates)))
        if self.unchanged_commitments:
            lines.append(ngettext("%(num)d commitment unchanged", "%(num)d commitments unchanged",
                                  self.unchanged_commitments))
        if self.unchanged_measurements:
            lines.append(ngettext("%(num)d measurement unchanged", "%(num)d measurements unchanged",
                                  self.unchanged_measurements))
        return lines

