"""Form definitions: forms/<key>.yaml parsed and checked into immutable dataclasses."""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field as dc_field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal, overload

import yaml

from app.errors import DomainError
from app.forms.i18n import LocalizedText

TYPES = (
    "text",
    "textarea",
    "integer",
    "decimal",
    "date",
    "select",
    "multiselect",
    "checkbox",
    "file",
    "group",
)
OPERATORS = ("equals", "gte", "lte", "in")
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
# Field names that would shadow attributes of a FlaskForm (or our helpers) break the class.
RESERVED = {
    "csrf_token",
    "data",
    "errors",
    "meta",
    "validate",
    "process",
    "populate_obj",
    "definition",
    "row_template",
    "form_errors",
    "hidden_tag",
    "is_submitted",
}

_COMMON = {"name", "type", "label", "help", "required", "default", "process", "required_if"}
_EXTRA = {
    "text": {"min", "max"},
    "textarea": {"min", "max"},
    "integer": {"min", "max"},
    "decimal": {"min", "max"},
    "date": set(),
    "select": {"choices", "runtime_choices"},
    "multiselect": {"choices", "runtime_choices"},
    "checkbox": set(),
    "file": {"multiple", "accept"},
    "group": {"fields", "min_rows", "max_rows", "rows_required_if"},
}
# Defaults keep stored answers bounded even where a definition forgets a limit.
DEFAULT_MAX: dict[str, int | Decimal] = {
    "text": 200,
    "textarea": 5000,
    "integer": 1_000_000_000,
    "decimal": Decimal("9999999999.99"),
}
DEFAULT_MIN: dict[str, int | Decimal] = {"decimal": Decimal("0")}


class FormDefinitionError(DomainError):
    """A form key is unknown or its YAML file is malformed (a deployment's fault: said in English)."""

    status = 500
    code = "form_definition_invalid"


@dataclass(frozen=True)
class Choice:
    value: str
    label: LocalizedText


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any
    message: LocalizedText | None = None

    def holds(self, actual: Any) -> bool:
        """Whether a sibling's current (typed) value satisfies this condition."""
        if actual is None or actual == "":
            return False
        if self.op == "equals":
            if isinstance(self.value, bool):
                return bool(actual) is self.value
            return str(actual) == str(self.value)
        if self.op == "in":
            return str(actual) in {str(v) for v in self.value}
        try:
            number = Decimal(str(actual))
        except InvalidOperation:
            return False
        if not number.is_finite():
            return False
        limit = Decimal(str(self.value))
        return number >= limit if self.op == "gte" else number <= limit


@dataclass(frozen=True)
class Rule:
    """Form-level rule: when `when` holds, at least one of `require_any` must be non-empty."""

    when: Condition
    require_any: tuple[str, ...]
    message: LocalizedText


@dataclass(frozen=True)
class FieldDef:
    name: str
    type: str
    label: LocalizedText
    help: LocalizedText | None = None
    required: bool = False
    min: Any = None
    max: Any = None
    choices: tuple[Choice, ...] = ()
    runtime_choices: bool = False
    default: Any = None
    process: bool = False
    multiple: bool = False
    accept: tuple[str, ...] = ()
    fields: tuple[FieldDef, ...] = ()
    min_rows: int = 0
    max_rows: int | None = None
    required_if: Condition | None = None

    def subfield(self, name: str) -> FieldDef | None:
        return next((f for f in self.fields if f.name == name), None)


@dataclass(frozen=True)
class FormDefinition:
    key: str
    title: LocalizedText
    fields: tuple[FieldDef, ...]
    rules: tuple[Rule, ...] = ()
    source: str = ""
    by_name: dict[str, FieldDef] = dc_field(default_factory=dict, compare=False, hash=False)

    def field(self, name: str) -> FieldDef | None:
        return self.by_name.get(name)

    @property
    def process_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.process)

    @property
    def file_fields(self) -> tuple[FieldDef, ...]:
        return tuple(f for f in self.fields if f.type == "file")


def parse_file(path: Path) -> FormDefinition:
    """Read and check one YAML file; every problem names the file and the field."""
    where = path.name
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise FormDefinitionError(f"{where}: cannot read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise FormDefinitionError(f"{where}: invalid YAML: {exc}") from exc
    return _Parser(where).form(raw, path.stem)


class _Parser:
    def __init__(self, where: str):
        self.where = where

    def fail(self, what: str, problem: str) -> FormDefinitionError:
        return FormDefinitionError(f"{self.where}: {what}: {problem}")

    def form(self, raw: Any, stem: str) -> FormDefinition:
        if not isinstance(raw, dict):
            raise self.fail("top level", "expected a mapping with key, title, fields")
        unknown = set(raw) - {"key", "title", "fields", "rules"}
        if unknown:
            raise self.fail("top level", f"unknown keys {sorted(unknown)}")
        if raw.get("key") != stem:
            raise self.fail("key", f"must equal the file name {stem!r}, got {raw.get('key')!r}")
        title = self.text(raw.get("title"), "title", required=True)
        fields = self.fields(raw.get("fields"), "fields", in_group=False)
        by_name = {f.name: f for f in fields}
        for f in fields:
            self.check_condition_target(f.required_if, f"field {f.name}.required_if", by_name)
            for sub in f.fields:
                scope = {s.name: s for s in f.fields}
                self.check_condition_target(sub.required_if, f"field {f.name}.{sub.name}.required_if", scope, by_name)
        rules = [self.rule(r, f"rules[{i}]", by_name) for i, r in enumerate(self.list_of(raw.get("rules"), "rules"))]
        for f in fields:
            extra = self.rows_rule(raw, f, by_name)
            if extra:
                rules.append(extra)
        return FormDefinition(
            key=stem, title=title, fields=tuple(fields), rules=tuple(rules), source=self.where, by_name=by_name
        )

    def list_of(self, value: Any, what: str) -> list:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(what, "expected a list")
        return value

    @overload
    def text(self, value: Any, what: str, required: Literal[True]) -> LocalizedText: ...
    @overload
    def text(self, value: Any, what: str, required: bool = False) -> LocalizedText | None: ...
    def text(self, value: Any, what: str, required: bool = False) -> LocalizedText | None:
        if value is None:
            if required:
                raise self.fail(what, "missing (expected {zh: ..., en: ...})")
            return None
        if isinstance(value, str):
            return LocalizedText(value)
        if not isinstance(value, dict) or not isinstance(value.get("zh"), str) or not value["zh"].strip():
            raise self.fail(what, "expected {zh: ..., en: ...} with a Chinese text")
        if set(value) - {"zh", "en"}:
            raise self.fail(what, f"unknown keys {sorted(set(value) - {'zh', 'en'})}")
        en = value.get("en")
        if en is not None and not isinstance(en, str):
            raise self.fail(what, "en must be a string")
        return LocalizedText(value["zh"], en)

    def fields(self, value: Any, what: str, in_group: bool) -> list[FieldDef]:
        items = self.list_of(value, what)
        if not items:
            raise self.fail(what, "expected a non-empty list of fields")
        result: list[FieldDef] = []
        seen: set[str] = set()
        for i, item in enumerate(items):
            fdef = self.field(item, i, in_group)
            if fdef.name in seen:
                raise self.fail(f"field {fdef.name}", "duplicate name")
            seen.add(fdef.name)
            result.append(fdef)
        return result

    def field(self, raw: Any, index: int, in_group: bool) -> FieldDef:
        if not isinstance(raw, dict):
            raise self.fail(f"fields[{index}]", "expected a mapping")
        name = raw.get("name")
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise self.fail(f"fields[{index}]", f"name {name!r} must match {NAME_RE.pattern}")
        what = f"field {name}"
        if name in RESERVED:
            raise self.fail(what, "name is reserved")
        ftype = raw.get("type")
        if ftype not in TYPES:
            raise self.fail(what, f"unknown type {ftype!r} (expected one of {', '.join(TYPES)})")
        unknown = set(raw) - _COMMON - _EXTRA[ftype]
        if unknown:
            raise self.fail(what, f"unknown keys {sorted(unknown)} for type {ftype}")
        if in_group and ftype in ("group", "file"):
            raise self.fail(what, f"a group row cannot contain a {ftype} field")
        if in_group and raw.get("process"):
            raise self.fail(what, "process fields must be top level")
        kw: dict[str, Any] = dict(
            name=name,
            type=ftype,
            label=self.text(raw.get("label"), f"{what}.label", required=True),
            help=self.text(raw.get("help"), f"{what}.help"),
            required=self.flag(raw, "required", what),
            process=self.flag(raw, "process", what),
        )
        if "required_if" in raw:
            kw["required_if"] = self.condition(raw["required_if"], f"{what}.required_if", allow_message=True)
        if ftype in ("text", "textarea", "integer", "decimal"):
            kw["min"], kw["max"] = self.bounds(raw, ftype, what)
        if ftype in ("select", "multiselect"):
            kw["runtime_choices"] = self.flag(raw, "runtime_choices", what)
            kw["choices"] = self.choices(raw.get("choices"), what, kw["runtime_choices"])
        if ftype == "file":
            kw["multiple"] = self.flag(raw, "multiple", what)
            accept = self.list_of(raw.get("accept"), f"{what}.accept")
            if not all(isinstance(a, str) and re.match(r"^[a-z0-9]+$", a.lower().lstrip(".")) for a in accept):
                raise self.fail(f"{what}.accept", "expected a list of extensions like [pdf, docx]")
            kw["accept"] = tuple(a.lower().lstrip(".") for a in accept)
        if ftype == "group":
            kw["fields"] = tuple(self.fields(raw.get("fields"), f"{what}.fields", in_group=True))
            kw["min_rows"] = self.count(raw.get("min_rows", 0), f"{what}.min_rows")
            if raw.get("max_rows") is not None:
                kw["max_rows"] = self.count(raw["max_rows"], f"{what}.max_rows")
                if kw["max_rows"] < max(kw["min_rows"], 1):
                    raise self.fail(f"{what}.max_rows", "must be at least min_rows and 1")
        if "default" in raw:
            kw["default"] = self.default(raw["default"], ftype, kw.get("choices", ()), what)
        return FieldDef(**kw)

    def flag(self, raw: dict, key: str, what: str) -> bool:
        value = raw.get(key, False)
        if not isinstance(value, bool):
            raise self.fail(f"{what}.{key}", "expected true or false")
        return value

    def count(self, value: Any, what: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.fail(what, "expected a non-negative integer")
        return value

    def number(self, value: Any, what: str) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise self.fail(what, "expected a number")
        try:
            number = Decimal(str(value))
        except InvalidOperation as exc:
            raise self.fail(what, "expected a number") from exc
        if not number.is_finite():
            raise self.fail(what, "expected a finite number")
        return number

    def bounds(self, raw: dict, ftype: str, what: str) -> tuple[Any, Any]:
        low: int | Decimal | None = (
            self.number(raw["min"], f"{what}.min") if raw.get("min") is not None else DEFAULT_MIN.get(ftype)
        )
        high: int | Decimal = (
            self.number(raw["max"], f"{what}.max") if raw.get("max") is not None else DEFAULT_MAX[ftype]
        )
        if ftype in ("text", "textarea", "integer"):
            for bound, key in ((low, "min"), (high, "max")):
                if bound is not None and bound != int(bound):
                    raise self.fail(f"{what}.{key}", "expected a whole number")
            low = int(low) if low is not None else None
            high = int(high)
        if low is not None and low > high:
            raise self.fail(what, "min is greater than max")
        return low, high

    def choices(self, value: Any, what: str, runtime: bool) -> tuple[Choice, ...]:
        items = self.list_of(value, f"{what}.choices")
        if runtime:
            if items:
                raise self.fail(f"{what}.choices", "runtime_choices fields take no static choices")
            return ()
        if not items:
            raise self.fail(f"{what}.choices", "expected a non-empty list of {value, zh, en}")
        result = []
        for i, item in enumerate(items):
            where = f"{what}.choices[{i}]"
            if not isinstance(item, dict) or set(item) - {"value", "zh", "en"}:
                raise self.fail(where, "expected {value, zh, en}")
            if not isinstance(item.get("value"), str) or not item["value"]:
                # YAML 1.1 reads bare yes/no/on/off as booleans; the hint saves a puzzled hour.
                raise self.fail(
                    where,
                    f"value must be a non-empty string, got {item.get('value')!r} "
                    '(quote values such as "yes" and "no")',
                )
            result.append(
                Choice(item["value"], self.text({k: item[k] for k in ("zh", "en") if k in item}, where, True))
            )
        values = [c.value for c in result]
        if len(set(values)) != len(values):
            raise self.fail(f"{what}.choices", "duplicate values")
        return tuple(result)

    def default(self, value: Any, ftype: str, choices: tuple[Choice, ...], what: str) -> Any:
        where = f"{what}.default"
        if ftype in ("file", "group", "date"):
            raise self.fail(where, f"a {ftype} field takes no default")
        if ftype == "select":
            if value not in {c.value for c in choices}:
                raise self.fail(where, f"{value!r} is not one of the choices")
        elif ftype == "multiselect":
            if not isinstance(value, list) or not set(value) <= {c.value for c in choices}:
                raise self.fail(where, "expected a list of choice values")
        elif ftype == "checkbox":
            if not isinstance(value, bool):
                raise self.fail(where, "expected true or false")
        elif ftype in ("integer", "decimal"):
            value = self.number(value, where)
            value = int(value) if ftype == "integer" else value
        elif not isinstance(value, str):
            raise self.fail(where, "expected a string")
        return value

    def condition(self, raw: Any, what: str, allow_message: bool) -> Condition:
        if not isinstance(raw, dict) or not isinstance(raw.get("field"), str):
            raise self.fail(what, "expected {field: <name>, equals|gte|lte|in: <value>}")
        ops = [op for op in OPERATORS if op in raw]
        allowed = {"field", *OPERATORS} | ({"message"} if allow_message else set())
        if len(ops) != 1 or set(raw) - allowed:
            raise self.fail(
                what,
                f"expected field plus exactly one of {', '.join(OPERATORS)}"
                + (" and an optional message" if allow_message else ""),
            )
        op = ops[0]
        value = raw[op]
        if op in ("gte", "lte"):
            value = self.number(value, f"{what}.{op}")
        elif op == "in" and not isinstance(value, list):
            raise self.fail(f"{what}.in", "expected a list")
        message = self.text(raw.get("message"), f"{what}.message") if allow_message else None
        return Condition(field=raw["field"], op=op, value=value, message=message)

    def check_condition_target(
        self, cond: Condition | None, what: str, scope: dict[str, FieldDef], outer: dict[str, FieldDef] | None = None
    ) -> None:
        if cond is None:
            return
        target = scope.get(cond.field) or (outer or {}).get(cond.field)
        if target is None:
            raise self.fail(what, f"refers to unknown field {cond.field!r}")
        if target.type in ("group", "file"):
            raise self.fail(what, f"cannot test a {target.type} field")
        if target.type == "select" and not target.runtime_choices and cond.op in ("equals", "in"):
            values = cond.value if cond.op == "in" else [cond.value]
            known = {c.value for c in target.choices}
            bad = [v for v in values if not isinstance(v, str) or v not in known]
            if bad:
                raise self.fail(
                    what, f'{bad!r} is not among the choices of {cond.field} (quote values such as "yes" and "no")'
                )

    def rule(self, raw: Any, what: str, by_name: dict[str, FieldDef]) -> Rule:
        if not isinstance(raw, dict) or set(raw) != {"when", "require_any", "message"}:
            raise self.fail(what, "expected {when: {...}, require_any: [fields], message: {zh, en}}")
        when = self.condition(raw["when"], f"{what}.when", allow_message=False)
        self.check_condition_target(when, f"{what}.when", by_name)
        names = self.list_of(raw["require_any"], f"{what}.require_any")
        if not names or any(n not in by_name for n in names):
            raise self.fail(f"{what}.require_any", f"expected a list of top-level fields, got {names!r}")
        return Rule(when=when, require_any=tuple(names), message=self.text(raw["message"], f"{what}.message", True))

    def rows_rule(self, raw: dict, fdef: FieldDef, by_name: dict[str, FieldDef]) -> Rule | None:
        """A group's rows_required_if is shorthand for a rule requiring at least one row."""
        if fdef.type != "group":
            return None
        for item in raw.get("fields") or []:
            if isinstance(item, dict) and item.get("name") == fdef.name and "rows_required_if" in item:
                what = f"field {fdef.name}.rows_required_if"
                cond = self.condition(item["rows_required_if"], what, allow_message=True)
                self.check_condition_target(cond, what, by_name)
                if cond.message is None:
                    raise self.fail(what, "needs a message")
                when = Condition(cond.field, cond.op, cond.value)
                return Rule(when=when, require_any=(fdef.name,), message=cond.message)
        return None
