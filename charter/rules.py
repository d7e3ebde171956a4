"""What services raise when a rule refuses a request, shared by every feature.

Routes turn a RuleError into a message beside the named form field (or at the top of the
form), with its status; an EditConflict into a conflict page that shows both versions.
"""

from __future__ import annotations

from typing import Any


class RuleError(Exception):
    """A rule refused the change. `message` is for people; `field` names the form field it
    belongs beside (None: the whole form); `status` is the HTTP status to answer with."""

    def __init__(self, message: str, field: str | None = None, status: int = 400):
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status


class EditConflict(Exception):  # noqa: N818 - it is a situation, not a failure
    """Someone saved the record after this person loaded it into the form; `current` is the
    record as it is now."""

    def __init__(self, current: Any):
        super().__init__("edit conflict")
        self.current = current


def attach_error(form, error: RuleError) -> list[str]:
    """Put a rule's message beside its field on `form`; return the messages that belong to
    no field (for the error summary)."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
        return []
    return [error.message]
