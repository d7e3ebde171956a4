"""Read-side queries for admin pages."""

from __future__ import annotations

from sqlalchemy import func, select

from charter.models import AuditEvent, OutboxMessage
from charter.pagination import Page, paginate

PAGE_SIZE = 50


def outbox_page(page: int, to_filter: str | None = None) -> Page:
    query = select(OutboxMessage)
    if to_filter:
        like = f"%{to_filter.strip().lower()}%"
        query = query.where(func.lower(OutboxMessage.to_address).like(like))
    return paginate(query.order_by(OutboxMessage.id.desc()), page, PAGE_SIZE)


def audit_page(page: int, site_id: int | None = None) -> Page:
    query = select(AuditEvent)
    if site_id is not None:
        query = query.where(AuditEvent.site_id == site_id)
    return paginate(query.order_by(AuditEvent.id.desc()), page, PAGE_SIZE)
