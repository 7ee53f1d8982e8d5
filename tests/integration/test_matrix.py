"""The progress matrix: aggregates from instance, task and ledger rows, in a bounded number of queries."""

import itertools
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from app.extensions import db
from app.models import LedgerItem, ProcessInstance, Task
from app.services.campaigns import campaigns
from app.services.oversight import matrix
from tests.integration.test_campaigns import ensure_deployed, make_notice
from tests.support import statements_during

NOW = datetime(2026, 4, 10, 2, 0, tzinfo=UTC)


def add_instance(campaign_id, unit_id, phase, status="running"):
    inst = ProcessInstance(
        campaign_id=campaign_id,
        unit_id=unit_id,
        definition_id=ensure_deployed(),
        status=status,
        phase=phase,
        state=b"{}",
        created_at=NOW,
        updated_at=NOW,
    )
    db.session.add(inst)
    db.session.flush()
    return inst


_TASK_NUMBERS = itertools.count(1)  # unique spiff_task_id per task made here


def add_task(inst, due_at, status="ready"):
    n = next(_TASK_NUMBERS)
    db.session.add(
        Task(
            instance_id=inst.id,
            campaign_id=inst.campaign_id,
            unit_id=inst.unit_id,
            spiff_task_id=f"00000000-0000-0000-0000-{n:012d}",
            element_id="deploy",
            name="动员部署",
            role="unit_staff",
            form_key="deploy",
            phase=inst.phase,
            status=status,
            due_at=due_at,
            created_at=NOW,
        )
    )


def add_ledger(inst, seq, status):
    db.session.add(
        LedgerItem(
            instance_id=inst.id,
            campaign_id=inst.campaign_id,
            unit_id=inst.unit_id,
            seq=seq,
            title=f"问题{seq}",
            source="self_check",
            measures="整改",
            responsible_leader="张三",
            responsible_department="办公室",
            deadline=date(2026, 6, 30),
            status=status,
            created_at=NOW,
        )
    )


@pytest.fixture
def scene(ctx, make_unit):
    """Five enrolled units in different states, one unit not enrolled, and a second campaign's noise."""
    ids = {code: make_unit(code, kind="township") for code in ("T05", "T01", "T03", "T02", "T04", "T99")}
    cid = campaigns.create_campaign(make_notice(), actor_id=None).id
    other = campaigns.create_campaign(make_notice(doc_number="其他〔2026〕1号"), actor_id=None).id
    campaigns.enrol_units(cid, "codes:T01,T02,T03,T04,T05", actor_id=None)
    campaigns.enrol_units(other, "all", actor_id=None)

    t01 = add_instance(cid, ids["T01"], "deploy")
    add_task(t01, NOW - timedelta(days=1))  # overdue -> red, although the other is green
    add_task(t01, NOW + timedelta(days=20))
    add_task(t01, NOW - timedelta(days=9), status="completed")  # done: neither counted nor lit

    t02 = add_instance(cid, ids["T02"], "rectification")
    add_task(t02, NOW + timedelta(days=2))  # due soon -> yellow
    for seq, status in enumerate(["proposed", "rectifying", "rectified", "closed", "closed"], start=1):
        add_ledger(t02, seq, status)

    t03 = add_instance(cid, ids["T03"], "closed", status="completed")
    add_ledger(t03, 1, "closed")

    t04 = add_instance(cid, ids["T04"], "rectification")
    add_task(t04, None)  # no due time -> green
    # T05 enrolled but not launched yet.

    noise = add_instance(other, ids["T01"], "self_check")
    add_task(noise, NOW - timedelta(days=30))
    add_ledger(noise, 1, "rectifying")
    db.session.commit()
    return cid


def test_matrix_rows_and_aggregates(scene):
    result = matrix.progress_matrix(scene, now=NOW)
    rows = {r.unit_code: r for r in result.rows}
    assert [r.unit_code for r in result.rows] == ["T01", "T02", "T03", "T04", "T05"]

    assert (rows["T01"].phase, rows["T01"].open_tasks, rows["T01"].light) == ("deploy", 2, "red")
    assert (rows["T01"].ledger_open, rows["T01"].ledger_closed) == (0, 0)  # the other campaign's item is not here
    assert (rows["T02"].phase, rows["T02"].open_tasks, rows["T02"].light) == ("rectification", 1, "yellow")
    assert (rows["T02"].ledger_open, rows["T02"].ledger_closed) == (2, 2)  # "proposed" is not yet a ledger item
    assert (rows["T03"].phase, rows["T03"].status, rows["T03"].open_tasks, rows["T03"].light) == (
        "closed",
        "completed",
        0,
        None,
    )
    assert rows["T03"].ledger_closed == 1
    assert (rows["T04"].light, rows["T04"].open_tasks) == ("green", 1)
    assert (rows["T05"].instance_id, rows["T05"].phase) == (None, None)

    assert result.total == 5
    assert result.not_started == 1
    assert result.phase_counts == {
        "deploy": 1,
        "self_check": 0,
        "rectification": 2,
        "assessment": 0,
        "follow_up": 0,
        "closed": 1,
    }
    assert result.light_counts == {"red": 1, "yellow": 1, "green": 1}


def test_matrix_pages_keep_campaign_wide_counts(scene):
    page2 = matrix.progress_matrix(scene, page=2, per_page=2, now=NOW)
    assert [r.unit_code for r in page2.rows] == ["T03", "T04"]
    assert page2.pages == 3
    assert page2.rows[1].open_tasks == 1
    assert page2.phase_counts["rectification"] == 2  # counts cover the whole campaign, not the page


def test_matrix_query_count_does_not_grow_with_units(scene, make_unit):
    """A handful of GROUP BY queries whatever the number of units; never one per unit."""

    def count_queries():
        return statements_during(lambda: matrix.progress_matrix(scene, now=NOW))

    few = count_queries()
    for i in range(30):
        make_unit(f"X{i:03d}", kind="township")
    campaigns.enrol_units(scene, "all", actor_id=None)
    assert count_queries() == few <= 6


def test_matrix_page_shows_units_phases_and_counts(scene, login_as):
    with time_machine.travel(NOW, tick=False):
        # Logged in at NOW: a session cookie signed later than the clock reads is refused.
        supervisor = login_as("supervisor")
        resp = supervisor.get(f"/admin/campaigns/{scene}/matrix")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    for code in ("T01", "T02", "T03", "T04", "T05"):
        assert f'data-unit="{code}"' in html
    assert "T99" not in html
    assert 'aria-current="step"' in html
    assert "light-red" in html and "light-yellow" in html
    assert re.search(r'data-phase="rectification" href="[^"]*"><strong>2</strong>', html)


def test_matrix_page_hidden_from_unit_staff(scene, make_unit, login_as):
    staff = login_as("unit_staff", unit_id=make_unit("T50"))
    assert staff.get(f"/admin/campaigns/{scene}/matrix").status_code in (403, 404)


def test_matrix_drills_down_by_phase_light_and_unit_filter(scene, ctx):
    from app.models import Unit
    from app.services.accounts.unit_filter import UnitFilter

    def codes(**kw):
        result = matrix.progress_matrix(scene, now=NOW, per_page=200, **kw)
        return [r.unit_code for r in result.rows], result.matched

    assert codes(phase="rectification") == (["T02", "T04"], 2)
    assert codes(light_name="red") == (["T01"], 1)
    assert codes(phase="rectification", light_name="green") == (["T04"], 1)
    assert codes(phase="not_started") == (["T05"], 1)
    assert codes(light_name="none") == (["T03", "T05"], 2)
    assert codes(phase="bogus", light_name="purple") == (["T01", "T02", "T03", "T04", "T05"], None)
    db.session.query(Unit).filter(Unit.code.in_(["T02", "T03"])).update({"lead_department": "县委办"})
    db.session.commit()
    narrowed = matrix.progress_matrix(scene, now=NOW, units=UnitFilter(lead_department="县委办"))
    assert [r.unit_code for r in narrowed.rows] == ["T02", "T03"]
    assert (narrowed.total, narrowed.phase_counts["rectification"], narrowed.light_counts["yellow"]) == (2, 1, 1)
