"""Access table: indicators on commitments and their measurements."""

from __future__ import annotations

from tests.access.rules import Route, only

MEMBERS = ["editor", "lead"]


def commitment(w, *, published: bool = True, org=None, **kw):
    """A commitment of the world's organisation (or `org`), published by default. Unlike
    tests.access.commitments.commitment, it may be called several times in one test."""
    from sqlalchemy import select

    from charter.extensions import db
    from charter.models import ChangeDomain, CommitmentStatus
    from charter.models.base import utcnow
    from tests import factories as f

    domain = db.session.scalar(select(ChangeDomain).where(ChangeDomain.slug == "least-restrictive-practice"))
    domain = domain or f.domain("Least restrictive practice", slug="least-restrictive-practice")
    return f.commitment(org or w.org, domain,
                        status=CommitmentStatus.PUBLISHED if published else CommitmentStatus.DRAFT,
                        published_at=utcnow() if published else None, **kw)


def attached(w, *, with_measurement: bool = False):
    """An indicator of the organisation's own, attached to a published commitment."""
    from datetime import date
    from decimal import Decimal

    from charter.extensions import db
    from charter.models import CommitmentIndicator, Direction, Indicator, Measurement

    c = commitment(w)
    indicator = Indicator(name="Seclusion episodes", unit="episodes", direction=Direction.LOWER_IS_BETTER,
                          organisation_id=w.org.id)
    ci = CommitmentIndicator(commitment=c, indicator=indicator, baseline_value=Decimal(10))
    db.session.add_all([indicator, ci])
    if with_measurement:
        db.session.add(Measurement(commitment_indicator=ci, period_start=date(2026, 1, 1),
                                   period_end=date(2026, 3, 31), value=Decimal(7)))
    db.session.flush()
    return ci


def catalogue_indicator(name: str = "Restrictive interventions per 1,000 occupied bed days", **kw):
    """An indicator in the global catalogue (no organisation)."""
    from charter.extensions import db
    from charter.models import Direction, Indicator

    indicator = Indicator(name=name, unit=kw.pop("unit", "per 1,000 occupied bed days"),
                          direction=kw.pop("direction", Direction.LOWER_IS_BETTER),
                          reference=kw.pop("reference", "MHS96"),
                          definition=kw.pop("definition", "Restrictive interventions recorded, per "
                                                          "1,000 occupied bed days."),
                          **kw)
    db.session.add(indicator)
    db.session.flush()
    return indicator


def _measurement(w):
    ci = attached(w, with_measurement=True)
    return ci.measurements[0].id


ACCESS = {
    ("commitments.add_indicator", "GET"): Route(
        lambda w: f"/commitments/{commitment(w).id}/indicators/new", only(MEMBERS)),
    ("commitments.add_indicator", "POST"): Route(
        lambda w: f"/commitments/{commitment(w).id}/indicators/new", only(MEMBERS, ok=400)),
    ("commitments.edit_indicator", "GET"): Route(
        lambda w: f"/commitment-indicators/{attached(w).id}/edit", only(MEMBERS)),
    ("commitments.edit_indicator", "POST"): Route(
        lambda w: f"/commitment-indicators/{attached(w).id}/edit", only(MEMBERS, ok=400)),
    ("commitments.remove_indicator", "POST"): Route(
        lambda w: f"/commitment-indicators/{attached(w).id}/remove", only(MEMBERS, ok=302)),
    ("commitments.measurements", "GET"): Route(
        lambda w: f"/commitment-indicators/{attached(w).id}/measurements", only(MEMBERS)),
    ("commitments.measurements", "POST"): Route(
        lambda w: f"/commitment-indicators/{attached(w).id}/measurements", only(MEMBERS, ok=400)),
    ("commitments.delete_measurement", "POST"): Route(
        lambda w: f"/measurements/{_measurement(w)}/delete", only(MEMBERS, ok=302)),
}
