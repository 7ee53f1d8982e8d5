"""The audit trail viewer per campaign and per instance: scope, filters, paging, readable changes,
exports, and who may see which trail."""

import csv
import io
from datetime import UTC, date, datetime

import time_machine
from openpyxl import load_workbook

from app.extensions import db
from app.models import AuditEvent, LedgerItem, User
from app.services.campaigns import launch
from app.services.shared import audit
from tests.integration.ledger_world import add_finding, sheet_rows
from tests.support import make_campaign


def _events(html: str) -> int:
    return html.count("data-event=")


def test_campaign_trail_holds_this_campaigns_events_only(ledger_world, login_as, app, make_unit):
    w = ledger_world
    with app.app_context():
        other_campaign = make_campaign([w["unit"]], doc_number="测政发〔2026〕9号")
        launch.launch_all(other_campaign, None)
        audit.record(None, "campaign.update", "campaign", other_campaign, after={"title": "别的专项"})
        db.session.commit()
        ours = db.session.query(AuditEvent).count()
    sup = login_as("supervisor", username="sup2")
    html = sup.get(f"/audit/campaigns/{w['campaign']}").get_data(as_text=True)
    assert "别的专项" not in html
    for action in ("ledger.create", "task.complete", "ledger.status", "instance.advance"):
        assert f'data-action="{action}"' in html, action
    # Readable: the action and the fields in words, codes translated.
    assert "新增整改事项" in html and "整改状态变更" in html
    assert "<del>正在整改</del> → <ins>已整改待核查</ins>" in html
    other_html = sup.get(f"/audit/campaigns/{other_campaign}").get_data(as_text=True)
    assert "别的专项" in other_html and "路灯工程超标" not in other_html
    assert ours > 0


def test_filters_actor_action_entity_unit_and_dates(ledger_world, login_as, app):
    w = ledger_world
    with time_machine.travel(datetime(2026, 12, 20, 2, tzinfo=UTC), tick=False):
        add_finding(
            w["app"],
            w["supervisor"],
            w["other_instance"],
            {
                "title": "白仓镇问题",
                "source": "residents",
                "measures": "整改",
                "responsible_leader": "赵六",
                "responsible_department": "办公室",
                "deadline": "2027-03-31",
            },
        )
    sup = login_as("supervisor", username="sup2")
    url = f"/audit/campaigns/{w['campaign']}"
    by_action = sup.get(f"{url}?action=ledger.create").get_data(as_text=True)
    assert by_action.count('data-action="ledger.create"') == _events(by_action) == 4
    by_unit = sup.get(f"{url}?unit={w['other']}").get_data(as_text=True)
    assert "白仓镇问题" in by_unit and "路灯工程超标" not in by_unit
    by_actor = sup.get(f"{url}?actor={w['staff']}").get_data(as_text=True)
    with app.app_context():
        staff_events = db.session.query(AuditEvent).filter_by(actor_id=w["staff"]).count()
    assert _events(by_actor) == staff_events and "测试unit_staff" in by_actor
    by_entity = sup.get(f"{url}?entity=ledger_item").get_data(as_text=True)
    assert 'data-action="task.complete"' not in by_entity and 'data-action="ledger.create"' in by_entity
    # Dates are local days: the finding was made on 20 December (Beijing time).
    on_day = sup.get(f"{url}?from=2026-12-20&to=2026-12-20").get_data(as_text=True)
    assert "白仓镇问题" in on_day and "路灯工程超标" not in on_day
    assert "白仓镇问题" not in sup.get(f"{url}?to=2026-12-19").get_data(as_text=True)
    assert sup.get(f"{url}?from=garbage&actor=x&page=-3").status_code == 200


def test_paging(ledger_world, login_as, app):
    w = ledger_world
    with app.app_context():
        item = db.session.query(LedgerItem).filter_by(id=w["finding"]).one()
        for n in range(60):
            audit.record(
                w["supervisor"],
                "ledger.status",
                "ledger_item",
                item.id,
                before={"status": "rectifying"},
                after={"status": "rectifying", "seq": n},
                unit_id=item.unit_id,
            )
        db.session.commit()
        total = db.session.query(AuditEvent).count()
    sup = login_as("supervisor", username="sup2")
    url = f"/audit/instances/{w['instance']}"
    first = sup.get(url).get_data(as_text=True)
    assert _events(first) == 50 and "第 1 / 2 页" in first and f"/audit/instances/{w['instance']}?page=2" in first
    second = sup.get(url + "?page=2").get_data(as_text=True)
    assert 0 < _events(second) <= total - 50


def test_exports_csv_and_xlsx_follow_the_filters(ledger_world, login_as):
    w = ledger_world
    sup = login_as("assessor", username="ass2")
    resp = sup.get(f"/audit/campaigns/{w['campaign']}/export.csv?action=ledger.create")
    assert resp.status_code == 200 and resp.data.startswith(b"\xef\xbb\xbf")
    header, *rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    assert header == ["时间", "操作人", "操作", "对象", "对象编号", "单位", "变更"]
    assert len(rows) == 3 and {r[2] for r in rows} == {"新增整改事项"}
    assert any("问题描述：— → 路灯工程超标" in r[6] for r in rows)
    xlsx = sup.get(f"/audit/campaigns/{w['campaign']}/export.xlsx?action=ledger.create")
    sheet = load_workbook(io.BytesIO(xlsx.data)).worksheets[0]
    assert "审计日志" in sheet["A1"].value and sheet.freeze_panes == "A3"
    data = sheet_rows(xlsx.data)[2:]
    assert len(data) == 3 and isinstance(data[0][0], datetime)
    assert sup.get(f"/audit/instances/{w['instance']}/export.csv").status_code == 200
    assert sup.get(f"/audit/campaigns/{w['campaign']}/export.doc").status_code == 404


def test_unit_staff_see_their_own_instance_trail_only(ledger_world, login_as, app):
    w = ledger_world
    add_finding(
        w["app"],
        w["supervisor"],
        w["other_instance"],
        {
            "title": "白仓镇问题",
            "source": "residents",
            "measures": "整改",
            "responsible_leader": "赵六",
            "responsible_department": "办公室",
            "deadline": "2027-03-31",
        },
    )
    with app.app_context():
        # An event about our instance's entity that names another unit must not show either.
        audit.record(None, "ledger.status", "ledger_item", w["finding"], after={"status": "x"}, unit_id=w["other"])
        db.session.commit()
    staff = login_as("unit_staff", w["unit"], username="staff2")
    own = staff.get(f"/audit/instances/{w['instance']}")
    assert own.status_code == 200
    html = own.get_data(as_text=True)
    assert "路灯工程超标" in html and "白仓镇" not in html and "<del>" in html
    export = staff.get(f"/audit/instances/{w['instance']}/export.csv").data.decode("utf-8-sig")
    assert "路灯工程超标" in export and "白仓镇" not in export
    for url in (
        f"/audit/instances/{w['other_instance']}",
        f"/audit/instances/{w['other_instance']}/export.xlsx",
        "/audit/instances/99999",
    ):
        assert staff.get(url).status_code == 404
    for url in (f"/audit/campaigns/{w['campaign']}", f"/audit/campaigns/{w['campaign']}/export.csv", "/audit/"):
        assert staff.get(url).status_code == 403


def test_roles(ledger_world, login_as, app):
    w = ledger_world
    designer = login_as("designer", username="des1")
    for url in (
        "/audit/",
        f"/audit/campaigns/{w['campaign']}",
        f"/audit/instances/{w['instance']}",
        f"/audit/campaigns/{w['campaign']}/export.xlsx",
    ):
        assert designer.get(url).status_code == 403
    for role in ("admin", "supervisor", "assessor"):
        actor = login_as(role, username=f"{role}7")
        index = actor.get("/audit/").get_data(as_text=True)
        assert f"/audit/campaigns/{w['campaign']}" in index
        assert actor.get(f"/audit/campaigns/{w['campaign']}").status_code == 200
        assert actor.get(f"/audit/instances/{w['instance']}").status_code == 200
    assert login_as("admin", username="adm8").get("/audit/campaigns/4242").status_code == 404
    with app.app_context():
        assert db.session.query(User).count() >= 5


def test_interviews_are_in_overseers_trails_but_not_the_units_own(ledger_world, login_as, app):
    w = ledger_world
    with app.app_context():
        from app import clock
        from app.models import Interview

        interview = Interview(
            campaign_id=w["campaign"],
            unit_id=w["unit"],
            held_on=date(2027, 5, 1),
            leader_interviewed="镇长",
            interviewer="督导组长",
            minutes="约谈纪要",
            created_at=clock.now(),
            updated_at=clock.now(),
        )
        db.session.add(interview)
        db.session.flush()
        audit.record(
            w["supervisor"],
            "interview.create",
            "interview",
            interview.id,
            after={"minutes": "约谈纪要"},
            unit_id=w["unit"],
        )
        db.session.commit()
    sup = login_as("supervisor", username="sup2")

    def events(url: str) -> str:  # the trail's table (the action filter lists every action there is)
        html = sup.get(url).get_data(as_text=True)
        return html[html.index('id="audit-trail"') :]

    for url in (f"/audit/campaigns/{w['campaign']}", f"/audit/instances/{w['instance']}"):
        assert "登记约谈" in events(url)
    assert "登记约谈" not in events(f"/audit/instances/{w['other_instance']}")
    staff = login_as("unit_staff", w["unit"], username="staff2")
    assert "约谈纪要" not in staff.get(f"/audit/instances/{w['instance']}").get_data(as_text=True)


def test_a_long_trail_is_counted_only_so_far_and_says_so(ledger_world, login_as, monkeypatch):
    """Counting a province's trail to the last event on every view cost more than the page:
    the pages count up to COUNT_CAP events and say that older ones are found by date."""
    from app.services.oversight import audit_trail

    w = ledger_world
    sup = login_as("supervisor", username="capsup")
    url = f"/audit/campaigns/{w['campaign']}"
    html = sup.get(url).get_data(as_text=True)
    assert "超过" not in html
    monkeypatch.setattr(audit_trail, "COUNT_CAP", 2)
    monkeypatch.setattr(audit_trail, "PER_PAGE", 1)
    html = sup.get(url + "?page=9").get_data(as_text=True)
    assert "超过 2 条" in html
    assert "第 2 / 2 页，只列出最新的 2 条，更早的请按日期筛选" in html
