"""Turn a FormDefinition into a FlaskForm subclass (built once per key and cached by the registry)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    FieldList,
    FormField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.form import Form
from wtforms.widgets import CheckboxInput, ListWidget

from app.forms import i18n
from app.forms import validators as v
from app.forms.definition import FieldDef, FormDefinition
from app.forms.i18n import LocalizedText
from app.forms.safe import SafeForm


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class _ChineseMeta:
    """Mixed into each form's Meta so WTForms' own parse errors come out in Chinese."""

    def get_translations(self, form):
        return i18n.TRANSLATIONS


class RowForm(Form):
    """One row of a repeating group; no CSRF (the outer form carries it)."""

    class Meta(_ChineseMeta, Form.Meta):
        pass


class RectifyForm(SafeForm):
    """Base of every generated task form; `definition` is set on each subclass."""

    definition: FormDefinition

    class Meta(_ChineseMeta, FlaskForm.Meta):
        pass

    def row_template(self, name: str):
        """An unbound row of group `name` named `<name>-__index__-<field>`, for the add-row template."""
        group = self[name]
        options = dict(
            name=f"{group.name}-__index__",
            id=f"{group.id}-__index__",
            _meta=self.meta,
            translations=group._translations,
        )
        row = self.meta.bind_field(self, group.unbound_field, options)
        row.process(None)
        for field_name, choices in getattr(self, "_row_choices", {}).get(name, {}).items():
            row.form[field_name].choices = choices
        return row


class OptionalSelectField(SelectField):
    """A select whose blank answer is left to Required (a missing key must not read as a bad choice)."""

    def pre_validate(self, form):
        if self.data in (None, ""):
            return
        super().pre_validate(form)


def blank_choice() -> SelectChoice:
    return SelectChoice("", LocalizedText(i18n.CHOOSE, "Select…"))


def make_field(fdef: FieldDef):
    """The unbound WTForms field for one definition entry."""
    label = fdef.label
    kw: dict = {"description": fdef.help or ""}
    if fdef.default is not None:
        kw["default"] = fdef.default
    validators: list = []
    if fdef.type in ("file", "group"):
        pass  # required files are checked against stored evidence in registry.validate
    elif fdef.required:
        validators.append(v.Required(checkbox=fdef.type == "checkbox"))
    elif fdef.type != "checkbox":
        validators.append(v.Optional())
    t = fdef.type
    if t in ("text", "textarea"):
        validators.append(v.Length(fdef.min, fdef.max))
        render_kw = {"maxlength": fdef.max}
        if t == "textarea":
            render_kw["rows"] = 3
            return TextAreaField(label, validators, filters=[_strip], render_kw=render_kw, **kw)
        return StringField(label, validators, filters=[_strip], render_kw=render_kw, **kw)
    if t == "integer":
        validators.append(v.Range(fdef.min, fdef.max))
        return IntegerField(label, validators, **kw)
    if t == "decimal":
        validators.append(v.Range(fdef.min, fdef.max, places=2))
        return DecimalField(label, validators, places=2, render_kw={"step": "0.01", "inputmode": "decimal"}, **kw)
    if t == "date":
        return DateField(label, validators, format="%Y-%m-%d", **kw)
    if t == "select":
        choices = [blank_choice()] + [SelectChoice(c.value, c.label) for c in fdef.choices]
        return OptionalSelectField(label, validators, choices=choices, **kw)
    if t == "multiselect":
        return SelectMultipleField(
            label,
            validators,
            choices=[SelectChoice(c.value, c.label) for c in fdef.choices],
            widget=ListWidget(prefix_label=False),
            option_widget=CheckboxInput(),
            **kw,
        )
    if t == "checkbox":
        return BooleanField(label, validators, **kw)
    if t == "file":
        if fdef.accept:
            validators.append(v.FileTypes(fdef.accept))
            kw["render_kw"] = {"accept": ",".join("." + a for a in fdef.accept)}
        cls = MultipleFileField if fdef.multiple else FileField
        return cls(label, validators, **kw)
    if t == "group":
        row_class = type(
            f"{fdef.name.title().replace('_', '')}Row", (RowForm,), {sub.name: make_field(sub) for sub in fdef.fields}
        )
        return FieldList(
            FormField(row_class),
            label=label,
            min_entries=fdef.min_rows,
            validators=[v.RowCount(fdef.max_rows)],
            description=fdef.help or "",
        )
    raise AssertionError(f"unhandled type {t}")  # the parser rejects unknown types


def build_class(definition: FormDefinition) -> type[RectifyForm]:
    attrs = {f.name: make_field(f) for f in definition.fields}
    attrs["definition"] = definition
    name = "".join(part.title() for part in definition.key.split("_")) + "Form"
    return type(name, (RectifyForm,), attrs)
