"""URL slugs: ASCII, lower case, unique."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select

from charter.extensions import db


def slugify(value: str, max_length: int = 100) -> str:
    decomposed = unicodedata.normalize("NFKD", value or "")
    ascii_only = decomposed.encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_only).strip("-")[:max_length].strip("-")


def unique_slug(model, value: str, fallback: str = "organisation") -> str:
    """A slug for `value` not yet used by `model.slug`: 'mind', 'mind-2', 'mind-3', …"""
    base = slugify(value) or fallback
    taken = set(
        db.session.scalars(
            select(model.slug).where((model.slug == base) | model.slug.like(f"{base}-%"))
        ).all()
    )
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"
