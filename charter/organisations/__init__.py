from flask import Blueprint

bp = Blueprint("organisations", __name__)

from charter.organisations import members_routes, routes  # noqa: E402,F401
