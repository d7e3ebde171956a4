"""Load-or-refuse helpers shared by routes: 404 when someone may not even see a record,
403 when they see it but may not act on it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user
from sqlalchemy import select

from charter.extensions import db
from charter.models import Organisation, Site

T = TypeVar("T")


def site_or_404(slug: str) -> Site:
    site = db.session.scalar(select(Site).where(Site.slug == (slug or "").lower()))
    if site is None:
        abort(404)
    return site


def organisation_or_404(slug: str) -> Organisation:
    org = db.session.scalar(select(Organisation).where(Organisation.slug == (slug or "").lower()))
    if org is None:
        abort(404)
    return org


def visible_or_404(record: T | None, may_see: Callable[[Any, T], bool],
                   may_act: Callable[[Any, T], bool] | None = None) -> T:
    """The record, if the signed-in person (or the public) may see it: 404 when it does not
    exist or they may not see it (its existence is not disclosed); with `may_act`, 403 when
    they may see it but not do this to it."""
    if record is None or not may_see(current_user, record):
        abort(404)
    if may_act is not None and not may_act(current_user, record):
        abort(403)
    return record
