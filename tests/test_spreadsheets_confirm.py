"""The preview/confirm round trip keeps the checked file on the server: the confirmation form
carries a token only, so any file that previews can be confirmed; a confirmation is used
once, by the person who uploaded, before it expires."""

from __future__ import annotations

import random
import re
import threading
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import func, select, update

from charter.commitments import spreadsheets
from charter.commitments.spreadsheets import importing
from charter.extensions import db
from charter.models import AuditEvent, Commitment, PendingImport
from charter.models.base import utcnow
from tests.support import text_of
from tests.test_spreadsheets_data import (
    IMPORT_URL,
    commitment_row,
    csv_file,
    make_data,
    new_row,
    upload,
)


@pytest.fixture
def data(world):
    return make_data(world)


def _token(response) -> str:
    match = re.search(r'name="token" type="hidden" value="([^"]*)"', response.get_data(as_text=True))
    assert match, text_of(response)[:2000]
    return unescape(match.group(1))


def _commitments() -> int:
    return db.session.scalar(select(func.count()).select_from(Commitment))


def _three_new_rows() -> bytes:
    return csv_file([new_row(Title=f"Peer support {i}") for i in range(3)])


def _preview(client, world, content=None, role="editor") -> str:
    client.login(world.user(role))
    response = upload(client, world.org, content or _three_new_rows())
    assert response.status_code == 200, text_of(response)[:2000]
    return _token(response)


def _confirm(client, world, token: str, follow: bool = False):
    return client.post(IMPORT_URL.format(world.org.slug), data={"token": token},
                       follow_redirects=follow)


def _words(rng: random.Random, n: int) -> str:
    return " ".join("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
                    for _ in range(n))


def test_a_3_mb_csv_previews_and_its_confirmation_imports(client, world, data):
    """The file used to travel back inline in the confirmation form, and past 2 MiB
    (MAX_FORM_MEMORY_SIZE) its confirmation answered 413. Random words, so that it does
    not compress away."""
    rng = random.Random(10)
    rows = [new_row(Title=f"Promise {i}", Description=_words(rng, 1700)) for i in range(300)]
    content = csv_file(rows)
    assert 3_000_000 < len(content) < 4_000_000
    before = _commitments()

    client.login(world.user("editor"))
    response = upload(client, world.org, content, "big.csv")
    assert response.status_code == 200
    assert "300 new commitments (saved as drafts)" in text_of(response)
    html = response.get_data(as_text=True)
    form = html[html.rindex("<form", 0, html.index('name="token"')):]
    form = form[:form.index("</form>")]
    assert re.findall(r'<input[^>]*name="([^"]+)"', form) == ["csrf_token", "token"]
    assert len(form) < 1000  # the file stays on the server

    # Sent as multipart/form-data (as curl -F, or a form with a file field, sends it): the
    # inline copy of the file was a text part over MAX_FORM_MEMORY_SIZE.
    response = client.post(IMPORT_URL.format(world.org.slug), data={"token": _token(response)},
                           content_type="multipart/form-data", follow_redirects=True)
    assert response.status_code == 200
    assert "The upload is saved: 300 new commitments (saved as drafts)." in text_of(response)
    assert _commitments() == before + 300
    saved = db.session.scalar(select(Commitment).where(Commitment.title == "Promise 299"))
    assert saved.description == rows[299]["Description"]


def test_a_double_confirmation_imports_once(client, world, data):
    token = _preview(client, world)
    before = _commitments()
    first = _confirm(client, world, token)
    assert first.status_code == 302
    assert _commitments() == before + 3

    second = _confirm(client, world, token, follow=True)  # the second click, or a replay
    assert second.status_code == 200
    assert "This upload has already been saved; nothing was saved a second time." in text_of(second)
    assert _commitments() == before + 3
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "commitment.imported")) == 3


def test_a_replay_a_day_later_still_answers_clearly(client, world, data):
    token = _preview(client, world)
    _confirm(client, world, token)
    db.session.execute(update(PendingImport).values(
        created_at=utcnow() - timedelta(hours=20), expires_at=utcnow() - timedelta(hours=18)))
    db.session.commit()
    before = _commitments()
    response = _confirm(client, world, token, follow=True)
    assert "This upload has already been saved" in text_of(response)
    assert _commitments() == before


def test_two_confirmations_at_the_same_moment_import_once(app, client, world, data, monkeypatch):
    """A double click: both requests check the file before either saves; the conditional
    UPDATE lets exactly one of them save it."""
    token = _preview(client, world)
    with client.session_transaction() as session:  # the editor's signed-in session
        editor_id = session["_user_id"]
    before = _commitments()
    barrier = threading.Barrier(2, timeout=30)
    checked = spreadsheets.plan_import

    def check_then_wait(*args, **kwargs):
        plan = checked(*args, **kwargs)
        barrier.wait()
        return plan

    monkeypatch.setattr(importing, "plan_import", check_then_wait)
    responses: dict[int, object] = {}

    def click(n: int) -> None:
        with app.app_context():
            browser = app.test_client()
            with browser.session_transaction() as session:
                session["_user_id"] = editor_id
                session["_fresh"] = True
            try:
                responses[n] = browser.post(IMPORT_URL.format(world.org.slug), data={"token": token},
                                            follow_redirects=True)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=click, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    pages = sorted(text_of(r) for r in responses.values())
    assert len(pages) == 2 and all(r.status_code == 200 for r in responses.values())
    assert sum("The upload is saved: 3 new commitments" in p for p in pages) == 1
    assert sum("This upload has already been saved" in p for p in pages) == 1
    db.session.expire_all()
    assert _commitments() == before + 3


def test_only_the_person_who_uploaded_may_confirm(client, world, data):
    token = _preview(client, world)
    before = _commitments()
    for role in ("lead", "other_lead"):  # a lead of the same organisation; of another
        client.login(world.user(role))
        response = _confirm(client, world, token)
        assert response.status_code in (400, 403)
        if response.status_code == 400:
            assert "This confirmation could not be checked, so nothing was saved." in text_of(response)
    assert _commitments() == before
    client.login(world.user("editor"))  # the token was not used up by the others
    assert _confirm(client, world, token).status_code == 302
    assert _commitments() == before + 3


def test_a_token_is_good_only_for_its_organisation(client, world, data):
    from charter.models import MemberRole
    from tests import factories as f

    f.member(world.user("editor"), world.other_org, MemberRole.EDITOR)
    db.session.commit()
    token = _preview(client, world)
    response = client.post(IMPORT_URL.format(world.other_org.slug), data={"token": token})
    assert response.status_code == 400
    assert "could not be checked" in text_of(response)


def test_an_expired_confirmation_says_so(client, world, data):
    token = _preview(client, world)
    db.session.execute(update(PendingImport).values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    before = _commitments()
    response = _confirm(client, world, token)
    assert response.status_code == 400
    assert "This confirmation has expired. Upload the file again." in text_of(response)
    assert _commitments() == before


def test_the_kept_file_is_dropped_once_used(client, world, data):
    token = _preview(client, world)
    pending = db.session.scalar(select(PendingImport))
    assert pending.content == _three_new_rows() and pending.filename == "commitments.csv"
    assert pending.token_hash != token and token not in pending.token_hash
    _confirm(client, world, token)
    db.session.refresh(pending)
    assert pending.content is None and pending.used_at is not None


def test_a_failed_confirmation_leaves_the_upload_unused(client, world, data):
    token = _preview(client, world, csv_file([commitment_row(data.draft, Title="Renamed")]))
    data.draft.title = "Changed meanwhile"
    db.session.commit()
    assert _confirm(client, world, token).status_code == 400
    pending = db.session.scalar(select(PendingImport))
    assert pending.used_at is None and pending.content is not None


def test_old_uploads_are_cleaned_up_on_the_next_upload(client, world, data):
    client.login(world.user("editor"))
    for n in range(7):
        upload(client, world.org, csv_file([new_row(Title=f"Try {n}")]))
    kept = db.session.scalars(select(PendingImport.filename).order_by(PendingImport.id)).all()
    assert len(kept) == spreadsheets.PENDING_PER_PERSON  # the newest five of seven
    db.session.execute(update(PendingImport).values(expires_at=utcnow() - timedelta(days=2)))
    db.session.commit()
    _preview(client, world, role="lead")  # anyone's upload clears what expired long ago
    assert db.session.scalar(select(func.count()).select_from(PendingImport)) == 1
