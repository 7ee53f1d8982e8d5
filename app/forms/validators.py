"""Field validators whose messages are Chinese msgids translated at validation time."""

from __future__ import annotations

from decimal import Decimal
from pathlib import PurePath

from werkzeug.datastructures import FileStorage
from wtforms.validators import StopValidation, ValidationError

from app.forms import i18n
from app.forms.i18n import msg

CENT = Decimal("0.01")


def is_empty(value) -> bool:
    """Whether a field value counts as not filled in (False for checkboxes, [] for lists)."""
    if value is None or value is False:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, FileStorage):
        return not value
    if isinstance(value, (list, tuple)):
        return not any(not is_empty(v) for v in value)
    return False


class Required:
    """Non-empty value; a checkbox must be ticked. Parse errors already speak for themselves."""

    def __init__(self, checkbox: bool = False):
        self.checkbox = checkbox

    def __call__(self, form, field):
        if field.process_errors:
            raise StopValidation()
        if is_empty(field.data):
            raise StopValidation(msg(i18n.MUST_CHECK if self.checkbox else i18n.REQUIRED))


class Optional:
    """Stop quietly on an empty value so range checks do not fire on blanks."""

    def __call__(self, form, field):
        if not field.process_errors and is_empty(field.data):
            raise StopValidation()


class Length:
    def __init__(self, min: int | None, max: int):
        self.min, self.max = min, max

    def __call__(self, form, field):
        size = len(field.data or "")
        if size > self.max:
            raise ValidationError(msg(i18n.TOO_LONG) % {"max": self.max})
        if self.min and size < self.min:
            raise ValidationError(msg(i18n.TOO_SHORT) % {"min": self.min})


class Range:
    """Numeric bounds; also rejects NaN/Infinity and more than two decimals for money."""

    def __init__(self, min, max, places: int | None = None):
        self.min, self.max, self.places = min, max, places

    def __call__(self, form, field):
        value = field.data
        if value is None:
            return
        if isinstance(value, Decimal):
            if not value.is_finite():
                raise StopValidation(msg(i18n.BAD_DECIMAL))
            if self.places is not None and value != value.quantize(CENT):
                raise StopValidation(msg(i18n.TOO_MANY_PLACES))
        low, high = self.min, self.max
        if (low is not None and value < low) or (high is not None and value > high):
            if low is None:
                raise ValidationError(msg(i18n.TOO_LARGE) % _show(high))
            raise ValidationError(msg(i18n.OUT_OF_RANGE) % (_show(low), _show(high)))


def _show(number) -> str:
    text = format(number, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


# A field accepting one of these accepts the other (app/services/shared/uploads.py agrees).
_SAME_TYPE = {"jpg": "jpeg", "jpeg": "jpg"}


class FileTypes:
    """Uploaded file names must end in one of the accepted extensions (the task service checks
    the content too, before anything is stored)."""

    def __init__(self, accept: tuple[str, ...]):
        self.accept = accept

    def __call__(self, form, field):
        files = field.data if isinstance(field.data, list) else [field.data]
        for item in files:
            if isinstance(item, FileStorage) and item:
                # Trailing dots and spaces are dropped from stored names, so they do not count here.
                suffix = PurePath((item.filename or "").rstrip(". ")).suffix.lower().lstrip(".")
                if suffix not in self.accept and _SAME_TYPE.get(suffix) not in self.accept:
                    raise StopValidation(msg(i18n.BAD_FILE_TYPE) % ", ".join(self.accept))


class RowCount:
    def __init__(self, max_rows: int | None):
        self.max_rows = max_rows

    def __call__(self, form, field):
        if self.max_rows is not None and len(field.entries) > self.max_rows:
            raise ValidationError(msg(i18n.TOO_MANY_ROWS) % {"max": self.max_rows})
