"""Records that must never be changed or deleted once written.

Published reports, signatures and audit events are history: withdrawal and correction
add new records instead. These listeners turn an accidental UPDATE or DELETE through
the ORM into an error before it reaches the database.
"""

from __future__ import annotations

from sqlalchemy import event, inspect

from charter.models.audit import AuditEvent
from charter.models.charter import Signature, SignatureWithdrawal
from charter.models.report import ReportRevision


class ImmutableRecordError(RuntimeError):
    pass


def protect(*classes) -> None:
    for cls in classes:

        @event.listens_for(cls, "before_update")
        def _no_update(mapper, connection, target, _cls=cls):
            # A new related record (a withdrawal, say) marks the object dirty without
            # changing it; only a changed column is refused.
            state = inspect(target)
            for attr in mapper.column_attrs:
                if state.attrs[attr.key].history.has_changes():
                    raise ImmutableRecordError(f"{_cls.__name__} records are never changed")

        @event.listens_for(cls, "before_delete")
        def _no_delete(mapper, connection, target, _cls=cls):
            raise ImmutableRecordError(f"{_cls.__name__} records are never deleted")


protect(AuditEvent, Signature, SignatureWithdrawal, ReportRevision)
