"""Forms of the campaign pages: the notice with repeating phase and task rows, and enrolment."""

from types import SimpleNamespace

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.forms.safe import SafeForm
from app.models.campaign import PHASE_NAMES, PHASES
from app.services.campaigns.notices import NoticeInput, split_units
from app.services.escalation.ladder import DEFAULT_LADDER

BAD_DATE = _l("日期格式应为 YYYY-MM-DD")


class PhaseRow(Form):
    """One phase of the notice; a plain Form, so the rows carry no CSRF token of their own."""

    key = SelectField(_l("阶段"), choices=[SelectChoice(k, PHASE_NAMES[k]) for k in PHASES])
    name = StringField(_l("名称"), validators=[Optional(), Length(max=64)])
    starts = DateField(_l("开始日期"), validators=[InputRequired(_l("请填写开始日期"))], invalid_value_message=BAD_DATE)
    ends = DateField(_l("截止日期"), validators=[InputRequired(_l("请填写截止日期"))], invalid_value_message=BAD_DATE)


class TaskRow(Form):
    """One task of the notice; a row left wholly blank is ignored."""

    no = IntegerField(_l("序号"), validators=[Optional()], invalid_value_message=_l("序号应为整数"))
    title = StringField(_l("任务内容"), validators=[Optional(), Length(max=256)])
    lead_unit = StringField(_l("牵头单位"), validators=[Optional(), Length(max=128)])
    responsible_units = StringField(_l("责任单位"), validators=[Optional()])
    starts = DateField(_l("开始日期"), validators=[Optional()], invalid_value_message=BAD_DATE)
    ends = DateField(_l("截止日期"), validators=[Optional()], invalid_value_message=BAD_DATE)

    def is_blank(self) -> bool:
        return not any((f.raw_data[0] if f.raw_data else "").strip() for f in self)


DAY_UNITS = [SelectChoice("working", _l("工作日")), SelectChoice("calendar", _l("自然日"))]


class CampaignForm(SafeForm):
    doc_number = StringField(_l("文号"), validators=[DataRequired(_l("请填写文号")), Length(max=64)])
    issuer = StringField(_l("发文机关"), validators=[DataRequired(_l("请填写发文机关")), Length(max=128)])
    issued_on = DateField(
        _l("发文日期"), validators=[InputRequired(_l("请填写发文日期"))], invalid_value_message=BAD_DATE
    )
    title = StringField(_l("标题"), validators=[DataRequired(_l("请填写标题")), Length(max=256)])
    body = TextAreaField(_l("正文"), validators=[Optional()])
    follow_up_on = DateField(_l("回头看日期"), validators=[Optional()], invalid_value_message=BAD_DATE)
    kind = StringField(_l("整治类别"), validators=[Optional(), Length(max=64)])
    scheme_template = SelectField(_l("考核方案"), choices=[], default="")
    reminder_days = IntegerField(
        _l("催办：到期后"), default=0, validators=[Optional()], invalid_value_message=_l("天数应为整数")
    )
    reminder_unit = SelectField(_l("单位"), choices=DAY_UNITS, default="working")
    letter_days = IntegerField(
        _l("督办函：到期后"), default=3, validators=[Optional()], invalid_value_message=_l("天数应为整数")
    )
    letter_unit = SelectField(_l("单位"), choices=DAY_UNITS, default="working")
    notice_days = IntegerField(
        _l("通报：到期后"), default=10, validators=[Optional()], invalid_value_message=_l("天数应为整数")
    )
    notice_unit = SelectField(_l("单位"), choices=DAY_UNITS, default="working")
    phases = FieldList(FormField(PhaseRow), min_entries=1)
    tasks = FieldList(FormField(TaskRow), min_entries=0)

    def to_notice(self) -> NoticeInput:
        """The typed notice; blank task rows are dropped."""
        return NoticeInput(
            doc_number=self.doc_number.data or "",
            issuer=self.issuer.data or "",
            issued_on=self.issued_on.data,
            title=self.title.data or "",
            body=self.body.data or "",
            follow_up_on=self.follow_up_on.data,
            kind=self.kind.data or "",
            ladder={
                level: {
                    "days": self[f"{level}_days"].data if self[f"{level}_days"].data is not None else 0,
                    "unit": self[f"{level}_unit"].data,
                }
                for level in ("reminder", "letter", "notice")
            },
            phases=[
                {
                    "key": e.form.key.data,
                    "name": e.form.name.data or "",
                    "starts": e.form.starts.data,
                    "ends": e.form.ends.data,
                }
                for e in self.phases
            ],
            tasks=[
                {
                    "no": e.form.no.data,
                    "title": e.form.title.data or "",
                    "lead_unit": e.form.lead_unit.data or "",
                    "responsible_units": split_units(e.form.responsible_units.data),
                    "starts": e.form.starts.data,
                    "ends": e.form.ends.data,
                }
                for e in self.tasks
                if not e.form.is_blank()
            ],
        )

    def set_scheme_choices(self, templates) -> None:
        """The 考核方案 choice: none, or the latest version of each loaded template."""
        self.scheme_template.choices = [SelectChoice("", _l("不挂接考核方案"))] + [
            SelectChoice(str(t.id), f"{t.name}（v{t.version}）") for t in templates
        ]

    def add_error(self, field: str | None, message: str) -> bool:
        """Put a service error beside its input ("phases.1.ends"); False if it has no input."""
        parts = (field or "").split(".")
        target = None
        if len(parts) == 1 and parts[0] in self._fields and parts[0] not in ("phases", "tasks"):
            target = self[parts[0]]
        elif len(parts) == 3 and parts[0] in ("phases", "tasks") and parts[1].isdigit():
            entries = [e for e in self[parts[0]] if parts[0] == "phases" or not e.form.is_blank()]
            if int(parts[1]) < len(entries):
                target = entries[int(parts[1])].form[parts[2]]
        if target is None:
            return False
        target.errors = [*target.errors, message]
        return True


def ladder_form_data(ladder: dict | None) -> dict:
    full = {**DEFAULT_LADDER, **(ladder or {})}
    return {f"{level}_{key}": full[level][key] for level in full for key in ("days", "unit")}


def notice_form_data(campaign, scheme=None) -> dict:
    """Initial form data from a stored campaign (FormField rows read attributes, not dict keys)."""
    return {
        "kind": campaign.kind,
        "scheme_template": str(scheme.template_id) if scheme and scheme.template_id else "",
        "doc_number": campaign.doc_number,
        "issuer": campaign.issuer,
        "issued_on": campaign.issued_on,
        "title": campaign.title,
        "body": campaign.body,
        "follow_up_on": campaign.follow_up_on,
        **ladder_form_data(campaign.ladder),
        "phases": [SimpleNamespace(key=p.key, name=p.name, starts=p.starts, ends=p.ends) for p in campaign.phases],
        "tasks": [
            SimpleNamespace(
                no=t.no,
                title=t.title,
                lead_unit=t.lead_unit,
                responsible_units="、".join(t.responsible_units or []),
                starts=t.starts,
                ends=t.ends,
            )
            for t in campaign.tasks
        ],
    }


def blank_notice_data() -> dict:
    """A new notice starts with a row for each phase the process needs."""
    keys = ("deploy", "self_check", "rectification", "assessment")
    return {
        "phases": [SimpleNamespace(key=k, name="", starts=None, ends=None) for k in keys],
        "tasks": [],
        **ladder_form_data(None),
    }


class EnrolForm(SafeForm):
    scope = RadioField(
        _l("纳入范围"),
        default="all",
        choices=[
            SelectChoice("all", _l("全部单位")),
            SelectChoice("kind", _l("按类别")),
            SelectChoice("codes", _l("指定单位代码")),
        ],
    )
    kind = SelectField(
        _l("单位类别"),
        choices=[
            SelectChoice("township", _l("乡镇")),
            SelectChoice("department", _l("县直单位")),
            SelectChoice("district", _l("区")),
            SelectChoice("other", _l("其他")),
        ],
    )
    codes = TextAreaField(_l("单位代码"), validators=[Optional()])

    def selection(self) -> str:
        if self.scope.data == "kind":
            return f"kind:{self.kind.data}"
        if self.scope.data == "codes":
            return "codes:" + ",".join(split_units(self.codes.data))
        return "all"
