"""No draft or private value leaks into the API or the bulk download.

Distinctive strings are planted in drafts, pending and declined organisations, users'
emails, report drafts and review comments, invited partnerships, a draft charter,
invitations, audit events and the outbox (tests/test_api_data.py). Then every page of
every list, every item's own address, the OpenAPI document, the /open-data page and
every file of the ZIP are read, and none of those strings may appear in any of them.
"""

from __future__ import annotations

import io
import json
import zipfile

from sqlalchemy import select

from charter.extensions import db
from charter.models import User
from tests.test_api_data import SECRETS, build, grow

LISTS = ["sites", "organisations", "signatures", "commitments", "domains", "indicators",
         "measurements", "reports"]


def _all_pages(client, resource):
    page, out = 1, []
    while True:
        response = client.get(f"/api/v1/{resource}?per_page=100&page={page}")
        assert response.status_code == 200
        payload = response.get_json()
        out.append((f"/api/v1/{resource}?page={page}", response.get_data(as_text=True)))
        if page >= payload["pagination"]["total_pages"]:
            return out, payload
        page += 1


def everything_public(client) -> dict[str, str]:
    """Every answer the public can get from the API and the download, by where it came from."""
    answers: dict[str, str] = {}
    items: dict[str, list] = {}
    for resource in LISTS:
        pages, _ = _all_pages(client, resource)
        answers.update(pages)
        items[resource] = []
        for _where, body in pages:
            items[resource] += json.loads(body)["data"]
    details = ([f"/api/v1/sites/{s['slug']}" for s in items["sites"]]
               + [f"/api/v1/organisations/{o['slug']}" for o in items["organisations"]]
               + [f"/api/v1/commitments/{c['id']}" for c in items["commitments"]]
               + [f"/api/v1/reports/{r['id']}" for r in items["reports"]])
    for url in [*details, "/api/v1/openapi.json", "/open-data"]:
        response = client.get(url)
        assert response.status_code == 200, url
        answers[url] = response.get_data(as_text=True)
    archive = zipfile.ZipFile(io.BytesIO(client.get("/api/v1/bulk.zip").data))
    for name in archive.namelist():
        answers[f"bulk.zip/{name}"] = archive.read(name).decode("utf-8")
    return answers


def _leaks(answers: dict[str, str], needles: list[str]) -> list[tuple[str, str]]:
    return [(needle, where) for where, body in answers.items() for needle in needles
            if needle.lower() in body.lower()]


def test_no_private_value_appears_anywhere(client, world):
    data = build(world)
    grow(data, 2)
    answers = everything_public(client)
    assert _leaks(answers, list(SECRETS.values())) == []
    # What is public does come out, so the crawl did read the data.
    joined = "\n".join(answers.values())
    for public in ("Halve restraint on the wards", "Runs the carers' forum", "We merged with another trust.",
                   "Ward debriefs held", "We reduced restraint on two wards.", "Grown 1.1"):
        assert public in joined, public


def test_no_users_email_appears_anywhere(client, world):
    data = build(world)
    grow(data, 1)
    emails = list(db.session.scalars(select(User.email)))
    assert SECRETS["user_email"] in emails and len(emails) > 5
    assert _leaks(everything_public(client), emails) == []


def test_an_organisation_that_is_no_longer_public_disappears_with_its_records(app, client, world,
                                                                              monkeypatch):
    """The API follows the records and keeps no copy (only a published report's frozen
    snapshot keeps what it showed, by design). The bulk download is a kept copy, rebuilt
    when the data change once it is DOCUMENT_CACHE_MIN_AGE old (0 here)."""
    from charter import audit
    from charter.models import OrganisationStatus

    monkeypatch.setitem(app.config, "DOCUMENT_CACHE_MIN_AGE", 0)
    data = build(world)
    assert _leaks(everything_public(client), ["Peer support in Brisbane", "for carers"])
    data.brisbane_org.status = OrganisationStatus.DECLINED
    data.world.other_org.status = OrganisationStatus.PENDING
    for org in (data.brisbane_org, data.world.other_org):
        audit.record(None, "organisation.status_changed", org)  # as every write does
    db.session.commit()
    answers = everything_public(client)
    assert _leaks(answers, ["Peer support in Brisbane", "brisbane-mind", "for carers",
                            "We merged with another trust."]) == []
    assert client.get(f"/api/v1/commitments/{data.brisbane_commitment.id}").status_code == 404
    assert client.get("/api/v1/organisations/brisbane-mind").status_code == 404
