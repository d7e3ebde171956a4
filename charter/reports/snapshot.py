"""The snapshot: everything a published report shows, as plain JSON-able values.

Publishing stores this snapshot (and the PDF rendered from it), so later edits to the
commitments behind a report never change what was published. Pages and PDFs of
published reports are rendered from the snapshot, never from live records.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from charter.commitments.fields import COMMITMENT_FIELDS, code_value
from charter.commitments.queries import commitment_page_options
from charter.extensions import db
from charter.models import (
    Commitment,
    Partnership,
    PartnershipStatus,
    ProgressReport,
)
from charter.signing.queries import signing_status

SNAPSHOT_FORMAT = 1


def _d(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _n(value: Decimal | None) -> str | None:
    if value is None:
        return None
    return format(value.normalize(), "f")


def _declared_fields(commitment: Commitment) -> dict[str, Any]:
    """The commitment's declared fields that a report shows (charter.commitments.fields),
    as plain values: codes as their values, dates and numbers as text."""
    values = {}
    for field in COMMITMENT_FIELDS:
        if field.in_report:
            value = field.value_of(commitment)
            if isinstance(value, date | datetime):
                value = _d(value)
            elif isinstance(value, Decimal):
                value = _n(value)
            values[field.name] = code_value(value)
    return values


def canonical_json(snapshot: dict[str, Any]) -> str:
    return json.dumps(snapshot, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def sha256_of(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def report_commitments(report: ProgressReport) -> list[Commitment]:
    """The organisation's public commitments and the joint ones it accepted, with all
    their parts eager-loaded."""
    org = report.organisation
    joint = select(Partnership.commitment_id).where(
        Partnership.organisation_id == org.id, Partnership.status == PartnershipStatus.ACCEPTED)
    return list(db.session.scalars(
        select(Commitment)
        .where(or_(Commitment.organisation_id == org.id, Commitment.id.in_(joint)),
               Commitment.is_public)
        .options(*commitment_page_options())
    ).unique())


def build_snapshot(report: ProgressReport, text: dict[str, str] | None = None) -> dict[str, Any]:
    """Everything the report shows, as it stands now; `text` (summary, lived-experience
    reflection, co-produced-by) in place of the report's own, for a correction that is
    frozen before it is saved. Reads only: the report is not changed."""
    org = report.organisation
    site = org.site
    cycle = report.cycle
    start, end = cycle.period_start, cycle.period_end
    signing = signing_status(org)
    domains: dict[int, dict[str, Any]] = {}
    for c in sorted(report_commitments(report), key=lambda c: (c.domain.position, c.domain_id, c.id)):
        group = domains.setdefault(c.domain_id, {
            "name": c.domain.name, "summary": c.domain.summary, "commitments": []})
        updates = [u for u in c.updates if start <= u.update_date <= end]
        indicators = []
        for ci in c.indicators:
            measurements = [m for m in ci.measurements if m.period_end <= end]
            indicators.append({
                "name": ci.indicator.name, "unit": ci.indicator.unit,
                "reference": ci.indicator.reference, "direction": ci.indicator.direction.value,
                "baseline_value": _n(ci.baseline_value), "baseline_date": _d(ci.baseline_date),
                "target_value": _n(ci.target_value), "target_date": _d(ci.target_date),
                "measurements": [
                    {"period_start": _d(m.period_start), "period_end": _d(m.period_end),
                     "value": _n(m.value), "note": m.note,
                     "in_period": m.period_end >= start}
                    for m in measurements
                ],
            })
        group["commitments"].append({
            "id": c.id,
            **_declared_fields(c),
            "lead_organisation": c.organisation.name,
            "joint": c.organisation_id != org.id,
            "partners": [
                {"name": p.organisation.name, "sector": p.organisation.sector.value}
                for p in c.partnerships if p.status == PartnershipStatus.ACCEPTED
            ],
            "milestones": [
                {"title": m.title, "due_date": _d(m.due_date), "done_date": _d(m.done_date)}
                for m in c.milestones
            ],
            "updates": [
                {"date": _d(u.update_date), "author": u.author.full_name if u.author else "",
                 "organisation": u.organisation.name, "report": u.report, "reflect": u.reflect,
                 "completion": u.completion.value, "rag": u.rag.value,
                 "previous_completion": u.previous_completion.value if u.previous_completion else None,
                 "previous_rag": u.previous_rag.value if u.previous_rag else None,
                 "rethink": u.rethink, "refresh": u.refresh}
                for u in sorted(updates, key=lambda u: (u.update_date, u.id))
            ],
            "indicators": indicators,
        })
    latest = signing.latest
    return {
        "format": SNAPSHOT_FORMAT,
        "report_id": report.id,
        "organisation": {"name": org.name, "slug": org.slug, "sector": org.sector.value,
                         "tier": org.tier.value, "website": org.website},
        "site": {"name": site.name, "slug": site.slug, "timezone": site.timezone},
        "cycle": {"name": cycle.name, "period_start": _d(start), "period_end": _d(end),
                  "due_date": _d(cycle.due_date)},
        "signature": {
            "signed_version": signing.signed_version_number,
            "signed_at": _d(latest.signed_at) if latest else None,
            "verification_code": latest.verification_code if latest else None,
            "open_version": signing.open_version.number if signing.open_version else None,
            "needs_reaffirming": signing.needs_reaffirming,
        },
        "summary": report.summary if text is None else text["summary"],
        "lived_experience_reflection": (report.lived_experience_reflection if text is None
                                        else text["lived_experience_reflection"]),
        "co_produced_by": report.co_produced_by if text is None else text["co_produced_by"],
        "domains": list(domains.values()),
    }


def load_report(report_id: int) -> ProgressReport | None:
    return db.session.scalar(
        select(ProgressReport).where(ProgressReport.id == report_id).options(
            joinedload(ProgressReport.organisation),
            joinedload(ProgressReport.cycle),
            selectinload(ProgressReport.reviews),
            selectinload(ProgressReport.revisions),
        )
    )
