"""Routes of this blueprint."""
from . import bp  # noqa: F401
from . import campaigns  # noqa: F401
