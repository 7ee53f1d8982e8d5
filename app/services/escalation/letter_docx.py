"""督办函 as a Word document (python-docx): A4, official-document fonts set for Chinese text."""

import io
from urllib.parse import quote

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from app import clock
from app.models import SupervisionLetter
from app.safe_text import printable

BODY_FONT = "仿宋"  # 仿宋_GB2312 is not on most machines; 仿宋 is, and Word falls back sensibly
TITLE_FONT = "宋体"
LATIN_FONT = "Times New Roman"
RED = RGBColor(0xC0, 0x00, 0x00)


def filename(letter: SupervisionLetter) -> str:
    return f"{letter.doc_number}.docx"


def content_disposition(letter: SupervisionLetter) -> str:
    """attachment with an ASCII fallback name and the Chinese name in RFC 5987 form."""
    fallback = f"letter-{letter.year}-{letter.number}.docx"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename(letter))}"


def _font(run: Run, name: str, size: float, bold: bool = False, color: RGBColor | None = None) -> None:
    run.font.name = LATIN_FONT
    run.font.size = Pt(size)
    run.font.bold = bold
    if color is not None:
        run.font.color.rgb = color
    # Word takes Chinese glyphs from the eastAsia font; font.name alone sets only the Latin one.
    r_pr = run._element.get_or_add_rPr()
    r_fonts = r_pr.get_or_add_rFonts()
    r_fonts.set(qn("w:eastAsia"), name)


def _paragraph(
    doc: DocxDocument,
    text: str,
    *,
    font: str = BODY_FONT,
    size: float = 16,
    bold: bool = False,
    align: WD_ALIGN_PARAGRAPH | None = None,
    color: RGBColor | None = None,
    indent: bool = False,
) -> Paragraph:
    paragraph = doc.add_paragraph()
    if align is not None:
        paragraph.alignment = align
    if indent:
        paragraph.paragraph_format.first_line_indent = Pt(size * 2)
    paragraph.paragraph_format.space_after = Pt(0)
    paragraph.paragraph_format.line_spacing = Pt(28)
    _font(paragraph.add_run(printable(text)), font, size, bold, color)
    return paragraph


def _setup(doc: DocxDocument) -> None:
    section = doc.sections[0]
    # GB/T 9704 page: A4, margins top 37, bottom 35, left 28, right 26 mm.
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    normal = doc.styles["Normal"]
    normal.font.name = LATIN_FONT
    normal.font.size = Pt(16)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), BODY_FONT)


def render(letter: SupervisionLetter, acknowledged_by: str | None = None) -> bytes:
    """The letter as .docx bytes: issuer header, number, addressee, body, items, deadlines, date, receipt."""
    doc = Document()
    _setup(doc)
    doc.core_properties.title = printable(f"{letter.doc_number} {letter.subject}")
    doc.core_properties.author = printable(letter.issuer)
    center = WD_ALIGN_PARAGRAPH.CENTER
    _paragraph(doc, letter.issuer, font=TITLE_FONT, size=26, bold=True, align=center, color=RED)
    _paragraph(doc, letter.doc_number, align=center)
    _paragraph(doc, "")
    _paragraph(doc, letter.subject, font=TITLE_FONT, size=22, bold=True, align=center)
    _paragraph(doc, "")
    lines = letter.body.split("\n")
    _paragraph(doc, lines[0])
    for line in lines[1:]:
        if line.strip():
            _paragraph(doc, line, indent=True)
    if letter.items:
        _paragraph(doc, "督办事项：", indent=True)
        table = doc.add_table(rows=1, cols=3)
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, ("序号", "整改事项", "整改时限"), strict=True):
            _font(cell.paragraphs[0].add_run(printable(text)), BODY_FONT, 14, bold=True)
        for item in letter.items:
            cells = table.add_row().cells
            row = (str(item.get("seq", "")), item.get("title", ""), item.get("deadline", ""))
            for cell, text in zip(cells, row, strict=True):  # a row of the three-column table
                _font(cell.paragraphs[0].add_run(printable(str(text))), BODY_FONT, 14)
    original = clock.to_local(letter.original_due)
    if original:
        _paragraph(doc, f"原办理期限：{original:%Y年%m月%d日 %H:%M}", indent=True)
    _paragraph(doc, f"新办理期限：{letter.new_due:%Y年%m月%d日}", indent=True)
    _paragraph(doc, "")
    right = WD_ALIGN_PARAGRAPH.RIGHT
    _paragraph(doc, letter.issuer, align=right)
    _paragraph(doc, f"{clock.to_local(letter.issued_at):%Y年%m月%d日}", align=right)
    _paragraph(doc, "")
    if letter.acknowledged_at:
        receipt = f"签收：{acknowledged_by or ''}　{clock.to_local(letter.acknowledged_at):%Y年%m月%d日 %H:%M}"
    else:
        receipt = "签收：未签收"
    _paragraph(doc, receipt, size=14)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
