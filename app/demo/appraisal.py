"""Demo appraisal: the 100-point scheme attached to the demo campaign and a few units scored,
so the ranking page shows ranks, a tie (并列) and the units flagged for an interview (约谈)."""

from decimal import Decimal

from app.services.accounts import units
from app.services.appraisal import appraisal_schemes, score_sheets
from app.services.appraisal.score_sheets import SheetInput

# unit code -> deductions (component key, part number, points off, reason); every other part gets full marks.
DEDUCTIONS = {
    "T01": [("work", 2, "1", "信访件办结超期2件")],
    "T02": [("hotline", 1, "2", "12345投诉办理满意率偏低"), ("mobile", 0, "1", "手机端测评得分靠后")],
    "T03": [("work", 3, "1", "政务公开栏目更新不及时"), ("web", 0, "1", "网络测评满意度一般")],
    "T04": [("hotline", 0, "3", "政风行风热线反映问题未按期回复"), ("deputies", 0, "1", "人大代表评价一般")],
    "T05": [("hotline", 2, "2", "市民心声留言办理不及时"), ("work", 5, "1.5", "效能建设台账不完整")],
    "T06": [("hotline", 3, "2", "报社监督栏目投诉未办结"), ("work", 4, "1.5", "窗口服务群众投诉1件")],
    "D01": [("districts", 0, "1", "县区评议有意见")],
    "D02": [("work", 0, "2", "工作日饮酒被通报"), ("hotline", 1, "3", "12345投诉办理满意率低")],
    "D03": [("tv", 0, "0.5", "数字电视测评得分偏低")],
    "D04": [("work", 1, "2", "行政执法不规范被复议纠错"), ("weibo", 0, "1", "微博回应不及时")],
}
PENALTIES = {"D02": ("1", "工作人员违规操办宴席被通报")}
DRAFT = {"T07": [("work", 0, "1", "作风纪律抽查发现迟到")]}


def _values(scheme, deductions, penalty=("", "")) -> SheetInput:
    off = {(key, n): (Decimal(points), reason) for key, n, points, reason in deductions}
    scores = {}
    for component in scheme.components:
        for n, part in enumerate(component.parts):
            minus, reason = off.get((component.key, n), (Decimal(0), ""))
            scores[part.id] = (str(part.points - minus), reason)
    return SheetInput(scores=scores, penalty=penalty[0], penalty_reason=penalty[1])


def seed_appraisal(campaign_id: int, admin_id: int, assessor_id: int) -> None:
    """Attach the scheme and score the demo units; a campaign that has a scheme is left as it is."""
    templates = {t.key: t for t, _ in appraisal_schemes.load_templates()}
    if appraisal_schemes.scheme_for(campaign_id) is not None:
        return
    scheme = appraisal_schemes.attach(campaign_id, templates["conduct-appraisal"].id, admin_id)
    by_code = units.by_codes(list(DEDUCTIONS) + list(DRAFT))
    for code, deductions in DEDUCTIONS.items():
        score_sheets.save(
            campaign_id,
            by_code[code].id,
            _values(scheme, deductions, PENALTIES.get(code, ("", ""))),
            assessor_id,
            submit=True,
        )
    for code, deductions in DRAFT.items():
        score_sheets.save(campaign_id, by_code[code].id, _values(scheme, deductions), assessor_id)
