"""Builders for appraisal tests: a campaign with the shipped scheme, sheets scored to a chosen total."""

from datetime import date
from decimal import Decimal

from app import clock
from app.extensions import db
from app.models import Campaign, CampaignPhase, CampaignUnit
from app.services.appraisal import appraisal_schemes, score_sheets
from app.services.appraisal.score_sheets import SheetInput


def template_id() -> int:
    loaded = {t.key: t for t, _ in appraisal_schemes.load_templates()}
    return loaded["conduct-appraisal"].id


def appraised_campaign(
    unit_ids, doc="测政发〔2026〕1号", kind="形象工程整治", starts=date(2026, 1, 1), actor_id=None
) -> int:
    campaign = Campaign(
        doc_number=doc,
        issuer="测试县人民政府办公室",
        issued_on=starts,
        title=f"专项整治{doc}",
        body="",
        created_at=clock.now(),
        ladder={},
        kind=kind,
    )
    campaign.phases.append(CampaignPhase(key="deploy", name="动员部署", position=0, starts=starts, ends=starts))
    db.session.add(campaign)
    db.session.flush()
    for unit_id in unit_ids:
        db.session.add(CampaignUnit(campaign_id=campaign.id, unit_id=unit_id))
    db.session.commit()
    appraisal_schemes.attach(campaign.id, template_id(), actor_id)
    return campaign.id


def full_marks(scheme) -> dict:
    return {p.id: (f"{p.points}", "") for c in scheme.components for p in c.parts}


def values_for_total(scheme, total) -> SheetInput:
    """Full marks less the difference, taken off the parts in order (the 100-point scheme is unscaled)."""
    scores = full_marks(scheme)
    off = Decimal(100) - Decimal(str(total))
    for part in (p for c in scheme.components for p in c.parts):
        if off <= 0:
            break
        take = min(off, part.points)
        scores[part.id] = (str(part.points - take), "测评得分偏低")
        off -= take
    return SheetInput(scores=scores)


def submit_total(campaign_id: int, unit_id: int, total, actor_id: int):
    scheme = appraisal_schemes.scheme_for(campaign_id)
    return score_sheets.save(campaign_id, unit_id, values_for_total(scheme, total), actor_id, submit=True)
