"""Ranking within each unit category, the bottom N flagged for an interview (约谈), and the written
self-examination (书面检查) owed by a unit flagged in two consecutive campaigns of one kind.

Ties: units with equal totals share a rank (1, 2, 2, 4) and are shown as 并列. The bottom N is the set
of units whose total is at or below the N-th lowest total of the category, so when units tie at that
line all of them are flagged, and a category may have more than N flagged units.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from app import clock
from app.extensions import db
from app.i18n import _l
from app.models import AppraisalScheme, Campaign, CampaignUnit, ScoreSheet, SelfExamination, Unit
from app.services.accounts.units import KIND_LABELS
from app.services.appraisal.appraisal_schemes import scheme_for
from app.services.shared import audit
from app.services.shared.input_errors import InputError

KIND_ORDER = ("township", "department", "district", "other")


class RankingError(InputError):
    """The ranking cannot be confirmed yet (or is confirmed already)."""

    status = 409
    code = "ranking_refused"


@dataclass
class Place:
    rank: int
    tied: bool
    flagged: bool


def rank_totals(totals: list[Decimal], bottom_n: int) -> list[Place]:
    """Competition ranking (equal totals share the better rank) and bottom-N flags, in input order."""
    descending = sorted(totals, reverse=True)
    first_at: dict[Decimal, int] = {}
    counts: dict[Decimal, int] = {}
    for i, total in enumerate(descending):
        first_at.setdefault(total, i)
        counts[total] = counts.get(total, 0) + 1
    # The N-th lowest total; a category of N units or fewer is flagged whole.
    line = descending[max(len(descending) - bottom_n, 0)] if bottom_n > 0 and descending else None
    return [Place(rank=first_at[t] + 1, tied=counts[t] > 1, flagged=line is not None and t <= line) for t in totals]


def submitted_total(sheet: ScoreSheet) -> Decimal:
    """The total of a submitted sheet (saving a sheet stores its total, so a submitted one has it)."""
    assert sheet.total is not None, f"score sheet {sheet.id} has no total"
    return sheet.total


@dataclass
class Row:
    unit: Unit
    sheet: ScoreSheet
    place: Place
    self_examination: bool = False


@dataclass
class Category:
    kind: str
    label: str
    rows: list[Row] = field(default_factory=list)


@dataclass
class Ranking:
    campaign: Campaign
    scheme: AppraisalScheme
    categories: list[Category]
    unscored: list[tuple[Unit, ScoreSheet | None]]
    previous: Campaign | None

    @property
    def complete(self) -> bool:
        return not self.unscored and any(c.rows for c in self.categories)


def starts_on(campaign: Campaign) -> date:
    """When a campaign starts: its first phase, or the notice's date if it has none."""
    return min((p.starts for p in campaign.phases), default=campaign.issued_on)


def previous_campaign(campaign: Campaign) -> Campaign | None:
    """The campaign of the same kind that started last before this one (none without a kind)."""
    if not (campaign.kind or "").strip():
        return None
    others = db.session.scalars(select(Campaign).where(Campaign.kind == campaign.kind, Campaign.id != campaign.id))
    key = (starts_on(campaign), campaign.id)
    earlier = [c for c in others if (starts_on(c), c.id) < key]
    return max(earlier, key=lambda c: (starts_on(c), c.id), default=None)


def flagged_units(campaign_id: int) -> set[int]:
    """Units flagged when that campaign's ranking was confirmed (empty until it is)."""
    scheme = scheme_for(campaign_id)
    if scheme is None or scheme.finalised_at is None:
        return set()
    return set(
        db.session.scalars(
            select(ScoreSheet.unit_id).where(ScoreSheet.scheme_id == scheme.id, ScoreSheet.flagged.is_(True))
        )
    )


def campaign_ranking(campaign_id: int) -> Ranking:
    """Submitted sheets ranked per category; units without a submitted sheet listed apart."""
    campaign = db.session.get(Campaign, campaign_id)
    scheme = scheme_for(campaign_id)
    if campaign is None or scheme is None:
        raise RankingError(_l("本专项整治尚未挂接考核方案"))
    enrolled = list(
        db.session.scalars(
            select(Unit)
            .join(CampaignUnit, CampaignUnit.unit_id == Unit.id)
            .where(CampaignUnit.campaign_id == campaign_id)
            .order_by(Unit.code)
        )
    )
    sheets = {s.unit_id: s for s in db.session.scalars(select(ScoreSheet).where(ScoreSheet.scheme_id == scheme.id))}
    previous = previous_campaign(campaign)
    repeat = flagged_units(previous.id) if previous else set()
    by_kind: dict[str, list[Unit]] = {}
    unscored: list[tuple[Unit, ScoreSheet | None]] = []
    for unit in enrolled:
        sheet = sheets.get(unit.id)
        if sheet is None or sheet.status != "submitted":
            unscored.append((unit, sheet))
        else:
            by_kind.setdefault(unit.kind, []).append(unit)
    categories: list[Category] = []
    for kind in sorted(by_kind, key=lambda k: (KIND_ORDER.index(k) if k in KIND_ORDER else len(KIND_ORDER), k)):
        units = by_kind[kind]
        places = rank_totals([submitted_total(sheets[u.id]) for u in units], scheme.bottom_n)
        rows = [Row(u, sheets[u.id], p, p.flagged and u.id in repeat) for u, p in zip(units, places, strict=True)]
        # Deterministic order: total (desc), then unit code.
        rows.sort(key=lambda r: (r.place.rank, r.unit.code))
        categories.append(Category(kind, KIND_LABELS.get(kind, kind), rows))
    return Ranking(campaign, scheme, categories, unscored, previous)


def finalise(campaign_id: int, actor_id: int) -> Ranking:
    """Confirm the ranking: store ranks and flags, and mark repeat laggards for a written self-examination."""
    ranking = campaign_ranking(campaign_id)
    scheme = ranking.scheme
    if scheme.finalised_at is not None:
        raise RankingError(_l("排名已确认"))
    if ranking.unscored:
        raise RankingError(_l("还有%(n)s个单位的评分表未提交，不能确认排名", n=len(ranking.unscored)))
    if not ranking.complete:
        raise RankingError(_l("尚无已提交的评分表"))
    now = clock.now()
    marked = []
    for category in ranking.categories:
        for row in category.rows:
            row.sheet.rank, row.sheet.flagged = row.place.rank, row.place.flagged
            if row.self_examination:
                assert ranking.previous is not None  # flagged twice: in this campaign and the previous one
                db.session.add(
                    SelfExamination(
                        campaign_id=campaign_id,
                        unit_id=row.unit.id,
                        previous_campaign_id=ranking.previous.id,
                        status="required",
                        note="",
                        created_at=now,
                        updated_at=now,
                    )
                )
                marked.append(row.unit.code)
    scheme.finalised_at, scheme.finalised_by_id = now, actor_id
    audit.record(
        actor_id,
        "appraisal.finalise",
        "campaign",
        campaign_id,
        after={
            "flagged": [r.unit.code for c in ranking.categories for r in c.rows if r.place.flagged],
            "self_examination": marked,
            "previous_campaign_id": ranking.previous.id if ranking.previous else None,
        },
    )
    db.session.commit()
    return ranking
