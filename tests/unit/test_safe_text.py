"""Text on its way into Office files: formulas neutralised, characters XML forbids removed."""

import io
import zipfile

import pytest
from openpyxl import load_workbook

from app import safe_text
from app.services.shared.spreadsheets import Column, to_csv, to_xlsx


@pytest.mark.parametrize(
    "text",
    [
        "=1+2",
        "+SUM(A1)",
        "-2+3",
        "@SUM(A1)",
        "\t=cmd|' /C calc'!A0",
        "\r=1",
        '=HYPERLINK("http://evil.example","点我")',
    ],
)
def test_formula_like_text_is_neutralised_in_csv(text):
    assert safe_text.formula_like(text)
    assert safe_text.for_csv(text) == "'" + text


@pytest.mark.parametrize("text", ["-5", "+86", "3.14", "-1e5", "整改完毕", "a=b", "", "2027-03-15"])
def test_plain_text_and_signed_numbers_stay_as_typed(text):
    assert not safe_text.formula_like(text)
    assert safe_text.for_csv(text) == text


def test_characters_xml_forbids_are_found_and_removed_but_tab_and_newlines_kept():
    assert safe_text.has_forbidden("a\x01b") and safe_text.has_forbidden("\x0b") and safe_text.has_forbidden("\ufffe")
    assert not safe_text.has_forbidden("第一行\n第二行\t缩进\r\n")
    assert safe_text.printable("a\x00b\x0bc\x1fd\n") == "abcd\n"


def test_xlsx_cells_hold_formula_text_as_quoted_text_and_numbers_as_numbers():
    data = to_xlsx("=标题", [Column("=列")], [["=1+2"], ["x\x01y"], [-5], ["-5"], ["@A1"]])
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    cells = [sheet.cell(row=r, column=1) for r in range(1, 8)]
    assert [c.value for c in cells] == ["=标题", "=列", "=1+2", "xy", -5, "-5", "@A1"]
    assert [c.data_type for c in cells] == ["s", "s", "s", "s", "n", "s", "s"]
    assert [c.quotePrefix for c in cells] == [True, True, True, False, False, False, True]
    # In the file itself: no formula element anywhere, the text as an inline string.
    xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and "<t>=1+2</t>" in xml


def test_csv_export_neutralises_every_text_cell_and_header():
    data = to_csv([Column("=h")], [["=1+2"], ["-5"], [4], ["a\x0bb"]]).decode("utf-8-sig")
    assert data.splitlines() == ["'=h", "'=1+2", "-5", "4", "ab"]
