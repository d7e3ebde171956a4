from flask import Blueprint

bp = Blueprint("dashboards", __name__)

from charter.dashboards import coordinator_routes, public_routes  # noqa: E402,F401
