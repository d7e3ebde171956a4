from flask import Blueprint

bp = Blueprint("signing", __name__)

from charter.signing import routes  # noqa: E402,F401
