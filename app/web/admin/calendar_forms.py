"""Forms of the holiday arrangement pages: a year's rows entered by hand, and a file to import."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import FieldList, Form, FormField, IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import Length, NumberRange, Optional

from app.forms.safe import SafeForm
from app.models.calendar import KIND_NAMES

BLANK_ROWS = 10
MAX_FORM_ROWS = 400


class DayRow(Form):
    """One day of the arrangement; a plain Form, so the rows carry no CSRF token of their own.
    Checked by the service (as an imported file is), so its errors name the row and column."""

    day = StringField(_l("日期"))
    kind = SelectField(
        _l("类型"),
        default="",
        choices=[SelectChoice("", "—")] + [SelectChoice(k, _l(v)) for k, v in KIND_NAMES.items()],
    )
    name = StringField(_l("名称"))

    def values(self) -> dict:
        return {
            "date": (self.day.data or "").strip(),
            "kind": self.kind.data or "",
            "name": (self.name.data or "").strip(),
        }


class ArrangementForm(SafeForm):
    note = StringField(_l("说明（如：依据国办发明电〔2026〕X号）"), validators=[Optional(), Length(max=500)])
    days = FieldList(FormField(DayRow), min_entries=0, max_entries=MAX_FORM_ROWS)


class CalendarImportForm(SafeForm):
    file = FileField(
        _l("节假日安排文件"),
        validators=[
            FileRequired(_l("请选择要导入的文件")),
            FileAllowed(["csv", "xlsx", "xls"], _l("只能上传CSV或XLSX文件")),
        ],
    )
    year = IntegerField(
        _l("年份（可不填：按文件中的日期）"),
        validators=[Optional(), NumberRange(2000, 2100)],
        invalid_value_message=_l("年份应为整数"),
    )
    note = StringField(_l("说明"), validators=[Optional(), Length(max=500)])


def fill_rows(form: ArrangementForm, days, blank: int = BLANK_ROWS) -> None:
    """The rows of a year as it stands, then some blank ones to add days in."""
    while len(form.days.entries):
        form.days.pop_entry()
    for day, kind, name in days:
        form.days.append_entry({"day": day.isoformat(), "kind": kind, "name": name})
    add_blank(form, blank)


def add_blank(form: ArrangementForm, count: int = BLANK_ROWS) -> None:
    for _ in range(min(count, MAX_FORM_ROWS - len(form.days.entries))):
        form.days.append_entry({"day": "", "kind": "", "name": ""})
