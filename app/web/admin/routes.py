"""Import hub: each admin page module attaches its routes to bp."""
from . import bp  # noqa: F401
from . import units  # noqa: F401
from . import campaigns  # noqa: F401
from . import appraisal  # noqa: F401
from . import publishing  # noqa: F401
from . import holidays  # noqa: F401
