"""Access table: the indicator catalogue (public page and admins' management)."""

from __future__ import annotations

from tests.access.rules import Route, everyone, only

ADMIN = ["admin"]


def catalogue_indicator(name: str | None = None, **kw):
    """An indicator in the catalogue (tests import this as their factory)."""
    from charter.extensions import db
    from charter.models import Direction, Indicator
    from tests import factories as f

    obj = Indicator(name=name or f"Seclusion episodes {f.n()}", unit=kw.pop("unit", "episodes"),
                    direction=kw.pop("direction", Direction.LOWER_IS_BETTER),
                    definition=kw.pop("definition", "Episodes of seclusion in the period."),
                    reference=kw.pop("reference", ""), **kw)
    db.session.add(obj)
    db.session.flush()
    return obj


ACCESS = {
    ("catalogue.catalogue", "GET"): Route(
        lambda w: (catalogue_indicator(), "/indicators")[1], everyone(200)),
    ("catalogue.admin_indicators", "GET"): Route(lambda w: "/admin/indicators", only(ADMIN)),
    ("catalogue.new_indicator", "GET"): Route(lambda w: "/admin/indicators/new", only(ADMIN)),
    ("catalogue.new_indicator", "POST"): Route(
        lambda w: "/admin/indicators/new", only(ADMIN, ok=400)),
    ("catalogue.edit_indicator_definition", "GET"): Route(
        lambda w: f"/admin/indicators/{catalogue_indicator().id}/edit", only(ADMIN)),
    ("catalogue.edit_indicator_definition", "POST"): Route(
        lambda w: f"/admin/indicators/{catalogue_indicator().id}/edit", only(ADMIN, ok=400)),
    ("catalogue.retire_catalogue_indicator", "POST"): Route(
        lambda w: f"/admin/indicators/{catalogue_indicator().id}/retire", only(ADMIN, ok=302)),
    ("catalogue.restore_catalogue_indicator", "POST"): Route(
        lambda w: f"/admin/indicators/{catalogue_indicator(is_active=False).id}/restore",
        only(ADMIN, ok=302)),
    ("catalogue.delete_catalogue_indicator", "POST"): Route(
        lambda w: f"/admin/indicators/{catalogue_indicator().id}/delete", only(ADMIN, ok=302)),
}
