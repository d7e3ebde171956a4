"""What services raise when a rule refuses a request, shared by every feature.

Routes turn a RuleError into a message beside the named form field (or at the top of the
form), with its status; an EditConflict into a conflict page that shows both versions.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _


class RuleError(Exception):
    """A rule refused the change. `message` is for people; `field` names the form field it
    belongs beside (None: the whole form); `status` is the HTTP status to answer with."""

    def __init__(self, message: str, field: str | None = None, status: int = 400):
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status


class EditConflict(RuleError):  # noqa: N818 - it is a situation, not a failure
    """Someone saved the record after this person loaded it into the form; `current` is the
    record as it is now. Forms show both versions (charter.transaction.submit gives the route
    the conflict); buttons show the message."""

    def __init__(self, current: Any, message: str | None = None, field: str | None = None):
        super().__init__(message or _("Someone else changed this while you were working on it. "
                                      "Nothing of yours was saved: check it and try again."),
                         field, status=409)
        self.current = current


def attach_error(form, error: RuleError) -> list[str]:
    """Put a rule's message beside its field on `form`; return the messages that belong to
    no field (for the error summary)."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
        return []
    return [error.message]
