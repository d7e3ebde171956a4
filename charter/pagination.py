"""Pagination for list pages and the API.

Two ways to reach a page, both served here:
- `?page=N` (offset): kept so that old links work; out-of-range pages are clamped.
- `?after=<cursor>` / `?before=<cursor>` (keyset): the Next and Previous links. A cursor
  names the sort key of the last (or first) row shown and the page number it was on, so
  the next page is read from an index where the previous one stopped, however deep it is,
  and the page still says "Page 7 of 40". A cursor is opaque to people (base64 of a short
  JSON list), read by `read_cursor` only: bounded in length, every value checked against
  the kind of its key; anything else reads as no cursor, i.e. the first page (HTML lists
  are forgiving, as page numbers are: charter.readers).

Totals: a COUNT over a large list is the one cost that grows with the data. With
LIST_COUNT_CACHE on (the default; off in TestConfig, where factories write without audit
events), a total is kept in `charter.extensions.cache` under the data version
(`charter.documents.data_version()`, which every committed write changes), so a write
shows at once and an unchanged data set counts once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from flask import current_app, g, has_app_context
from sqlalchemy import Select, and_, func, or_, select

from charter.extensions import db
from charter.readers import MAX_ID, MAX_PAGE

log = logging.getLogger(__name__)

MAX_CURSOR_LENGTH = 600  # characters of a cursor in a URL
MAX_TEXT_KEY = 400  # characters of one text value in a cursor
COUNT_TIMEOUT = 24 * 60 * 60


@dataclass
class Page:
    items: list[Any]
    page: int
    pages: int
    total: int
    per_page: int
    next_cursor: str | None = None  # for ?after=: the page after this one, if any
    prev_cursor: str | None = None  # for ?before=: the page before this one, if any

    @property
    def first_index(self) -> int:
        return 0 if self.total == 0 else (self.page - 1) * self.per_page + 1

    @property
    def last_index(self) -> int:
        return min(self.total, (self.page - 1) * self.per_page + len(self.items))


# --- keys and cursors --------------------------------------------------------------------------

@dataclass(frozen=True)
class Key:
    """One column of a list's order: the SQL expression, its direction and the kind of its
    values ("int", "str", "datetime", "date" or an Enum class), for reading cursors."""

    column: Any
    descending: bool = False
    kind: Any = "int"


def _encode_value(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def make_cursor(page: int, values: Sequence[Any]) -> str:
    text = json.dumps([page, *(_encode_value(v) for v in values)], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _read_value(raw: Any, kind: Any) -> Any:
    """One key value of a cursor, or raise ValueError."""
    if kind == "int":
        if type(raw) is not int or not 0 <= raw <= MAX_ID:
            raise ValueError("not an id")
        return raw
    if kind == "str":
        if not isinstance(raw, str) or len(raw) > MAX_TEXT_KEY:
            raise ValueError("not a text key")
        return raw
    if kind in ("datetime", "date"):
        if not isinstance(raw, str) or len(raw) > 40:
            raise ValueError("not a time")
        value = datetime.fromisoformat(raw)
        return value.date() if kind == "date" else value
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind(raw)
    raise ValueError("unknown kind")


@dataclass(frozen=True)
class Cursor:
    page: int  # the page the row named by `values` is on
    values: tuple


def read_cursor(raw: Any, keys: Sequence[Key]) -> Cursor | None:
    """The cursor in `raw`, or None when it is missing or not one this list made (too long,
    not base64 or JSON, the wrong number or kinds of values, a page out of range)."""
    if not isinstance(raw, str) or not raw or len(raw) > MAX_CURSOR_LENGTH:
        return None
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        data = json.loads(text)
        if not isinstance(data, list) or len(data) != len(keys) + 1:
            return None
        page = data[0]
        if type(page) is not int or not 1 <= page <= MAX_PAGE:
            return None
        values = tuple(_read_value(v, k.kind) for v, k in zip(data[1:], keys, strict=True))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, RecursionError):
        return None
    return Cursor(page, values)


def cursor_args(request_args) -> tuple[str | None, str | None]:
    """The raw `after` and `before` of a query string."""
    return request_args.get("after"), request_args.get("before")


def _beyond(keys: Sequence[Key], values: Sequence[Any], forward: bool):
    """SQL: the row comes after `values` in the list's order (before it when not forward).
    (a, b, c) > (x, y, z) spelt out, so that each key keeps its own direction."""
    terms = []
    for i, key in enumerate(keys):
        greater = (not key.descending) == forward
        column, value = key.column, values[i]
        step = column > value if greater else column < value
        terms.append(and_(*(k.column == v for k, v in zip(keys[:i], values[:i], strict=False)),
                          step))
    return or_(*terms)


def _ordered(query: Select, keys: Sequence[Key], forward: bool) -> Select:
    return query.order_by(None).order_by(
        *((k.column.desc() if k.descending == forward else k.column.asc()) for k in keys))


def keyset_paginate(query: Select, keys: Sequence[Key], key_of: Callable[[Any], Sequence[Any]],
                    per_page: int, *, page: int = 1, after: str | None = None,
                    before: str | None = None, scalars: bool = True) -> Page:
    """One page of `query` in the order of `keys` (the last key must be unique, e.g. the
    id). `key_of(item)` gives an item's key values. With a readable `after` (or `before`)
    cursor the page is read past that row; otherwise `page` is read by offset."""
    total = count(query)
    pages = max(1, -(-total // per_page))
    run = db.session.scalars if scalars else db.session.execute
    cursor, forward = read_cursor(after, keys), True
    if cursor is None and before:
        cursor, forward = read_cursor(before, keys), False
    if cursor is not None and any(v is None for v in cursor.values):
        cursor = None
    if cursor is not None:
        number = cursor.page + 1 if forward else cursor.page - 1
        limited = _ordered(query, keys, forward).where(
            _beyond(keys, cursor.values, forward)).limit(per_page)
        items = list(run(limited).all())
        if not forward:
            items.reverse()
        if not items or number < 1:  # walked off either end (the data changed meanwhile)
            return keyset_paginate(query, keys, key_of, per_page, page=1 if not forward else pages,
                                   scalars=scalars)
        page = min(max(1, number), pages)
    else:
        page = min(max(1, page), pages)
        limited = _ordered(query, keys, True).limit(per_page).offset((page - 1) * per_page)
        items = list(run(limited).all())
    result = Page(items=items, page=page, pages=pages, total=total, per_page=per_page)
    if items and page < pages:
        result.next_cursor = make_cursor(page, key_of(items[-1]))
    if items and page > 1:
        result.prev_cursor = make_cursor(page, key_of(items[0]))
    return result


def paginate(query: Select, page: int, per_page: int, *, scalars: bool = True) -> Page:
    """Run `query` for one page by offset. The total comes from a COUNT over the same query."""
    total = count(query)
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    limited = query.limit(per_page).offset((page - 1) * per_page)
    result = db.session.scalars(limited) if scalars else db.session.execute(limited)
    return Page(items=list(result.all()), page=page, pages=pages, total=total, per_page=per_page)


def slice_page(ids: Sequence[int], per_page: int, *, page: int = 1, after: str | None = None,
               before: str | None = None) -> tuple[list[int], Page]:
    """One page of an ordered list of ids already in hand (a cached order): the ids of the
    page and a Page without items. Cursors name the id at the page's edge, so a page
    found by cursor stays where it was when rows are added before it."""
    total = len(ids)
    pages = max(1, -(-total // per_page))
    keys = (Key(None, kind="int"),)
    start = None
    for raw, forward in ((after, True), (before, False)):
        cursor = read_cursor(raw, keys) if raw else None
        if cursor is None:
            continue
        try:
            at = ids.index(cursor.values[0]) if isinstance(ids, list) else list(ids).index(
                cursor.values[0])
        except ValueError:
            page = cursor.page + (1 if forward else -1)
            break
        start = at + 1 if forward else max(0, at - per_page)
        break
    if start is None:
        page = min(max(1, page), pages)
        start = (page - 1) * per_page
    else:
        page = min(pages, start // per_page + 1)
    chosen = list(ids[start:start + per_page])
    result = Page(items=[], page=page, pages=pages, total=total, per_page=per_page)
    if chosen and start + per_page < total:
        result.next_cursor = make_cursor(page, [chosen[-1]])
    if chosen and start > 0:
        result.prev_cursor = make_cursor(page, [chosen[0]])
    return chosen, result


# --- totals cached per data version ---------------------------------------------------------

def cache_enabled() -> bool:
    return has_app_context() and bool(current_app.config.get("LIST_COUNT_CACHE", False))


def data_version() -> str:
    """The data version, read once per request."""
    version = g.get("_list_data_version")
    if version is None:
        from charter.documents import data_version as read_version

        version = g._list_data_version = read_version()
    return version


def _statement_key(query: Select) -> str:
    compiled = query.compile(dialect=db.engine.dialect)
    text = str(compiled) + json.dumps(compiled.params, default=str, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def remembered(name: str, parts: Any, compute: Callable[[], Any]) -> Any:
    """`compute()`, kept in the cache under the data version when LIST_COUNT_CACHE is on.
    `parts` (plain values, or a SQL statement) name what was computed."""
    if not cache_enabled():
        return compute()
    from charter.extensions import cache

    if isinstance(parts, Select):
        digest = _statement_key(parts)
    else:
        digest = hashlib.sha256(json.dumps(parts, default=str, sort_keys=True).encode()).hexdigest()
    key = f"list:{name}:{data_version()}:{digest}"
    try:
        value = cache.get(key)
    except Exception:
        log.warning("the list cache could not be read", exc_info=True)
        value = None
    if value is not None:
        return value
    value = compute()
    try:
        cache.set(key, value, timeout=COUNT_TIMEOUT)
    except Exception:
        log.warning("the list cache could not be written", exc_info=True)
    return value


def count(query: Select) -> int:
    """COUNT(*) of `query`'s rows, cached per data version (see the module's docstring)."""
    counting = select(func.count()).select_from(query.order_by(None).subquery())
    return remembered("count", counting, lambda: db.session.scalar(counting) or 0)
