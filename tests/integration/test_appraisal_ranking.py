"""Ranking per unit category, bottom-N with ties, confirming the ranking, the written self-examination
for a unit flagged in two consecutive campaigns of one kind, and interview records."""

from datetime import date

import pytest
import time_machine

from app.extensions import db
from app.models import AuditEvent, Campaign, Interview, SelfExamination
from app.services.appraisal import appraisal_schemes, interviews, ranking
from app.services.appraisal.interviews import InterviewError, InterviewInput

from .appraisal_support import appraised_campaign, submit_total


@pytest.fixture
def people(ctx, make_user):
    return make_user("assessor"), make_user("admin")


def _units(make_unit, kinds: dict[str, str]) -> dict[str, int]:
    return {code: make_unit(code, kind=kind) for code, kind in kinds.items()}


def _score(campaign_id, units, totals, assessor):
    for code, total in totals.items():
        submit_total(campaign_id, units[code], total, assessor)


def _table(result):
    return {
        c.kind: [(r.unit.code, r.place.rank, r.place.tied, r.place.flagged) for r in c.rows] for c in result.categories
    }


def test_ranking_is_per_category_with_ties_and_bottom_n_at_the_boundary(people, make_unit):
    assessor, _ = people
    units = _units(
        make_unit,
        {
            "T1": "township",
            "T2": "township",
            "T3": "township",
            "T4": "township",
            "T5": "township",
            "D1": "department",
            "D2": "department",
            "D3": "department",
            "X1": "other",
        },
    )
    campaign_id = appraised_campaign(list(units.values()))
    _score(
        campaign_id, units, {"T1": 98, "T2": 95, "T3": 93, "T4": 93, "T5": 97, "D1": 96, "D2": 99, "D3": 91}, assessor
    )
    result = ranking.campaign_ranking(campaign_id)
    # Townships: T3 and T4 tie for 4th (并列) and share the line, so both are flagged; T2 is not.
    assert _table(result) == {
        "township": [
            ("T1", 1, False, False),
            ("T5", 2, False, False),
            ("T2", 3, False, False),
            ("T3", 4, True, True),
            ("T4", 4, True, True),
        ],
        "department": [("D2", 1, False, False), ("D1", 2, False, True), ("D3", 3, False, True)],
    }
    assert [u.code for u, _ in result.unscored] == ["X1"] and not result.complete
    # With N = 1 the line is still 93: both tied units are flagged, two for one place.
    appraisal_schemes.update_settings(campaign_id, 1, None, None)
    township = _table(ranking.campaign_ranking(campaign_id))["township"]
    assert [code for code, _, _, flagged in township if flagged] == ["T3", "T4"]


def test_totals_equal_to_the_cent_tie_and_are_ordered_by_code(people, make_unit):
    assessor, _ = people
    units = _units(make_unit, {"T2": "township", "T1": "township", "T3": "township"})
    campaign_id = appraised_campaign(list(units.values()))
    _score(campaign_id, units, {"T2": "96.5", "T1": "96.5", "T3": "96.25"}, assessor)
    assert _table(ranking.campaign_ranking(campaign_id))["township"] == [
        ("T1", 1, True, True),
        ("T2", 1, True, True),
        ("T3", 3, False, True),
    ]


def test_finalise_needs_every_sheet_then_stores_ranks_and_is_audited(people, make_unit):
    assessor, admin = people
    units = _units(make_unit, {"T1": "township", "T2": "township", "T3": "township"})
    campaign_id = appraised_campaign(list(units.values()))
    _score(campaign_id, units, {"T1": 99, "T2": 90}, assessor)
    with pytest.raises(ranking.RankingError, match="还有1个单位"):
        ranking.finalise(campaign_id, admin)
    _score(campaign_id, units, {"T3": 95}, assessor)
    ranking.finalise(campaign_id, admin)
    assert ranking.flagged_units(campaign_id) == {units["T2"], units["T3"]}
    with pytest.raises(ranking.RankingError, match="已确认"):
        ranking.finalise(campaign_id, admin)
    event = db.session.query(AuditEvent).filter_by(action="appraisal.finalise").one()
    assert event.actor_id == admin and event.after["flagged"] == ["T3", "T2"]


def _campaign_with_flags(units, assessor, admin, doc, kind, starts, totals):
    campaign_id = appraised_campaign([units[c] for c in totals], doc=doc, kind=kind, starts=starts)
    appraisal_schemes.update_settings(campaign_id, 1, None, admin)
    _score(campaign_id, units, totals, assessor)
    ranking.finalise(campaign_id, admin)
    return campaign_id


def test_flagged_in_two_consecutive_campaigns_of_a_kind_owes_a_self_examination(people, make_unit):
    assessor, admin = people
    units = _units(make_unit, {"T1": "township", "T2": "township", "T3": "township"})
    low_t3 = {"T1": 99, "T2": 95, "T3": 90}
    _campaign_with_flags(units, assessor, admin, "甲〔2024〕1号", "形象工程整治", date(2024, 3, 1), low_t3)
    # A campaign of another kind in between does not break the run, and does not count.
    _campaign_with_flags(units, assessor, admin, "乙〔2024〕2号", "违规建房整治", date(2024, 9, 1), low_t3)
    second = _campaign_with_flags(
        units, assessor, admin, "甲〔2025〕1号", "形象工程整治", date(2025, 3, 1), {"T1": 99, "T2": 92, "T3": 91}
    )
    # Flagged in 2025 (T3 is lowest again) and in 2024 of the same kind: marked; T2 was never flagged.
    result = ranking.campaign_ranking(second)
    assert result.previous.doc_number == "甲〔2024〕1号"
    marks = {r.unit.code: r.self_examination for c in result.categories for r in c.rows}
    assert marks == {"T1": False, "T2": False, "T3": True}
    record = db.session.query(SelfExamination).one()
    assert (record.campaign_id, record.unit_id, record.status) == (second, units["T3"], "required")
    assert record.previous_campaign_id == result.previous.id


def test_not_marked_when_not_consecutive_or_of_another_kind(people, make_unit):
    assessor, admin = people
    units = _units(make_unit, {"T1": "township", "T2": "township"})
    t2_low, t1_low = {"T1": 99, "T2": 90}, {"T1": 90, "T2": 99}
    _campaign_with_flags(units, assessor, admin, "甲〔2023〕1号", "形象工程整治", date(2023, 3, 1), t2_low)
    _campaign_with_flags(units, assessor, admin, "甲〔2024〕1号", "形象工程整治", date(2024, 3, 1), t1_low)
    # T2 flagged in 2023 and 2025 but not 2024: not consecutive.
    _campaign_with_flags(units, assessor, admin, "甲〔2025〕1号", "形象工程整治", date(2025, 3, 1), t2_low)
    # Flagged in 2025 (甲) and then in a campaign of another kind: not the same kind.
    _campaign_with_flags(units, assessor, admin, "乙〔2025〕1号", "违规建房整治", date(2025, 9, 1), t2_low)
    # No kind at all: never compared.
    _campaign_with_flags(units, assessor, admin, "丙〔2025〕1号", "", date(2025, 10, 1), t2_low)
    _campaign_with_flags(units, assessor, admin, "丙〔2025〕2号", "", date(2025, 11, 1), t2_low)
    assert db.session.query(SelfExamination).count() == 0


def test_order_is_by_start_date_not_by_creation(people, make_unit):
    assessor, admin = people
    units = _units(make_unit, {"T1": "township", "T2": "township"})
    t2_low = {"T1": 99, "T2": 90}
    later = _campaign_with_flags(units, assessor, admin, "甲〔2025〕1号", "形象工程整治", date(2025, 3, 1), t2_low)
    # Entered afterwards but started earlier: it is the previous one, and finalising it marks nothing.
    earlier = _campaign_with_flags(units, assessor, admin, "甲〔2024〕1号", "形象工程整治", date(2024, 3, 1), t2_low)
    assert ranking.previous_campaign(db.session.get(Campaign, later)).id == earlier
    assert db.session.query(SelfExamination).count() == 0
    # Shown live on the later campaign's ranking, now that the earlier one is confirmed.
    rows = ranking.campaign_ranking(later).categories[0].rows
    assert [(r.unit.code, r.self_examination) for r in rows] == [("T1", False), ("T2", True)]


VALID = dict(
    held_on=date(2026, 11, 20),
    leader_interviewed="张镇长",
    interviewer="县纪委副书记李四",
    minutes="指出排名靠后的原因，提出整改要求。",
    follow_up_actions="一个月内报送整改方案",
)


def test_interview_records_crud(people, make_unit):
    assessor, admin = people
    units = _units(make_unit, {"T1": "township", "T2": "township", "T3": "township"})
    campaign_id = appraised_campaign(list(units.values()))
    _score(campaign_id, units, {"T1": 99, "T2": 98, "T3": 80}, assessor)
    appraisal_schemes.update_settings(campaign_id, 1, None, admin)
    with time_machine.travel(date(2026, 11, 22)):
        with pytest.raises(InterviewError, match="已确认排名"):
            interviews.create(campaign_id, units["T3"], InterviewInput(**VALID), admin)
        ranking.finalise(campaign_id, admin)
        with pytest.raises(InterviewError, match="列入约谈"):
            interviews.create(campaign_id, units["T1"], InterviewInput(**VALID), admin)
        with pytest.raises(InterviewError) as exc:
            interviews.create(
                campaign_id,
                units["T3"],
                InterviewInput(
                    held_on=date(2026, 12, 1),
                    leader_interviewed=" ",
                    interviewer="x" * 129,
                    minutes="",
                    follow_up_status="bogus",
                ),
                admin,
            )
        assert exc.value.errors == {
            "held_on": "约谈日期不能晚于今天",
            "leader_interviewed": "请填写被约谈领导",
            "interviewer": "约谈人不能超过128字",
            "minutes": "请填写约谈记录",
            "follow_up_status": "请选择整改落实情况",
        }
        created = interviews.create(campaign_id, units["T3"], InterviewInput(**VALID), admin)
        assert interviews.for_campaign(campaign_id) == {units["T3"]: [created]}
        updated = interviews.update(created.id, InterviewInput(**{**VALID, "follow_up_status": "done"}), admin)
        assert updated.follow_up_status == "done"
        assert interviews.delete(created.id, admin) == campaign_id
    assert db.session.query(Interview).count() == 0
    actions = [
        a
        for (a,) in db.session.query(AuditEvent.action)
        .filter(AuditEvent.entity_type == "interview")
        .order_by(AuditEvent.id)
    ]
    assert actions == ["interview.create", "interview.update", "interview.delete"]
    deleted = db.session.query(AuditEvent).filter_by(action="interview.delete").one()
    assert deleted.before["leader_interviewed"] == "张镇长"


def test_self_examination_record_is_kept(people, make_unit):
    assessor, admin = people
    units = _units(make_unit, {"T1": "township", "T2": "township"})
    t2_low = {"T1": 99, "T2": 90}
    _campaign_with_flags(units, assessor, admin, "甲〔2024〕1号", "形象工程整治", date(2024, 3, 1), t2_low)
    _campaign_with_flags(units, assessor, admin, "甲〔2025〕1号", "形象工程整治", date(2025, 3, 1), t2_low)
    record = db.session.query(SelfExamination).one()
    with pytest.raises(InterviewError) as exc:
        interviews.record_self_examination(record.id, "received", None, "", admin)
    assert exc.value.errors == {"received_on": "请填写收到日期"}
    interviews.record_self_examination(record.id, "received", date(2025, 6, 1), "已报市政府", admin)
    assert (record.status, record.received_on, record.note) == ("received", date(2025, 6, 1), "已报市政府")
    assert db.session.query(AuditEvent).filter_by(action="self_examination.update").count() == 1
