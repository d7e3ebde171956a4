"""The request layer owns the transaction (charter.transaction): what a request answers
decides what is kept, mail leaves only after the commit, and the helpers that routes and
services share turn refusals into messages with nothing half saved."""

from __future__ import annotations

import pytest
from flask import redirect
from flask_wtf import FlaskForm
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import IntegrityError
from wtforms import StringField
from wtforms.validators import DataRequired

from charter import create_app, mail, transaction
from charter.extensions import db
from charter.models import OutboxMessage, OutboxStatus
from charter.rules import EditConflict, RuleError
from tests.support import CSRFClient


def _write(subject: str = "kept?") -> OutboxMessage:
    return mail.queue("someone@example.org", subject, "body", kind="test")


class NameForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired()])


def _refuse(field):
    def action():
        _write("half saved")
        raise RuleError("That name is taken.", field)
    return action


@pytest.fixture
def probe(app):
    """An app like the real one, with routes that write and then answer in each way."""
    probe = create_app("testing", {"SQLALCHEMY_DATABASE_URI":
                                   app.config["SQLALCHEMY_DATABASE_URI"]})
    probe.test_client_class = CSRFClient

    @probe.post("/answer/<int:status>")
    def answer(status: int):
        _write(f"answered {status}")
        if status in (302, 303):
            return redirect("/"), status
        return "done", status

    @probe.post("/raise")
    def raise_():
        _write("raised")
        raise RuleError("Not like that.", status=409)

    @probe.post("/button/<outcome>")
    def button(outcome: str):
        def action():
            _write("button")
            if outcome == "refused":
                raise RuleError("Refused.")
            return "ok"
        result, refused = transaction.perform(action)
        return redirect(f"/?result={result}&refused={refused}"), 303

    @probe.post("/form/<how>")
    def form_page(how: str):
        form = NameForm()
        actions = {"ok": lambda: _write("form").id, "field": _refuse("name"),
                   "whole": _refuse(None), "conflict": lambda: (_ for _ in ()).throw(
                       EditConflict("the current record"))}
        outcome = transaction.submit(form, actions[how])
        if outcome:
            return redirect("/"), 303
        return {"errors": outcome.errors, "name_errors": form.name.errors,
                "conflict": outcome.conflict.current if outcome.conflict else None,
                "status": outcome.status}, outcome.status

    yield probe
    with probe.app_context():
        db.session.remove()
        db.engine.dispose()


def _subjects() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage.subject).order_by(OutboxMessage.id)))


@pytest.mark.parametrize(("status", "kept"), [
    (200, True), (201, True), (302, True), (303, True),
    (400, False), (403, False), (404, False), (409, False), (500, False),
])
def test_the_answer_decides_what_is_kept(probe, status, kept):
    response = probe.test_client().post(f"/answer/{status}")
    assert response.status_code == status
    assert _subjects() == ([f"answered {status}"] if kept else [])


def test_a_rule_that_escapes_a_route_is_its_status_and_message_and_nothing_is_kept(probe):
    response = probe.test_client().post("/raise")
    assert response.status_code == 409
    assert "Not like that." in response.get_data(as_text=True)
    assert _subjects() == []


def test_a_refused_button_keeps_nothing_even_though_it_redirects(probe):
    client = probe.test_client()
    refused = client.post("/button/refused")
    assert refused.status_code == 303
    assert "result=None&refused=Refused." in refused.headers["Location"]
    assert _subjects() == []
    done = client.post("/button/done")
    assert "result=ok&refused=None" in done.headers["Location"]
    assert _subjects() == ["button"]


def test_submit_puts_a_rule_beside_its_field_with_its_status_and_keeps_nothing(probe):
    client = probe.test_client()
    beside = client.post("/form/field", data={"name": "Ada"})
    assert beside.status_code == 400
    assert beside.json["name_errors"] == ["That name is taken."]
    assert beside.json["errors"] == []
    whole = client.post("/form/whole", data={"name": "Ada"})
    assert whole.json["errors"] == ["That name is taken."]
    assert whole.json["name_errors"] == []
    assert _subjects() == []


def test_submit_reports_an_invalid_form_and_an_edit_conflict(probe):
    client = probe.test_client()
    invalid = client.post("/form/ok", data={"name": ""})
    assert invalid.status_code == 400
    assert invalid.json["name_errors"] == ["This field is required."]
    conflict = client.post("/form/conflict", data={"name": "Ada"})
    assert conflict.status_code == 409
    assert conflict.json["conflict"] == "the current record"
    done = client.post("/form/ok", data={"name": "Ada"})
    assert done.status_code == 303
    assert _subjects() == ["form"]


def test_mail_leaves_only_after_the_commit_and_never_for_work_not_kept(probe, monkeypatch):
    probe.config["MAIL_SERVER"] = "smtp.example.org"
    seen_committed: list[int] = []
    engine = create_engine(probe.config["SQLALCHEMY_DATABASE_URI"])

    def send(message):  # look from another connection: is the message saved yet?
        with engine.connect() as other:
            seen_committed.append(other.scalar(
                text("SELECT count(*) FROM outbox_message WHERE id = :id"), {"id": message.id}))

    monkeypatch.setattr(mail, "_smtp_send", send)
    client = probe.test_client()
    client.post("/answer/303")
    client.post("/answer/400")
    client.post("/button/refused")
    engine.dispose()
    assert seen_committed == [1]  # one message sent, and it was committed when it left
    db.session.expire_all()
    statuses = list(db.session.scalars(select(OutboxMessage.status)))
    assert statuses == [OutboxStatus.SENT]


def test_refusing_duplicates_explains_a_race_after_rolling_back(app):
    _write("first").dedupe_key = "same"
    db.session.commit()
    db.session.add(OutboxMessage(to_address="a@example.org", subject="second", body_text="",
                                 kind="test", dedupe_key="same", status=OutboxStatus.HELD))
    seen: list[int] = []

    def explain():
        seen.append(db.session.scalar(select(func.count()).select_from(OutboxMessage)))
        return RuleError("Someone did this a moment ago.", "name", status=409)

    with pytest.raises(RuleError) as refused, transaction.refusing_duplicates(explain):
        db.session.flush()
    assert refused.value.status == 409
    assert isinstance(refused.value.__cause__, IntegrityError)
    assert seen == [1]  # explain() could query: the session was usable again
    assert _subjects() == ["first"]


def test_refusing_duplicates_reraises_what_it_cannot_explain(app):
    _write("first").dedupe_key = "same"
    db.session.commit()
    db.session.add(OutboxMessage(to_address="a@example.org", subject="second", body_text="",
                                 kind="test", dedupe_key="same", status=OutboxStatus.HELD))
    with pytest.raises(IntegrityError), transaction.refusing_duplicates(lambda: None):
        db.session.flush()
    assert _subjects() == ["first"]
