from flask import Blueprint

bp = Blueprint("sites", __name__)

from charter.sites import routes  # noqa: E402,F401
