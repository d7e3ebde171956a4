"""The upload journey in a real browser, with axe-core on every page: upload page,
problems, preview, confirmation."""

from __future__ import annotations

from sqlalchemy import select

from charter.extensions import db
from charter.models import Commitment, MemberRole
from tests import factories as f
from tests.browser.conftest import assert_accessible, sign_in
from tests.test_spreadsheets_data import commitment_row, csv_file, new_row


def test_upload_problems_preview_and_confirm_are_accessible(page, committed, tmp_path):
    site = f.site("cambridge", name="Cambridge")
    org = f.organisation(site, "Fenland Trust", slug="fenland-trust")
    editor = f.user("editor@example.org", full_name="Jiří Novák 🌿")
    f.member(editor, org, MemberRole.EDITOR)
    domain = f.domain("Least restrictive practice", slug="least-restrictive-practice")
    draft = f.commitment(org, domain, title="Safety huddles on every ward")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_file([new_row(Title="Peer support", **{"Target date": "2025-02-30"})]))
    good = tmp_path / "good.csv"
    good.write_bytes(csv_file([commitment_row(draft, Title="Safety huddles twice a day"),
                               new_row(Title="Peer support")]))
    committed()

    sign_in(page, "editor@example.org", f.PASSWORD)
    page.goto("/organisations/fenland-trust/commitments/import")
    assert page.locator("h1").inner_text() == "Commitments in a spreadsheet"
    assert_accessible(page, "upload page")

    page.get_by_label("Spreadsheet file").set_input_files(str(bad))
    page.get_by_role("button", name="Check the file").click()
    assert "2025-02-30 is not a date. Use YYYY-MM-DD." in page.locator("#row-errors").inner_text()
    assert_accessible(page, "upload page with problems")

    page.get_by_label("Spreadsheet file").set_input_files(str(good))
    page.get_by_role("button", name="Check the file").click()
    assert page.locator("h1").inner_text() == "Check the upload before saving it"
    assert "1 new commitment (saved as a draft)" in page.locator("#import-summary").inner_text()
    assert_accessible(page, "preview")

    page.get_by_role("button", name="Save these changes").click()
    assert "The upload is saved" in page.locator("main").inner_text()

    db.session.expire_all()
    assert db.session.get(Commitment, draft.id).title == "Safety huddles twice a day"
    assert db.session.scalar(select(Commitment).where(Commitment.title == "Peer support"))
