"""Score sheets (评分表): assessors score each part; a deduction needs its reason; submitting locks the sheet."""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from app import clock
from app.errors import Invalid
from app.errors import reason as reason_of
from app.extensions import db
from app.i18n import N_, LazyText, _l
from app.models import AppraisalScheme, CampaignUnit, PartScore, SchemeComponent, ScoreSheet, Unit
from app.services.appraisal.appraisal_schemes import scheme_for
from app.services.shared import audit
from app.services.shared.input_errors import InputError

CENT = Decimal("0.01")
REASON_MAX = 500


STALE = N_("评分表已被他人修改，请复制您的输入后刷新页面再试")


class SheetError(InputError):
    """The sheet cannot be saved: `errors` maps an input name to its message."""

    code = "score_sheet_invalid"


@dataclass
class SheetInput:
    """What the assessor typed: per part id the raw score and reason, plus the penalty."""

    scores: dict[int, tuple[str, str]] = field(default_factory=dict)
    penalty: str = ""
    penalty_reason: str = ""
    version: int | None = None


def score_key(part_id: int) -> str:
    return f"part-{part_id}-score"


def reason_key(part_id: int) -> str:
    return f"part-{part_id}-reason"


def parse_points(raw: str) -> Decimal:
    """A score as typed (up to two decimals); Invalid (a ValueError) saying why otherwise."""
    try:
        value = Decimal(raw.strip())
    except (InvalidOperation, ValueError):
        raise Invalid(_l("请填写数字")) from None
    if not value.is_finite():
        raise Invalid(_l("请填写数字"))
    if value != value.quantize(CENT):
        raise Invalid(_l("最多保留两位小数"))
    return value


def component_score(component: SchemeComponent, scores: dict[int, Decimal]) -> Decimal:
    """The component's share of the total: its parts' sum scaled from max_score to its points."""
    raw = sum((scores.get(p.id, Decimal(0)) for p in component.parts), Decimal(0))
    score: Decimal = (raw * component.points / component.max_score).quantize(CENT, ROUND_HALF_UP)
    return score


def total_of(scheme: AppraisalScheme, scores: dict[int, Decimal], penalty: Decimal = Decimal(0)) -> Decimal:
    """The weighted total as the scheme says, less the penalty (never below zero)."""
    total = sum((component_score(c, scores) for c in scheme.components), Decimal(0)) - penalty
    return max(total, Decimal(0)).quantize(CENT, ROUND_HALF_UP)


def _check(scheme: AppraisalScheme, values: SheetInput, complete: bool) -> tuple[dict[int, Decimal], Decimal]:
    errors: dict[str, str | LazyText] = {}
    scores: dict[int, Decimal] = {}
    for component in scheme.components:
        for part in component.parts:
            raw, reason = values.scores.get(part.id, ("", ""))
            raw, reason = (raw or "").strip(), (reason or "").strip()
            if not raw:
                if complete:
                    errors[score_key(part.id)] = _l("请填写得分")
                continue
            try:
                value = parse_points(raw)
            except ValueError as exc:
                errors[score_key(part.id)] = reason_of(exc)
                continue
            if not Decimal(0) <= value <= part.points:
                errors[score_key(part.id)] = _l("得分须在0到%(max)s之间", max=f"{part.points.normalize():f}")
                continue
            if value < part.points and not reason:
                errors[reason_key(part.id)] = _l("扣分须写明原因")
            if len(reason) > REASON_MAX:
                errors[reason_key(part.id)] = _l("原因不能超过%(max)s字", max=REASON_MAX)
            scores[part.id] = value
    penalty = Decimal(0)
    raw_penalty = (values.penalty or "").strip()
    if raw_penalty:
        try:
            penalty = parse_points(raw_penalty)
            if penalty < 0 or penalty > scheme.total:
                errors["penalty"] = _l("扣减分须在0到%(max)s之间", max=f"{scheme.total.normalize():f}")
        except ValueError as exc:
            errors["penalty"] = reason_of(exc)
    if penalty > 0 and not (values.penalty_reason or "").strip():
        errors["penalty_reason"] = _l("扣减分须写明负面事件或失误")
    if errors:
        raise SheetError(_l("请按提示修改标出的内容"), errors)
    return scores, penalty


def get_sheet(scheme_id: int, unit_id: int) -> ScoreSheet | None:
    return db.session.scalar(select(ScoreSheet).where(ScoreSheet.scheme_id == scheme_id, ScoreSheet.unit_id == unit_id))


def enrolled_unit(campaign_id: int, unit_id: int) -> Unit | None:
    """The unit if it takes part in the campaign."""
    return db.session.scalar(
        select(Unit)
        .join(CampaignUnit, CampaignUnit.unit_id == Unit.id)
        .where(CampaignUnit.campaign_id == campaign_id, CampaignUnit.unit_id == unit_id)
    )


def snapshot(sheet: ScoreSheet) -> dict[str, Any]:
    return {
        "status": sheet.status,
        "total": sheet.total,
        "penalty": sheet.penalty,
        "penalty_reason": sheet.penalty_reason,
        "scores": {str(s.part_id): [s.score, s.reason] for s in sorted(sheet.scores, key=lambda s: s.part_id)},
    }


def _scheme_open(campaign_id: int) -> AppraisalScheme:
    scheme = scheme_for(campaign_id)
    if scheme is None:
        raise SheetError(_l("本专项整治尚未挂接考核方案"))
    if scheme.finalised_at is not None:
        raise SheetError(_l("排名已确认，评分表不能再修改"))
    return scheme


def save(campaign_id: int, unit_id: int, values: SheetInput, actor_id: int, submit: bool = False) -> ScoreSheet:
    """Save the assessor's scores (a draft may leave parts blank); submitting needs every part and locks the sheet."""
    scheme = _scheme_open(campaign_id)
    if enrolled_unit(campaign_id, unit_id) is None:
        raise SheetError(_l("该单位未纳入本专项整治"))
    sheet = get_sheet(scheme.id, unit_id)
    if sheet is not None and sheet.status == "submitted":
        raise SheetError(_l("评分表已提交并锁定；如需更正，请专项整治办公室退回"))
    if sheet is not None and values.version is not None and values.version != sheet.version:
        raise SheetError(STALE)
    scores, penalty = _check(scheme, values, complete=submit)
    before = snapshot(sheet) if sheet is not None else None
    if sheet is None:
        sheet = ScoreSheet(scheme_id=scheme.id, campaign_id=campaign_id, unit_id=unit_id, status="draft")
        db.session.add(sheet)
    existing = {s.part_id: s for s in sheet.scores}
    for component in scheme.components:
        for part in component.parts:
            reason = (values.scores.get(part.id, ("", ""))[1] or "").strip()
            row = existing.get(part.id)
            if row is None:
                row = PartScore(part_id=part.id)
                sheet.scores.append(row)
            row.score, row.reason = scores.get(part.id), reason
    sheet.penalty, sheet.penalty_reason = penalty, (values.penalty_reason or "").strip()
    sheet.total = total_of(scheme, scores, penalty)
    now = clock.now()
    sheet.scored_by_id, sheet.scored_at = actor_id, now
    if submit:
        sheet.status, sheet.submitted_by_id, sheet.submitted_at = "submitted", actor_id, now
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        raise SheetError(STALE) from None
    audit.record(
        actor_id,
        "score_sheet.submit" if submit else "score_sheet.save",
        "score_sheet",
        sheet.id,
        before=before,
        after=snapshot(sheet),
        unit_id=unit_id,
    )
    db.session.commit()
    return sheet


def reopen(campaign_id: int, unit_id: int, reason: str, actor_id: int) -> ScoreSheet:
    """The campaign office sends a submitted sheet back for correction (before the ranking is confirmed)."""
    scheme = _scheme_open(campaign_id)
    sheet = get_sheet(scheme.id, unit_id)
    if sheet is None or sheet.status != "submitted":
        raise SheetError(_l("只能退回已提交的评分表"))
    reason = (reason or "").strip()
    if not reason:
        raise SheetError(_l("请填写退回原因"), {"reason": _l("请填写退回原因")})
    sheet.status, sheet.submitted_by_id, sheet.submitted_at = "draft", None, None
    audit.record(
        actor_id,
        "score_sheet.reopen",
        "score_sheet",
        sheet.id,
        before={"status": "submitted"},
        after={"status": "draft", "reason": reason},
        unit_id=unit_id,
    )
    db.session.commit()
    return sheet


def sheets_for(pairs: list[tuple[int, int]]) -> dict[tuple[int, int], ScoreSheet | None]:
    """For (campaign, unit) pairs of an appraised campaign: the unit's sheet, or None if not scored yet.
    Pairs of a campaign without a scheme are left out (one query each for a page of the queue)."""
    campaign_ids = {c for c, _ in pairs}
    if not campaign_ids:
        return {}
    appraised = set(
        db.session.scalars(select(AppraisalScheme.campaign_id).where(AppraisalScheme.campaign_id.in_(campaign_ids)))
    )
    wanted = [(c, u) for c, u in pairs if c in appraised]
    found = {}
    if wanted:
        rows = db.session.scalars(
            select(ScoreSheet).where(
                ScoreSheet.campaign_id.in_(appraised), ScoreSheet.unit_id.in_({u for _, u in wanted})
            )
        )
        found = {(s.campaign_id, s.unit_id): s for s in rows}
    return {pair: found.get(pair) for pair in wanted}
