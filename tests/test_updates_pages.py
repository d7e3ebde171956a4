"""Progress update pages through the test client: the form (pre-filled Review, today's
date), bad input, partners, and the commitment page's list of updates."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from charter.commitments import updates
from charter.extensions import db
from charter.models import RAG, Completion, Partnership, PartnershipStatus, ProgressUpdate
from tests.access.indicators import commitment
from tests.support import text_of


@pytest.fixture
def c(world):
    return commitment(world, title="Halve prone restraint by 2027", completion=Completion.LIMITED,
                      rag=RAG.ON_TRACK)


def _today(c) -> date:
    return updates.site_today(c)


def _form(c, **kw):
    data = {"update_date": _today(c).isoformat(),
            "report": "Prone restraint fell from 14 to 9 episodes.\n\nSeclusion was unchanged.",
            "reflect": "Agency staffing on Ward 3 got in the way.", "completion": "substantial",
            "rag": "at_risk", "rethink": "Safewards moves to induction.", "refresh": "Audit in January."}
    data.update(kw)
    return data


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(ProgressUpdate))


def test_the_form_starts_from_today_and_the_current_review(client, world, c):
    client.login(world.user("editor"))
    response = client.get(f"/commitments/{c.id}/updates/new")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'value="{_today(c).isoformat()}"' in html
    assert '<option selected value="limited">' in html and '<option selected value="on_track">' in html
    shown = text_of(response)
    for part in ("Report", "Reflect", "Review", "Rethink", "Refresh"):
        assert part in shown
    assert "You are writing for Fenland Trust." in shown


def test_a_member_adds_an_update_and_everyone_reads_it(client, world, c):
    client.login(world.user("editor"))
    response = client.post(f"/commitments/{c.id}/updates/new", data=_form(c))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/commitments/{c.id}#updates")
    db.session.refresh(c)
    assert (c.completion, c.rag) == (Completion.SUBSTANTIAL, RAG.AT_RISK)

    client.logout()
    response = client.get(f"/commitments/{c.id}")
    shown = text_of(response)
    assert "Written by Editor for Fenland Trust" in shown
    assert ("Report Prone restraint fell from 14 to 9 episodes. Seclusion was unchanged. "
            "Reflect Agency staffing on Ward 3 got in the way. "
            "Review Completion: Limited → Substantial Status: On track → At risk "
            "Rethink Safewards moves to induction. Refresh Audit in January.") in shown
    html = response.get_data(as_text=True)
    assert f'<time datetime="{_today(c).isoformat()}">' in html
    assert ('<p class="mb-2">Prone restraint fell from 14 to 9 episodes.</p>'
            '<p class="mb-2">Seclusion') in html
    assert "progress update added" in shown  # on the timeline, with the change
    assert "completion: Limited → Substantial" in shown


def test_updates_are_listed_newest_first_with_unchanged_parts_said_so(client, world, c):
    client.login(world.user("lead"))
    today = _today(c)
    client.post(f"/commitments/{c.id}/updates/new", data=_form(
        c, update_date=(today - timedelta(days=30)).isoformat(), report="First update", reflect=""))
    client.post(f"/commitments/{c.id}/updates/new", data=_form(
        c, update_date=today.isoformat(), report="Second update", completion="substantial", rag="at_risk"))
    shown = text_of(client.get(f"/commitments/{c.id}"))
    assert shown.index("Second update") < shown.index("First update")
    assert "Completion: Substantial (unchanged) Status: At risk (unchanged)" in shown
    assert "Reflect —" in shown


@pytest.mark.parametrize(("kw", "message"), [
    ({"report": ""}, "Write the Report: what happened, with figures where you have them."),
    ({"update_date": ""}, "Enter the date of this update."),
    ({"update_date": "2026-02-30"}, "Enter the date as year, month and day"),
    ({"reflect": "x" * 10_001}, "Use 10000 characters or fewer."),
    ({"completion": "finished"}, "Not a valid choice"),
])
def test_bad_input_is_refused_beside_the_field_and_kept(client, world, c, kw, message):
    client.login(world.user("editor"))
    data = _form(c, **kw)
    response = client.post(f"/commitments/{c.id}/updates/new", data=data)
    assert response.status_code == 400
    assert message in text_of(response)
    html = response.get_data(as_text=True)
    assert 'id="error-summary"' in html
    assert str(escape(data["rethink"])) in html  # the rest of what was typed is kept
    assert _count() == 0


def test_a_future_date_is_refused(client, world, c):
    client.login(world.user("editor"))
    tomorrow = _today(c) + timedelta(days=1)
    response = client.post(f"/commitments/{c.id}/updates/new",
                           data=_form(c, update_date=tomorrow.isoformat()))
    assert response.status_code == 400
    assert "The date cannot be in the future" in text_of(response)
    assert _count() == 0


def test_any_text_is_kept_and_shown_escaped(client, world, c):
    client.login(world.user("editor"))
    words = 'Příliš žluťoučký kůň · Ons het gepraat · 我们谈过了 🌿 <script>alert("x")</script>'
    assert client.post(f"/commitments/{c.id}/updates/new", data=_form(c, report=words)).status_code == 302
    html = client.get(f"/commitments/{c.id}").get_data(as_text=True)
    assert "<script>alert" not in html
    assert str(escape(words)) in html


def test_an_accepted_partner_adds_an_update_for_its_organisation(client, world, c):
    db.session.add(Partnership(commitment=c, organisation=world.other_org, status=PartnershipStatus.ACCEPTED))
    client.login(world.user("other_editor"))
    page = client.get(f"/commitments/{c.id}")
    assert f"/commitments/{c.id}/updates/new" in page.get_data(as_text=True)
    assert "You are writing for Mind in the Fens." in text_of(client.get(f"/commitments/{c.id}/updates/new"))
    assert client.post(f"/commitments/{c.id}/updates/new", data=_form(c)).status_code == 302
    u = db.session.scalar(select(ProgressUpdate))
    assert u.organisation_id == world.other_org.id
    shown = text_of(client.get(f"/commitments/{c.id}"))
    assert "Written by Other_Editor for Mind in the Fens · partner organisation" in shown


@pytest.mark.parametrize(("role", "status"), [("other_editor", 403), ("coordinator", 403), ("admin", 403)])
def test_others_may_not_add_updates(client, world, c, role, status):
    client.login(world.user(role))
    assert client.get(f"/commitments/{c.id}/updates/new").status_code == status
    assert client.post(f"/commitments/{c.id}/updates/new", data=_form(c)).status_code == status
    assert f"/commitments/{c.id}/updates/new" not in client.get(f"/commitments/{c.id}").get_data(as_text=True)
    assert _count() == 0


def test_a_drafts_update_form_is_hidden_from_outsiders(client, world):
    draft = commitment(world, published=False)
    client.login(world.user("other_lead"))
    assert client.get(f"/commitments/{draft.id}/updates/new").status_code == 404
    client.logout()
    response = client.get(f"/commitments/{draft.id}/updates/new")
    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]


def test_there_is_no_way_to_edit_an_update(app):
    rules = [r.rule for r in app.url_map.iter_rules() if "update" in r.rule and "commitments" in r.rule]
    assert rules == ["/commitments/<int:commitment_id>/updates/new"]
