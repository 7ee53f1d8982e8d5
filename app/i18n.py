"""Translatable text for every layer, Flask or not: a msgid (the Chinese text) and its params,
put into words in the reader's language only when it is shown.

    _l("文件「%(name)s」是空文件", name=filename)   a LazyText: translated whenever it becomes text
    gettext("整改台账")                              translated now (a str)
    N_("催办")                                        only marked for the catalog; translate at display

The engine and the models may not import Flask, so translation is a hook: create_app installs
Flask-Babel's gettext (the request's locale); without it (a bare script) the msgid stands, which
is the Chinese. `make translations` extracts `_l`, `gettext` and `N_` calls into the catalog.

A LazyText is escaped when a template shows it (unlike Flask-Babel's LazyString, whose text is
taken as safe markup), so params may carry what people typed."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from markupsafe import escape


def N_(msgid: str) -> str:
    """Mark a msgid for extraction; whoever shows it translates it."""
    return msgid


def _identity(msgid: str) -> str:
    return msgid


_translate: Callable[[str], str] = _identity


def install(translate: Callable[[str], str]) -> None:
    """Use `translate` (msgid -> text in the current locale) for every LazyText from now on."""
    global _translate
    _translate = translate


def render(msgid: str, params: Mapping[str, Any] | None = None) -> str:
    """The msgid translated now, with its params (themselves translated if lazy) put in."""
    text = _translate(msgid)
    if not params:
        return text
    values = {key: str(value) if isinstance(value, LazyText) else value for key, value in params.items()}
    try:
        return text % values
    except (KeyError, ValueError, TypeError):  # a broken translation: the source text still reads
        return msgid % values


def gettext(msgid: str, **params: Any) -> str:
    """Translate now (a plain str, safe for JSON, sessions and files)."""
    return render(msgid, params)


class LazyText:
    """A msgid with its params, translated each time it is turned into text."""

    __slots__ = ("msgid", "params")

    def __init__(self, msgid: str, **params: Any):
        self.msgid = msgid
        self.params = params

    def __str__(self) -> str:
        return render(self.msgid, self.params)

    def __html__(self) -> str:
        return str(escape(str(self)))

    def __repr__(self) -> str:
        return f"LazyText({self.msgid!r}, **{self.params!r})" if self.params else f"LazyText({self.msgid!r})"

    # Enough of str's behaviour that callers comparing or searching messages need not care.
    def __eq__(self, other: object) -> bool:
        if isinstance(other, LazyText):
            return (self.msgid, self.params) == (other.msgid, other.params)
        if isinstance(other, str):
            return str(self) == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.msgid)

    def __bool__(self) -> bool:
        return bool(self.msgid)

    def __len__(self) -> int:
        return len(str(self))

    def __contains__(self, item: str) -> bool:
        return item in str(self)

    def __add__(self, other: object) -> str:
        return str(self) + str(other)

    def __radd__(self, other: object) -> str:
        return str(other) + str(self)

    def __lt__(self, other: object) -> bool:
        return str(self) < str(other)

    def __getattr__(self, name: str):
        # str's methods (startswith, split, ...) on the words as they read now.
        if name.startswith("__") or name in ("msgid", "params", "texts"):  # not set yet: no recursion
            raise AttributeError(name)
        return getattr(str(self), name)


def _l(msgid: str, **params: Any) -> LazyText:
    """A LazyText: translated when shown, in the locale of whoever reads it."""
    return LazyText(msgid, **params)


lazy_gettext = _l

# How a list reads in each language: Chinese separates clauses with ；, phrases with ，and
# enumerates with 、.
CLAUSES = N_("；")
PHRASES = N_("，")
ITEMS = N_("、")


class Joined(LazyText):
    """Texts shown as one, joined by the reader's separator (CLAUSES or ITEMS)."""

    __slots__ = ("texts",)

    def __init__(self, texts: Iterable[object], separator: str = CLAUSES):
        super().__init__(separator)
        self.texts: list[object] = list(texts)

    def __str__(self) -> str:
        return _translate(self.msgid).join(str(t) for t in self.texts)

    def __repr__(self) -> str:
        return f"Joined({self.texts!r}, {self.msgid!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Joined):
            return (self.msgid, self.texts) == (other.msgid, other.texts)
        return str(self) == other if isinstance(other, str) else NotImplemented

    def __hash__(self) -> int:
        return hash((self.msgid, len(self.texts)))

    def __bool__(self) -> bool:
        return bool(self.texts)


def source(value: Any) -> str:
    """The words in the source language whatever the reader's: what is stored (an audit record)."""
    if isinstance(value, Joined):
        return value.msgid.join(source(t) for t in value.texts)
    if isinstance(value, LazyText):
        if not value.params:
            return value.msgid
        values = {key: source(item) if isinstance(item, LazyText) else item for key, item in value.params.items()}
        return value.msgid % values
    return str(value)


def text(value: Any) -> Any:
    """`value` with every LazyText in it (also inside lists, tuples and dicts) made a str now."""
    if isinstance(value, LazyText):
        return str(value)
    if isinstance(value, Mapping):
        return {key: text(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [text(item) for item in value]
    return value
