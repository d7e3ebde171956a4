"""Change domains and the indicator catalogue: the global lists commitments choose from.

Both share one lifecycle (add, edit, retire, restore, delete while unused), are managed by
PROMISE Global administrators and have a public page. This package imports nothing from
charter.commitments; commitments import from it."""

from flask import Blueprint

bp = Blueprint("catalogue", __name__)

from charter.catalogue import domain_routes, indicator_routes  # noqa: E402,F401
