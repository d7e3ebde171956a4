"""A varied site for the coordinator dashboard and export tests (no tests in this module).

`build(world)` adds to the world's Cambridge site organisations at every step of the
pipeline, every reporting status, commitments in every state across several domains (one of
them retired), partnerships across sectors (accepted, invited, declined, on drafts, with
another site), audit events; and to Brisbane data that must never show at Cambridge.
Everything it creates is kept in plain lists so that tests count with plain Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from charter import audit
from charter.extensions import db
from charter.models import (
    RAG,
    CharterStatus,
    CommitmentStatus,
    Completion,
    OrganisationStatus,
    Partnership,
    PartnershipStatus,
    ReportStatus,
    Sector,
    SignatureWithdrawal,
    Tier,
)
from tests import factories as f

FORMULA_NAME = "=HYPERLINK(\"http://evil.example\",\"click\")"


@dataclass
class Varied:
    world: object
    site: object
    other_site: object
    domains: list = field(default_factory=list)  # active ones
    old_domain: object = None  # retired (inactive) domain
    orgs: dict = field(default_factory=dict)  # key -> Organisation (Cambridge)
    other_orgs: dict = field(default_factory=dict)  # Brisbane
    commitments: list = field(default_factory=list)  # every commitment (both sites)
    partnerships: list = field(default_factory=list)
    signatures: list = field(default_factory=list)
    withdrawn: set = field(default_factory=set)  # ids of withdrawn signatures
    reports: dict = field(default_factory=dict)  # (org id, cycle id) -> report
    cycle_prev: object = None
    cycle_now: object = None
    events: list = field(default_factory=list)

    @property
    def all_domains(self) -> list:
        return [*self.domains, self.old_domain]

    def cambridge_orgs(self) -> list:
        return list(self.orgs.values())


def build(world, *, with_events: bool = True) -> Varied:
    site, other_site = world.site, world.other_site
    v = Varied(world=world, site=site, other_site=other_site)
    coordinator = world.user("coordinator")
    v.domains = [f.domain("Least restrictive practice", slug="least-restrictive", position=1),
                 f.domain("Integrated pathways", slug="integrated-pathways", position=2),
                 f.domain("Accepting communities", slug="accepting-communities", position=3)]
    v.old_domain = f.domain("Old heading", slug="old-heading", position=9, is_active=False)
    d1, d2, d3 = v.domains

    old = f.charter_version(site, 1, CharterStatus.SUPERSEDED)
    version = f.charter_version(site, 2, CharterStatus.OPEN)
    other_version = f.charter_version(other_site, 1, CharterStatus.OPEN)

    def org(key, name, sector, status=OrganisationStatus.ACTIVE, tier=Tier.SIGNATORY, target=None):
        obj = f.organisation(target or site, name, slug=key, sector=sector, status=status, tier=tier)
        (v.other_orgs if target is not None else v.orgs)[key] = obj
        return obj

    v.orgs["fenland"] = world.org  # statutory, active
    v.orgs["mind"] = world.other_org  # statutory, active
    peer = org("peer-support", "Peer Support Network", Sector.THIRD_SECTOR)
    voices = org("voices", "Voices Collective", Sector.LIVED_EXPERIENCE, tier=Tier.SUPPORTER)
    anglia = org("anglia-uni", "Anglia University", Sector.ACADEMIC)
    org("late-joiners", "Late Joiners CIC", Sector.INDEPENDENT_PROVIDER)  # approved, never signed
    org("waiting", "Waiting Trust", Sector.COMMISSIONER, status=OrganisationStatus.PENDING)
    org("declined", FORMULA_NAME, Sector.INDEPENDENT_PROVIDER, status=OrganisationStatus.DECLINED)
    gone = org("gone-away", "Gone Away Trust", Sector.STATUTORY, status=OrganisationStatus.WITHDRAWN)
    brisbane = org("brisbane-health", "Brisbane Health", Sector.STATUTORY, target=other_site)
    org("brisbane-pending", "Brisbane Pending Secret", Sector.ACADEMIC,
        status=OrganisationStatus.PENDING, target=other_site)
    fenland, mind = v.orgs["fenland"], v.orgs["mind"]

    lead = world.user("lead")

    def sign(o, ver=version, withdraw=False, **kw):
        s = f.signature(o, ver, lead, **kw)
        v.signatures.append(s)
        if withdraw:
            db.session.add(SignatureWithdrawal(signature=s, withdrawn_by_id=lead.id, reason="We left.",
                                               withdrawn_at=datetime.now(UTC)))
            v.withdrawn.add(s.id)
        return s

    for o in (fenland, mind, peer, voices):
        sign(o)
    sign(anglia, old, withdraw=True)  # active, but its only signature is withdrawn
    sign(gone, withdraw=True)
    sign(brisbane, other_version)
    db.session.flush()

    def commit(o, domain, status=CommitmentStatus.PUBLISHED, completion=Completion.NOT_STARTED,
               rag=RAG.ON_TRACK, title=None):
        c = f.commitment(o, domain, status=status, completion=completion, rag=rag,
                         title=title or f"{o.name}: {domain.name} {len(v.commitments) + 1}",
                         published_at=None if status == CommitmentStatus.DRAFT else datetime.now(UTC))
        v.commitments.append(c)
        return c

    P, R, D = CommitmentStatus.PUBLISHED, CommitmentStatus.RETIRED, CommitmentStatus.DRAFT  # noqa: N806 - short names keep the fixture table readable
    a1 = commit(fenland, d1, P, Completion.COMPLETED, RAG.ON_TRACK)
    a2 = commit(fenland, d1, P, Completion.LIMITED, RAG.AT_RISK, title="+SUM(1,2) formula title")
    a3 = commit(fenland, d2, R, Completion.WITHDRAWN, RAG.OFF_TRACK)
    a4 = commit(fenland, d3, D, title="Fenland draft, private")
    commit(mind, d3, D)
    c1 = commit(peer, d1, P, Completion.SUBSTANTIAL, RAG.ON_TRACK)
    c2 = commit(peer, d3, P, Completion.NOT_STARTED, RAG.AT_RISK, title="@mention title")
    commit(peer, v.old_domain, P, Completion.LIMITED, RAG.ON_TRACK)
    d1c = commit(voices, d2, P, Completion.LIMITED, RAG.ON_TRACK, title="-2+3 looks like a sum")
    e1 = commit(anglia, d1, P, Completion.SUBSTANTIAL, RAG.OFF_TRACK)
    g1 = commit(gone, d2, P, Completion.LIMITED, RAG.AT_RISK)
    commit(gone, d1, D)
    b1 = commit(brisbane, d1, P, Completion.COMPLETED, RAG.ON_TRACK)
    commit(brisbane, d2, D, title="SECRET BRISBANE DRAFT")

    def partner(c, o, status=PartnershipStatus.ACCEPTED):
        p = Partnership(commitment=c, organisation=o, status=status)
        db.session.add(p)
        v.partnerships.append(p)
        return p

    invited, declined = PartnershipStatus.INVITED, PartnershipStatus.DECLINED
    partner(a1, peer)
    partner(a1, voices)  # statutory + third + lived experience: 3 sectors
    partner(c1, fenland)
    partner(c1, mind)
    partner(c2, fenland)
    partner(c2, gone)
    partner(d1c, brisbane)  # a partner on another site
    partner(a2, mind, invited)
    partner(a2, peer, declined)
    partner(a4, voices)  # on a draft: never counted
    partner(a3, anglia)  # on a retired (public) commitment
    partner(e1, fenland)
    partner(e1, voices)  # academic + statutory + lived experience: 3 sectors
    partner(g1, mind)
    partner(g1, fenland)
    partner(g1, peer)  # statutory (twice) + third: 2 sectors
    partner(b1, fenland)  # led at Brisbane: not Cambridge's
    partner(b1, peer, PartnershipStatus.ENDED)
    db.session.flush()

    today = date.today()
    v.cycle_prev = f.cycle(site, "Previous cycle", period_start=today - timedelta(days=150),
                           period_end=today - timedelta(days=70), due_date=today - timedelta(days=60))
    v.cycle_now = f.cycle(site, "Current cycle", period_start=today - timedelta(days=60),
                          period_end=today + timedelta(days=10), due_date=today + timedelta(days=30))
    f.cycle(other_site, "Brisbane cycle", period_start=today - timedelta(days=60),
            period_end=today + timedelta(days=10), due_date=today + timedelta(days=30))

    def report(o, cycle, status):
        r = f.report(o, cycle, status=status)
        v.reports[(o.id, cycle.id)] = r
        return r

    now = v.cycle_now
    report(fenland, now, ReportStatus.PUBLISHED)
    report(peer, now, ReportStatus.DRAFT)
    report(voices, now, ReportStatus.SUBMITTED)  # a supporter: exempt unless published
    report(anglia, now, ReportStatus.RETURNED)
    report(fenland, v.cycle_prev, ReportStatus.PUBLISHED)
    report(mind, v.cycle_prev, ReportStatus.DRAFT)
    brisbane_old = f.cycle(other_site, "Brisbane old", period_start=today - timedelta(days=200),
                           period_end=today - timedelta(days=150), due_date=today - timedelta(days=120))
    report(brisbane, brisbane_old, ReportStatus.PUBLISHED)

    if with_events:
        for i in range(25):
            v.events.append(audit.record(coordinator, f"test.event_{i:02d}", peer, {"n": i}))
        audit.record(coordinator, "test.brisbane_only", brisbane, {"secret": "brisbane"})
    db.session.commit()
    return v


def add_bulk(world, v: Varied, count: int) -> None:
    """More of everything at Cambridge (for the query-count tests): `count` organisations,
    each signed, with commitments in every domain, partners, reports and audit events."""
    version = next(s.charter_version for s in v.signatures if s.charter_version.site_id == v.site.id
                   and s.charter_version.status == CharterStatus.OPEN)
    sectors = list(Sector)
    previous = None
    for i in range(count):
        o = f.organisation(v.site, f"Bulk organisation {i}", sector=sectors[i % len(sectors)])
        f.signature(o, version, world.user("lead"))
        for j, d in enumerate(v.all_domains):
            c = f.commitment(o, d, status=CommitmentStatus.PUBLISHED if j % 3 else CommitmentStatus.RETIRED,
                             completion=list(Completion)[(i + j) % 5], rag=list(RAG)[(i + j) % 3])
            if previous is not None:
                db.session.add(Partnership(commitment=c, organisation=previous,
                                           status=PartnershipStatus.ACCEPTED))
        if i % 2:
            f.report(o, v.cycle_now, status=list(ReportStatus)[i % 4])
        audit.record(world.user("coordinator"), "test.bulk", o, {"i": i})
        previous = o
    db.session.commit()


def public_commitment(c, site) -> bool:
    return (c.status in (CommitmentStatus.PUBLISHED, CommitmentStatus.RETIRED)
            and c.organisation.site_id == site.id
            and c.organisation.status in (OrganisationStatus.ACTIVE, OrganisationStatus.WITHDRAWN))


def current_signature(v: Varied, o) -> bool:
    return any(s.organisation_id == o.id and s.id not in v.withdrawn for s in v.signatures)

