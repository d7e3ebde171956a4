"""Rollups (charter/dashboards/rollups.py): the summary tables behind PROMISE Global and the
site dashboards. On random data, the stored rollups equal a full recomputation after every
kind of write, and that recomputation equals counts made here from the records; the views
read from stored rollups equal the views computed on the fly; each kind of write changes
what a visitor sees on /global and /sites/<slug>; drafts never count."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import delete, func, select

from charter.commitments import services as commitment_services
from charter.dashboards import metrics, rollups
from charter.extensions import db
from charter.models import (
    RAG,
    CharterStatus,
    Commitment,
    CommitmentIndicator,
    CommitmentStatus,
    Completion,
    Direction,
    Indicator,
    Measurement,
    Organisation,
    OrganisationStatus,
    ReportStatus,
    RollupSite,
    Sector,
    Signature,
    SignatureWithdrawal,
    Site,
    Tier,
)
from charter.models.rollups import ROLLUP_TABLES
from charter.readers import LATEST_DATE
from tests import factories as f
from tests.support import text_of
from tests.test_dashboard_public_site import q, quarter_ago

NOW = datetime.now(UTC)


# --- random data --------------------------------------------------------------------------------

def _random_world(rng: random.Random, world) -> dict:
    """Sites with organisations of every status, signatures (some withdrawn), commitments of
    every status, catalogue and own indicators with measurements, cycles and reports."""
    sites = [world.site, world.other_site, f.site(f"s{rng.randrange(10**6)}", name="Third")]
    domains = [f.domain(f"Domain {i} {rng.randrange(10**6)}") for i in range(3)]
    catalogue = [Indicator(name=f"Catalogue {i}", unit="%", direction=Direction.HIGHER_IS_BETTER)
                 for i in range(2)]
    db.session.add_all(catalogue)
    lead = world.user("lead")
    orgs = []
    for site in sites:
        version = f.charter_version(site, 1, CharterStatus.OPEN)
        cycles = [f.cycle(site, f"C{i}", period_start=date(2025, 1 + 3 * i, 1),
                          period_end=date(2025, 3 + 3 * i, 28), due_date=date(2025, 4 + 3 * i, 28))
                  for i in range(2)]
        for i in range(rng.randint(3, 6)):
            status = rng.choice([OrganisationStatus.ACTIVE] * 3 + [OrganisationStatus.WITHDRAWN,
                                                                  OrganisationStatus.PENDING])
            org = f.organisation(site, f"Org {site.slug} {i}", status=status,
                                 tier=rng.choice(list(Tier)), sector=rng.choice(list(Sector)))
            orgs.append(org)
            if status != OrganisationStatus.PENDING and rng.random() < 0.8:
                signature = f.signature(org, version, lead,
                                        signed_at=datetime(2025, rng.randint(1, 8), 1, tzinfo=UTC))
                if rng.random() < 0.2:
                    db.session.add(SignatureWithdrawal(signature=signature, withdrawn_by=lead,
                                                       reason="We left.", withdrawn_at=NOW))
            own = Indicator(name=f"Own {org.id}", unit="n", direction=Direction.LOWER_IS_BETTER,
                            organisation_id=org.id)
            db.session.add(own)
            for _ in range(rng.randint(0, 6)):
                c = f.commitment(org, rng.choice(domains),
                                 status=rng.choice(list(CommitmentStatus)),
                                 completion=rng.choice(list(Completion)), rag=rng.choice(list(RAG)))
                for indicator in rng.sample([*catalogue, own], rng.randint(0, 2)):
                    ci = CommitmentIndicator(commitment=c, indicator=indicator)
                    db.session.add(ci)
                    for n in rng.sample(range(10), rng.randint(0, 4)):
                        start, end = q(*quarter_ago(n), rng.randint(1, 3))
                        db.session.add(Measurement(commitment_indicator=ci, period_start=start,
                                                   period_end=end, value=Decimal(rng.randint(0, 100))))
            for cycle in cycles:
                if rng.random() < 0.5:
                    f.report(org, cycle, status=rng.choice(list(ReportStatus)),
                             published_at=datetime(2025, rng.randint(1, 12), 1, tzinfo=UTC))
    db.session.commit()
    return {"sites": sites, "domains": domains, "orgs": orgs}


def _random_writes(rng: random.Random, data: dict) -> None:
    """One random write of each kind, each in its own transaction."""
    commitments = list(db.session.scalars(select(Commitment)))
    measurements = list(db.session.scalars(select(Measurement)))
    orgs = data["orgs"]
    writes = [
        lambda: setattr(rng.choice(orgs), "status", rng.choice(list(OrganisationStatus))),
        lambda: setattr(rng.choice(commitments), "status", rng.choice(list(CommitmentStatus))),
        lambda: setattr(rng.choice(commitments), "completion", rng.choice(list(Completion))),
        lambda: setattr(rng.choice(commitments), "domain", rng.choice(data["domains"])),
        lambda: db.session.delete(rng.choice(measurements)) if measurements else None,
        lambda: setattr(rng.choice(measurements), "value", Decimal(rng.randint(0, 100)))
        if measurements else None,
        lambda: setattr(rng.choice(orgs), "tier", rng.choice(list(Tier))),
    ]
    rng.shuffle(writes)
    for write in writes:
        write()
        db.session.commit()


# --- a reference made here, from the records -------------------------------------------------------

def _reference() -> dict:
    """The rollups' figures counted in Python from the ORM objects."""
    public_orgs = (OrganisationStatus.ACTIVE, OrganisationStatus.WITHDRAWN)
    domains: dict = defaultdict(lambda: {"commitments": 0, "published": 0, "retired": 0,
                                         "completed": 0, "organisations": set()})
    progress: dict = defaultdict(int)
    for c in db.session.scalars(select(Commitment)):
        org = c.organisation
        if org.status not in public_orgs or not c.is_public:
            continue
        entry = domains[(org.site_id, c.domain_id)]
        entry["commitments"] += 1
        entry["published"] += c.status == CommitmentStatus.PUBLISHED
        entry["retired"] += c.status == CommitmentStatus.RETIRED
        entry["completed"] += c.completion == Completion.COMPLETED
        if org.status == OrganisationStatus.ACTIVE:
            entry["organisations"].add(org.id)
        progress[(org.site_id, c.domain_id, c.completion.value, c.rag.value)] += 1
    organisations: dict = defaultdict(lambda: [0, 0])
    signed = {s.organisation_id for s in db.session.scalars(select(Signature)) if s.withdrawal is None}
    for org in db.session.scalars(select(Organisation)):
        if org.status != OrganisationStatus.ACTIVE:
            continue
        entry = organisations[(org.site_id, org.sector.value, org.tier.value)]
        entry[0] += 1
        entry[1] += org.id in signed
    per_org: dict = defaultdict(list)
    for m in db.session.scalars(select(Measurement)):
        ci = m.commitment_indicator
        c, org = ci.commitment, ci.commitment.organisation
        if (ci.indicator.organisation_id is None and c.is_public and org.status in public_orgs
                and m.period_end <= LATEST_DATE):
            quarter = m.period_end.year * 4 + (m.period_end.month - 1) // 3
            per_org[(org.site_id, ci.indicator_id, quarter, org.id)].append(m.value)
    pooled: dict = defaultdict(list)
    for (site_id, indicator_id, quarter, _org), values in per_org.items():
        pooled[(site_id, indicator_id, quarter)].append(Decimal(sum(values)) / len(values))
    return {
        "domains": {k: (v["commitments"], v["published"], v["retired"], v["completed"],
                        len(v["organisations"])) for k, v in domains.items()},
        "progress": dict(progress),
        "organisations": {k: tuple(v) for k, v in organisations.items()},
        "indicators": {k: ((sum(v) / len(v)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), len(v))
                       for k, v in pooled.items()},
    }


def _keyed(values: dict) -> dict:
    """compute()'s rows keyed as the reference keys them."""
    return {
        "domains": {(r["site_id"], r["domain_id"]): (r["commitments"], r["published"], r["retired"],
                                                     r["completed"], r["organisations"])
                    for r in values["domains"]},
        "progress": {(r["site_id"], r["domain_id"], r["completion"], r["rag"]): r["commitments"]
                     for r in values["progress"]},
        "organisations": {(r["site_id"], r["sector"], r["tier"]): (r["active"], r["signed"])
                          for r in values["organisations"]},
        "indicators": {(r["site_id"], r["indicator_id"], r["quarter"]): (r["value"], r["organisations"])
                       for r in values["indicators"]},
    }


def _stored() -> dict:
    """Every rollup table's rows as stored, comparable with compute()'s."""
    out = {}
    for name, model in rollups.TABLES.items():
        columns = [c.key for c in model.__table__.columns]
        out[name] = sorted(tuple(str(getattr(row, c)) if c == "value" else getattr(row, c)
                                 for c in columns)
                           for row in db.session.scalars(select(model)))
    return out


def _normalised(values: dict) -> dict:
    out = {}
    for name, model in rollups.TABLES.items():
        columns = [c.key for c in model.__table__.columns]
        out[name] = sorted(tuple(str(Decimal(r[c]).quantize(Decimal("0.000001"))) if c == "value"
                                 else r[c] for c in columns) for r in values[name])
    return out


def _stored_normalised() -> dict:
    stored = _stored()
    for name, model in rollups.TABLES.items():
        if "value" in [c.key for c in model.__table__.columns]:
            index = [c.key for c in model.__table__.columns].index("value")
            stored[name] = sorted(tuple(str(Decimal(v).quantize(Decimal("0.000001"))) if i == index else v
                                        for i, v in enumerate(row)) for row in stored[name])
    return stored


def _views(sites) -> dict:
    db.session.expire_all()
    return {"global": metrics.global_view(NOW),
            **{s.slug: metrics.site_view(db.session.get(Site, s.id), now=NOW) for s in sites}}


# --- tests ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_stored_rollups_equal_a_full_recomputation_after_random_writes(world, seed):
    rng = random.Random(seed)
    data = _random_world(rng, world)
    # Every commit refreshed the sites it touched (tasks run at once in tests).
    assert db.session.scalar(select(func.count()).select_from(RollupSite)) == len(data["sites"])
    assert _stored_normalised() == _normalised(rollups.compute())

    _random_writes(rng, data)
    assert _stored_normalised() == _normalised(rollups.compute())

    # The recomputation itself equals counts made here from the records.
    reference, computed = _reference(), _keyed(rollups.compute())
    for name in ("domains", "progress", "organisations"):
        assert computed[name] == reference[name], name
    assert computed["indicators"].keys() == reference["indicators"].keys()
    for key, (value, organisations) in reference["indicators"].items():
        got_value, got_organisations = computed["indicators"][key]
        assert got_organisations == organisations
        assert abs(Decimal(got_value) - value) <= Decimal("0.01"), (key, got_value, value)

    # The views read from the stored rollups equal the views computed on the fly.
    from_tables = _views(data["sites"])
    for model in (*ROLLUP_TABLES, RollupSite):
        db.session.execute(delete(model))
    db.session.flush()
    assert rollups.Reader().live() == {s.id for s in data["sites"]}
    assert _views(data["sites"]) == from_tables
    db.session.rollback()


def test_a_site_never_computed_shows_its_figures_not_zeros(world):
    d = f.domain("Accepting communities")
    f.commitment(world.org, d, status=CommitmentStatus.PUBLISHED, completion=Completion.COMPLETED)
    db.session.commit()
    db.session.execute(delete(RollupSite))  # as after the upgrade, before any refresh
    for model in ROLLUP_TABLES:
        db.session.execute(delete(model))
    db.session.commit()
    view = metrics.site_view(world.site, now=NOW)
    assert view["domains"]["total"] == 1 and view["domains"]["by_completion"]["completed"] == 1
    cambridge = next(s for s in metrics.global_view(NOW)["sites"] if s["slug"] == "cambridge")
    assert cambridge["commitments"] == 1 and cambridge["completed"] == 1


def test_uncommitted_changes_are_read_in_their_own_transaction(world):
    d = f.domain("Accepting communities")
    f.commitment(world.org, d, status=CommitmentStatus.PUBLISHED)
    db.session.commit()
    assert metrics.site_view(world.site, now=NOW)["domains"]["total"] == 1
    f.commitment(world.org, d, status=CommitmentStatus.PUBLISHED)  # flushed, not committed
    assert metrics.site_view(world.site, now=NOW)["domains"]["total"] == 2
    db.session.rollback()
    assert metrics.site_view(world.site, now=NOW)["domains"]["total"] == 1


def test_each_kind_of_write_updates_what_visitors_see(client, world):
    lead, coordinator = world.user("lead"), world.user("coordinator")
    version = f.charter_version(world.site, 1, CharterStatus.OPEN)
    f.signature(world.org, version, lead, signed_at=datetime(2024, 1, 10, tzinfo=UTC))
    d = f.domain("Accepting communities", slug="accepting")
    draft = f.commitment(world.org, d, title="Quiet wards", status=CommitmentStatus.DRAFT)
    db.session.commit()

    def global_site():
        db.session.expire_all()
        response = client.get("/global")
        assert response.status_code == 200
        return next(s for s in metrics.global_view()["sites"] if s["slug"] == "cambridge"), \
            text_of(response)

    def site_page():
        response = client.get("/sites/cambridge")
        assert response.status_code == 200
        return text_of(response)

    # A draft never counts.
    cambridge, _ = global_site()
    assert cambridge["commitments"] == 0
    assert "Quiet wards" not in site_page()

    # Publishing a commitment (the service) counts it on both pages.
    commitment_services.publish(lead, draft)
    db.session.commit()
    assert db.session.get(RollupSite, world.site.id) is not None
    cambridge, text = global_site()
    assert cambridge["commitments"] == 1
    assert "Quiet wards" in text  # the domain's example, from its strongest site
    rows = metrics.site_view(world.site)["domains"]["rows"]
    assert next(r for r in rows if r["slug"] == "accepting")["total"] == 1

    # Retiring keeps it public (retired commitments count), completing it moves the share.
    draft.completion = Completion.COMPLETED
    db.session.commit()
    cambridge, _ = global_site()
    assert (cambridge["completed"], cambridge["completed_percent"]) == (1, 100)
    commitment_services.retire(lead, draft, "Done and closed.")
    db.session.commit()
    cambridge, _ = global_site()
    assert cambridge["commitments"] == 1

    # Adding a measurement of a catalogue indicator shows a trend on the site page.
    rate = Indicator(name="Seclusion episodes", unit="episodes", direction=Direction.LOWER_IS_BETTER)
    db.session.add(rate)
    ci = CommitmentIndicator(commitment=draft, indicator=rate)
    db.session.add(ci)
    start, end = q(*quarter_ago(1))
    db.session.add(Measurement(commitment_indicator=ci, period_start=start, period_end=end,
                               value=Decimal("42.5")))
    db.session.commit()
    assert "Seclusion episodes" in site_page()
    [trend] = metrics.site_view(world.site)["indicators"]
    assert [p["value"] for p in trend["quarters"]] == [Decimal("42.50")]

    # Publishing a report for a past cycle: compliance moves from 0 to 100 %.
    cycle = f.cycle(world.site, "Spring", period_start=date(2025, 1, 1),
                    period_end=date(2025, 3, 31), due_date=date(2025, 4, 30))
    db.session.commit()
    [row] = metrics.site_view(world.site)["compliance"]["cycles"]
    assert (row["owed"], row["published"]) == (1, 0)
    f.published_report(world.org, cycle, coordinator)
    db.session.commit()
    [row] = metrics.site_view(world.site)["compliance"]["cycles"]
    assert (row["owed"], row["published"], row["published_percent"]) == (1, 1, 100)

    # Withdrawing the organisation: no longer an active signatory, its commitments stay public
    # but cover no active organisation.
    cambridge, _ = global_site()
    assert cambridge["signatories"] + cambridge["supporters"] == 1
    world.org.status = OrganisationStatus.WITHDRAWN
    db.session.commit()
    cambridge, _ = global_site()
    assert cambridge["signatories"] + cambridge["supporters"] == 0
    assert cambridge["commitments"] == 1
    strength = next(r for r in metrics.global_view()["strength"] if r["slug"] == "accepting")
    assert next(c for c in strength["cells"] if c["site_slug"] == "cambridge")["organisations"] == 0


def test_one_refresh_per_transaction_for_the_sites_it_touched(world, monkeypatch):
    calls = []
    monkeypatch.setattr(rollups, "refresh", lambda site_ids=None: calls.append(site_ids))
    d = f.domain("Accepting communities")
    for _ in range(3):
        f.commitment(world.org, d, status=CommitmentStatus.PUBLISHED)  # three flushes
    db.session.commit()
    assert calls == [{world.site.id}]
    calls.clear()
    f.cycle(world.other_site, "Autumn")
    db.session.rollback()  # rolled back: nothing to refresh
    db.session.commit()
    assert calls == []


def test_a_refresh_changes_the_fingerprint_of_the_global_and_site_pdfs(app, world):
    """A refresh commits after the write that asked for it and records no audit event: a PDF
    built in between must not keep the old figures under the new data version."""
    from charter import documents
    from charter.dashboards.public_routes import _global_pdf, _site_pdf

    f.commitment(world.org, f.domain("Accepting communities"), status=CommitmentStatus.PUBLISHED)
    db.session.commit()
    with app.test_request_context("/global.pdf"):
        version = documents.data_version()
        before = (_global_pdf().fingerprint, _site_pdf(world.site.slug).fingerprint)
        rollups.refresh([world.site.id])
        assert documents.data_version() == version  # no audit event: only the rollups moved
        after = (_global_pdf().fingerprint, _site_pdf(world.site.slug).fingerprint)
    assert before[0] != after[0] and before[1] != after[1]
