"""The base of every form: text that no file could hold is refused where it is typed.

Characters XML 1.0 forbids (most control characters; they arrive pasted from other programs)
would later break the Excel, CSV and Word files the text ends up in. The form refuses them on
the field, with the answers kept, so the person can remove them and submit again."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms.form import Form

from app.safe_text import has_forbidden

FORBIDDEN_MESSAGE = _l("含有无法保存的控制字符（通常来自从其他软件复制的内容），请删除后再提交")


def refuse_forbidden_text(form: Form) -> bool:
    """Add an error to every text field holding a forbidden character; True if none did."""
    clean = True
    for field in form:
        sub_forms = [entry.form for entry in getattr(field, "entries", []) if hasattr(entry, "form")]
        if hasattr(field, "form") and isinstance(field.form, Form):
            sub_forms.append(field.form)
        for sub in sub_forms:
            clean = refuse_forbidden_text(sub) and clean
        values = field.data if isinstance(field.data, list) else [field.data]
        if any(isinstance(value, str) and has_forbidden(value) for value in values):
            field.errors = [*field.errors, FORBIDDEN_MESSAGE] if isinstance(field.errors, list) else [FORBIDDEN_MESSAGE]
            clean = False
    return clean


class SafeForm(FlaskForm):
    """FlaskForm that refuses forbidden characters in any text it holds (see the module)."""

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        return refuse_forbidden_text(self) and valid
