"""Reading plain values from posted forms that have no WTForms class."""

from datetime import date

from flask import abort, request

from app.forms.safe import FORBIDDEN_MESSAGE
from app.safe_text import has_forbidden


def optional_date(raw: str | None) -> date | None:
    """A YYYY-MM-DD value, or None when left empty; ValueError when malformed."""
    raw = (raw or "").strip()
    return date.fromisoformat(raw) if raw else None


def posted_text(name: str) -> str:
    """A free-text value (a reason, a comment); 400 with the reason if it holds characters no
    Office file can store (see app/forms/safe.py)."""
    value = request.form.get(name, "")
    if has_forbidden(value):
        abort(400, description=str(FORBIDDEN_MESSAGE))
    return value


def posted_int(name: str) -> int | None:
    """A positive id or number from the posted form, or None (a 25-digit number names nothing)."""
    from app.web.guards import MAX_ID

    value = (request.form.get(name) or "").strip()
    if not value.isdigit() or len(value) > 10:
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None


def posted_ids(name: str) -> list[int]:
    """Every positive id posted under `name` (check boxes), the malformed ones left out."""
    from app.web.guards import MAX_ID

    return [int(v) for v in request.form.getlist(name) if v.isdigit() and len(v) <= 10 and 0 < int(v) <= MAX_ID]
