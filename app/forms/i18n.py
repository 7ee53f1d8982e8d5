"""Locale-following labels and the Chinese validation messages of the forms."""

from __future__ import annotations

from flask import has_request_context
from markupsafe import escape


def N_(msgid: str) -> str:
    """Mark a msgid for extraction; translated at use time by msg()."""
    return msgid


REQUIRED = N_("此项为必填项")
MUST_CHECK = N_("请勾选此项")
TOO_LONG = N_("长度不能超过%(max)d个字")
TOO_SHORT = N_("长度不能少于%(min)d个字")
BAD_DATE = N_("请输入有效日期")
BAD_INTEGER = N_("请输入整数")
BAD_DECIMAL = N_("请输入有效数字")
TOO_MANY_PLACES = N_("最多保留两位小数")
OUT_OF_RANGE = N_("数值须在 %s 到 %s 之间")
TOO_LARGE = N_("数值不能大于 %s")
BAD_CHOICE = N_("请选择有效选项")
BAD_FILE_TYPE = N_("仅允许上传以下类型的文件：%s")
TOO_FEW_ROWS = N_("至少须填写%(min)d行")
TOO_MANY_ROWS = N_("最多只能填写%(max)d行")
CSRF_FAILED = N_("页面已过期，请刷新页面后重新提交")
CHOOSE = N_("请选择")

# WTForms raises its own English messages while parsing input; these are the Chinese answers.
_WTFORMS = {
    "This field is required.": REQUIRED,
    "Not a valid integer value.": BAD_INTEGER,
    "Not a valid decimal value.": BAD_DECIMAL,
    "Not a valid float value.": BAD_DECIMAL,
    "Not a valid date value.": BAD_DATE,
    "Not a valid choice.": BAD_CHOICE,
    "Invalid Choice: could not coerce.": BAD_CHOICE,
    "Invalid choice(s): one or more data inputs could not be coerced.": BAD_CHOICE,
    "'%(value)s' is not a valid choice for this field.": BAD_CHOICE,
    "'%(value)s' are not valid choices for this field.": BAD_CHOICE,
}


def is_zh() -> bool:
    """True when the current request speaks Chinese (the default outside requests)."""
    if not has_request_context():
        return True
    from flask_babel import get_locale

    locale = get_locale()
    return locale is None or locale.language == "zh"


def msg(msgid: str) -> str:
    """Translate a Chinese msgid now (plain str, JSON-safe); identity outside a request."""
    if not has_request_context():
        return msgid
    from flask_babel import gettext

    return gettext(msgid)


class Translations:
    """WTForms translations object: English built-in messages become our Chinese msgids."""

    def gettext(self, string: str) -> str:
        zh = _WTFORMS.get(string)
        return msg(zh) if zh else string

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)


TRANSLATIONS = Translations()


class LocalizedText:
    """A {zh, en} pair that renders in the request's language; safe to cache across requests."""

    __slots__ = ("zh", "en")

    def __init__(self, zh: str, en: str | None = None):
        self.zh = zh
        self.en = en or zh

    def __str__(self) -> str:
        return self.zh if is_zh() else self.en

    def __html__(self) -> str:
        return str(escape(str(self)))

    def __repr__(self) -> str:
        return f"LocalizedText({self.zh!r}, {self.en!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LocalizedText):
            return (self.zh, self.en) == (other.zh, other.en)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.zh, self.en))
