"""The bulk download: a ZIP of UTF-8 CSV files with a README and a data dictionary that
describes every column of every file; public data only (see also test_api_privacy.py);
formulas neutralised; a fixed number of queries whatever the data."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date, datetime
from decimal import Decimal

import pytest
from markupsafe import escape
from sqlalchemy import select

from charter import documents
from charter.api import bulk
from charter.extensions import db
from charter.models import Commitment, CommitmentStatus, Organisation, OrganisationStatus
from tests.support import DOCUMENT_CACHE_QUERIES, count_queries
from tests.test_api_data import build, grow


@pytest.fixture
def data(world):
    return build(world)


def download(client) -> zipfile.ZipFile:
    response = client.get("/api/v1/bulk.zip")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/zip"
    assert response.headers["Content-Disposition"] == 'attachment; filename="promise-charter-open-data.zip"'
    assert response.headers["Cache-Control"] == "public, max-age=300"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert archive.testzip() is None
    return archive


def read_csv(archive: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    raw = archive.read(name)
    assert not raw.startswith(b"\xef\xbb\xbf"), "plain UTF-8, no byte order mark"
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8"), newline="")))


def header(archive: zipfile.ZipFile, name: str) -> list[str]:
    return next(csv.reader(io.StringIO(archive.read(name).decode("utf-8"), newline="")))


def test_the_zip_holds_one_csv_per_resource_a_readme_and_the_dictionary(client, data):
    archive = download(client)
    names = archive.namelist()
    assert names[:2] == ["README.md", "data-dictionary.csv"]
    assert set(names) == {"README.md", "data-dictionary.csv", "sites.csv", "organisations.csv",
                          "signatures.csv", "change_domains.csv", "commitments.csv",
                          "commitment_partners.csv", "milestones.csv", "indicators.csv",
                          "commitment_indicators.csv", "measurements.csv", "reporting_cycles.csv",
                          "reports.csv", "report_revisions.csv"}
    readme = archive.read("README.md").decode("utf-8")
    for name in names[1:]:
        assert f"- {name}: " in readme
    assert "http://localhost/api/v1/openapi.json" in readme


def test_the_dictionary_covers_every_column_of_every_csv_and_nothing_else(client, data):
    archive = download(client)
    dictionary = read_csv(archive, "data-dictionary.csv")
    described: dict[str, list[str]] = {}
    for row in dictionary:
        assert row["type"] in bulk.TYPES, row
        assert row["description"].strip() and row["file_description"].strip(), row
        described.setdefault(row["file"], []).append(row["column"])
    csv_files = [n for n in archive.namelist() if n.endswith(".csv")]
    assert sorted(described) == sorted(csv_files)
    for name in csv_files:
        assert header(archive, name) == described[name], name


def _check_value(kind: str, description: str, value: str, where: str) -> None:
    if value == "":
        return
    if kind == "integer":
        int(value)
    elif kind == "decimal":
        Decimal(value)
    elif kind == "date":
        date.fromisoformat(value)
    elif kind == "datetime":
        assert datetime.fromisoformat(value).utcoffset().total_seconds() == 0, where
    elif kind == "boolean":
        assert value in ("true", "false"), where
    elif kind == "url":
        assert value.startswith("http://localhost/"), where
    elif kind == "code":
        allowed = re.search(r"One of: (.*)\.$", description).group(1).split(", ")
        assert value in allowed, (where, value, allowed)


def test_every_value_has_the_type_the_dictionary_gives(client, data):
    grow(data, 2)
    archive = download(client)
    dictionary = read_csv(archive, "data-dictionary.csv")
    for row in dictionary:
        for i, record in enumerate(read_csv(archive, row["file"])):
            _check_value(row["type"], row["description"], record[row["column"]],
                         f"{row['file']} row {i} {row['column']}")


def test_the_rows_are_the_public_records(client, data):
    archive = download(client)
    public_ids = db.session.scalars(
        select(Commitment.id).join(Organisation, Organisation.id == Commitment.organisation_id)
        .where(Commitment.status.in_([CommitmentStatus.PUBLISHED, CommitmentStatus.RETIRED]),
               Organisation.status.in_([OrganisationStatus.ACTIVE, OrganisationStatus.WITHDRAWN]))
        .order_by(Commitment.id)).all()
    commitments = read_csv(archive, "commitments.csv")
    assert [int(c["id"]) for c in commitments] == public_ids
    assert [o["slug"] for o in read_csv(archive, "organisations.csv")] == [
        "fenland-trust", "mind-in-the-fens", "brisbane-mind"]
    assert [(p["commitment_id"], p["organisation"]) for p in read_csv(archive, "commitment_partners.csv")] \
        == [(str(data.published.id), "mind-in-the-fens")]
    signatures = read_csv(archive, "signatures.csv")
    assert [(s["organisation"], s["withdrawn"], s["withdrawal_reason"]) for s in signatures] == [
        ("fenland-trust", "false", ""), ("mind-in-the-fens", "true", "We merged with another trust.")]
    assert [m["value"] for m in read_csv(archive, "measurements.csv")] == ["11.25", "-0.5", "14"]
    indicators = read_csv(archive, "indicators.csv")
    assert [(i["name"], i["in_catalogue"], i["organisation"]) for i in indicators] == [
        ("Restrictive interventions per 1,000 bed days", "true", ""),
        ("Ward debriefs held", "false", "fenland-trust")]
    reports = read_csv(archive, "reports.csv")
    assert [(int(r["id"]), r["latest_revision"], r["cycle_name"]) for r in reports] == [
        (data.report.id, "1", "2026 Q1")]
    assert len(read_csv(archive, "report_revisions.csv")) == 1
    assert [m["title"] for m in read_csv(archive, "milestones.csv")] == ["Train every ward team"]
    attachments = read_csv(archive, "commitment_indicators.csv")
    assert [(a["indicator_id"], a["baseline_value"], a["baseline_date"], a["target_value"])
            for a in attachments] == [(str(data.catalogue_indicator.id), "12.5", "2025-12-31", "6"),
                                      (str(data.own_indicator.id), "", "", "")]


def test_formulas_are_neutralised_and_unicode_kept(client, data):
    archive = download(client)
    commitments = {int(c["id"]): c for c in read_csv(archive, "commitments.csv")}
    assert commitments[data.published.id]["description"] == "'=HYPERLINK(\"http://evil.example\")"
    assert commitments[data.retired.id]["title"] == "Café for carers — 咖啡 ☕"
    notes = [m["note"] for m in read_csv(archive, "measurements.csv")]
    assert notes[0] == "'-1 because of a new ward"
    values = [m["value"] for m in read_csv(archive, "measurements.csv")]
    assert values[1] == "-0.5"  # numbers are numbers, not text to neutralise


def test_building_the_download_runs_a_fixed_number_of_queries(client, data):
    def queries() -> int:
        # The factories write no audit events, so the data version does not change as the
        # data grow: drop the cached copy, to count the queries of building it again.
        documents.forget()
        with count_queries() as counter:
            body = client.get("/api/v1/bulk.zip").get_data()
        assert zipfile.ZipFile(io.BytesIO(body)).testzip() is None
        return counter.count

    small = queries()
    grow(data, 25)
    assert queries() == small
    assert small <= len(bulk.FILES) + 2 + DOCUMENT_CACHE_QUERIES


def test_the_dictionary_and_the_page_come_from_the_same_declarations(client, data):
    page = client.get("/open-data").get_data(as_text=True)
    for spec in (bulk.DICTIONARY, *bulk.FILES):
        assert spec.name in page
        for column in spec.columns:
            assert f'<code class="text-break">{column.header}</code>' in page
            assert str(escape(column.meaning)) in page
