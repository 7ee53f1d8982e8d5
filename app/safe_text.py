"""Text typed by people, on its way into files other people open: Excel, CSV, Word.

Two dangers. Characters XML 1.0 forbids (most C0 controls, lone surrogates, U+FFFE/U+FFFF)
make openpyxl and python-docx refuse the whole file: they are refused where text comes in
(forms) and stripped here for text already stored. And a cell that starts like a formula
(`=`, `+`, `-`, `@`, a tab or a carriage return) is run by the spreadsheet that opens it:
OWASP's rule is a leading apostrophe, which is what `for_csv` adds; in .xlsx the cell is
written as text with Excel's own quote prefix (what typing the apostrophe in Excel stores),
so the office sees the text exactly as typed and nothing runs.
"""

import re

# XML 1.0's Char production, negated: what no .xlsx or .docx may hold.
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A signed number stays as typed: "-5" and "+86" are not formulas in any spreadsheet.
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def has_forbidden(text: str) -> bool:
    """True if the text holds a character no Office file may hold (tab, CR and LF are fine)."""
    return bool(FORBIDDEN.search(text))


def printable(text: str) -> str:
    """The text without the characters XML forbids."""
    return FORBIDDEN.sub("", text)


def formula_like(text: str) -> bool:
    """Would a spreadsheet read this text as a formula (or as the start of one)?"""
    return text.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(text)


def for_csv(text: str) -> str:
    """A CSV field that no spreadsheet runs: printable, and an apostrophe before a formula."""
    text = printable(text)
    return "'" + text if formula_like(text) else text
