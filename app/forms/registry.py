"""Public API of the forms system: look up, build, validate and read user-task forms by key."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from flask import current_app, g, has_request_context, request
from flask_wtf.csrf import generate_csrf
from werkzeug.datastructures import CombinedMultiDict, FileStorage, MultiDict
from wtforms.fields.choices import SelectChoice

from app.forms import data as _data
from app.forms import rules as _rules
from app.forms.builder import RectifyForm, blank_choice, build_class
from app.forms.definition import NAME_RE, FormDefinition, FormDefinitionError, parse_file

__all__ = [
    "FormDefinitionError",
    "FormDefinition",
    "known_keys",
    "load_definition",
    "form_class",
    "build_form",
    "to_data",
    "files_of",
    "process_data",
    "validate",
    "reload",
]

# Keyed by (resolved forms dir, form key): definitions and classes are built once per process.
_definitions: dict[tuple[str, str], FormDefinition] = {}
_classes: dict[tuple[str, str], type[RectifyForm]] = {}
_lock = threading.Lock()


def _forms_dir(forms_dir: str | Path | None) -> Path:
    if forms_dir is not None:
        return Path(forms_dir)
    return Path(current_app.config["FORMS_DIR"])


def known_keys(forms_dir: str | Path | None = None) -> set[str]:
    """Form keys, one per forms/<key>.yaml."""
    directory = _forms_dir(forms_dir)
    return {p.stem for p in directory.glob("*.yaml") if NAME_RE.match(p.stem)}


def load_definition(key: str, forms_dir: str | Path | None = None) -> FormDefinition:
    """The parsed definition for `key`; FormDefinitionError if unknown or malformed."""
    directory = _forms_dir(forms_dir)
    cache_key = (str(directory.resolve()), key)
    cached = _definitions.get(cache_key)
    if cached is not None:
        return cached
    # The pattern check also keeps a key from naming a path outside the forms directory.
    if not isinstance(key, str) or not NAME_RE.match(key) or not (directory / f"{key}.yaml").is_file():
        raise FormDefinitionError(f"unknown form key {key!r}: no {key}.yaml in {directory}")
    definition = parse_file(directory / f"{key}.yaml")
    with _lock:
        return _definitions.setdefault(cache_key, definition)


def form_class(key: str, forms_dir: str | Path | None = None) -> type[RectifyForm]:
    """The FlaskForm subclass for `key`, built once per process."""
    directory = _forms_dir(forms_dir)
    cache_key = (str(directory.resolve()), key)
    cls = _classes.get(cache_key)
    if cls is None:
        cls = build_class(load_definition(key, directory))
        with _lock:
            cls = _classes.setdefault(cache_key, cls)
    return cls


def reload(key: str | None = None) -> None:
    """Forget cached definitions and classes (all, or one key) so changed files are read again."""
    with _lock:
        for cache in (_definitions, _classes):
            for cache_key in [k for k in cache if key is None or k[1] == key]:
                del cache[cache_key]


def build_form(
    key: str,
    formdata=None,
    data: dict | None = None,
    dynamic_choices: dict[str, list[tuple[str, str]]] | None = None,
    *,
    forms_dir: str | Path | None = None,
) -> RectifyForm:
    """A bound form: from posted `formdata` (request.form gets request.files merged in), else pre-filled
    from `data` (to_data output). `dynamic_choices` maps a field ("field" or "group.field") to choices."""
    cls = form_class(key, forms_dir)
    if formdata is not None and has_request_context() and formdata is request.form and request.files:
        formdata = CombinedMultiDict([request.files, request.form])
    typed = _data.coerce_in(cls.definition.fields, data) if data else None
    form = cls(formdata=formdata, data=typed)
    if formdata is None and typed:
        _data.restore_raw(form, cls.definition.fields)
    _apply_choices(form, cls.definition, dynamic_choices or {})
    return form


def _apply_choices(form: RectifyForm, definition: FormDefinition, dynamic: dict) -> None:
    form._row_choices = {}
    for name, choices in dynamic.items():
        group_name, _, sub_name = name.partition(".")
        fdef = definition.field(group_name)
        if fdef is not None and sub_name:
            fdef = fdef.subfield(sub_name) if fdef.type == "group" else None
        if fdef is None or fdef.type not in ("select", "multiselect"):
            raise FormDefinitionError(f"{definition.source}: no select field {name!r} for dynamic choices")
        options = [SelectChoice(str(value), label) for value, label in choices]
        if fdef.type == "select":
            options.insert(0, blank_choice())
        if sub_name:
            for entry in form[group_name].entries:
                entry.form[sub_name].choices = options
            form._row_choices.setdefault(group_name, {})[sub_name] = options
        else:
            form[group_name].choices = options


def to_data(form: RectifyForm) -> dict:
    """JSON-safe answers (date -> "YYYY-MM-DD", Decimal -> "12.50", groups -> list of dicts, no files)."""
    return _data.to_data(form)


def files_of(form: RectifyForm) -> dict[str, list[FileStorage]]:
    """Non-empty uploads per file field."""
    return _data.files_of(form)


def process_data(key: str, data: dict) -> dict:
    """Only the `process: true` answers of form `key`, for the BPMN gateways."""
    return _data.process_data(load_definition(key), data)


def validate(form: RectifyForm, existing_files: dict[str, int] | None = None) -> bool:
    """WTForms validation plus our rules; use instead of form.validate(). existing_files counts
    evidence already stored per file field (a required file is then satisfied)."""
    form.validate()
    definition = form.definition
    _rules.translate_csrf(form)
    _rules.check_files(form, definition, existing_files or {})
    _rules.check_required_if(form, definition.fields, form)
    _rules.check_rules(form, definition)
    return not form.errors


def form_from_values(
    key: str, fields: dict, files: dict | None = None, dynamic_choices: dict[str, list[tuple[str, str]]] | None = None
) -> RectifyForm:
    """A bound form built from plain values, as if posted by a browser (for the demo seed,
    benchmarks and tests). Needs a request context; a CSRF token for it is generated."""
    data: MultiDict[str, Any] = MultiDict()
    for name, value in fields.items():
        for v in value if isinstance(value, list) else [value]:
            data.add(name, v)
    # g can outlive one request context nested in an app context: drop the previous token.
    g.pop("csrf_token", None)
    data.add("csrf_token", generate_csrf())
    uploads: MultiDict[str, Any] = MultiDict()
    for name, value in (files or {}).items():
        for upload in value if isinstance(value, list) else [value]:
            uploads.add(name, upload)
    return build_form(key, formdata=CombinedMultiDict([uploads, data]), dynamic_choices=dynamic_choices)
