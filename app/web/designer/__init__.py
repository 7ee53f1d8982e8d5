from flask import Blueprint

bp = Blueprint("designer", __name__)

# Routes attach themselves to bp.
from . import api, diff, instance, migrate, routes  # noqa: E402,F401
