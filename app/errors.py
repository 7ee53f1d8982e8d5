"""The one shape of the errors a use case refuses with, for every layer that raises one.

A DomainError carries
    message   a translatable text (app.i18n: a msgid and its params), put into words in the
              reader's language when shown: `exc.message` is a str in the current locale
    code      a stable snake_case name for programs (the JSON error's "code")
    details   optional, per field or per row: {"field": message} or a list of problems
    status    the HTTP status a page or a JSON answer gives it (400, 403, 404, 409, 422)

Every exception the services and the engine raise for people derives from it (each keeps its
own name, so `except` clauses keep working); one handler per surface shows them: pages and JSON
(app.web.errors) and the command line (app.cli). Imports nothing from Flask."""

from __future__ import annotations

from typing import Any

from app.i18n import N_, LazyText, text


class DomainError(Exception):
    """A refusal worth telling a person, in words they can act on."""

    status: int = 400
    code: str = "invalid"
    default: str = N_("请求有误")  # the message when none is given

    def __init__(
        self,
        message: str | LazyText = "",
        *,
        code: str | None = None,
        details: Any = None,
        status: int | None = None,
        **params: Any,
    ):
        if isinstance(message, LazyText):
            self.text = message
        else:
            self.text = LazyText(str(message or self.default), **params)
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.details = details
        super().__init__(self.text)

    @property
    def message(self) -> str:
        """The message in the current locale (a plain str)."""
        return str(self.text)

    def __str__(self) -> str:
        return self.message

    def as_json(self) -> dict[str, Any]:
        """The body of a JSON error answer: {"error": {"code", "message", "details"}}."""
        return {"error": {"code": self.code, "message": self.message, "details": text(self.details)}}


def reason(exc: BaseException) -> str | LazyText:
    """What an exception says, to put into another message: a DomainError's text stays
    translatable; any other exception's words are as it gave them."""
    return exc.text if isinstance(exc, DomainError) else str(exc)


class NotFound(DomainError, LookupError):
    """What was asked for does not exist (or is not the asker's to see)."""

    status = 404
    code = "not_found"
    default = N_("页面不存在或无权查看")


class Forbidden(DomainError, PermissionError):
    """The asker may not do this."""

    status = 403
    code = "forbidden"
    default = N_("无权访问")


class Invalid(DomainError, ValueError):
    """Input that cannot be accepted as it is."""

    status = 400
    code = "invalid"


class Refused(DomainError):
    """Not possible in the current state of things (already done, closed, changed meanwhile)."""

    status = 409
    code = "conflict"
    default = N_("数据已被他人修改，请刷新后重试")
