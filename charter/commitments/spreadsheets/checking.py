"""Checking a file against what is saved: every row validated, with the organisation's
commitments, indicators and measurements bulk-loaded in a few queries, and nothing written.

A commitment's values are checked by the commitment services' own rules
(services.check_values: retired change domains, date order, versions); what is checked here
is how the file says them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from flask_babel import gettext as _
from openpyxl.utils import get_column_letter
from sqlalchemy import select

from charter import audit, permissions
from charter.commitments import services
from charter.commitments.spreadsheets.cells import (
    NOT_A_COMMITMENT_ID,
    NOT_A_MEASURED_COMMITMENT,
    NOT_A_VERSION,
    TITLE_MISSING,
    WHAT,
    Cell,
    cell_text,
    display,
    enum_lookup,
    read_date,
    read_decimal,
    read_enum,
    read_int,
    read_text,
    same_text,
    shown,
)
from charter.commitments.spreadsheets.columns import (
    COMMITMENTS,
    DESCRIPTION_MAX,
    HEADERS,
    MAX_ERRORS,
    MEASUREMENTS,
    NOTE_MAX,
    TITLE_MAX,
)
from charter.commitments.spreadsheets.plan import (
    Change,
    CommitmentUpdate,
    ImportPlan,
    MeasurementChange,
    NewCommitment,
    RowError,
)
from charter.commitments.spreadsheets.reading import read_tables
from charter.commitments.spreadsheets.tables import Row, Table, blank
from charter.extensions import db
from charter.models import (
    RAG,
    Ambition,
    ChangeDomain,
    Commitment,
    CommitmentIndicator,
    CommitmentStatus,
    Completion,
    Indicator,
    Measurement,
    Organisation,
)


@dataclass
class _Existing:
    """What the organisation already holds, loaded in a few queries."""

    domains: list[ChangeDomain]
    commitments: dict[int, Commitment]
    links: dict[int, dict[str, list[tuple[CommitmentIndicator, str]]]]  # commitment → name → links
    measurements: dict[tuple[int, date, date], Measurement]
    enums: dict[type, dict[str, Any]] = field(default_factory=dict)

    def domain_by_text(self, text: str) -> ChangeDomain | None:
        wanted = text.strip().casefold()
        for domain in self.domains:
            if wanted in (domain.slug.casefold(), domain.name.casefold()):
                return domain
        return None

    def active_slugs(self) -> str:
        return ", ".join(d.slug for d in self.domains if d.is_active)


def _load_existing(organisation: Organisation, with_measurements: bool) -> _Existing:
    domains = list(db.session.scalars(ChangeDomain.ordered()))
    commitments = {c.id: c for c in db.session.scalars(
        select(Commitment).where(Commitment.organisation_id == organisation.id))}
    links: dict[int, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    measurements: dict[tuple[int, date, date], Measurement] = {}
    if with_measurements:
        query = (
            select(CommitmentIndicator, Indicator.name)
            .join(Indicator, CommitmentIndicator.indicator_id == Indicator.id)
            .join(Commitment, CommitmentIndicator.commitment_id == Commitment.id)
            .where(Commitment.organisation_id == organisation.id)
        )
        for link, name in db.session.execute(query):
            links[link.commitment_id][" ".join(name.split()).casefold()].append((link, name))
        query = (
            select(Measurement)
            .join(CommitmentIndicator, Measurement.commitment_indicator_id == CommitmentIndicator.id)
            .join(Commitment, CommitmentIndicator.commitment_id == Commitment.id)
            .where(Commitment.organisation_id == organisation.id)
        )
        for m in db.session.scalars(query):
            measurements[(m.commitment_indicator_id, m.period_start, m.period_end)] = m
    enums = {enum_cls: enum_lookup(enum_cls) for enum_cls in WHAT}
    return _Existing(domains, commitments, links, measurements, enums)


def _report_stray(cell: Cell) -> None:
    """Values in columns without a header."""
    for index in cell.row.stray:
        cell.plan.errors.append(RowError(cell.table.name, cell.row.number,
                                         get_column_letter(index + 1),
                                         _("This column has no header, so its value cannot be "
                                           "read. Delete the value or the column.")))
        cell.failed = True


# --- a row of commitments -------------------------------------------------------------------

def _row_commitment(cell: Cell, commitment_id: int | None, existing: _Existing,
                    seen_ids: dict[int, int]) -> Commitment | None:
    """The saved commitment a row names by its ID (None: a new one, or an ID that is wrong)."""
    if commitment_id is None:
        return None
    commitment = existing.commitments.get(commitment_id)
    if commitment is None:
        cell.error("id", _("%(value)s is not one of your commitments. Leave ID empty to add a new "
                           "commitment.", value=shown(commitment_id)))
        return None
    if commitment_id in seen_ids:
        cell.error("id", _("Commitment %(id)d is already in row %(row)d: each commitment may "
                           "appear once.", id=commitment_id, row=seen_ids[commitment_id]))
        return None
    seen_ids[commitment_id] = cell.row.number
    return commitment


def _read_domain(cell: Cell, existing: _Existing) -> ChangeDomain | None:
    domain_text = cell_text(cell.raw("domain"))
    if not domain_text:
        cell.error("domain", _("Choose a change domain. Use one of: %(slugs)s.",
                               slugs=existing.active_slugs()))
        return None
    domain = existing.domain_by_text(domain_text)
    if domain is None:
        cell.error("domain", _("'%(value)s' is not a change domain. Use one of: %(slugs)s.",
                               value=shown(domain_text), slugs=existing.active_slugs()))
    return domain


def _read_commitment(cell: Cell, existing: _Existing, commitment: Commitment | None,
                     is_new: bool) -> tuple[services.CommitmentValues, ChangeDomain | None]:
    """The values of a row of commitments, checked by the commitment services' rules."""
    title = read_text(cell, "title", max_length=TITLE_MAX, required=True, missing=TITLE_MISSING)
    domain = _read_domain(cell, existing)
    domain_at = len(cell.plan.errors)  # a retired domain is reported in its column's place
    values = services.CommitmentValues(
        title=title, domain_id=domain.id if domain is not None else 0,
        description=read_text(cell, "description", max_length=DESCRIPTION_MAX, multiline=True),
        start_date=read_date(cell, "start_date"), target_date=read_date(cell, "target_date"))
    for refusal in reversed(services.check_values(values, domain, commitment)):
        if refusal.rule == services.RETIRED_DOMAIN:
            cell.error("domain", _("'%(value)s' has been retired: choose another change domain. "
                                   "Use one of: %(slugs)s.", value=domain.slug,
                                   slugs=existing.active_slugs()), at=domain_at)
        elif refusal.rule == services.DATES_OUT_OF_ORDER:
            cell.error("target_date", _(
                "The target date (%(target)s) must be on or after the start date (%(start)s).",
                target=values.target_date.isoformat(), start=values.start_date.isoformat()))
        # UNKNOWN_DOMAIN: the domain cell has its own message (above).
    enums = existing.enums
    values = replace(
        values,
        ambition=read_enum(cell, "ambition", Ambition, enums[Ambition],
                           default=Ambition.ESSENTIAL if is_new else None),
        completion=read_enum(cell, "completion", Completion, enums[Completion],
                             default=Completion.NOT_STARTED if is_new else None),
        rag=read_enum(cell, "rag", RAG, enums[RAG], default=RAG.ON_TRACK if is_new else None))
    return values, domain


def _check_commitment_row(plan: ImportPlan, table: Table, row: Row, existing: _Existing, actor,
                          seen_ids: dict[int, int], new_titles: dict[str, int]) -> None:
    cell = Cell(plan, table, row)
    commitment_id = read_int(cell, "id", NOT_A_COMMITMENT_ID)
    commitment = _row_commitment(cell, commitment_id, existing, seen_ids)
    values, domain = _read_commitment(cell, existing, commitment, is_new=commitment_id is None)
    status = None
    if not blank(cell.raw("status")):
        status = read_enum(cell, "status", CommitmentStatus, existing.enums[CommitmentStatus])
    _report_stray(cell)
    if cell.failed:
        return
    if commitment_id is None:
        _plan_new(cell, values, domain, status, new_titles)
    elif commitment is not None:  # (an ID that is not the organisation's is already reported)
        _plan_update(cell, commitment, values, domain, status, existing, actor)


def _plan_new(cell: Cell, values: services.CommitmentValues, domain: ChangeDomain,
              status: CommitmentStatus | None, new_titles: dict[str, int]) -> None:
    if status not in (None, CommitmentStatus.DRAFT):
        cell.error("status", _("New commitments are saved as drafts: leave Status empty (or "
                               "Draft) and publish them on their page."))
        return
    title_key = " ".join(values.title.split()).casefold()
    if title_key in new_titles:
        cell.error("title", _("This new commitment is already in row %(row)d.",
                              row=new_titles[title_key]))
        return
    new_titles[title_key] = cell.row.number
    cell.plan.creates.append(NewCommitment(cell.row.number, values, domain))


def _plan_update(cell: Cell, commitment: Commitment, values: services.CommitmentValues,
                 domain: ChangeDomain, status: CommitmentStatus | None, existing: _Existing,
                 actor) -> None:
    if status is not None and status != commitment.status:
        cell.error("status", _("The status cannot be changed by uploading a file: publish or retire "
                               "the commitment on its page."))
        return
    for key in ("title", "description"):  # text whose line ends alone differ is unchanged
        if same_text(getattr(commitment, key), getattr(values, key)):
            values = replace(values, **{key: getattr(commitment, key)})
    changes = audit.changes_between(commitment, values.as_dict())
    if not changes:
        cell.plan.unchanged_commitments += 1
        return
    if commitment.status == CommitmentStatus.RETIRED:
        cell.error("id", _("Commitment %(id)d is retired, and retired commitments cannot be changed.",
                           id=commitment.id))
        return
    if not permissions.can_edit_commitment(actor, commitment):
        cell.error("id", _("You may not change commitment %(id)d.", id=commitment.id))
        return
    version = _read_version(cell, commitment, values, domain)
    if version is None:
        return
    slugs = {d.id: d.slug for d in existing.domains}
    shown_changes = []
    for key in changes:
        old, new = getattr(commitment, key), getattr(values, key)
        if key == "domain_id":
            old, new = slugs.get(old, ""), slugs.get(new, "")
        shown_changes.append(Change(HEADERS[COMMITMENTS]["domain" if key == "domain_id" else key],
                                    display(old), display(new)))
    cell.plan.updates.append(CommitmentUpdate(cell.row.number, commitment,
                                              {k: getattr(values, k) for k in changes},
                                              shown_changes, values, version))


def _read_version(cell: Cell, commitment: Commitment, values: services.CommitmentValues,
                  domain: ChangeDomain) -> int | None:
    """The version of a changed row, if it is the saved one (None: a problem is reported)."""
    version = read_int(cell, "version", NOT_A_VERSION)
    if cell.failed:
        return None
    if version is None:
        cell.error("version", _("Enter the version shown in the file you downloaded; without it, a "
                                "change by someone else could be overwritten."))
        return None
    refusals = services.check_values(values, domain, commitment, expected_version=version)
    if any(r.rule == services.STALE_VERSION for r in refusals):
        cell.error("version", _("Commitment %(id)d was changed by someone else since you downloaded "
                                "the file — download it again and redo your changes to this row.",
                                id=commitment.id))
        return None
    return version


# --- a row of measurements ------------------------------------------------------------------

def _measured_commitment(cell: Cell, existing: _Existing) -> Commitment | None:
    commitment_id = read_int(cell, "commitment_id", NOT_A_MEASURED_COMMITMENT)
    if commitment_id is None:
        if not cell.failed:
            cell.error("commitment_id", _("Enter the number of the commitment this value belongs to."))
        return None
    commitment = existing.commitments.get(commitment_id)
    if commitment is None:
        cell.error("commitment_id", _("%(value)s is not one of your commitments.",
                                      value=commitment_id))
    return commitment


def _measured_link(cell: Cell, commitment: Commitment | None,
                   existing: _Existing) -> tuple[CommitmentIndicator | None, str]:
    """The indicator attachment a row names (None: not found, or no commitment to look in),
    and the indicator's name as saved."""
    name = cell_text(cell.raw("indicator"))
    if not name:
        cell.error("indicator", _("Enter the name of the indicator, as shown on the commitment's page."))
        return None, name
    if commitment is None:
        return None, name
    attached = existing.links.get(commitment.id, {})
    found = attached.get(" ".join(name.split()).casefold(), [])
    if not attached:
        cell.error("indicator", _("Commitment %(id)d has no indicators yet: attach '%(name)s' on "
                                  "its page first.", id=commitment.id, name=shown(name)))
    elif not found:
        names = sorted({n for pairs in attached.values() for _l, n in pairs})
        cell.error("indicator", _("'%(name)s' is not attached to commitment %(id)d. Use one of: "
                                  "%(names)s (or attach it on the commitment's page first).",
                                  name=shown(name), id=commitment.id, names=", ".join(names)))
    elif len(found) > 1:
        cell.error("indicator", _("More than one indicator called '%(name)s' is attached to "
                                  "commitment %(id)d: rename one of them first.",
                                  name=shown(name), id=commitment.id))
    else:
        return found[0]
    return None, name


def _check_measurement_row(plan: ImportPlan, table: Table, row: Row, existing: _Existing, actor,
                           seen: dict[tuple, int]) -> None:
    cell = Cell(plan, table, row)
    commitment = _measured_commitment(cell, existing)
    link, name = _measured_link(cell, commitment, existing)
    period_start = read_date(cell, "period_start", required=True)
    period_end = read_date(cell, "period_end", required=True)
    if period_start and period_end and period_end < period_start:
        cell.error("period_end", _("The period end (%(end)s) must be on or after the period start "
                                   "(%(start)s).", end=period_end.isoformat(),
                                   start=period_start.isoformat()))
    value, as_float = read_decimal(cell, "value", table.decimal_comma)
    note = read_text(cell, "note", max_length=NOTE_MAX, multiline=True)
    _report_stray(cell)
    if cell.failed or link is None:
        return
    key = (link.id, period_start, period_end)
    if key in seen:
        cell.error(None, _("This row repeats row %(row)d: the same commitment, indicator and period.",
                           row=seen[key]))
        return
    seen[key] = row.number
    measurement = existing.measurements.get(key)
    same_value = measurement is not None and (measurement.value == value or (
        as_float is not None and float(measurement.value) == as_float))
    if same_value and same_text(measurement.note, note):
        plan.unchanged_measurements += 1
        return
    if not permissions.can_manage_commitment_indicators(actor, commitment):
        if commitment.status == CommitmentStatus.RETIRED:
            cell.error("commitment_id", _("Commitment %(id)d is retired: its measurements cannot be "
                                          "changed.", id=commitment.id))
        else:
            cell.error("commitment_id", _("You may not record measurements of commitment %(id)d.",
                                          id=commitment.id))
        return
    change = MeasurementChange(row.number, commitment, link, name, period_start, period_end, value,
                               note, measurement, value_changed=not same_value)
    (plan.measurement_updates if measurement else plan.measurement_creates).append(change)


def plan_import(actor, organisation: Organisation, content: bytes) -> ImportPlan:
    """Read and validate a whole file against what is saved; write nothing.

    Raises FileProblem when the file cannot be read at all; otherwise the plan lists either
    the problems, row by row (the first MAX_ERRORS of them), or every change the upload
    would make.
    """
    permissions.require(permissions.can_import_commitments(actor, organisation),
                        _("Only the members of an approved organisation can upload its commitments."))
    tables, notices = read_tables(content)
    plan = ImportPlan(organisation, notices=notices)
    kinds = {t.kind for t in tables}
    existing = _load_existing(organisation, with_measurements=MEASUREMENTS in kinds)
    seen_ids: dict[int, int] = {}
    new_titles: dict[str, int] = {}
    seen_measurements: dict[tuple, int] = {}
    for table in sorted(tables, key=lambda t: t.kind):
        for row in table.rows:
            if len(plan.errors) >= MAX_ERRORS:
                # A file this wrong is wrong throughout; listing more would only cost time.
                del plan.errors[MAX_ERRORS:]
                plan.errors_cut = True
                return plan
            if table.kind == COMMITMENTS:
                _check_commitment_row(plan, table, row, existing, actor, seen_ids, new_titles)
            else:
                _check_measurement_row(plan, table, row, existing, actor, seen_measurements)
    return plan
