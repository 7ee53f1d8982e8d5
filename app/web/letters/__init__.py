from flask import Blueprint

bp = Blueprint("letters", __name__)

from . import notices, routes  # noqa: E402,F401  (routes attach themselves to bp)
