"""The error a use case raises for input a person must correct."""


class InputError(Exception):
    """A Chinese message for the page, and per-field messages (input name -> message) where they belong."""

    def __init__(self, message: str, errors: dict[str, str] | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}
        self.field = field
