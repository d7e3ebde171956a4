"""The audit trail: `record(actor, action, obj, changes)` in the caller's transaction."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from charter.extensions import db
from charter.models import AuditEvent
from charter.models.base import utcnow


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def changes_between(obj: Any, new_values: dict[str, Any]) -> dict[str, list[Any]]:
    """The fields of `new_values` that differ from `obj`, as {field: [old, new]}."""
    diff: dict[str, list[Any]] = {}
    for field, new in new_values.items():
        old = getattr(obj, field)
        if _plain(old) != _plain(new):
            diff[field] = [_plain(old), _plain(new)]
    return diff


def apply_changes(obj: Any, new_values: dict[str, Any]) -> dict[str, list[Any]]:
    """Set the new values on `obj` and return what changed, for the audit event."""
    diff = changes_between(obj, new_values)
    for field in diff:
        setattr(obj, field, new_values[field])
    return diff


def _label(obj: Any) -> str:
    for attr in ("name", "title", "email", "slug"):
        value = getattr(obj, attr, None)
        if isinstance(value, str) and value:
            return value[:300]
    return ""


def record(
    actor,
    action: str,
    obj: Any,
    changes: dict[str, Any] | None = None,
    *,
    site_id: int | None = None,
    organisation_id: int | None = None,
) -> AuditEvent:
    """Add an audit event for `actor` doing `action` to `obj`; flushes, never commits.

    `actor` is a User or None (the system: CLI, scheduled jobs). Site and organisation
    are taken from the object when it has them, so that coordinators can see the
    history of everything at their site.
    """
    if getattr(obj, "id", None) is None:
        db.session.flush()
    if organisation_id is None:
        organisation_id = getattr(obj, "organisation_id", None)
        if obj.__class__.__name__ == "Organisation":
            organisation_id = obj.id
    if site_id is None:
        site_id = getattr(obj, "site_id", None)
        if obj.__class__.__name__ == "Site":
            site_id = obj.id
        if site_id is None and organisation_id is not None:
            from charter.models import Organisation

            org = db.session.get(Organisation, organisation_id)
            site_id = org.site_id if org else None
    event = AuditEvent(**_event_values(actor, action, obj, changes, site_id, organisation_id))
    db.session.add(event)
    db.session.flush()
    return event


def _actor(actor) -> tuple[int | None, str]:
    if actor is None:
        return None, "system"
    if not getattr(actor, "is_authenticated", False):
        return None, "public"
    return actor.id, actor.email


def _event_values(actor, action, obj, changes, site_id, organisation_id) -> dict[str, Any]:
    actor_id, actor_label = _actor(actor)
    return {
        "actor_id": actor_id,
        "actor_label": actor_label,
        "action": action,
        "object_type": obj.__class__.__name__,
        "object_id": getattr(obj, "id", None),
        "object_label": _label(obj),
        "site_id": site_id,
        "organisation_id": organisation_id,
        "changes": _plain(changes or {}),
    }


def record_many(actor, action: str, items: list[tuple[Any, dict[str, Any] | None]], *,
                site_id: int | None, organisation_id: int | None = None) -> int:
    """Record the same action on many objects in one INSERT (bulk imports).

    Each item is (object, changes); objects must already have ids. The events are the
    ones `record` would write, with the site (and, unless an object names its own, the
    organisation) given once for the batch. Returns the number of events.
    """
    if not items:
        return 0
    from sqlalchemy import insert

    now = utcnow()
    rows = []
    for obj, changes in items:
        org_id = getattr(obj, "organisation_id", None) or organisation_id
        values = _event_values(actor, action, obj, changes, site_id, org_id)
        values["occurred_at"] = now
        rows.append(values)
    db.session.execute(insert(AuditEvent), rows)
    return len(rows)
