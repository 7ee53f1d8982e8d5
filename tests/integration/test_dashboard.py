"""The campaign dashboard: exact figures for a small known campaign, its filters, the lists each
figure drills down to, and who may see it."""

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest

from app.extensions import db
from app.models import Campaign, Escalation, LedgerItem, Task, Unit
from app.services.accounts.unit_filter import UnitFilter
from app.services.campaigns import campaigns
from app.services.oversight import dashboard, dashboard_lists
from tests.integration.test_campaigns import make_notice
from tests.integration.test_matrix import add_instance
from tests.support import statements_during

# Friday 2026-04-10, 10:00 in Beijing.
NOW = datetime(2026, 4, 10, 2, 0, tzinfo=UTC)
ALL = UnitFilter()
TOWNSHIPS = UnitFilter(kind="township")
GOV_OFFICE = UnitFilter(lead_department="县政府办")


_TASK_NUMBERS = itertools.count(1)  # unique spiff_task_id per task made here


def add_task(inst, due_at, status="ready", completed_at=None, role="unit_staff", name="事项"):
    n = next(_TASK_NUMBERS)
    task = Task(
        instance_id=inst.id,
        campaign_id=inst.campaign_id,
        unit_id=inst.unit_id,
        spiff_task_id=f"00000000-0000-0000-0001-{n:012d}",
        element_id=f"step{n}",
        name=name,
        role=role,
        form_key="deploy",
        phase=inst.phase,
        status=status,
        due_at=due_at,
        created_at=NOW - timedelta(days=40),
        completed_at=completed_at,
    )
    db.session.add(task)
    db.session.flush()
    return task


def add_item(inst, seq, source, status):
    db.session.add(
        LedgerItem(
            instance_id=inst.id,
            campaign_id=inst.campaign_id,
            unit_id=inst.unit_id,
            seq=seq,
            title=f"问题{inst.unit_id}-{seq}",
            source=source,
            measures="整改",
            responsible_leader="张三",
            responsible_department="办公室",
            deadline=date(2026, 6, 30),
            status=status,
            created_at=NOW,
        )
    )


def add_escalation(task, level, status):
    db.session.add(
        Escalation(
            instance_id=task.instance_id,
            campaign_id=task.campaign_id,
            unit_id=task.unit_id,
            task_id=task.id,
            spiff_task_id=task.spiff_task_id,
            element_id=task.element_id,
            level=level,
            due_at=task.due_at,
            fired_at=NOW - timedelta(days=1),
            status=status,
        )
    )


@pytest.fixture
def scene(ctx, make_unit):
    return build_scene(make_unit)


def build_scene(make_unit) -> int:
    """T01 in deploy with an overdue step; T02 in rectification, due soon, with a ledger; D01 closed; D02 not
    started; T09 not enrolled; and a second campaign's noise everywhere."""
    ids = {
        code: make_unit(code, kind=kind)
        for code, kind in (
            ("T01", "township"),
            ("T02", "township"),
            ("D01", "department"),
            ("D02", "department"),
            ("T09", "township"),
        )
    }
    for code, lead in (("T01", "县政府办"), ("T02", "县委办"), ("D01", "县政府办"), ("T09", "县政府办")):
        db.session.get(Unit, ids[code]).lead_department = lead
    cid = campaigns.create_campaign(make_notice(), actor_id=None).id
    other = campaigns.create_campaign(make_notice(doc_number="其他〔2026〕1号"), actor_id=None).id
    campaigns.enrol_units(cid, "codes:T01,T02,D01,D02", actor_id=None)
    campaigns.enrol_units(other, "all", actor_id=None)
    for campaign_id in (cid, other):
        db.session.get(Campaign, campaign_id).status = "launched"

    t01 = add_instance(cid, ids["T01"], "deploy")
    overdue = add_task(t01, NOW - timedelta(days=3), name="逾期未办")  # overdue since 04-07
    add_task(t01, NOW - timedelta(days=10), "completed", NOW - timedelta(days=5), name="逾期后办结")  # 03-31 .. 04-04
    add_task(t01, NOW - timedelta(days=2), "completed", NOW - timedelta(days=4))  # done on time
    add_task(t01, NOW - timedelta(days=6), "cancelled")  # cancelled steps are left out
    add_task(t01, NOW + timedelta(hours=2))  # due later today: not overdue yet
    add_task(t01, NOW + timedelta(days=20))
    add_task(t01, NOW - timedelta(days=8), role="supervisor")  # the supervisor's own work is not a unit's step

    t02 = add_instance(cid, ids["T02"], "rectification")
    soon = add_task(t02, NOW + timedelta(days=1))
    for seq, (source, status) in enumerate(
        [
            ("residents", "rectifying"),
            ("residents", "closed"),
            ("supervision", "rectified"),
            ("self_check", "proposed"),
            ("tip_off", "closed"),
        ],
        start=1,
    ):
        add_item(t02, seq, source, status)

    d01 = add_instance(cid, ids["D01"], "closed", status="completed")
    add_item(d01, 1, "residents", "closed")

    add_escalation(overdue, "reminder", "done")
    add_escalation(overdue, "letter", "pending")
    add_escalation(soon, "reminder", "incident")

    noise = add_instance(other, ids["T01"], "deploy")
    noisy = add_task(noise, NOW - timedelta(days=20))
    add_item(noise, 1, "residents", "closed")
    add_escalation(noisy, "notice", "done")
    db.session.commit()
    return cid


def test_units_by_phase_and_light(scene):
    data = dashboard.units_by_phase(scene, ALL, 3, NOW)
    assert data["phases"] == [
        "not_started",
        "deploy",
        "self_check",
        "rectification",
        "assessment",
        "follow_up",
        "closed",
    ]
    assert data["counts"] == {
        "red": [0, 1, 0, 0, 0, 0, 0],
        "yellow": [0, 0, 0, 1, 0, 0, 0],
        "green": [0] * 7,
        "none": [1, 0, 0, 0, 0, 0, 1],
    }
    assert data["totals"] == [1, 1, 0, 1, 0, 0, 1]
    assert dashboard.units_by_phase(scene, TOWNSHIPS, 3, NOW)["totals"] == [0, 1, 0, 1, 0, 0, 0]
    assert dashboard.units_by_phase(scene, GOV_OFFICE, 3, NOW)["totals"] == [0, 1, 0, 0, 0, 0, 1]


def test_overdue_series_counts_each_day(scene):
    data = dashboard.overdue_series(scene, ALL, NOW)
    assert len(data["days"]) == 30 and data["days"][-1] == "2026-04-10" and data["days"][0] == "2026-03-12"
    by_day = dict(zip(data["days"], data["counts"], strict=True))
    assert [by_day[f"2026-03-{d}"] for d in (29, 30, 31)] == [0, 0, 1]
    assert [by_day[f"2026-04-0{d}"] for d in range(1, 10)] == [1, 1, 1, 1, 0, 0, 1, 1, 1]
    assert by_day["2026-04-10"] == 1
    assert set(dashboard.overdue_series(scene, UnitFilter(kind="department"), NOW)["counts"]) == {0}


def test_overdue_list_is_the_steps_behind_a_day(scene):
    def names(day):
        return [t.name for t in dashboard_lists.overdue_on(scene, ALL, day, NOW).rows]

    assert names(date(2026, 4, 2)) == ["逾期后办结"]
    assert names(date(2026, 4, 5)) == []
    assert names(date(2026, 4, 8)) == ["逾期未办"]
    assert names(date(2026, 4, 10)) == ["逾期未办"]


def test_ledger_by_source_and_status(scene):
    data = dashboard.ledger_by_source(scene, ALL)
    assert data["sources"] == ["residents", "service_users", "self_check", "supervision", "tip_off"]
    assert data["counts"] == {"rectifying": [1, 0, 0, 0, 0], "rectified": [0, 0, 0, 1, 0], "closed": [2, 0, 0, 0, 1]}
    assert dashboard.ledger_by_source(scene, UnitFilter(kind="department"))["counts"]["closed"] == [1, 0, 0, 0, 0]
    items = dashboard_lists.ledger_items(scene, ALL, source="residents", status="closed")
    assert items.total == 2 and {i.unit.code for i in items.rows} == {"T02", "D01"}


def test_escalations_by_level(scene):
    data = dashboard.escalations_by_level(scene, ALL)
    assert data["levels"] == ["reminder", "letter", "notice"]
    none = [0, 0, 0]
    assert data["counts"] == {
        "pending": [0, 1, 0],
        "done": [1, 0, 0],
        "incident": [1, 0, 0],
        "cancelled": none,
        "withdrawn": none,
    }
    assert dashboard.escalations_by_level(scene, UnitFilter(lead_department="县委办"))["counts"] == {
        "pending": none,
        "done": none,
        "incident": [1, 0, 0],
        "cancelled": none,
        "withdrawn": none,
    }


def test_progress_ranking(scene):
    lagging = dashboard.progress_ranking(scene, ALL)["rows"]
    assert [(r["code"], r["progress"]) for r in lagging] == [("D02", 0.0), ("T01", 0.0), ("T02", 50.0), ("D01", 100.0)]
    assert lagging[0]["phase"] == "not_started" and lagging[0]["instance_id"] is None
    leading = dashboard.progress_ranking(scene, ALL, lagging=False)["rows"]
    assert [r["code"] for r in leading] == ["D01", "T02", "D02", "T01"]
    assert [r["code"] for r in dashboard.progress_ranking(scene, TOWNSHIPS, limit=1)["rows"]] == ["T01"]


def test_figures_take_a_fixed_number_of_queries(scene, make_unit):
    def figures():
        dashboard.units_by_phase(scene, TOWNSHIPS, 3, NOW)
        dashboard.overdue_series(scene, TOWNSHIPS, NOW)
        dashboard.ledger_by_source(scene, TOWNSHIPS)
        dashboard.escalations_by_level(scene, TOWNSHIPS)
        dashboard.progress_ranking(scene, TOWNSHIPS)

    def count_queries():
        return statements_during(figures)

    few = count_queries()
    for i in range(20):
        make_unit(f"X{i:03d}", kind="township")
    campaigns.enrol_units(scene, "all", actor_id=None)
    assert count_queries() == few == 5
