from flask import Blueprint

bp = Blueprint("commitments", __name__)

from charter.commitments import (  # noqa: E402,F401
    indicator_routes,
    partnership_routes,
    routes,
    spreadsheet_routes,
    update_routes,
)
