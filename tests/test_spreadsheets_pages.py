"""The upload pages: check, preview, confirm; errors in a table; tampered and stale
confirmations; who may upload."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from charter.extensions import db
from charter.models import AuditEvent, Commitment, Measurement
from tests.support import text_of
from tests.test_spreadsheets_data import (
    IMPORT_URL,
    MEASUREMENT_HEADERS,
    commitment_row,
    csv_file,
    make_data,
    measurement_row,
    new_row,
    upload,
    xlsx_file,
)


@pytest.fixture
def data(world):
    return make_data(world)


def _hidden(response, name: str) -> str:
    match = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', response.get_data(as_text=True))
    assert match, f"no hidden field {name}"
    return unescape(match.group(1))


def _snapshot():
    """Everything an import could change."""
    commitments = db.session.execute(select(
        Commitment.id, Commitment.title, Commitment.domain_id, Commitment.description,
        Commitment.start_date, Commitment.target_date, Commitment.ambition, Commitment.completion,
        Commitment.rag, Commitment.status, Commitment.version).order_by(Commitment.id)).all()
    measurements = db.session.execute(select(
        Measurement.id, Measurement.commitment_indicator_id, Measurement.period_start,
        Measurement.period_end, Measurement.value, Measurement.note).order_by(Measurement.id)).all()
    return commitments, measurements


def _events() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent))


def test_the_upload_page_explains_and_links_the_downloads(client, world, data):
    client.login(world.user("editor"))
    response = client.get(IMPORT_URL.format(world.org.slug))
    assert response.status_code == 200
    page = text_of(response)
    assert "Commitments in a spreadsheet" in page and "Check the file" in page
    html = response.get_data(as_text=True)
    for endpoint in ("commitments.xlsx", "commitments.csv", "measurements.csv"):
        assert f"/organisations/{world.org.slug}/{endpoint}" in html
    assert 'enctype="multipart/form-data"' in html
    assert html.count("<h1") == 1


def test_upload_preview_then_confirm(client, world, data):
    client.login(world.user("editor"))
    rows = [commitment_row(data.draft, Title="Safety huddles twice a day", RAG="Off track"),
            commitment_row(data.published), new_row(Title="Peer support <b>groups</b>")]
    content = xlsx_file({"Commitments": rows,
                         "Measurements": [measurement_row(data.published.id, value="8")]})
    before = _snapshot()
    events = _events()

    response = upload(client, world.org, content, "fenland.xlsx")
    assert response.status_code == 200
    page = text_of(response)
    assert "Check the upload before saving it" in page and "Nothing has been saved yet." in page
    assert "1 new commitment (saved as a draft)" in page
    assert "1 commitment updated" in page and "1 measurement added" in page
    assert "1 commitment unchanged" in page
    assert "Title: Safety huddles on every ward → Safety huddles twice a day" in page
    assert "RAG: On track → Off track" in page
    assert "Peer support <b>groups</b>" in page  # shown as text…
    assert "Peer support &lt;b&gt;groups&lt;/b&gt;" in response.get_data(as_text=True)  # …escaped
    assert _snapshot() == before and _events() == events  # nothing saved before confirmation

    response = client.post(IMPORT_URL.format(world.org.slug), data={
        "token": _hidden(response, "token")})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/organisations/{world.org.slug}#commitments")
    draft = db.session.get(Commitment, data.draft.id)
    assert draft.title == "Safety huddles twice a day" and draft.rag.value == "off_track"
    assert db.session.scalar(select(Commitment).where(
        Commitment.title == "Peer support <b>groups</b>")) is not None
    assert db.session.scalar(select(func.count()).select_from(Measurement)) == 3
    assert _events() == events + 3  # draft, new commitment, published (its new measurement)
    profile = text_of(client.get(response.headers["Location"]))
    assert "The upload is saved: 1 new commitment (saved as a draft); 1 commitment updated; " \
           "1 measurement added; 1 commitment unchanged." in profile


def test_the_timeline_shows_the_import(client, world, data):
    client.login(world.user("lead"))
    response = upload(client, world.org, csv_file([commitment_row(data.published, Title="Halve it")]))
    client.post(IMPORT_URL.format(world.org.slug), data={
        "token": _hidden(response, "token")})
    page = text_of(client.get(f"/commitments/{data.published.id}"))
    assert "imported" in page and "Halve prone restraint by 2027 → Halve it" in page


def test_an_unchanged_file_offers_nothing_to_confirm(client, world, data):
    client.login(world.user("editor"))
    response = upload(client, world.org, csv_file([commitment_row(data.draft)]))
    assert response.status_code == 200
    assert "The file matches what is saved: there is nothing to change." in text_of(response)
    assert "Save these changes" not in text_of(response)


def test_errors_are_shown_in_a_table_and_nothing_is_saved(client, world, data):
    client.login(world.user("editor"))
    rows = [new_row(Title=f"Promise {i}") for i in range(499)]
    rows.insert(12, new_row(Title="<script>alert(1)</script>",
                            **{"Target date": "2025-02-30", "Change domain": "<script>x</script>"}))
    before = _snapshot()
    response = upload(client, world.org, csv_file(rows))
    assert response.status_code == 400
    page = text_of(response)
    assert "There is a problem" in page
    assert "Nothing was saved. 2 problems found: correct them and upload the file again." in page
    assert ("Commitments Row 14 Change domain '<script>x</script>' is not a change domain. Use one "
            "of: least-restrictive-practice, prevention-and-early-detection.") in page
    assert "Commitments Row 14 Target date 2025-02-30 is not a date. Use YYYY-MM-DD." in page
    html = response.get_data(as_text=True)
    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    assert "<caption>" in html and 'scope="col"' in html
    assert _snapshot() == before


def test_a_file_problem_is_shown_beside_the_field(client, world, data):
    client.login(world.user("editor"))
    response = upload(client, world.org, b"\x89PNG\r\n\x1a\n" + bytes(200), "picture.csv")
    assert response.status_code == 400
    assert "This file is neither a CSV file nor an Excel workbook" in text_of(response)
    assert 'aria-invalid="true"' in response.get_data(as_text=True)


def test_wrong_headers_are_listed(client, world, data):
    client.login(world.user("editor"))
    response = upload(client, world.org, csv_file([{"Commitment": "1", "Indicator": "x"}],
                                                  ["Commitment", "Indicator"]))
    assert response.status_code == 400
    page = text_of(response)
    assert "The columns of this file are not the ones of the download." in page
    assert "Missing columns: Commitment ID, Period start, Period end, Value, Note." in page
    assert "Columns not recognised: “Commitment”." in page


def test_no_file_chosen(client, world, data):
    client.login(world.user("editor"))
    response = client.post(IMPORT_URL.format(world.org.slug), data={},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Choose the file to upload." in text_of(response)


def _preview(client, world, data, content=None):
    client.login(world.user("editor"))
    content = content or csv_file([commitment_row(data.draft, Title="Renamed")])
    response = upload(client, world.org, content)
    assert response.status_code == 200
    return _hidden(response, "token")


def test_a_tampered_token_is_refused(client, world, data):
    token = _preview(client, world, data)
    before = _snapshot()
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "", "x.y.z"):
        response = client.post(IMPORT_URL.format(world.org.slug), data={"token": bad})
        assert response.status_code == 400
        assert "could not be checked" in text_of(response)
    assert _snapshot() == before


def test_a_confirmation_is_only_good_for_its_person_and_organisation(client, world, data):
    token = _preview(client, world, data)
    client.login(world.user("lead"))  # another member of the same organisation
    response = client.post(IMPORT_URL.format(world.org.slug), data={"token": token})
    assert response.status_code == 400
    client.login(world.user("other_lead"))
    response = client.post(IMPORT_URL.format(world.other_org.slug), data={"token": token})
    assert response.status_code == 400
    assert db.session.get(Commitment, data.draft.id).title == "Safety huddles on every ward"


def test_a_change_by_someone_else_between_preview_and_confirm(client, world, data):
    token = _preview(client, world, data)
    data.draft.title = "Changed meanwhile"
    db.session.commit()
    response = client.post(IMPORT_URL.format(world.org.slug), data={"token": token})
    assert response.status_code == 400
    page = text_of(response)
    assert "the saved commitments have changed since" in page
    assert "changed by someone else since you downloaded the file — download it again" in page
    assert db.session.get(Commitment, data.draft.id).title == "Changed meanwhile"


# --- who may upload -----------------------------------------------------------------------

@pytest.mark.parametrize(("role", "status"), [
    ("editor", 200), ("lead", 200), ("coordinator", 403), ("admin", 403), ("other_lead", 403),
    ("other_editor", 403), ("other_coordinator", 403),
])
def test_who_may_upload(client, world, data, role, status):
    client.login(world.user(role))
    url = IMPORT_URL.format(world.org.slug)
    assert client.get(url).status_code == status
    response = upload(client, world.org, csv_file([commitment_row(data.draft, Title="Renamed")]))
    assert response.status_code == status
    if status == 403:
        assert db.session.get(Commitment, data.draft.id).title == "Safety huddles on every ward"


def test_a_lead_of_another_organisation_cannot_confirm_either(client, world, data):
    token = _preview(client, world, data)
    client.login(world.user("other_lead"))
    response = client.post(IMPORT_URL.format(world.org.slug), data={"token": token})
    assert response.status_code == 403


def test_the_public_is_sent_to_sign_in(client, world, data):
    response = client.get(IMPORT_URL.format(world.org.slug))
    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]


def test_unknown_organisation(client, world):
    client.login(world.user("editor"))
    assert client.get(IMPORT_URL.format("no-such-org")).status_code == 404


def test_measurements_csv_upload(client, world, data):
    client.login(world.user("editor"))
    content = csv_file([measurement_row(data.published.id, "Seclusion episodes", value="2.5",
                                        note="Zdravotní péče 🌱")], MEASUREMENT_HEADERS)
    response = upload(client, world.org, content, "measurements.csv")
    assert "1 measurement added" in text_of(response)
    response = client.post(IMPORT_URL.format(world.org.slug), data={
        "token": _hidden(response, "token")})
    assert response.status_code == 302
    saved = db.session.scalar(select(Measurement).where(
        Measurement.commitment_indicator_id == data.other_link.id))
    assert str(saved.value.normalize()) == "2.5" and saved.note == "Zdravotní péče 🌱"


def test_a_long_list_of_problems_is_cut_short(client, world, data):
    client.login(world.user("editor"))
    rows = [new_row(Title=f"Promise {i}", RAG="green") for i in range(600)]
    response = upload(client, world.org, csv_file(rows))
    assert response.status_code == 400
    page = text_of(response)
    assert "600 problems found" in page
    assert "The first 500 of 600 problems, by sheet, row and column" in page
    assert "Row 501 " in page and "Row 502 " not in page


def test_a_clash_while_saving_saves_nothing(client, world, data, monkeypatch):
    """Someone saves a measurement of the same period after the file is checked and before it
    is saved: the database refuses the upload's, and nothing of the request is kept."""
    from charter.commitments.spreadsheets import importing

    token = _preview(client, world, data, csv_file([measurement_row(data.published.id)],
                                                   MEASUREMENT_HEADERS))
    checked = importing.plan_import

    def check_then_clash(*args, **kwargs):
        plan = checked(*args, **kwargs)
        db.session.add(Commitment(organisation_id=world.org.id, domain_id=data.lrp.id,
                                  title="Half saved", version=1))
        clash = plan.measurement_creates[0]
        db.session.add(Measurement(commitment_indicator_id=clash.link.id,
                                   period_start=clash.period_start, period_end=clash.period_end,
                                   value=1))
        db.session.flush()
        return plan

    monkeypatch.setattr(importing, "plan_import", check_then_clash)
    response = client.post(IMPORT_URL.format(world.org.slug), data={"token": token})
    assert response.status_code == 409
    assert "nothing was saved" in text_of(response)
    assert db.session.scalar(select(Commitment).where(Commitment.title == "Half saved")) is None
