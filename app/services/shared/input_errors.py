"""The error a use case raises for input a person must correct."""

from collections.abc import Mapping

from app.errors import DomainError
from app.i18n import LazyText


class InputError(DomainError):
    """A message for the page, and per-field messages (input name -> message) where they belong."""

    code = "invalid_input"

    def __init__(
        self, message: str | LazyText, errors: Mapping[str, str | LazyText] | None = None, field: str | None = None
    ):
        super().__init__(message, details=errors or None)
        self.errors = errors or {}
        self.field = field
