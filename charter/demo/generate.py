"""`flask charter generate`: the large synthetic data set that the benchmarks run on.

Five sites, 2,000 organisations, 40,000 commitments and 200,000 measurements by default,
written with bulk INSERTs (a few seconds per table, not ORM objects one by one). Every
record is synthetic and says so; published reports share one small PDF rendered once,
so that list and dashboard pages have revisions to show without rendering thousands of
PDFs. Never load this into a database people use.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import insert, select, text

from charter import audit
from charter.catalogue.indicators import seed_catalogue
from charter.demo import DEMO_PASSWORD, DOMAINS, SITES
from charter.extensions import db
from charter.models import (
    PUBLIC_ORGANISATION_STATUSES,
    RAG,
    Ambition,
    ChangeDomain,
    CharterStatus,
    CharterVersion,
    Commitment,
    CommitmentIndicator,
    CommitmentStatus,
    Completion,
    Indicator,
    Measurement,
    MemberRole,
    Membership,
    Organisation,
    OrganisationStatus,
    Partnership,
    PartnershipStatus,
    ProgressReport,
    ProgressUpdate,
    ReportingCycle,
    ReportRevision,
    ReportStatus,
    Sector,
    Signature,
    Site,
    SiteCoordinator,
    Tier,
    User,
    fold_name,
)
from charter.models.charter import sha256_text

CHUNK = 5_000


@dataclass
class Sizes:
    organisations: int = 2_000
    commitments: int = 40_000
    measurements: int = 200_000
    measurements_per_indicator: int = 20


def _bulk(model, rows: list[dict]) -> None:
    for start in range(0, len(rows), CHUNK):
        db.session.execute(insert(model), rows[start:start + CHUNK])


def _ids(model, order_by) -> list[int]:
    return list(db.session.scalars(select(model.id).order_by(order_by)))


def generate(sizes: Sizes | None = None, seed: int = 2026, now: datetime | None = None) -> dict:  # noqa: C901 - a script: one step per kind of record, in order
    sizes = sizes or Sizes()
    rnd = random.Random(seed)  # noqa: S311 - synthetic data, not security
    now = now or datetime.now(UTC)
    today = now.date()

    # Sites, domains, the indicator catalogue, an admin and coordinators.
    sites = [Site(slug=slug, name=name, country=country, timezone=tz, description=desc,
                  contact_email=f"coordinator.{slug}@example.org", missed_cycles_threshold=2)
             for slug, name, country, tz, desc in SITES]
    db.session.add_all(sites)
    for position, (slug, name, summary, description, note) in enumerate(DOMAINS, start=1):
        db.session.add(ChangeDomain(slug=slug, name=name, summary=summary, description=description,
                                    source_note=note, position=position))
    db.session.flush()
    seed_catalogue(None)
    admin = User(email="admin@example.org", full_name="Synthetic Admin", is_admin=True)
    admin.set_password(DEMO_PASSWORD)
    password_hash = admin.password_hash
    db.session.add(admin)
    for site in sites:
        user = User(email=f"coordinator.{site.slug}@example.org", full_name=f"{site.name} Coordinator",
                    password_hash=password_hash)
        db.session.add_all([user, SiteCoordinator(user=user, site=site)])
    db.session.flush()
    domain_ids = [d.id for d in db.session.scalars(ChangeDomain.ordered())]
    indicator_ids = list(db.session.scalars(
        select(Indicator.id).where(Indicator.organisation_id.is_(None)).order_by(Indicator.id)))

    versions = {}
    for site in sites:
        body = f"# The {site.name} PROMISE Charter (synthetic)\n\nWe promise to end reliance on force."
        v = CharterVersion(site=site, number=1, title=f"{site.name} charter", body_markdown=body,
                           body_sha256=sha256_text(body), status=CharterStatus.OPEN,
                           opened_at=now - timedelta(days=900), version=1)
        db.session.add(v)
        versions[site.id] = v
    db.session.flush()

    # Organisations, one lead each.
    sectors = list(Sector)
    org_rows, user_rows = [], []
    statuses = ([OrganisationStatus.ACTIVE] * 17 + [OrganisationStatus.PENDING]
                + [OrganisationStatus.DECLINED] + [OrganisationStatus.WITHDRAWN])
    for i in range(sizes.organisations):
        site = sites[i % len(sites)]
        name = f"Synthetic organisation {i + 1:05d} ({site.name})"
        org_rows.append({
            "site_id": site.id, "name": name, "name_key": fold_name(name),
            "slug": f"synthetic-{i + 1:05d}", "sector": sectors[rnd.randrange(len(sectors))],
            "tier": Tier.SUPPORTER if rnd.random() < 0.2 else Tier.SIGNATORY,
            "status": statuses[rnd.randrange(len(statuses))], "website": None,
            "description": "Synthetic organisation for benchmarks.", "version": 1,
            "created_at": now - timedelta(days=rnd.randrange(30, 800)),
        })
        user_rows.append({"email": f"lead{i + 1:05d}@synthetic.example.org",
                          "password_hash": password_hash, "full_name": f"Lead {i + 1}",
                          "job_title": "Director", "is_admin": False, "active": True,
                          "auth_epoch": 0})
    _bulk(Organisation, org_rows)
    _bulk(User, user_rows)
    orgs = db.session.execute(select(Organisation.id, Organisation.site_id, Organisation.status)
                              .order_by(Organisation.id)).all()
    lead_ids = list(db.session.scalars(select(User.id).where(User.email.like("lead%@synthetic.example.org"))
                                       .order_by(User.email)))
    _bulk(Membership, [{"user_id": lead_ids[n], "organisation_id": org.id, "role": MemberRole.LEAD}
                       for n, org in enumerate(orgs)])
    public_orgs = [o for o in orgs if o.status in PUBLIC_ORGANISATION_STATUSES]
    lead_of = {org.id: lead_ids[n] for n, org in enumerate(orgs)}
    _bulk(Signature, [{
        "organisation_id": o.id, "charter_version_id": versions[o.site_id].id,
        "signer_id": lead_of[o.id], "signer_name": "Synthetic signer", "signer_job_title": "Director",
        "authority_statement": "I have the authority to sign on behalf of this organisation",
        "signed_at": now - timedelta(days=rnd.randrange(400, 800)),
        "text_sha256": versions[o.site_id].body_sha256,
        "verification_code": f"PRM-SYN{n:05d}"[:18],
    } for n, o in enumerate(public_orgs)])

    # Commitments (published mostly, some drafts and retired), spread across domains with
    # a site-specific emphasis so the global view has differences to show.
    active = [o for o in orgs if o.status == OrganisationStatus.ACTIVE]
    rows = []
    for n in range(sizes.commitments):
        org = active[n % len(active)]
        emphasis = domain_ids[(org.site_id * 3) % len(domain_ids)]
        domain = emphasis if rnd.random() < 0.3 else domain_ids[rnd.randrange(len(domain_ids))]
        roll = rnd.random()
        status = (CommitmentStatus.DRAFT if roll < 0.08 else
                  CommitmentStatus.RETIRED if roll < 0.11 else CommitmentStatus.PUBLISHED)
        start = date(today.year - 2, 1, 1) + timedelta(days=rnd.randrange(0, 300))
        rows.append({
            "organisation_id": org.id, "domain_id": domain, "title": f"Synthetic commitment {n + 1}",
            "description": "Reduce restrictive practice (synthetic).", "start_date": start,
            "target_date": start + timedelta(days=rnd.randrange(365, 1100)),
            "ambition": list(Ambition)[rnd.randrange(4)],
            "completion": list(Completion)[min(4, int(rnd.random() * 4.4))],
            "rag": list(RAG)[rnd.choices([0, 1, 2], [6, 3, 1])[0]], "status": status,
            "published_at": None if status == CommitmentStatus.DRAFT else now - timedelta(days=500),
            "version": 1, "created_at": now - timedelta(days=600), "updated_at": now,
        })
    _bulk(Commitment, rows)
    commitments = db.session.execute(select(Commitment.id, Commitment.organisation_id, Commitment.status)
                                     .order_by(Commitment.id)).all()
    public_commitments = [c for c in commitments if c.status != CommitmentStatus.DRAFT]

    # Partnerships: about one public commitment in eight is joint.
    partnership_rows = []
    for c in public_commitments[::8]:
        partner = active[rnd.randrange(len(active))]
        if partner.id != c.organisation_id:
            partnership_rows.append({"commitment_id": c.id, "organisation_id": partner.id,
                                     "status": PartnershipStatus.ACCEPTED, "role_note": ""})
    _bulk(Partnership, partnership_rows)

    # Progress updates: one per public commitment.
    _bulk(ProgressUpdate, [{
        "commitment_id": c.id, "organisation_id": c.organisation_id,
        "author_id": lead_of[c.organisation_id],
        "update_date": today - timedelta(days=rnd.randrange(10, 300)),
        "report": "Synthetic progress.", "reflect": "", "completion": Completion.LIMITED,
        "rag": RAG.ON_TRACK, "rethink": "", "refresh": "",
    } for c in public_commitments])

    # Indicators with measurements: 200,000 by default (monthly periods).
    per = sizes.measurements_per_indicator
    attached = sizes.measurements // per
    step = max(1, len(public_commitments) // max(1, attached))
    ci_rows = [{
        "commitment_id": c.id, "indicator_id": indicator_ids[n % len(indicator_ids)],
        "baseline_value": Decimal("30"), "baseline_date": date(today.year - 2, 1, 1),
        "target_value": Decimal("15"), "target_date": date(today.year + 1, 1, 1), "version": 1,
    } for n, c in enumerate(public_commitments[::step][:attached])]
    _bulk(CommitmentIndicator, ci_rows)
    ci_ids = _ids(CommitmentIndicator, CommitmentIndicator.id)
    first_month = date(today.year - 2, today.month, 1)
    months = []
    for k in range(per):
        year, month = divmod(first_month.month - 1 + k, 12)
        start = date(first_month.year + year, month + 1, 1)
        end = (date(start.year + (start.month == 12), start.month % 12 + 1, 1) - timedelta(days=1))
        months.append((start, end))
    measurement_rows = []
    for ci in ci_ids:
        level = 20 + rnd.random() * 20
        for start, end in months:
            level = max(0.0, level * (0.97 + rnd.random() * 0.04))
            measurement_rows.append({"commitment_indicator_id": ci, "period_start": start,
                                     "period_end": end, "value": Decimal(f"{level:.2f}"), "note": ""})
            if len(measurement_rows) >= CHUNK:
                _bulk(Measurement, measurement_rows)
                measurement_rows = []
    _bulk(Measurement, measurement_rows)

    # Four quarterly cycles per site; most organisations published, some drafts, some missing.
    reports = _cycles_and_reports(sites, active, lead_of, rnd, today, now)
    # One audit event, so that the data version moves and no page cached before is served.
    audit.record(None, "demo.generated", sites[0], {"organisations": len(orgs)})
    db.session.flush()
    return {"sites": len(sites), "organisations": len(orgs), "commitments": len(commitments),
            "measurements": len(ci_ids) * per, "partnerships": len(partnership_rows),
            "reports": reports}


def refresh_statistics() -> None:
    """ANALYZE every table, after the data is committed.

    A bulk load leaves the planner without statistics until autovacuum gets round to it;
    without them PostgreSQL chose nested loops that made /partnerships take about 1 s
    instead of about 0.15 s on the generated set. SQLite's ANALYZE feeds its planner too."""
    db.session.execute(text("ANALYZE"))
    db.session.commit()


def _cycles_and_reports(sites, active, lead_of, rnd, today, now) -> int:
    from charter.pdf import html_to_pdf

    pdf = html_to_pdf("<h1>Synthetic report</h1><p>Benchmark data.</p>")
    pdf_sha = __import__("hashlib").sha256(pdf).hexdigest()
    cycle_rows = []
    for site in sites:
        year, q = today.year, (today.month - 1) // 3 + 1
        for back in range(4, 0, -1):
            qq, yy = q - back, year
            while qq <= 0:
                qq, yy = qq + 4, yy - 1
            start = date(yy, 3 * (qq - 1) + 1, 1)
            end = (date(yy + (qq == 4), 1 if qq == 4 else 3 * qq + 1, 1) - timedelta(days=1))
            cycle_rows.append({"site_id": site.id, "name": f"{yy} Q{qq}", "period_start": start,
                               "period_end": end, "due_date": end + timedelta(days=31),
                               "reminder_days_before": 14, "reminder_days_after": 7,
                               "review_required": True})
    _bulk(ReportingCycle, cycle_rows)
    cycles = db.session.execute(select(ReportingCycle)).scalars().all()
    site_by_id = {s.id: s for s in sites}
    org_names = dict(db.session.execute(select(Organisation.id, Organisation.name)).all())
    report_rows = []
    for cycle in cycles:
        for org in active:
            if org.site_id != cycle.site_id:
                continue
            roll = rnd.random()
            if roll < 0.15:
                continue
            status = ReportStatus.PUBLISHED if roll < 0.85 else ReportStatus.DRAFT
            report_rows.append({
                "organisation_id": org.id, "cycle_id": cycle.id, "status": status,
                "summary": "Synthetic report.", "lived_experience_reflection": "",
                "co_produced_by": "", "created_by_id": lead_of[org.id], "version": 1,
                "updated_at": now, "published_at": now - timedelta(days=30)
                if status == ReportStatus.PUBLISHED else None,
            })
    _bulk(ProgressReport, report_rows)
    published = db.session.execute(select(
        ProgressReport.id, ProgressReport.organisation_id, ProgressReport.cycle_id).where(
        ProgressReport.status == ReportStatus.PUBLISHED)).all()
    cycle_by_id = {c.id: c for c in cycles}
    revision_rows = []
    for rid, org_id, cycle_id in published:
        cycle = cycle_by_id[cycle_id]
        site = site_by_id[cycle.site_id]
        snapshot = {
            "format": 1, "synthetic": True, "report_id": rid,
            "organisation": {"name": org_names[org_id], "slug": f"synthetic-{org_id}",
                             "sector": "statutory", "tier": "signatory", "website": None},
            "site": {"name": site.name, "slug": site.slug, "timezone": site.timezone},
            "cycle": {"name": cycle.name, "period_start": cycle.period_start.isoformat(),
                      "period_end": cycle.period_end.isoformat(),
                      "due_date": cycle.due_date.isoformat()},
            "signature": {"signed_version": 1, "signed_at": None, "verification_code": None,
                          "open_version": 1, "needs_reaffirming": False},
            "summary": "Synthetic report for benchmarks.", "lived_experience_reflection": "",
            "co_produced_by": "", "domains": [],
            "revision": {"number": 1, "published_at": (now - timedelta(days=30)).isoformat(),
                         "change_note": ""},
        }
        revision_rows.append({
            "report_id": rid, "number": 1, "snapshot": snapshot,
            "snapshot_sha256": sha256_text(str(rid)), "pdf": pdf, "pdf_sha256": pdf_sha,
            "pdf_size": len(pdf), "change_note": "", "published_at": now - timedelta(days=30),
        })
    _bulk(ReportRevision, revision_rows)
    return len(report_rows)
