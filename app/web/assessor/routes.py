"""Routes of this blueprint."""
from . import bp  # noqa: F401
