"""Load-or-404 helpers shared by routes."""

from __future__ import annotations

from flask import abort
from sqlalchemy import select

from charter.extensions import db
from charter.models import Organisation, Site


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
