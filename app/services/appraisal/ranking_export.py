"""The ranking as an Excel workbook: a title row naming the campaign and the date, one sheet per category.
Written in the reader's language (headers, labels); the names in it are data."""

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from app import clock
from app.i18n import gettext as _
from app.safe_text import printable
from app.services.appraisal.ranking import Ranking, submitted_total
from app.services.appraisal.score_sheets import component_score
from app.services.shared.spreadsheets import CellValue, append_row


def ranking_xlsx(ranking: Ranking) -> bytes:
    scheme = ranking.scheme
    components = list(scheme.components)
    headers = (
        [_("名次"), _("单位代码"), _("单位名称")]
        + [_("%(name)s（%(points)s）", name=c.name, points=f"{c.points.normalize():f}") for c in components]
        + [_("扣减分"), _("总分"), _("并列"), _("约谈"), _("书面检查")]
    )
    tied, yes = _("并列"), _("是")
    book = Workbook()
    blank = book.active
    assert blank is not None  # a new workbook has one empty sheet
    book.remove(blank)
    for category in ranking.categories or []:
        label = _(category.label)
        sheet = book.create_sheet(title=printable(label)[:31])
        title = _(
            "%(campaign)s %(scheme)s %(category)s排名（导出日期：%(date)s）",
            campaign=ranking.campaign.title,
            scheme=scheme.name,
            category=label,
            date=f"{clock.today():%Y-%m-%d}",
        )
        append_row(sheet, [title])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
        sheet["A1"].font = Font(bold=True, size=14)
        sheet["A1"].alignment = Alignment(horizontal="center")
        append_row(sheet, headers)
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for row in category.rows:
            scores = {s.part_id: s.score for s in row.sheet.scores if s.score is not None}
            values: list[CellValue] = [row.place.rank, row.unit.code, row.unit.name]
            values += [float(component_score(c, scores)) for c in components]
            values += [
                float(row.sheet.penalty),
                float(submitted_total(row.sheet)),
                tied if row.place.tied else "",
                yes if row.place.flagged else "",
                yes if row.self_examination else "",
            ]
            append_row(sheet, values)
        sheet.column_dimensions["C"].width = 24
    if not book.sheetnames:
        append_row(
            book.create_sheet(title=_("排名")[:31]),
            [_("%(campaign)s：尚无已提交的评分表", campaign=ranking.campaign.title)],
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
