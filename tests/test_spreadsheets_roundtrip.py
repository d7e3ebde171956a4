"""The round trip: download, edit in a spreadsheet library, upload, confirm; and files of
10,000 rows, checked in a fixed number of queries."""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import date, datetime
from decimal import Decimal
from html import unescape

import pytest
from sqlalchemy import func, insert, select

from charter.commitments import spreadsheets
from charter.extensions import db
from charter.models import (
    RAG,
    AuditEvent,
    Commitment,
    CommitmentStatus,
    Measurement,
)
from tests.support import count_queries, text_of
from tests.test_spreadsheets_data import (
    COMMITMENT_HEADERS,
    IMPORT_URL,
    MEASUREMENT_HEADERS,
    attach,
    csv_file,
    indicator,
    make_data,
    new_row,
    read_csv,
    read_xlsx,
    upload,
)


@pytest.fixture
def data(world):
    return make_data(world)


def _hidden(response, name: str) -> str:
    match = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', response.get_data(as_text=True))
    assert match, text_of(response)[:2000]
    return unescape(match.group(1))


def _upload_and_confirm(client, org, content: bytes, filename: str):
    response = upload(client, org, content, filename)
    assert response.status_code == 200, text_of(response)[:3000]
    response = client.post(IMPORT_URL.format(org.slug), data={
        "token": _hidden(response, "token")})
    assert response.status_code == 302, text_of(response)[:3000]
    return response


def _state():
    commitments = {row.id: row for row in db.session.execute(select(
        Commitment.id, Commitment.organisation_id, Commitment.title, Commitment.domain_id,
        Commitment.description, Commitment.start_date, Commitment.target_date, Commitment.ambition,
        Commitment.completion, Commitment.rag, Commitment.status, Commitment.version))}
    measurements = {row.id: row for row in db.session.execute(select(
        Measurement.id, Measurement.commitment_indicator_id, Measurement.period_start,
        Measurement.period_end, Measurement.value, Measurement.note))}
    return commitments, measurements


def _make_tricky(data):
    """Text that must survive the round trip untouched."""
    data.published.title = "=cmd|' /C calc'!A0"
    data.published.description = "- first\r\n- second\r\n\r\n@everyone: Zdravotní péče 心理 🌱"
    data.retired.title = "+44 is a prefix, not a formula"
    data.q1.note = "-5 on last year"
    db.session.commit()


def test_an_unchanged_round_trip_changes_nothing(client, world, data):
    _make_tricky(data)
    client.login(world.user("editor"))
    base = f"/organisations/{world.org.slug}"
    for url, name in ((f"{base}/commitments.xlsx", "c.xlsx"), (f"{base}/commitments.csv", "c.csv"),
                      (f"{base}/measurements.csv", "m.csv")):
        response = upload(client, world.org, client.get(url).data, name)
        assert response.status_code == 200, text_of(response)[:2000]
        assert "there is nothing to change" in text_of(response), name


def test_the_xlsx_round_trip(client, world, data):
    _make_tricky(data)
    client.login(world.user("editor"))
    workbook = read_xlsx(client.get(f"/organisations/{world.org.slug}/commitments.xlsx").data)
    before_commitments, before_measurements = _state()

    sheet = workbook["Commitments"]
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    draft = rows[data.draft.id]
    draft[2].value = "Safety huddles, twice a day"
    draft[6].value = datetime(2028, 1, 31)
    draft[9].value = "At risk"
    sheet.append([None, None, "Peer support in every team", "prevention-and-early-detection",
                  "With **people** who use services.", date(2026, 9, 1), None, "Breakthrough",
                  None, None, None])
    measurements = workbook["Measurements"]
    for row in measurements.iter_rows(min_row=2):
        if row[2].value == datetime(2026, 4, 1):
            row[4].value = 12
    measurements.append([data.published.id, "Seclusion episodes", date(2026, 1, 1),
                         date(2026, 3, 31), 4.75, "First count"])
    buffer = io.BytesIO()
    workbook.save(buffer)

    _upload_and_confirm(client, world.org, buffer.getvalue(), "edited.xlsx")
    after_commitments, after_measurements = _state()

    new_ids = set(after_commitments) - set(before_commitments)
    assert len(new_ids) == 1
    new = db.session.get(Commitment, new_ids.pop())
    assert (new.title, new.domain_id, new.start_date, new.target_date, new.ambition.value,
            new.status) == ("Peer support in every team", data.prevention.id, date(2026, 9, 1), None,
                            "breakthrough", CommitmentStatus.DRAFT)
    edited = after_commitments[data.draft.id]
    assert (edited.title, edited.target_date, edited.rag) == (
        "Safety huddles, twice a day", date(2028, 1, 31), RAG.AT_RISK)
    assert edited.version == before_commitments[data.draft.id].version + 1
    for cid, row in before_commitments.items():  # nothing else changed
        if cid != data.draft.id:
            assert after_commitments[cid] == row

    assert after_measurements[data.q2.id].value == Decimal("12")
    assert after_measurements[data.q1.id] == before_measurements[data.q1.id]
    added = [m for mid, m in after_measurements.items() if mid not in before_measurements]
    assert [(m.commitment_indicator_id, m.value, m.note) for m in added] == [
        (data.other_link.id, Decimal("4.75"), "First count")]
    actions = db.session.scalars(select(AuditEvent.object_id).where(
        AuditEvent.action == "commitment.imported")).all()
    assert sorted(actions) == sorted([data.draft.id, data.published.id, new.id])


def test_the_csv_round_trip(client, world, data):
    _make_tricky(data)
    client.login(world.user("lead"))
    base = f"/organisations/{world.org.slug}"
    before_commitments, before_measurements = _state()

    rows = read_csv(client.get(f"{base}/commitments.csv").data)
    assert rows[0] == COMMITMENT_HEADERS
    for row in rows[1:]:
        if row[0] == str(data.published.id):
            row[4] = row[4] + "\n\nNow with a Czech note: Přístup založený na důvěře."
            row[8] = "substantial"
    rows.append(["", "", "Kaggelwerk vir gemeenskappe", "least-restrictive-practice", "", "",
                 "2027-06-30", "", "", "", "Draft"])
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    _upload_and_confirm(client, world.org, ("\ufeff" + buffer.getvalue()).encode(), "c.csv")

    rows = read_csv(client.get(f"{base}/measurements.csv").data)
    assert rows[0] == MEASUREMENT_HEADERS
    rows[1][4] = "13.25"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    _upload_and_confirm(client, world.org, buffer.getvalue().encode(), "m.csv")  # no BOM

    after_commitments, after_measurements = _state()
    published = db.session.get(Commitment, data.published.id)
    assert published.title == "=cmd|' /C calc'!A0"  # the quote came off again
    assert published.description.endswith("Přístup založený na důvěře.")
    assert published.description.startswith("- first\n- second")
    assert published.completion.value == "substantial"
    new = [c for cid, c in after_commitments.items() if cid not in before_commitments]
    assert [(c.title, c.target_date, c.status) for c in new] == [
        ("Kaggelwerk vir gemeenskappe", date(2027, 6, 30), CommitmentStatus.DRAFT)]
    for cid in (data.draft.id, data.retired.id, data.others.id):
        assert after_commitments[cid] == before_commitments[cid]
    assert after_measurements[data.q1.id].value == Decimal("13.25")
    assert after_measurements[data.q1.id].note == "-5 on last year"
    assert after_measurements[data.q2.id] == before_measurements[data.q2.id]
    assert len(after_measurements) == len(before_measurements)


# --- 10,000 rows --------------------------------------------------------------------------

def _bulk_commitments(org, domain, count: int, start: int = 0) -> None:
    db.session.execute(insert(Commitment), [
        {"organisation_id": org.id, "domain_id": domain.id, "title": f"Promise {start + i}",
         "description": f"Description {start + i}", "version": 1,
         "status": CommitmentStatus.PUBLISHED if i % 2 else CommitmentStatus.DRAFT}
        for i in range(count)
    ])
    db.session.commit()


def _plan_queries(world, content) -> tuple[int, spreadsheets.ImportPlan]:
    db.session.expire_all()
    user = world.user("editor")
    user.memberships  # noqa: B018 - the signed-in user is loaded once per request anyway
    with count_queries() as counter:
        plan = spreadsheets.plan_import(user, world.org, content)
    return counter.count, plan


def test_10000_rows_validate_and_import_within_a_request(client, world, data):
    _bulk_commitments(world.org, data.lrp, 5000)
    client.login(world.user("editor"))
    rows = read_csv(client.get(f"/organisations/{world.org.slug}/commitments.csv").data)
    assert len(rows) == 5004
    for row in rows[1:]:
        if row[2].startswith("Promise "):
            row[2] = row[2].replace("Promise", "Kept promise")
    for i in range(4997):
        rows.append(["", "", f"New promise {i}", "least-restrictive-practice", "", "2026-01-01",
                     "2027-01-01", "Desirable", "Limited", "On track", ""])
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    content = buffer.getvalue().encode()
    assert len(rows) - 1 == 10_000

    small_queries, _plan = _plan_queries(world, csv_file([new_row()]))
    big_queries, plan = _plan_queries(world, content)
    assert plan.is_valid, spreadsheets_errors(plan)
    assert (len(plan.updates), len(plan.creates), plan.unchanged_commitments) == (5000, 4997, 3)
    assert big_queries == small_queries

    started = time.monotonic()
    _upload_and_confirm(client, world.org, content, "big.csv")
    elapsed = time.monotonic() - started
    assert elapsed < 120, f"preview and confirmation of 10,000 rows took {elapsed:.1f}s"
    assert db.session.scalar(select(func.count()).where(Commitment.title.like("Kept promise %"))) == 5000
    assert db.session.scalar(select(func.count()).where(Commitment.title.like("New promise %"))) == 4997
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "commitment.imported")) == 9997


def test_10000_measurement_rows_in_a_fixed_number_of_queries(world, data):
    links = []
    for i in range(10):
        c = db.session.get(Commitment, data.draft.id) if i == 0 else None
        if c is None:
            _bulk_commitments(world.org, data.lrp, 1, start=100 + i)
            c = db.session.scalar(select(Commitment).where(Commitment.title == f"Promise {100 + i}"))
        links.append((c.id, attach(c, indicator(f"Indicator {i}"))))
    db.session.commit()
    header = ",".join(MEASUREMENT_HEADERS)
    lines = [header]
    for n in range(10_000):
        commitment_id, link = links[n % 10]
        day = date.fromordinal(date(2000, 1, 1).toordinal() + n // 10)
        lines.append(f"{commitment_id},Indicator {n % 10},{day},{day},{n % 97}.5,")
    content = "\r\n".join(lines).encode()

    small_queries, _plan = _plan_queries(world, "\r\n".join(lines[:3]).encode())
    big_queries, plan = _plan_queries(world, content)
    assert plan.is_valid, spreadsheets_errors(plan)
    assert len(plan.measurement_creates) == 10_000
    assert big_queries == small_queries

    spreadsheets.apply_import(world.user("editor"), world.org, plan)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Measurement)) == 10_002
    # One event per commitment, however many of its measurements changed.
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "commitment.imported")) == 10


def spreadsheets_errors(plan) -> list[str]:
    return [e.sentence for e in plan.errors[:20]]
