"""Pages run a fixed number of SQL queries, whatever the amount of data."""

from __future__ import annotations

from charter.extensions import db
from charter.models import OrganisationStatus, Tier
from tests import factories as f
from tests.support import count_queries


def _populate(sites: int, orgs_per_site: int) -> None:
    for _ in range(sites):
        site = f.site()
        version = f.charter_version(site)
        for i in range(orgs_per_site):
            lead = f.user()
            org = f.organisation(
                site,
                tier=Tier.SUPPORTER if i % 4 == 0 else Tier.SIGNATORY,
                status=OrganisationStatus.PENDING if i % 5 == 0 else OrganisationStatus.ACTIVE,
            )
            if org.status == OrganisationStatus.ACTIVE:
                f.signature(org, version, lead)
    for _ in range(8):
        f.domain()
    db.session.commit()


def _home_queries(client) -> int:
    with count_queries() as counter:
        response = client.get("/")
    assert response.status_code == 200
    return counter.count


def test_home_page_query_count_does_not_grow_with_data(client):
    _populate(sites=1, orgs_per_site=2)
    small = _home_queries(client)
    _populate(sites=6, orgs_per_site=25)
    large = _home_queries(client)
    assert small == large, f"home page ran {small} queries with little data, {large} with more"
    assert large <= 4
