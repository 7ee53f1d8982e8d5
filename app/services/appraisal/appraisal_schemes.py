"""Appraisal schemes (考核方案): read and check scheme files, keep template versions, attach a copy to a campaign."""

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from flask import current_app
from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.i18n import LazyText, _l
from app.models import (
    AppraisalScheme,
    Campaign,
    CampaignUnit,
    SchemeComponent,
    SchemePart,
    SchemeTemplate,
    ScoreSheet,
    SheetStatus,
)
from app.services.shared import audit
from app.services.shared.input_errors import InputError

BOTTOM_N_MAX = 50


class SchemeError(InputError):
    """A scheme file or an attach request the office must correct."""

    code = "appraisal_scheme_invalid"

    def __init__(self, message: str | LazyText, field: str | None = None):
        super().__init__(message, field=field)


def _points(value: object, where: str | LazyText) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise SchemeError(_l("%(where)s：分值“%(value)s”不是数字", where=where, value=value)) from None
    if not number.is_finite() or number <= 0:
        raise SchemeError(_l("%(where)s：分值须大于0", where=where))
    return number


def parse_scheme(text: str) -> dict[str, Any]:
    """A scheme file as a checked, normalised definition (points as exact decimal strings)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SchemeError(_l("考核方案不是有效的 YAML：%(error)s", error=str(exc))) from None
    if not isinstance(data, dict):
        raise SchemeError(_l("考核方案格式不正确"))
    key, name = str(data.get("key") or "").strip(), str(data.get("name") or "").strip()
    if not key or not name:
        raise SchemeError(_l("考核方案须有 key 和 name"))
    total = _points(data.get("total"), _l("总分"))
    bottom_n = data.get("bottom_n", 2)
    if not isinstance(bottom_n, int) or not 0 <= bottom_n <= BOTTOM_N_MAX:
        raise SchemeError(_l("bottom_n 须为0到%(max)s之间的整数", max=BOTTOM_N_MAX))
    components: list[dict[str, Any]] = []
    keys: set[str] = set()
    for i, raw in enumerate(data.get("components") or []):
        where = _l("第%(n)s个考评项目", n=i + 1)
        ckey, cname = str(raw.get("key") or "").strip(), str(raw.get("name") or "").strip()
        if not ckey or not cname:
            raise SchemeError(_l("%(where)s：须有 key 和 name", where=where))
        if ckey in keys:
            raise SchemeError(_l("%(where)s：key “%(key)s”重复", where=where, key=ckey))
        keys.add(ckey)
        named = _l("%(where)s（%(name)s）", where=where, name=cname)
        points = _points(raw.get("points"), named)
        maximum = _points(raw.get("max", points), _l("%(where)s满分", where=named))
        parts: list[dict[str, Any]] = [
            {
                "name": str(p.get("name") or "").strip(),
                "points": _points(p.get("points"), _l("%(name)s的细项", name=cname)),
            }
            for p in raw.get("parts") or []
        ]
        if any(not p["name"] for p in parts):
            raise SchemeError(_l("%(where)s：细项须有名称", where=named))
        if parts and sum(p["points"] for p in parts) != maximum:
            raise SchemeError(
                _l(
                    "%(where)s：细项分值之和%(sum)s不等于满分%(max)s",
                    where=named,
                    sum=sum(p["points"] for p in parts),
                    max=maximum,
                )
            )
        components.append(
            {
                "key": ckey,
                "name": cname,
                "points": str(points),
                "max": str(maximum),
                "parts": [{"name": p["name"], "points": str(p["points"])} for p in parts],
            }
        )
    if not components:
        raise SchemeError(_l("考核方案须至少有一个考评项目"))
    weights = sum((Decimal(c["points"]) for c in components), Decimal(0))
    if weights != total:
        raise SchemeError(_l("各考评项目分值之和%(sum)s不等于总分%(total)s", sum=weights, total=total))
    return {
        "key": key,
        "name": name,
        "total": str(total),
        "bottom_n": bottom_n,
        "components": components,
        "consequences": [str(c) for c in data.get("consequences") or []],
    }


def _hash(definition: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(definition, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def load_templates(directory: str | Path | None = None) -> list[tuple[SchemeTemplate, bool]]:
    """Load every schemes/*.yaml; a changed file becomes the next version (returns (template, created))."""
    directory = Path(directory or current_app.config["SCHEMES_DIR"])
    parsed = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            parsed.append(parse_scheme(path.read_text(encoding="utf-8")))
        except SchemeError as exc:
            raise SchemeError(_l("%(file)s：%(message)s", file=path.name, message=exc.text)) from None
    results = []
    for definition in parsed:
        digest = _hash(definition)
        latest = latest_template(definition["key"])
        if latest is not None and latest.content_hash == digest:
            results.append((latest, False))
            continue
        template = SchemeTemplate(
            key=definition["key"],
            version=(latest.version + 1) if latest else 1,
            name=definition["name"],
            definition=definition,
            content_hash=digest,
            loaded_at=clock.now(),
        )
        db.session.add(template)
        db.session.flush()
        audit.record(
            None,
            "scheme_template.load",
            "scheme_template",
            template.id,
            after={"key": template.key, "version": template.version, "hash": digest},
        )
        results.append((template, True))
    db.session.commit()
    return results


def latest_template(key: str) -> SchemeTemplate | None:
    return db.session.scalar(
        select(SchemeTemplate).where(SchemeTemplate.key == key).order_by(SchemeTemplate.version.desc()).limit(1)
    )


def list_templates() -> list[SchemeTemplate]:
    """The latest version of every template, for the campaign form's choice."""
    newest = (
        select(SchemeTemplate.key, func.max(SchemeTemplate.version).label("v")).group_by(SchemeTemplate.key).subquery()
    )
    return list(
        db.session.scalars(
            select(SchemeTemplate)
            .join(newest, (SchemeTemplate.key == newest.c.key) & (SchemeTemplate.version == newest.c.v))
            .order_by(SchemeTemplate.name)
        )
    )


def scheme_for(campaign_id: int) -> AppraisalScheme | None:
    return db.session.scalar(select(AppraisalScheme).where(AppraisalScheme.campaign_id == campaign_id))


def snapshot(scheme: AppraisalScheme) -> dict[str, Any]:
    return {
        "name": scheme.name,
        "template_id": scheme.template_id,
        "total": scheme.total,
        "bottom_n": scheme.bottom_n,
        "components": [
            {"key": c.key, "points": c.points, "max": c.max_score, "parts": [[p.name, p.points] for p in c.parts]}
            for c in scheme.components
        ],
    }


def _copy(template: SchemeTemplate) -> list[SchemeComponent]:
    components = []
    for i, c in enumerate(template.definition["components"]):
        # A component without parts is scored as one figure: a single part of its own name.
        parts = c["parts"] or [{"name": c["name"], "points": c["max"]}]
        components.append(
            SchemeComponent(
                position=i,
                key=c["key"],
                name=c["name"],
                points=Decimal(c["points"]),
                max_score=Decimal(c["max"]),
                parts=[
                    SchemePart(position=j, name=p["name"], points=Decimal(p["points"])) for j, p in enumerate(parts)
                ],
            )
        )
    return components


def attach(campaign_id: int, template_id: int, actor_id: int | None) -> AppraisalScheme:
    """Give the campaign its own copy of a template (replacing an unused one)."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise SchemeError(_l("专项整治不存在"))
    template = db.session.get(SchemeTemplate, template_id)
    if template is None:
        raise SchemeError(_l("考核方案不存在"), "template")
    before = None
    scheme = scheme_for(campaign_id)
    if scheme is not None:
        if sheet_count(scheme):
            raise SchemeError(_l("已有单位评分，不能再更换考核方案"), "template")
        before = snapshot(scheme)
        db.session.delete(scheme)
        db.session.flush()
    scheme = AppraisalScheme(
        campaign_id=campaign_id,
        template_id=template.id,
        name=template.name,
        total=Decimal(template.definition["total"]),
        bottom_n=template.definition["bottom_n"],
        attached_at=clock.now(),
        attached_by_id=actor_id,
        components=_copy(template),
    )
    db.session.add(scheme)
    db.session.flush()
    audit.record(actor_id, "appraisal.attach", "campaign", campaign_id, before=before, after=snapshot(scheme))
    db.session.commit()
    return scheme


def detach(campaign_id: int, actor_id: int | None) -> None:
    """Remove a scheme no unit has been scored on (the campaign form's 不挂接考核方案)."""
    scheme = scheme_for(campaign_id)
    if scheme is None:
        return
    if sheet_count(scheme):
        raise SchemeError(_l("已有单位评分，不能取消考核方案"), "template")
    audit.record(actor_id, "appraisal.detach", "campaign", campaign_id, before=snapshot(scheme))
    db.session.delete(scheme)
    db.session.commit()


def update_settings(campaign_id: int, bottom_n: int | None, kind: str | None, actor_id: int | None) -> AppraisalScheme:
    """The interview quota per category and the campaign's kind (整治类别), fixed once the ranking is confirmed."""
    scheme = scheme_for(campaign_id)
    if scheme is None:
        raise SchemeError(_l("本专项整治尚未挂接考核方案"))
    if scheme.finalised_at is not None:
        raise SchemeError(_l("排名已确认，不能再修改考核设置"))
    if bottom_n is None or not 0 <= bottom_n <= BOTTOM_N_MAX:
        raise SchemeError(_l("约谈名额须为0到%(max)s之间的整数", max=BOTTOM_N_MAX), "bottom_n")
    campaign = db.session.get_one(Campaign, campaign_id)  # the scheme's campaign
    kind = campaign.kind if kind is None else kind.strip()
    if len(kind) > 64:
        raise SchemeError(_l("整治类别不能超过64个字"), "kind")
    before = {"bottom_n": scheme.bottom_n, "kind": campaign.kind}
    scheme.bottom_n, campaign.kind = bottom_n, kind
    audit.record(
        actor_id,
        "appraisal.settings",
        "campaign",
        campaign_id,
        before=before,
        after={"bottom_n": bottom_n, "kind": kind},
    )
    db.session.commit()
    return scheme


def appraised_campaigns() -> list[tuple[Campaign, AppraisalScheme, int, int]]:
    """Campaigns with a scheme, newest first, with their submitted and enrolled counts."""
    submitted = (
        select(func.count())
        .select_from(ScoreSheet)
        .where(ScoreSheet.scheme_id == AppraisalScheme.id, ScoreSheet.status == SheetStatus.SUBMITTED)
        .scalar_subquery()
    )
    enrolled = (
        select(func.count()).select_from(CampaignUnit).where(CampaignUnit.campaign_id == Campaign.id).scalar_subquery()
    )
    rows = db.session.execute(
        select(Campaign, AppraisalScheme, submitted, enrolled)
        .join(AppraisalScheme, AppraisalScheme.campaign_id == Campaign.id)
        .order_by(Campaign.issued_on.desc(), Campaign.id.desc())
    )
    return [tuple(r) for r in rows]


def sheet_count(scheme: AppraisalScheme | None) -> int:
    if scheme is None:
        return 0
    return db.session.scalar(select(func.count()).select_from(ScoreSheet).where(ScoreSheet.scheme_id == scheme.id)) or 0


@dataclass
class Panel:
    """What the campaign page shows about its appraisal."""

    scheme: AppraisalScheme | None
    templates: list[SchemeTemplate]
    used: bool


def panel(campaign_id: int) -> Panel:
    scheme = scheme_for(campaign_id)
    return Panel(scheme, list_templates(), sheet_count(scheme) > 0)
