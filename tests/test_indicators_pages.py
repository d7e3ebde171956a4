"""Indicator pages through the test client: attaching, baseline and target, measurements,
the commitment page's section with its chart and table, per role, and the fixed number
of queries of the commitment page."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from charter.commitments import indicators as ind
from charter.extensions import db
from charter.models import (
    RAG,
    AuditEvent,
    CommitmentIndicator,
    Completion,
    Direction,
    Indicator,
    Measurement,
    ProgressUpdate,
)
from tests.access.indicators import catalogue_indicator, commitment
from tests.support import count_queries, text_of


@pytest.fixture
def c(world):
    return commitment(world, title="Halve prone restraint by 2027")


@pytest.fixture
def mhs96(world):
    return catalogue_indicator()


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _attach(world, c, indicator, **targets):
    return ind.attach_indicator(world.user("lead"), c, catalogue_id=indicator.id, own=None,
                                targets=ind.Targets(**targets))


def _measure(world, c, ci, start, end, value, note=""):
    return ind.add_measurement(world.user("lead"), c, ci.id,
                               ind.MeasurementValues(start, end, Decimal(value), note))


def _attach_form(**kw):
    data = {"catalogue_indicator": "", "name": "", "definition": "", "unit": "", "reference": "",
            "baseline_value": "", "baseline_date": "", "target_value": "", "target_date": ""}
    data.update(kw)
    return data


def _svg_of(html: str) -> str:
    """The chart the page links (/charts/<sha256>.svg), as its route serves it."""
    from flask import current_app

    match = re.search(r'src="(/charts/[0-9a-f]{64}\.svg)"', html)
    assert match, "no chart image on the page"
    response = current_app.test_client().get(match.group(1))
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    return response.get_data(as_text=True)


# --- attaching -------------------------------------------------------------------------

def test_the_attach_page_offers_the_active_catalogue_only(client, world, c, mhs96):
    catalogue_indicator("Seclusion episodes (retired)", is_active=False)
    db.session.add(Indicator(name="Another organisation's own measure", unit="%",
                             direction=Direction.HIGHER_IS_BETTER, organisation_id=world.other_org.id))
    client.login(world.user("editor"))
    response = client.get(f"/commitments/{c.id}/indicators/new")
    page = text_of(response)
    assert response.status_code == 200
    assert "Attach an indicator" in page and "Halve prone restraint by 2027" in page
    assert f'<option value="{mhs96.id}">' in response.get_data(as_text=True)
    assert "Seclusion episodes (retired)" not in page
    assert "Another organisation's own measure" not in page


def test_a_member_attaches_a_catalogue_indicator_and_the_public_sees_it(client, world, c, mhs96):
    client.login(world.user("editor"))
    response = client.post(f"/commitments/{c.id}/indicators/new", data=_attach_form(
        catalogue_indicator=str(mhs96.id), baseline_value="12,5", baseline_date="2025-03-31",
        target_value="8", target_date="2027-03-31"))
    ci = db.session.scalar(select(CommitmentIndicator))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/commitment-indicators/{ci.id}/measurements")
    assert (ci.baseline_value, ci.target_value) == (Decimal("12.5"), Decimal(8))

    client.logout()
    page = client.get(f"/commitments/{c.id}")
    shown = text_of(page)
    assert "Restrictive interventions per 1,000 occupied bed days" in shown
    assert "PROMISE indicator catalogue : MHS96" in shown  # a link, then the reference
    assert "Baseline 12.5 per 1,000 occupied bed days (31 March 2025)" in shown
    assert "Target 8 per 1,000 occupied bed days (31 March 2027)" in shown
    assert "Lower is better" in shown
    assert "Record measurements" not in shown and "Attach an indicator" not in shown
    assert "indicator.attached" not in shown and "indicator attached" in shown  # on the timeline


def test_an_own_indicator_is_defined_on_the_page(client, world, c):
    client.login(world.user("lead"))
    response = client.post(f"/commitments/{c.id}/indicators/new", data=_attach_form(
        name="Débriefs held with the patient — 病房 🌿", unit="%", direction="higher",
        definition="Share of incidents followed by a debrief with the patient within 72 hours.",
        reference="Trust audit", target_value="90"))
    assert response.status_code == 302
    indicator = db.session.scalar(select(Indicator))
    assert indicator.organisation_id == world.org.id and indicator.unit == "%"
    shown = text_of(client.get(f"/commitments/{c.id}"))
    assert "Débriefs held with the patient — 病房 🌿" in shown
    assert "Defined by Fenland Trust for this commitment (Trust audit)" in shown
    assert "Higher is better" in shown


@pytest.mark.parametrize(("data", "message"), [
    ({"catalogue_indicator": "MHS96", "name": "Debriefs", "unit": "%", "direction": "higher"},
     "Choose an indicator from the catalogue or define your own, not both."),
    ({}, "Choose an indicator from the catalogue, or define your own below."),
    ({"name": "Debriefs", "direction": "higher"}, "Enter the unit"),
    ({"name": "x" * 201, "unit": "%", "direction": "higher"}, "Use 200 characters or fewer."),
    ({"catalogue_indicator": "MHS96", "baseline_value": "twelve"}, "Enter a number, such as 12 or 3.5."),
    ({"catalogue_indicator": "MHS96", "target_date": "2027-03-31"},
     "Enter the target value for the date you gave"),
    ({"catalogue_indicator": "MHS96", "baseline_value": "5", "baseline_date": "2026-06-01",
      "target_value": "2", "target_date": "2026-01-01"},
     "The target date must be on or after the baseline date."),
    ({"catalogue_indicator": "MHS96", "baseline_value": "-5"}, "cannot be negative"),
    ({"catalogue_indicator": "MHS96", "target_date": "2026-02-30"}, "Enter the date as year, month and day"),
    ({"catalogue_indicator": "424242"}, "Choose an indicator from the catalogue list."),
    ({"catalogue_indicator": "<script>"}, "Choose an indicator from the catalogue list."),
])
def test_bad_input_is_refused_beside_the_field_and_kept(client, world, c, mhs96, data, message):
    if data.get("catalogue_indicator") == "MHS96":
        data = {**data, "catalogue_indicator": str(mhs96.id)}
    client.login(world.user("editor"))
    response = client.post(f"/commitments/{c.id}/indicators/new", data=_attach_form(**data))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="error-summary"' in html
    assert message in text_of(response)
    assert _count(CommitmentIndicator) == 0 and _count(Indicator) == 1
    for key, value in data.items():
        if key not in ("catalogue_indicator", "direction") and len(value) < 100:
            assert f'value="{escape(value)}"' in html  # what was typed is shown again


def test_a_second_attachment_of_the_same_indicator_is_refused_on_the_page(client, world, c, mhs96):
    _attach(world, c, mhs96)
    client.login(world.user("editor"))
    response = client.post(f"/commitments/{c.id}/indicators/new",
                           data=_attach_form(catalogue_indicator=str(mhs96.id)))
    assert response.status_code == 400
    assert "is already attached to this commitment" in text_of(response)
    assert _count(CommitmentIndicator) == 1


def test_html_in_an_own_indicator_is_shown_as_text(client, world, c):
    client.login(world.user("lead"))
    client.post(f"/commitments/{c.id}/indicators/new", data=_attach_form(
        name='<script>alert("x")</script>', unit="<b>%</b>", direction="lower",
        definition="<img src=x onerror=alert(1)>", baseline_value="3"))
    html = client.get(f"/commitments/{c.id}").get_data(as_text=True)
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>%</b>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    svg = _svg_of(html)
    assert "<script" not in svg and "&lt;script&gt;" in svg


def test_a_draft_commitments_indicator_pages_are_hidden_from_outsiders(client, world, mhs96):
    draft = commitment(world, published=False)
    ci = _attach(world, draft, mhs96)
    for role, status in [("other_editor", 404), ("other_lead", 404), ("coordinator", 403), ("admin", 403),
                         ("editor", 200)]:
        client.login(world.user(role))
        for url in (f"/commitments/{draft.id}/indicators/new", f"/commitment-indicators/{ci.id}/edit",
                    f"/commitment-indicators/{ci.id}/measurements"):
            assert client.get(url).status_code == status, (role, url)


def test_unknown_ids_are_not_found(client, world):
    client.login(world.user("editor"))
    assert client.get("/commitment-indicators/999999/measurements").status_code == 404
    assert client.get("/commitment-indicators/999999/edit").status_code == 404
    assert client.post("/measurements/999999/delete").status_code == 404
    assert client.get("/commitments/999999/indicators/new").status_code == 404


# --- baseline and target ------------------------------------------------------------------

def test_baseline_and_target_are_edited(client, world, c, mhs96):
    ci = _attach(world, c, mhs96, baseline_value=Decimal("12.500000"), baseline_date=date(2025, 3, 31))
    client.login(world.user("editor"))
    form = client.get(f"/commitment-indicators/{ci.id}/edit")
    html = form.get_data(as_text=True)
    assert 'value="12.5"' in html and 'value="2025-03-31"' in html
    state = re.search(r'name="state" type="hidden" value="([^"]+)"', html).group(1)
    response = client.post(f"/commitment-indicators/{ci.id}/edit", data={
        "state": state, "baseline_value": "11", "baseline_date": "2025-03-31", "target_value": "7,25",
        "target_date": "2027-03-31"})
    assert response.status_code == 302
    db.session.refresh(ci)
    assert (ci.baseline_value, ci.target_value) == (Decimal(11), Decimal("7.25"))
    shown = text_of(client.get(f"/commitments/{c.id}"))
    assert "Target 7.25 per 1,000 occupied bed days (31 March 2027)" in shown
    assert "baseline value: 12.5 → 11" in shown


def test_a_stale_edit_shows_both_values_and_keeps_the_users(client, world, c, mhs96):
    ci = _attach(world, c, mhs96, baseline_value=Decimal(12))
    stale = ind.state_token(ci)
    ind.update_targets(world.user("lead"), c, ci.id, ind.Targets(baseline_value=Decimal(13)))
    client.login(world.user("editor"))
    response = client.post(f"/commitment-indicators/{ci.id}/edit", data={
        "state": stale, "baseline_value": "14,5", "baseline_date": "", "target_value": "", "target_date": ""})
    assert response.status_code == 409
    shown = text_of(response)
    assert "someone saved a different baseline or target" in shown
    assert "Baseline saved now 13 per 1,000 occupied bed days" in shown
    assert 'value="14,5"' in response.get_data(as_text=True)
    db.session.refresh(ci)
    assert ci.baseline_value == Decimal(13)
    # Saving again (with the fresh state the conflict page carries) replaces it knowingly.
    fresh = re.search(r'name="state" type="hidden" value="([^"]+)"', response.get_data(as_text=True)).group(1)
    again = client.post(f"/commitment-indicators/{ci.id}/edit", data={
        "state": fresh, "baseline_value": "14,5", "baseline_date": "", "target_value": "", "target_date": ""})
    assert again.status_code == 302
    db.session.refresh(ci)
    assert ci.baseline_value == Decimal("14.5")


def test_removing_an_indicator(client, world, c, mhs96):
    ci = _attach(world, c, mhs96)
    _measure(world, c, ci, date(2026, 1, 1), date(2026, 3, 31), 9)
    client.login(world.user("editor"))
    response = client.post(f"/commitment-indicators/{ci.id}/remove", follow_redirects=True)
    assert "has measurements, so it stays" in text_of(response)
    assert _count(CommitmentIndicator) == 1
    ind.delete_measurement(world.user("lead"), c, ci.measurements[0].id)
    response = client.post(f"/commitment-indicators/{ci.id}/remove", follow_redirects=True)
    assert "is no longer attached to this commitment" in text_of(response)
    assert _count(CommitmentIndicator) == 0


# --- measurements ---------------------------------------------------------------------------

def _measurement_form(ci, **kw):
    data = {"quarter": "", "period_start": "2026-01-01", "period_end": "2026-03-31", "value": "9,5",
            "note": "", "commitment_indicator": str(ci.id)}
    data.update(kw)
    return data


def test_a_member_records_measurements_and_the_chart_shows_them(client, world, c, mhs96):
    ci = _attach(world, c, mhs96, baseline_value=Decimal(12), target_value=Decimal(8))
    client.login(world.user("editor"))
    page = client.get(f"/commitment-indicators/{ci.id}/measurements")
    assert page.status_code == 200 and "No measurements yet." in text_of(page)
    for data in (_measurement_form(ci, note="Ward 3 closed in February."),
                 _measurement_form(ci, quarter="2025-Q4", period_start="", period_end="", value="10.75")):
        response = client.post(f"/commitment-indicators/{ci.id}/measurements", data=data)
        assert response.status_code == 302, text_of(response)
    rows = db.session.execute(select(Measurement.period_start, Measurement.period_end, Measurement.value)
                              .order_by(Measurement.period_start)).all()
    assert rows == [(date(2025, 10, 1), date(2025, 12, 31), Decimal("10.75")),
                    (date(2026, 1, 1), date(2026, 3, 31), Decimal("9.5"))]
    shown = text_of(client.get(f"/commitment-indicators/{ci.id}/measurements"))
    assert "1 January 2026 – 31 March 2026 9.5 Ward 3 closed in February." in shown

    client.logout()
    response = client.get(f"/commitments/{c.id}")
    html = response.get_data(as_text=True)
    shown = text_of(response)
    assert 'alt="Line chart of Restrictive interventions per 1,000 occupied bed days' in html
    svg = _svg_of(html)
    assert svg.startswith("<svg") and "<script" not in svg
    # The table holds the same numbers as the chart.
    assert ("Period Value (per 1,000 occupied bed days) Baseline 12 1 Oct 2025 – 31 Dec 2025 10.75 "
            "1 Jan 2026 – 31 Mar 2026 9.5 Target 8") in shown
    assert "<caption>Restrictive interventions per 1,000 occupied bed days: measurements against" in html
    assert "1 January 2026 – 31 March 2026: Ward 3 closed in February." in shown


@pytest.mark.parametrize(("kw", "message"), [
    ({"period_start": "", "period_end": ""}, "Enter the first day of the period, or choose a quarter."),
    ({"period_end": "2025-12-31"}, "The end of the period must be on or after its start."),
    ({"value": ""}, "Enter the value for this period."),
    ({"value": "lots"}, "Enter a number, such as 12 or 3.5."),
    ({"value": "-2"}, "cannot go below zero"),
    ({"value": "12%"}, "without the unit"),
    ({"note": "n" * 1001}, "Use 1000 characters or fewer."),
    ({"quarter": "2026-Q2"}, "choose a quarter or enter the dates, not both"),
    ({"quarter": "2026-Q9"}, "Choose a quarter from the list."),
    ({"period_start": "31/01/2026"}, "Enter the date as year, month and day"),
    ({"period_start": "0999-01-01"}, "Enter a date between 1900 and 2200."),
])
def test_bad_measurements_are_refused_with_a_message_and_kept(client, world, c, mhs96, kw, message):
    ci = _attach(world, c, mhs96)
    client.login(world.user("lead"))
    response = client.post(f"/commitment-indicators/{ci.id}/measurements", data=_measurement_form(ci, **kw))
    assert response.status_code == 400
    assert message in text_of(response)
    assert _count(Measurement) == 0
    if kw.get("value"):
        assert f'value="{kw["value"]}"' in response.get_data(as_text=True)


def test_the_same_period_twice_is_refused_on_the_page(client, world, c, mhs96):
    ci = _attach(world, c, mhs96)
    _measure(world, c, ci, date(2026, 1, 1), date(2026, 3, 31), 9)
    client.login(world.user("lead"))
    response = client.post(f"/commitment-indicators/{ci.id}/measurements",
                           data=_measurement_form(ci, quarter="2026-Q1", period_start="", period_end=""))
    assert response.status_code == 400
    assert "There is already a measurement for 2026-01-01 to 2026-03-31" in text_of(response)
    assert _count(Measurement) == 1


def test_a_forged_form_naming_another_commitments_indicator_is_not_found(client, world, c, mhs96):
    ci = _attach(world, c, mhs96)
    theirs_commitment = commitment(world, org=world.other_org)
    theirs = ind.attach_indicator(world.user("other_lead"), theirs_commitment, catalogue_id=mhs96.id,
                                  own=None, targets=ind.Targets())
    mine_too = commitment(world)
    also_mine = _attach(world, mine_too, mhs96)
    client.login(world.user("lead"))
    for forged in (theirs.id, also_mine.id, "x"):
        response = client.post(f"/commitment-indicators/{ci.id}/measurements",
                               data=_measurement_form(ci, commitment_indicator=str(forged)))
        assert response.status_code == 404
    # …and the URL of another organisation's indicator is refused outright.
    assert client.post(f"/commitment-indicators/{theirs.id}/measurements",
                       data=_measurement_form(theirs)).status_code == 403
    assert _count(Measurement) == 0


def test_deleting_a_measurement(client, world, c, mhs96):
    ci = _attach(world, c, mhs96)
    m = _measure(world, c, ci, date(2026, 1, 1), date(2026, 3, 31), 9)
    client.login(world.user("other_lead"))
    assert client.post(f"/measurements/{m.id}/delete").status_code == 403
    client.login(world.user("editor"))
    response = client.post(f"/measurements/{m.id}/delete")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/commitment-indicators/{ci.id}/measurements")
    assert _count(Measurement) == 0
    assert db.session.scalar(select(AuditEvent.action).where(
        AuditEvent.action == "commitment.measurement_deleted")) is not None


def test_buttons_need_a_csrf_token(client, world, c, mhs96):
    ci = _attach(world, c, mhs96)
    m = _measure(world, c, ci, date(2026, 1, 1), date(2026, 3, 31), 9)
    client.login(world.user("editor"))
    assert client.post(f"/measurements/{m.id}/delete", csrf=False, data={}).status_code == 400
    assert _count(Measurement) == 1


# --- the commitment page ---------------------------------------------------------------------

def test_members_see_the_links_to_manage_indicators(client, world, c, mhs96):
    ci = _attach(world, c, mhs96)
    for role, sees in [("editor", True), ("lead", True), ("other_lead", False), ("coordinator", False),
                       ("admin", False)]:
        client.login(world.user(role))
        html = client.get(f"/commitments/{c.id}").get_data(as_text=True)
        assert (f"/commitment-indicators/{ci.id}/measurements" in html) is sees, role
        assert (f"/commitments/{c.id}/indicators/new" in html) is sees, role


def test_an_indicator_without_measurements_says_so(client, world, c, mhs96):
    _attach(world, c, mhs96)
    shown = text_of(client.get(f"/commitments/{c.id}"))
    assert "No measurements yet." in shown and "Baseline Not set" in shown


def _build(world, c, *, indicators: int, measurements: int, updates: int):
    start = date(2016, 1, 1)
    for i in range(indicators):
        indicator = catalogue_indicator(f"Indicator {i} of {c.id}", unit="people")
        ci = _attach(world, c, indicator, baseline_value=Decimal(50), target_value=Decimal(20))
        for k in range(measurements):
            first = start + timedelta(days=31 * k)
            db.session.add(Measurement(commitment_indicator=ci, period_start=first,
                                       period_end=first + timedelta(days=27), value=Decimal(40 - k % 17),
                                       note=f"note {k}" if k % 3 == 0 else "",
                                       recorded_by_id=world.user("lead").id))
    for k in range(updates):
        db.session.add(ProgressUpdate(
            commitment=c, organisation=world.org, author=world.user("editor" if k % 2 else "lead"),
            update_date=date(2025, 1, 1) + timedelta(days=k), report=f"Report {k}", reflect="r",
            completion=Completion.LIMITED, rag=RAG.AT_RISK, previous_completion=Completion.NOT_STARTED,
            previous_rag=RAG.ON_TRACK))
    db.session.flush()


@pytest.mark.parametrize("role", ["public", "lead"])
def test_the_commitment_page_runs_a_fixed_number_of_queries(client, world, role):
    if role != "public":
        client.login(world.user(role))
    small = commitment(world, title="Small")
    large = commitment(world, title="Large")
    _build(world, small, indicators=1, measurements=2, updates=1)
    _build(world, large, indicators=5, measurements=40, updates=30)
    client.get(f"/commitments/{small.id}")  # warm up (the session's user, caches)
    with count_queries() as few:
        response = client.get(f"/commitments/{small.id}")
    assert "Report 0" in text_of(response)
    with count_queries() as many:
        response = client.get(f"/commitments/{large.id}")
    shown = text_of(response)
    assert "Report 29" in shown and f"Indicator 4 of {large.id}" in shown and "note 39" in shown
    assert len(re.findall(r'src="/charts/[0-9a-f]{64}\.svg"', response.get_data(as_text=True))) == 5
    assert few.count == many.count, many
