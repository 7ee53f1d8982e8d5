"""Forms of the appraisal's office pages: an interview record and a self-examination record."""

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from app.forms.safe import SafeForm

BAD_DATE = _l("日期格式应为 YYYY-MM-DD")
FOLLOW_UP_LABELS = {"pending": _l("待落实"), "in_progress": _l("落实中"), "done": _l("已落实")}
SELF_EXAMINATION_LABELS = {"required": _l("待提交"), "received": _l("已提交")}


class InterviewForm(SafeForm):
    held_on = DateField(
        _l("约谈日期"), validators=[InputRequired(_l("请填写约谈日期"))], invalid_value_message=BAD_DATE
    )
    leader_interviewed = StringField(_l("被约谈领导"), validators=[Length(max=128)])
    interviewer = StringField(_l("约谈人"), validators=[Length(max=128)])
    minutes = TextAreaField(_l("约谈记录"))
    follow_up_actions = TextAreaField(_l("整改要求及后续措施"), validators=[Optional()])
    follow_up_status = SelectField(
        _l("整改落实情况"), default="pending", choices=[SelectChoice(k, v) for k, v in FOLLOW_UP_LABELS.items()]
    )


class SelfExaminationForm(SafeForm):
    status = SelectField(_l("状态"), choices=[SelectChoice(k, v) for k, v in SELF_EXAMINATION_LABELS.items()])
    received_on = DateField(_l("收到日期"), validators=[Optional()], invalid_value_message=BAD_DATE)
    note = TextAreaField(_l("备注"), validators=[Optional()])
