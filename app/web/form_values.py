"""Reading plain values from posted forms that have no WTForms class."""
from datetime import date


def optional_date(raw: str | None) -> date | None:
    """A YYYY-MM-DD value, or None when left empty; ValueError when malformed."""
    raw = (raw or "").strip()
    return date.fromisoformat(raw) if raw else None
