"""One unit of work per request: the request layer owns the transaction.

Services change records and flush; they never commit. When the view has answered, one
after-request hook commits if the answer is a success or a redirect (2xx/3xx) and rolls
back otherwise, and only then is the mail the request queued delivered (so no email ever
announces something that was not saved). A request that raises is rolled back by the error
handlers (charter.errors) and by the teardown.

Routes use two helpers instead of writing try/except around every service call:

- `submit(form, action)` validates a form and runs the service call; a `RuleError` goes
  beside its field (or into the error summary) with its status, and nothing of the request
  is kept.
- `perform(action)` runs the call behind a button (publish, delete, restore): a `RuleError`
  comes back as the message to flash, and nothing is kept.

Services use `refusing_duplicates(...)` around a flush that a unique constraint may refuse
(two people doing the same thing at the same moment): the request's work is rolled back and
the race becomes the `RuleError` (or `EditConflict`) that explains it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from flask import Flask, flash, g, request
from sqlalchemy.exc import IntegrityError

from charter.extensions import db
from charter.rules import EditConflict, RuleError, attach_error

T = TypeVar("T")


def init_app(app: Flask) -> None:
    """Register the commit hook and, after it, mail delivery. Flask runs after-request
    functions in the reverse order of registration: delivery (registered first) runs after
    the commit, and hooks registered later (the response headers, which read the signed-in
    user) run before it, while the request's objects are still loaded."""
    from charter.mail import deliver_after_request

    app.after_request(deliver_after_request)
    app.after_request(finish)


def finish(response):
    """Commit a successful request's work; roll back anything else."""
    if response.status_code < 400 and not g.get("transaction_abandoned"):
        db.session.commit()
    else:
        db.session.rollback()
    return response


def undo() -> None:
    """Roll the request's work back now (a flush was refused) so the service can go on, for
    instance to load and return what someone else saved a moment ago."""
    db.session.rollback()
    g.pop("outbox_new_ids", None)  # the mail that work queued is gone with it


def abandon() -> None:
    """Undo the request's work now and keep it undone: whatever the request answers next
    (a redirect with a message, a form shown again) saves nothing of it."""
    undo()
    g.transaction_abandoned = True


@dataclass
class Outcome(Generic[T]):
    """What a form submission came to: `done` with the service's `result`, or not done, with
    the `errors` that belong to no field and the HTTP `status` to answer with."""

    done: bool
    result: T | None = None
    errors: list[str] = field(default_factory=list)
    status: int = 200
    conflict: EditConflict | None = None

    def __bool__(self) -> bool:
        return self.done


def submit(form, action: Callable[[], T]) -> Outcome[T]:
    """Validate `form` and, when it is valid, run `action` (a service call).

    Not submitted: status 200. Invalid: 400, the messages are on the form's fields. A rule
    refused it: its message beside its field (or in `errors`), its status, nothing kept. An
    edit conflict: `conflict` holds it (status 409, nothing kept) for the route to show both
    versions.
    """
    if not form.validate_on_submit():
        return Outcome(False, status=400 if request.method == "POST" else 200)
    try:
        result = action()
    except EditConflict as conflict:
        abandon()
        return Outcome(False, status=409, conflict=conflict)
    except RuleError as error:
        abandon()
        return Outcome(False, errors=attach_error(form, error), status=error.status)
    return Outcome(True, result)


def perform(action: Callable[[], T]) -> tuple[T | None, str | None]:
    """Run a service call behind a button: (result, None) when it was done; (None, message)
    when a rule refused it, with nothing of the request kept."""
    try:
        return action(), None
    except RuleError as error:
        abandon()
        return None, error.message


def perform_and_say(action: Callable[[], Any], success: str) -> bool:
    """`perform` a button's service call and flash what came of it: `success`, or the
    refusal as a warning. True when it was done."""
    _result, refused = perform(action)
    flash(refused or success, "warning" if refused else "success")
    return refused is None


@contextmanager
def refusing_duplicates(explain: Callable[[], Exception | Any | None]) -> Iterator[None]:
    """Run a flush that a unique (or foreign-key) constraint may refuse because someone did
    the same thing at the same moment. When it is refused, the request's work is rolled back
    and `explain()` (called after the rollback, so it may query) says what happened: raise
    the RuleError or EditConflict it returns, or re-raise the database's error when it
    returns None."""
    try:
        yield
    except IntegrityError as exc:
        undo()
        error = explain()
        if error is None:
            raise
        raise error from exc
