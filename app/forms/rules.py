"""Server-side conditional rules run after WTForms validation: required files, required_if, form rules."""

from __future__ import annotations

from app.forms import i18n
from app.forms.definition import FieldDef, FormDefinition
from app.forms.i18n import msg
from app.forms.validators import is_empty


def check_files(form, definition: FormDefinition, existing_files: dict[str, int]) -> None:
    """A required file is satisfied by a new upload or by evidence stored on an earlier save."""
    for fdef in definition.file_fields:
        field = form[fdef.name]
        if fdef.required and not field.errors and is_empty(field.data) and existing_files.get(fdef.name, 0) <= 0:
            field.errors.append(msg(i18n.REQUIRED))


def check_required_if(scope, fields: tuple[FieldDef, ...], top) -> None:
    """required_if looks up its sibling in the same row first, then at top level."""
    for fdef in fields:
        field = scope[fdef.name]
        if fdef.type == "group":
            for entry in field.entries:
                check_required_if(entry.form, fdef.fields, top)
            _refresh_group_errors(field)
            continue
        cond = fdef.required_if
        if cond is None or field.errors:
            continue
        sibling = scope._fields.get(cond.field) or top._fields.get(cond.field)
        if sibling is not None and not sibling.errors and cond.holds(sibling.data) and is_empty(field.data):
            if cond.message is not None:
                field.errors.append(str(cond.message))
            else:
                field.errors.append(msg(i18n.MUST_CHECK if fdef.type == "checkbox" else i18n.REQUIRED))


def check_rules(form, definition: FormDefinition) -> None:
    """Form rules: when a condition holds, at least one listed field must have a value (or a row)."""
    for rule in definition.rules:
        trigger = form[rule.when.field]
        if trigger.errors or not rule.when.holds(trigger.data):
            continue
        if all(_blank(form[name]) for name in rule.require_any):
            form[rule.require_any[0]].errors.append(str(rule.message))


def _blank(field) -> bool:
    entries = getattr(field, "entries", None)
    if entries is not None:
        return not entries
    return is_empty(field.data)


def _refresh_group_errors(group) -> None:
    # FieldList snapshots its rows' errors during validate(); row rules added since must show too.
    own = [e for e in group.errors if isinstance(e, str)]
    rows = [entry.errors for entry in group.entries]
    group.errors = (rows if any(rows) else []) + own


def translate_csrf(form) -> None:
    """Flask-WTF's CSRF errors are English and not translatable; say it in Chinese."""
    token = form._fields.get("csrf_token")
    if token is not None and token.errors:
        token.errors = [msg(i18n.CSRF_FAILED)]
