"""Conversions between bound forms and JSON-safe dicts (drafts, submissions, process data)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from werkzeug.datastructures import FileStorage

from app.forms.definition import FieldDef, FormDefinition
from app.forms.validators import CENT

# Types whose typed value can fail to parse; their raw text is kept so a draft loses nothing.
_PARSED = ("integer", "decimal", "date")


def to_data(form) -> dict:
    """JSON-safe answers of a bound form: dates ISO, decimals as strings, groups as row lists."""
    return _values(form, form.definition.fields)


def _values(form, fields: tuple[FieldDef, ...]) -> dict:
    out: dict[str, Any] = {}
    for fdef in fields:
        if fdef.type == "file":
            continue
        field = form[fdef.name]
        if fdef.type == "group":
            out[fdef.name] = [_values(entry.form, fdef.fields) for entry in field.entries]
        else:
            out[fdef.name] = _value(fdef, field)
    return out


def _value(fdef: FieldDef, field) -> Any:
    data = field.data
    t = fdef.type
    if t in _PARSED and data is None:
        raw = field.raw_data[0] if field.raw_data else None
        if isinstance(raw, str) and raw.strip():
            return raw.strip()
        return None
    if t == "date":
        return data.isoformat()
    if t == "decimal":
        try:
            return str(data.quantize(CENT)) if data.is_finite() else None
        except InvalidOperation:
            return None
    if t == "integer":
        return int(data)
    if t == "checkbox":
        return bool(data)
    if t == "multiselect":
        return [str(x) for x in (data or [])]
    if t == "select":
        return data or None
    return data or ""


def files_of(form) -> dict[str, list[FileStorage]]:
    """Non-empty uploads per file field; fields with nothing uploaded are left out."""
    out: dict[str, list[FileStorage]] = {}
    for fdef in form.definition.file_fields:
        data = form[fdef.name].data
        items = data if isinstance(data, list) else [data]
        files = [f for f in items if isinstance(f, FileStorage) and f]
        if files:
            out[fdef.name] = files
    return out


def process_data(definition: FormDefinition, data: dict) -> dict:
    """Only the `process: true` answers, the ones BPMN gateways read."""
    return {name: data.get(name) for name in definition.process_fields}


def coerce_in(fields: tuple[FieldDef, ...], data: dict | None) -> dict:
    """Typed values for pre-filling a form from to_data output; unparsable text stays a string."""
    out: dict[str, Any] = {}
    if not isinstance(data, dict):
        return out
    for fdef in fields:
        if fdef.name not in data or fdef.type == "file":
            continue
        value = data[fdef.name]
        if fdef.type == "group":
            rows = value if isinstance(value, list) else []
            out[fdef.name] = [coerce_in(fdef.fields, row) for row in rows if isinstance(row, dict)]
        else:
            out[fdef.name] = _typed(fdef, value)
    return out


def _typed(fdef: FieldDef, value: Any) -> Any:
    if value is None or value == "":
        return None if fdef.type != "multiselect" else []
    try:
        if fdef.type == "date" and isinstance(value, str):
            return date.fromisoformat(value)
        if fdef.type == "decimal" and isinstance(value, (str, int, float)) and not isinstance(value, bool):
            number = Decimal(str(value))
            return number if number.is_finite() else str(value)
        if fdef.type == "integer" and isinstance(value, (str, int)) and not isinstance(value, bool):
            return int(value)
    except (ValueError, InvalidOperation):
        return str(value)
    if fdef.type == "checkbox":
        return bool(value)
    if fdef.type == "multiselect":
        return [str(x) for x in value] if isinstance(value, list) else []
    if fdef.type in ("text", "textarea", "select"):
        return str(value)
    return value


def restore_raw(form, fields: tuple[FieldDef, ...]) -> None:
    """Show text that did not parse (kept in a draft) back in its input instead of a blank."""
    for fdef in fields:
        field = form[fdef.name]
        if fdef.type == "group":
            for entry in field.entries:
                restore_raw(entry.form, fdef.fields)
        elif fdef.type in _PARSED and isinstance(field.object_data, str):
            field.raw_data = [field.object_data]
            field.data = None
            field.process_errors = []
