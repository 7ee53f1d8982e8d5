"""The password policy, checked wherever a password is set (`flask users create`, the change-password
page): a minimum length, characters from enough classes, and not the user name. Settings in config.py:
PASSWORD_MIN_LENGTH (8), PASSWORD_MIN_CLASSES (3 of lower case, upper case, digits, other),
PASSWORD_FORBID_USERNAME (on)."""

from flask import current_app

from app.i18n import LazyText, _l

MAX_LENGTH = 256  # what the login form accepts


def classes(password: str) -> int:
    """How many of the four classes (lower case, upper case, digits, other) the password uses."""
    kinds = set()
    for ch in password:
        if ch.isdigit():
            kinds.add("digit")
        elif ch.isalpha() and ch.lower() != ch:
            kinds.add("upper")
        elif ch.isalpha() and ch.upper() != ch:
            kinds.add("lower")
        else:
            kinds.add("other")  # symbols, spaces and letters without case (汉字)
    return len(kinds)


def problems(password: str, username: str | None = None) -> list[LazyText]:
    """Every rule of the policy the password breaks (none: it may be set)."""
    cfg = current_app.config
    password = password or ""
    found = []
    min_length = cfg["PASSWORD_MIN_LENGTH"]
    if len(password) < min_length:
        found.append(_l("密码至少需要%(n)s个字符", n=min_length))
    if len(password) > MAX_LENGTH:
        found.append(_l("密码不能超过%(n)d个字符", n=MAX_LENGTH))
    min_classes = cfg["PASSWORD_MIN_CLASSES"]
    if classes(password) < min_classes:
        found.append(_l("密码须包含大写字母、小写字母、数字、其他符号中的至少%(n)d类", n=min_classes))
    name = (username or "").strip().lower()
    if cfg["PASSWORD_FORBID_USERNAME"] and len(name) >= 3 and name in password.lower():
        found.append(_l("密码不能包含用户名"))
    return found


def describe() -> LazyText:
    """The policy in one sentence, for the page that asks for a new password."""
    cfg = current_app.config
    length, classes_ = cfg["PASSWORD_MIN_LENGTH"], cfg["PASSWORD_MIN_CLASSES"]
    if cfg["PASSWORD_FORBID_USERNAME"]:
        return _l(
            "至少%(length)d个字符，包含大写字母、小写字母、数字、其他符号中的至少%(classes)d类，且不能包含用户名",
            length=length,
            classes=classes_,
        )
    return _l(
        "至少%(length)d个字符，包含大写字母、小写字母、数字、其他符号中的至少%(classes)d类",
        length=length,
        classes=classes_,
    )
