"""The ranking as an Excel workbook: a title row naming the campaign and the date, one sheet per category."""
import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from app import clock
from app.services.appraisal.ranking import Ranking, submitted_total
from app.services.appraisal.score_sheets import component_score


def ranking_xlsx(ranking: Ranking) -> bytes:
    scheme = ranking.scheme
    components = list(scheme.components)
    headers = ["名次", "单位代码", "单位名称"] + [f"{c.name}（{c.points.normalize():f}）" for c in components] + [
        "扣减分", "总分", "并列", "约谈", "书面检查"]
    book = Workbook()
    blank = book.active
    assert blank is not None  # a new workbook has one empty sheet
    book.remove(blank)
    for category in ranking.categories or []:
        sheet = book.create_sheet(title=category.label[:31])
        title = f"{ranking.campaign.title} {scheme.name} {category.label}排名（导出日期：{clock.today():%Y-%m-%d}）"
        sheet.append([title])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
        sheet["A1"].font = Font(bold=True, size=14)
        sheet["A1"].alignment = Alignment(horizontal="center")
        sheet.append(headers)
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for row in category.rows:
            scores = {s.part_id: s.score for s in row.sheet.scores if s.score is not None}
            sheet.append(
                [row.place.rank, row.unit.code, row.unit.name]
                + [float(component_score(c, scores)) for c in components]
                + [
                    float(row.sheet.penalty),
                    float(submitted_total(row.sheet)),
                    "并列" if row.place.tied else "",
                    "是" if row.place.flagged else "",
                    "是" if row.self_examination else "",
                ]
            )
        sheet.column_dimensions["C"].width = 24
    if not book.sheetnames:
        book.create_sheet(title="排名").append([f"{ranking.campaign.title}：尚无已提交的评分表"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
