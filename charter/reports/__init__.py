from flask import Blueprint

bp = Blueprint("reports", __name__)

from charter.reports import manage_routes, routes  # noqa: E402,F401
