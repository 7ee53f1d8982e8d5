"""Forms of the tip box: the report and the receipt lookup (both CSRF-protected)."""

from flask_babel import lazy_gettext as _l
from wtforms import MultipleFileField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.forms.safe import SafeForm


class TipForm(SafeForm):
    unit = SelectField(_l("被反映单位"), validators=[DataRequired(_l("请选择被反映的单位"))], choices=[])
    project = StringField(_l("涉及项目（选填）"), validators=[Optional(), Length(max=200)])
    description = TextAreaField(_l("反映的问题"), validators=[DataRequired(_l("请描述反映的问题"))])
    place = StringField(_l("问题所在地点"), validators=[DataRequired(_l("请填写问题所在地点")), Length(max=200)])
    contact = StringField(_l("联系方式（选填，仅办公室可见）"), validators=[Optional(), Length(max=100)])
    photos = MultipleFileField(_l("照片（选填）"))


class LookupForm(SafeForm):
    code = StringField(_l("回执码"), validators=[DataRequired(_l("请输入回执码")), Length(max=40)])
