"""Importing the ledger template: round trip, every per-row error, all or nothing, and imported
items joining the running rectification with their own tasks and overdue ladder."""

import io
from datetime import UTC, date, datetime

import pytest
import time_machine
from flask.testing import EnvironBuilder
from openpyxl import Workbook, load_workbook

from app.extensions import db
from app.models import AuditEvent, Escalation, LedgerItem, ProcessInstance, Task
from app.services.campaigns import launch
from app.services.sweep import timers
from tests.conftest import csrf_from
from tests.support import make_campaign, ready_tasks

FIELDS = ("title", "source", "measures", "responsible_leader", "responsible_department", "deadline", "status")
HEADER = [
    "序号",
    "单位代码",
    "单位名称",
    "问题描述",
    "问题来源",
    "整改措施",
    "责任领导",
    "责任部门",
    "整改时限",
    "整改状态",
]


def workbook(*rows, header=HEADER, title="整改台账") -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append([title])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def good_row(code="T01", title="违规新建景观亮化工程", deadline=date(2027, 4, 30), **over) -> list:
    values = {
        "seq": None,
        "code": code,
        "name": "",
        "title": title,
        "source": "居民群众",
        "measures": "停建并整改",
        "leader": "王五",
        "department": "住建局",
        "deadline": deadline,
        "status": "正在整改",
    }
    values.update(over)
    return list(values.values())


def post_file(actor, url: str, data: bytes, filename: str = "台账.xlsx"):
    page = actor.get(url.rsplit("/import", 1)[0])
    # Our own environ, its body closed here: a large body is spooled to a temporary file the client leaves open.
    builder = EnvironBuilder(
        actor.client.application,
        url,
        method="POST",
        data={"csrf_token": csrf_from(page.get_data(as_text=True)), "file": (io.BytesIO(data), filename)},
    )
    environ = builder.get_environ()
    builder.close()
    try:
        return actor.client.open(environ)
    finally:
        environ["wsgi.input"].close()


def items_of(app, campaign_id: int) -> list[LedgerItem]:
    with app.app_context():
        return db.session.query(LedgerItem).filter_by(campaign_id=campaign_id).order_by(LedgerItem.id).all()


def fields(item: LedgerItem, unit_code: str) -> tuple:
    return (unit_code, *(getattr(item, f) for f in FIELDS))


@pytest.fixture
def sup(login_as):
    return login_as("supervisor", username="sup2")


def test_round_trip_export_then_import_gives_the_same_items(ledger_world, sup, app, make_unit):
    w = ledger_world
    exported = sup.get(f"/ledger/campaigns/{w['campaign']}/export.xlsx?status=rectifying").data
    # A second campaign with the same units receives the file unchanged.
    with app.app_context():
        second = make_campaign([w["unit"], w["other"]], doc_number="测政发〔2026〕2号")
        launch.launch_all(second, None)
        original = [
            (item.unit.code, *(getattr(item, f) for f in FIELDS))
            for item in db.session.query(LedgerItem)
            .filter_by(campaign_id=w["campaign"], status="rectifying")
            .order_by(LedgerItem.seq)
        ]
    resp = post_file(sup, f"/ledger/campaigns/{second}/import", exported)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    with app.app_context():
        imported = [
            (item.unit.code, *(getattr(item, f) for f in FIELDS))
            for item in db.session.query(LedgerItem).filter_by(campaign_id=second).order_by(LedgerItem.seq)
        ]
    assert len(original) == 2 and imported == original
    # And exporting the second campaign gives back the same rows in the import columns.
    again = load_workbook(io.BytesIO(sup.get(f"/ledger/campaigns/{second}/export.xlsx").data)).worksheets[0]
    first = load_workbook(io.BytesIO(exported)).worksheets[0]
    cols = slice(1, 10)
    assert [list(r)[cols] for r in again.iter_rows(min_row=3, values_only=True)] == [
        list(r)[cols] for r in first.iter_rows(min_row=3, values_only=True)
    ]


def test_imported_items_get_their_own_rectify_task_and_ladder(ledger_world, sup, app):
    w = ledger_world
    data = workbook(good_row(), good_row(code="T02", title="白仓镇超标办公楼", deadline=date(2027, 3, 31)))
    resp = post_file(sup, f"/ledger/campaigns/{w['campaign']}/import", data)
    assert resp.status_code == 302
    follow = sup.get(resp.headers["Location"]).get_data(as_text=True)
    assert "已导入 2 个整改事项" in follow
    with app.app_context():
        new = db.session.query(LedgerItem).filter_by(origin="import").order_by(LedgerItem.id).all()
        assert [(i.unit_id, i.status, i.source) for i in new] == [
            (w["unit"], "rectifying", "residents"),
            (w["other"], "rectifying", "residents"),
        ]
        for item in new:
            task = db.session.query(Task).filter_by(ledger_item_id=item.id, status="ready").one()
            assert task.element_id == "rectify_added_item" and task.role == "unit_staff"
            assert task.due_at is not None and task.due_at.date() in (item.deadline, date(2027, 5, 1))
        # The unit still at deploy gets the item too, without its main flow moving.
        other = db.session.get(ProcessInstance, w["other_instance"])
        assert other.phase == "deploy" and ready_tasks(other.id, "deploy")
        imported_t02 = new[1]
        events = db.session.query(AuditEvent).filter_by(action="ledger.create", entity_id=str(imported_t02.id)).all()
        assert len(events) == 1 and events[0].actor_id is not None
        summary = db.session.query(AuditEvent).filter_by(action="ledger.import").one()
        assert summary.after["count"] == 2 and summary.entity_id == str(w["campaign"])
    # The overdue ladder runs for the imported item: a reminder once its deadline has passed.
    with time_machine.travel(datetime(2027, 4, 2, 2, 0, tzinfo=UTC), tick=False), app.app_context():
        timers.tick()
        levels = {(e.ledger_item_id, e.level) for e in db.session.query(Escalation)}
    assert (imported_t02.id, "reminder") in levels


def test_imported_item_blocks_assessment_until_closed(ledger_world, sup, app):
    w = ledger_world
    post_file(sup, f"/ledger/campaigns/{w['campaign']}/units/{w['unit']}/import", workbook(good_row(code="")))
    with app.app_context():
        item = db.session.query(LedgerItem).filter_by(origin="import").one()
        assert item.unit_id == w["unit"]
        assert not ready_tasks(w["instance"], "assessment")
        assert db.session.query(Task).filter_by(ledger_item_id=item.id, element_id="rectify_added_item").count() == 1


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        (good_row(code="T77"), "单位代码", "单位代码“T77”不存在"),
        (good_row(code="T09"), "单位代码", "单位“T09”未参加本专项整治"),
        (good_row(code="", name="无名镇"), "单位名称", "单位“无名镇”不存在或未参加本专项整治"),
        (good_row(code="T01", name="白仓镇"), "单位名称", "与单位代码“T01”（塘渡口镇）不符"),
        (good_row(code=""), "单位代码", "单位代码和单位名称至少填写一项"),
        (good_row(title=""), "问题描述", "问题描述不能为空"),
        (good_row(title="长" * 257), "问题描述", "问题描述不能超过256个字"),
        (good_row(measures=None), "整改措施", "整改措施不能为空"),
        (good_row(leader=""), "责任领导", "责任领导不能为空"),
        (good_row(department=" "), "责任部门", "责任部门不能为空"),
        (good_row(deadline="12月底"), "整改时限", "整改时限“12月底”不是有效日期"),
        (good_row(deadline="2027-02-30"), "整改时限", "整改时限“2027-02-30”不是有效日期"),
        (good_row(deadline=None), "整改时限", "整改时限不能为空"),
        (good_row(source="上级交办"), "问题来源", "未知的问题来源“上级交办”"),
        (good_row(source=""), "问题来源", "问题来源不能为空"),
        (good_row(status="差不多了"), "整改状态", "未知的整改状态“差不多了”"),
        (good_row(status="已销号"), "整改状态", "导入的事项只能是“正在整改”"),
    ],
)
def test_each_row_error_names_row_column_and_problem_and_nothing_is_imported(
    ledger_world, sup, app, row, column, message
):
    w = ledger_world
    before = len(items_of(app, w["campaign"]))
    resp = post_file(sup, f"/ledger/campaigns/{w['campaign']}/import", workbook(good_row(title="好的一行"), row))
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "导入失败" in html and "未导入任何事项" in html
    error_rows = html.split('id="import-errors"')[1].split("</table>")[0]
    assert '<td class="num">4</td>' in error_rows and f"<td>{column}</td>" in error_rows and message in error_rows
    assert '<td class="num">3</td>' not in error_rows  # the good row has no error...
    assert len(items_of(app, w["campaign"])) == before  # ...and is not imported either


def test_all_errors_of_a_file_are_listed_at_once(ledger_world, sup, app):
    w = ledger_world
    data = workbook(good_row(title=""), good_row(), good_row(deadline="明年", source="路人"))
    html = post_file(sup, f"/ledger/campaigns/{w['campaign']}/import", data).get_data(as_text=True)
    assert "发现3处错误" in html


def test_unit_page_import_refuses_another_units_rows(ledger_world, sup, app):
    w = ledger_world
    resp = post_file(sup, f"/ledger/campaigns/{w['campaign']}/units/{w['unit']}/import", workbook(good_row(code="T02")))
    assert resp.status_code == 400
    assert "本页只能导入“塘渡口镇”的事项，此行是“白仓镇”" in resp.get_data(as_text=True)
    assert not [i for i in items_of(app, w["campaign"]) if i.origin == "import"]


def test_completed_instance_refuses_imports(ledger_world, sup, app):
    w = ledger_world
    with app.app_context():
        db.session.get(ProcessInstance, w["other_instance"]).status = "completed"
        db.session.commit()
    resp = post_file(sup, f"/ledger/campaigns/{w['campaign']}/import", workbook(good_row(code="T02")))
    assert resp.status_code == 400 and "整治流程已办结" in resp.get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"just text", "台账.txt", "只能导入.xlsx格式的Excel文件"),
        (b"not really excel", "台账.xlsx", "文件不是Excel（.xlsx）格式"),
        (b"PK\x03\x04broken zip", "台账.xlsx", "无法读取Excel文件"),
        (b"", "台账.xlsx", "文件不是Excel"),
        (b"PK" + b"0" * (2 * 1024 * 1024), "台账.xlsx", "文件过大"),
    ],
)
def test_bad_files_get_a_clear_message(ledger_world, sup, app, data, filename, message):
    w = ledger_world
    resp = post_file(sup, f"/ledger/campaigns/{w['campaign']}/import", data, filename)
    assert resp.status_code == 400 and message in resp.get_data(as_text=True)


def test_header_problems_and_empty_files(ledger_world, sup, app):
    w = ledger_world
    url = f"/ledger/campaigns/{w['campaign']}/import"
    html = post_file(sup, url, workbook(good_row(), header=["序号", "单位代码", "单位名称", "问题描述"])).get_data(
        as_text=True
    )
    assert "表头缺少列：问题来源、整改措施、责任领导、责任部门、整改时限" in html
    assert "找不到表头" in post_file(sup, url, workbook(header=["姓名", "年龄"])).get_data(as_text=True)
    assert "文件中没有整改事项" in post_file(sup, url, workbook()).get_data(as_text=True)
    page = sup.get(f"/ledger/campaigns/{w['campaign']}")
    resp = sup.client.post(url, data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert resp.status_code == 400 and "请选择要导入的Excel文件" in resp.get_data(as_text=True)


def test_dates_in_other_spellings_and_serial_numbers(ledger_world, sup, app):
    w = ledger_world
    data = workbook(
        good_row(title="甲", deadline="2027/4/5"),
        good_row(title="乙", deadline="2027年4月6日"),
        good_row(title="丙", deadline=46484),
        good_row(title="丁", deadline=datetime(2027, 4, 8, 0, 0)),
    )
    assert post_file(sup, f"/ledger/campaigns/{w['campaign']}/import", data).status_code == 302
    deadlines = {i.title: i.deadline for i in items_of(app, w["campaign"]) if i.origin == "import"}
    assert deadlines == {"甲": date(2027, 4, 5), "乙": date(2027, 4, 6), "丙": date(2027, 4, 7), "丁": date(2027, 4, 8)}


def test_template_download_and_who_may_import(ledger_world, sup, app, login_as):
    w = ledger_world
    resp = sup.get(f"/ledger/template.xlsx?campaign={w['campaign']}")
    book = load_workbook(io.BytesIO(resp.data))
    assert [c.value for c in book.worksheets[0][2]][:10] == HEADER
    assert book.worksheets[0].max_row == 2 and book.sheetnames[1] == "填写说明"
    # The template filled in imports cleanly.
    sheet = book.worksheets[0]
    sheet.append(good_row())
    out = io.BytesIO()
    book.save(out)
    assert post_file(sup, f"/ledger/campaigns/{w['campaign']}/import", out.getvalue()).status_code == 302
    data = workbook(good_row())
    for role, unit in (("assessor", None), ("unit_staff", w["unit"]), ("designer", None)):
        actor = login_as(role, unit, username=f"{role}9")
        token = csrf_from(actor.get("/notifications/").get_data(as_text=True))
        for url in (
            f"/ledger/campaigns/{w['campaign']}/import",
            f"/ledger/campaigns/{w['campaign']}/units/{w['unit']}/import",
        ):
            resp = actor.client.post(
                url,
                data={"csrf_token": token, "file": (io.BytesIO(data), "a.xlsx")},
                content_type="multipart/form-data",
            )
            assert resp.status_code == 403
    assert len([i for i in items_of(app, w["campaign"]) if i.origin == "import"]) == 1
