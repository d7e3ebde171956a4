"""Offset pagination for list pages and the API: out-of-range pages are clamped."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select

from charter.extensions import db


@dataclass
class Page:
    items: list[Any]
    page: int
    pages: int
    total: int
    per_page: int

    @property
    def first_index(self) -> int:
        return 0 if self.total == 0 else (self.page - 1) * self.per_page + 1

    @property
    def last_index(self) -> int:
        return min(self.total, self.page * self.per_page)


def paginate(query: Select, page: int, per_page: int, *, scalars: bool = True) -> Page:
    """Run `query` for one page. The total comes from a COUNT over the same query."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    total = total or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    limited = query.limit(per_page).offset((page - 1) * per_page)
    result = db.session.scalars(limited) if scalars else db.session.execute(limited)
    return Page(items=list(result.all()), page=page, pages=pages, total=total, per_page=per_page)
