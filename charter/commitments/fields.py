"""The fields of a commitment that leave the application, declared once.

Four readers outside the commitment pages show a commitment's fields: the open-data ZIP
(`commitments.csv` and its data dictionary, charter.api.bulk), the coordinators' commitments
export (charter.dashboards.exports), the API's commitment objects and their OpenAPI schema
(charter.api.queries and charter.api.schemas) and the snapshot of a published report
(charter.reports.snapshot). Each takes the fields below, in this order, and adds only what
is its own (ids, slugs, links, the organisation, the site, the domain, partners).

A new field of `Commitment` appears in all four with one more `Field` here (and the model's
column): its name (the model attribute, the CSV column, the API key and the snapshot key),
its type, its codes if it is an enum, what it means in open data, and its column in the
export. Each reader turns the values the way it always writes them: codes as their values
(labels in the export), dates as ISO 8601, text made safe for spreadsheets in the files.
The spreadsheet round trip (charter.commitments.spreadsheets) is a file format with an
import, and declares its own columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from flask_babel import lazy_gettext as _l

from charter.models import PUBLIC_COMMITMENT_STATUSES, RAG, Ambition, Commitment, Completion
from charter.tabular import Column

TYPES = ("text", "code", "date", "datetime", "integer", "decimal", "boolean", "url")


def _codes(values) -> tuple[str, ...]:
    return tuple(v.value for v in values)


@dataclass(frozen=True)
class Field:
    """One public field of a commitment.

    `description` says what it means in open data (the bulk download's data dictionary and,
    unless `api_description` words it for JSON, the API); `export` is its column in the
    coordinators' export (header, description, width). The API's descriptions are read
    when its schemas are built, at start-up, in English. A field `in_report` is frozen in
    the snapshot of a published report (the dates of the record's own life are not);
    `long_text` goes after the other columns of the export. `attribute` is the model's
    attribute when it is not `name`.
    """

    name: str
    type: str
    description: Any
    export: Column
    codes: tuple[str, ...] = ()
    api_description: str = ""
    in_report: bool = True
    long_text: bool = False
    attribute: str = ""

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"{self.name}: unknown type {self.type!r}")

    @property
    def model_attribute(self):
        return getattr(Commitment, self.attribute or self.name)

    def selected(self):
        """The column to select, named `name`."""
        return self.model_attribute.label(self.name)

    def value_of(self, commitment: Commitment) -> Any:
        return getattr(commitment, self.attribute or self.name)

    @property
    def nullable(self) -> bool:
        return bool(Commitment.__mapper__.columns[self.attribute or self.name].nullable)

    @property
    def api_text(self) -> str:
        return self.api_description or str(self.description)


def code_value(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


C = Column
COMMITMENT_FIELDS: tuple[Field, ...] = (
    Field("title", "text", _l("What is promised, in a line."),
          C("Title", _l("What is promised."), 48)),
    Field("description", "text", _l("The commitment in full (Markdown)."),
          C("Description", _l("What will be done (Markdown)."), 60), long_text=True),
    Field("status", "code", _l("published (current) or retired."),
          C("Status", _l("Draft, published or retired."), 12),
          codes=_codes(PUBLIC_COMMITMENT_STATUSES),
          api_description="`published` (current) or `retired`."),
    Field("ambition", "code", _l("How ambitious it is."),
          C("Ambition", _l("Essential, desirable, aspirational or breakthrough."), 14),
          codes=_codes(Ambition)),
    Field("completion", "code", _l("Completion level."),
          C("Completion", _l("Not started, limited, substantial, completed or withdrawn."), 14),
          codes=_codes(Completion)),
    Field("rag", "code", _l("RAG rating."),
          C("RAG", _l("On track, at risk or off track."), 12),
          codes=_codes(RAG), api_description="RAG rating: on track, at risk or off track."),
    Field("start_date", "date", _l("Start date, if set."),
          C("Start date", _l("When the work starts."), 12)),
    Field("target_date", "date", _l("Target date, if set."),
          C("Target date", _l("When it should be done."), 12)),
    Field("published_at", "datetime", _l("When it was first published."),
          C("Published at (UTC)", _l("When it was published."), 18), in_report=False),
    Field("retired_at", "datetime", _l("When it was retired; empty if current."),
          C("Retired at (UTC)", _l("When it was retired."), 18), in_report=False,
          api_description="When it was retired (null if current)."),
    Field("retired_reason", "text", _l("Why it was retired; empty if current."),
          C("Retired reason", _l("Why it was retired."), 30), in_report=False,
          api_description="Why it was retired (null if current)."),
    Field("updated_at", "datetime", _l("When it last changed."),
          C("Updated at (UTC)", _l("When it last changed."), 18), in_report=False),
)
