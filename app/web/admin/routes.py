"""Import hub: each admin page module attaches its routes to bp."""

from . import (
    appraisal,  # noqa: F401
    bp,  # noqa: F401
    campaigns,  # noqa: F401
    holidays,  # noqa: F401
    login_throttles,  # noqa: F401
    publishing,  # noqa: F401
    units,  # noqa: F401
)
