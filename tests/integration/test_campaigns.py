"""Campaigns: creating from a notice, validation, enrolment, and the admin pages."""

from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Campaign, CampaignUnit
from app.services.campaigns import campaigns, notices
from app.services.campaigns.campaigns import CampaignError, NoticeInput
from tests.conftest import csrf_from

NOTICE_FILE = Path(__file__).resolve().parents[2] / "app" / "demo" / "data" / "notice-2014-54.yaml"


# make_notice's deadlines run from 2026-03-31; a launch is refused once one has passed, so the
# tests that launch it do so (and log in) at this moment, before the first deadline.
BEFORE_DEADLINES = datetime(2026, 2, 20, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def make_notice(**overrides) -> NoticeInput:
    notice = NoticeInput(
        doc_number="测政办发〔2026〕1号",
        issuer="测试县人民政府办公室",
        issued_on=date(2026, 3, 1),
        title="测试专项整治实施方案",
        body="正文",
        phases=[
            {"key": "deploy", "name": "", "starts": date(2026, 3, 1), "ends": date(2026, 3, 31)},
            {"key": "self_check", "name": "", "starts": date(2026, 4, 1), "ends": date(2026, 4, 30)},
            {"key": "rectification", "name": "", "starts": date(2026, 5, 1), "ends": date(2026, 8, 31)},
            {"key": "assessment", "name": "", "starts": date(2026, 9, 1), "ends": date(2026, 9, 30)},
        ],
        tasks=[
            {
                "no": 1,
                "title": "督查重大项目",
                "lead_unit": "县政府办",
                "responsible_units": ["县纪委", "县发改局"],
                "starts": date(2026, 5, 1),
                "ends": date(2026, 6, 30),
            },
        ],
        follow_up_on=date(2026, 12, 1),
    )
    return replace(notice, **overrides)


def future_notice(**overrides) -> NoticeInput:
    """make_notice's campaign a year later: every deadline after the tests' base instant (2026-11-16)."""
    notice = make_notice()
    later = lambda d: d.replace(year=d.year + 1)  # noqa: E731
    return replace(
        notice,
        phases=[dict(p, starts=later(p["starts"]), ends=later(p["ends"])) for p in notice.phases],
        tasks=[dict(t, starts=later(t["starts"]), ends=later(t["ends"])) for t in notice.tasks],
        follow_up_on=later(notice.follow_up_on),
        **overrides,
    )


def ensure_deployed() -> int:
    """The rectification process's id; redeployed if a PostgreSQL TRUNCATE ... CASCADE took it with users."""
    from app.services.design import processes

    found = processes.latest("rectification")
    if found is None:
        processes.deploy_all()
        found = processes.latest("rectification")
    return found.id


def phases_without(key):
    return [p for p in make_notice().phases if p["key"] != key]


# ---- create and validate -------------------------------------------------------


def test_create_campaign_stores_notice_and_audits(ctx):
    campaign = campaigns.create_campaign(make_notice(), actor_id=None)
    db.session.expire_all()
    stored = db.session.get(Campaign, campaign.id)
    assert stored.status == "draft"
    assert [p.key for p in stored.phases] == ["deploy", "self_check", "rectification", "assessment"]
    assert stored.phases[0].name == "动员部署"  # blank name falls back to the phase's name
    assert stored.tasks[0].responsible_units == ["县纪委", "县发改局"]
    assert campaigns.deadlines(stored) == {
        "deploy": date(2026, 3, 31),
        "self_check": date(2026, 4, 30),
        "rectification": date(2026, 8, 31),
        "assessment": date(2026, 9, 30),
    }
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "campaign.create"))
    assert event.entity_id == str(campaign.id)
    assert event.after["doc_number"] == "测政办发〔2026〕1号"


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"doc_number": "  "}, "doc_number", "请填写文号"),
        ({"issuer": ""}, "issuer", "发文机关"),
        ({"issued_on": None}, "issued_on", "发文日期"),
        ({"title": ""}, "title", "标题"),
        ({"phases": phases_without("deploy")}, "phases", "动员部署"),
        ({"phases": phases_without("self_check")}, "phases", "自查自纠"),
        ({"phases": phases_without("rectification")}, "phases", "整改落实"),
        (
            {
                "phases": make_notice().phases
                + [{"key": "launch", "starts": date(2026, 1, 1), "ends": date(2026, 1, 2)}]
            },
            "phases.4.key",
            "未知的阶段",
        ),
        ({"phases": make_notice().phases + [dict(make_notice().phases[0])]}, "phases.4.key", "重复"),
        (
            {"phases": [dict(make_notice().phases[0], ends=date(2026, 2, 1))] + make_notice().phases[1:]},
            "phases.0.ends",
            "不能早于",
        ),
        ({"tasks": make_notice().tasks * 2}, "tasks.1.no", "任务序号 1 重复"),
        ({"tasks": [dict(make_notice().tasks[0], lead_unit="")]}, "tasks.0.lead_unit", "牵头单位"),
        ({"tasks": [dict(make_notice().tasks[0], ends=date(2026, 4, 1))]}, "tasks.0.ends", "不能早于"),
    ],
)
def test_create_campaign_rejects_bad_notice(ctx, overrides, field, message):
    with pytest.raises(CampaignError) as err:
        campaigns.create_campaign(make_notice(**overrides), actor_id=None)
    assert err.value.field == field
    assert message in err.value.message
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_duplicate_doc_number_is_refused(ctx):
    campaigns.create_campaign(make_notice(), actor_id=None)
    with pytest.raises(CampaignError, match="文号已存在") as err:
        campaigns.create_campaign(make_notice(title="另一个"), actor_id=None)
    assert err.value.field == "doc_number"


def test_notice_from_yaml_reads_the_real_notice(ctx):
    notice = notices.notice_from_yaml(NOTICE_FILE.read_text(encoding="utf-8"))
    assert notice.doc_number == "邵政办发〔2014〕54号"
    assert notice.issuer == "邵阳县人民政府办公室"
    assert notice.issued_on == date(2014, 5, 13)
    assert [p["key"] for p in notice.phases] == ["deploy", "rectification", "assessment"]
    assert notice.phases[1]["ends"] == date(2014, 8, 20)
    assert len(notice.tasks) == 6
    assert notice.tasks[4] == {
        "no": 5,
        "title": "查处制造假情况、假数字、假典型、虚假工作业绩等问题",
        "lead_unit": "县委办",
        "responsible_units": ["县纪委", "县信访局", "县统计局", "县审计局"],
        "starts": date(2014, 7, 1),
        "ends": date(2014, 8, 15),
    }
    # The notice has no self-check phase: creating it as is says so.
    with pytest.raises(CampaignError, match="自查自纠"):
        campaigns.create_campaign(notice, actor_id=None)
    full = notices.with_extra_phases(notice, self_check_until=date(2014, 5, 31), follow_up_on=date(2014, 12, 1))
    campaign = campaigns.create_campaign(full, actor_id=None)
    assert campaigns.deadlines(campaign)["self_check"] == date(2014, 5, 31)
    assert campaign.follow_up_on == date(2014, 12, 1)
    assert len(campaign.tasks) == 6


def test_shift_notice_moves_every_date_to_start_today():
    notice = notices.with_extra_phases(
        notices.notice_from_yaml(NOTICE_FILE.read_text(encoding="utf-8")), self_check_until=date(2014, 5, 31)
    )
    shifted = notices.shift_notice(notice, date(2026, 1, 1))
    deploy = next(p for p in shifted.phases if p["key"] == "deploy")
    assert deploy["starts"] == date(2026, 1, 1)  # was 2014-02-20, the earliest phase start
    assert (deploy["ends"] - deploy["starts"]).days == (date(2014, 4, 30) - date(2014, 2, 20)).days
    assert shifted.issued_on <= date(2026, 1, 1)
    assert shifted.tasks[0]["starts"] == date(2014, 5, 1) + (date(2026, 1, 1) - date(2014, 2, 20))


def test_notice_from_yaml_rejects_garbage():
    with pytest.raises(CampaignError):
        notices.notice_from_yaml("- just\n- a list\n")
    with pytest.raises(CampaignError, match="日期格式"):
        notices.notice_from_yaml("doc_number: x\nissued_on: 13/05/2014\n")


def test_update_campaign_while_draft_then_blocked_after_launch(ctx):
    campaign = campaigns.create_campaign(make_notice(), actor_id=None)
    updated = campaigns.update_campaign(
        campaign.id, make_notice(title="改后的标题", phases=make_notice().phases[:3], tasks=[]), actor_id=None
    )
    assert updated.title == "改后的标题"
    assert [p.key for p in updated.phases] == ["deploy", "self_check", "rectification"]
    assert updated.tasks == []
    assert (
        db.session.scalar(select(AuditEvent.before).where(AuditEvent.action == "campaign.update"))["title"]
        == "测试专项整治实施方案"
    )

    updated.status = "launched"  # what launch does; here only the status matters
    db.session.commit()
    with pytest.raises(CampaignError, match="已启动"):
        campaigns.update_campaign(campaign.id, make_notice(title="再改"), actor_id=None)
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).title == "改后的标题"


def test_update_keeps_doc_number_unique(ctx):
    first = campaigns.create_campaign(make_notice(), actor_id=None)
    second = campaigns.create_campaign(make_notice(doc_number="测政办发〔2026〕2号"), actor_id=None)
    campaigns.update_campaign(first.id, make_notice(body="只改正文"), actor_id=None)  # its own number is fine
    with pytest.raises(CampaignError, match="文号已存在"):
        campaigns.update_campaign(second.id, make_notice(), actor_id=None)


# ---- enrolment -------------------------------------------------------------


@pytest.fixture
def county(make_unit):
    """Three townships and two departments."""
    for code in ("T01", "T02", "T03"):
        make_unit(code, kind="township")
    for code in ("D01", "D02"):
        make_unit(code, kind="department")


def enrolled_codes(campaign_id):
    from app.models import Unit

    stmt = (
        select(Unit.code)
        .join(CampaignUnit, CampaignUnit.unit_id == Unit.id)
        .where(CampaignUnit.campaign_id == campaign_id)
        .order_by(Unit.code)
    )
    return list(db.session.scalars(stmt))


def test_enrol_by_kind_codes_and_all_is_idempotent(ctx, county):
    cid = campaigns.create_campaign(make_notice(), actor_id=None).id
    assert campaigns.enrol_units(cid, "kind:township", actor_id=None) == 3
    assert enrolled_codes(cid) == ["T01", "T02", "T03"]
    assert campaigns.enrol_units(cid, "kind:township", actor_id=None) == 0
    assert campaigns.enrol_units(cid, "codes:D01,T01", actor_id=None) == 1
    assert enrolled_codes(cid) == ["D01", "T01", "T02", "T03"]
    assert campaigns.enrol_units(cid, "all", actor_id=None) == 1
    assert campaigns.enrol_units(cid, "all", actor_id=None) == 0
    assert campaigns.enrolled_count(cid) == 5
    actions = db.session.scalars(
        select(AuditEvent.after).where(AuditEvent.action == "campaign.enrol").order_by(AuditEvent.id)
    )
    assert [a["enrolled"] for a in actions] == [3, 0, 1, 1, 0]


def test_enrol_codes_accepts_chinese_separators(ctx, county):
    cid = campaigns.create_campaign(make_notice(), actor_id=None).id
    assert campaigns.enrol_units(cid, "codes:T01、T02，D02", actor_id=None) == 3


def test_enrol_unknown_codes_lists_them_and_enrols_nothing(ctx, county):
    cid = campaigns.create_campaign(make_notice(), actor_id=None).id
    with pytest.raises(CampaignError) as err:
        campaigns.enrol_units(cid, "codes:T01,X99,X98", actor_id=None)
    assert "X98" in err.value.message and "X99" in err.value.message and "T01" not in err.value.message
    assert campaigns.enrolled_count(cid) == 0


@pytest.mark.parametrize("selection", ["", "everything", "kind:planet", "codes:"])
def test_enrol_rejects_bad_selection(ctx, county, selection):
    cid = campaigns.create_campaign(make_notice(), actor_id=None).id
    with pytest.raises(CampaignError):
        campaigns.enrol_units(cid, selection, actor_id=None)


def test_enrol_after_launch_is_allowed(ctx, county):
    campaign = campaigns.create_campaign(make_notice(), actor_id=None)
    campaigns.enrol_units(campaign.id, "codes:T01", actor_id=None)
    campaign.status = "launched"
    db.session.commit()
    assert campaigns.enrol_units(campaign.id, "kind:department", actor_id=None) == 2


def test_find_campaign_by_id_or_doc_number(ctx):
    campaign = campaigns.create_campaign(make_notice(), actor_id=None)
    assert campaigns.find_campaign(str(campaign.id)).id == campaign.id
    assert campaigns.find_campaign("测政办发〔2026〕1号").id == campaign.id
    assert campaigns.find_campaign("nope") is None


# ---- pages -------------------------------------------------------------------

FORM = {
    "doc_number": "测政办发〔2026〕9号",
    "issuer": "测试县人民政府办公室",
    "issued_on": "2026-03-01",
    "title": "网页录入的方案",
    "body": "正文第一段",
    "follow_up_on": "",
    "phases-0-key": "deploy",
    "phases-0-name": "",
    "phases-0-starts": "2026-03-01",
    "phases-0-ends": "2026-03-31",
    "phases-1-key": "self_check",
    "phases-1-name": "",
    "phases-1-starts": "2026-04-01",
    "phases-1-ends": "2026-04-30",
    # Row 2 was removed in the page; the indices need not be contiguous.
    "phases-3-key": "rectification",
    "phases-3-name": "整改落实阶段",
    "phases-3-starts": "2026-05-01",
    "phases-3-ends": "2026-08-31",
    "tasks-0-no": "1",
    "tasks-0-title": "督查项目",
    "tasks-0-lead_unit": "县政府办",
    "tasks-0-responsible_units": "县纪委、县发改局, 县财政局",
    "tasks-0-starts": "2026-05-01",
    "tasks-0-ends": "",
    # A blank row the user added and left empty.
    "tasks-1-no": "",
    "tasks-1-title": "",
    "tasks-1-lead_unit": "",
    "tasks-1-responsible_units": "",
    "tasks-1-starts": "",
    "tasks-1-ends": "",
}


def test_admin_creates_campaign_through_the_form(app, login_as):
    admin = login_as("admin")
    page = admin.get("/admin/campaigns/new")
    assert page.status_code == 200
    assert 'name="phases-0-key"' in page.get_data(as_text=True)
    resp = admin.post_form("/admin/campaigns/new", FORM)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    with app.app_context():
        campaign = db.session.scalar(select(Campaign))
        assert resp.headers["Location"].endswith(f"/admin/campaigns/{campaign.id}")
        assert [p.key for p in campaign.phases] == ["deploy", "self_check", "rectification"]
        assert campaign.phases[2].name == "整改落实阶段"
        assert campaign.tasks[0].responsible_units == ["县纪委", "县发改局", "县财政局"]
        assert campaign.tasks[0].ends is None
    detail = admin.get(resp.headers["Location"]).get_data(as_text=True)
    assert "网页录入的方案" in detail and "县纪委、县发改局、县财政局" in detail
    listing = admin.get("/admin/campaigns").get_data(as_text=True)
    assert "测政办发〔2026〕9号" in listing


def test_form_errors_are_shown_beside_fields_and_input_kept(app, login_as):
    admin = login_as("admin")
    data = dict(FORM, **{"phases-1-ends": "2026-03-15", "issued_on": "2026/03/01"})
    resp = admin.post_form("/admin/campaigns/new", data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "日期格式应为 YYYY-MM-DD" in html
    assert "网页录入的方案" in html and "县纪委、县发改局, 县财政局" in html  # nothing typed lost
    # Fix the date format; the service then finds the phase ending before it starts.
    resp = admin.post_form("/admin/campaigns/new", dict(data, issued_on="2026-03-01"), form_url="/admin/campaigns/new")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "截止日期不能早于开始日期" in html
    assert 'value="2026-03-15"' in html
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_duplicate_doc_number_in_form(app, login_as):
    with app.app_context():
        campaigns.create_campaign(make_notice(doc_number=FORM["doc_number"]), actor_id=None)
    resp = login_as("admin").post_form("/admin/campaigns/new", FORM)
    assert resp.status_code == 400
    assert "文号已存在" in resp.get_data(as_text=True)


def test_edit_draft_then_blocked_after_launch(app, login_as):
    with app.app_context():
        cid = campaigns.create_campaign(make_notice(), actor_id=None).id
    admin = login_as("admin")
    page = admin.get(f"/admin/campaigns/{cid}/edit").get_data(as_text=True)
    assert "测试专项整治实施方案" in page and "县纪委、县发改局" in page
    resp = admin.post_form(f"/admin/campaigns/{cid}/edit", dict(FORM, title="改过的标题"))
    assert resp.status_code == 302
    with app.app_context():
        campaign = db.session.get(Campaign, cid)
        assert campaign.title == "改过的标题"
        campaign.status = "launched"
        db.session.commit()
    resp = admin.post_form(f"/admin/campaigns/{cid}/edit", dict(FORM, title="又改"))
    assert resp.status_code == 400
    assert "已启动" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Campaign, cid).title == "改过的标题"


def test_enrol_through_the_detail_page(app, login_as, county):
    with time_machine.travel(BEFORE_DEADLINES, tick=True):
        with app.app_context():
            cid = campaigns.create_campaign(make_notice(), actor_id=None).id
        admin = login_as("admin")
        url = f"/admin/campaigns/{cid}"
        resp = admin.post_form(
            f"{url}/enrol", {"scope": "codes", "kind": "township", "codes": "T01, X77"}, form_url=url
        )
        assert resp.status_code == 400
        html = resp.get_data(as_text=True)
        assert "未知的单位代码：X77" in html and "T01, X77" in html
        resp = admin.post_form(f"{url}/enrol", {"scope": "kind", "kind": "township", "codes": ""}, form_url=url)
        assert resp.status_code == 302
        page = admin.get(url).get_data(as_text=True)
        assert "新纳入 3 个单位" in page
        assert f"/admin/campaigns/{cid}/launch" in page


@pytest.mark.parametrize("role", ["unit_staff", "supervisor", "assessor"])
def test_only_admin_changes_campaigns(app, login_as, make_unit, role):
    with app.app_context():
        cid = campaigns.create_campaign(make_notice(), actor_id=None).id
    unit_id = make_unit("T09") if role == "unit_staff" else None
    actor = login_as(role, unit_id=unit_id)
    for url in ("/admin/campaigns/new", f"/admin/campaigns/{cid}/edit", f"/admin/campaigns/{cid}/launch"):
        assert actor.get(url).status_code in (403, 404), url
    # Any page of a logged-in user carries a CSRF token (the logout form), so the refusal is about the role.
    token = csrf_from(actor.get("/admin/campaigns/new").get_data(as_text=True))
    resp = actor.client.post(
        f"/admin/campaigns/{cid}/launch/batch", headers={"Accept": "application/json", "X-CSRFToken": token}
    )
    assert resp.status_code == 403
    assert resp.is_json and resp.get_json()["error"]
    if role == "unit_staff":
        for url in ("/admin/campaigns", f"/admin/campaigns/{cid}", f"/admin/campaigns/{cid}/matrix"):
            assert actor.get(url).status_code in (403, 404), url
    else:
        assert actor.get("/admin/campaigns").status_code == 200
        detail = actor.get(f"/admin/campaigns/{cid}").get_data(as_text=True)
        assert f"/admin/campaigns/{cid}/enrol" not in detail
        assert actor.get(f"/admin/campaigns/{cid}/matrix").status_code == 200


def test_missing_campaign_is_404(login_as):
    admin = login_as("admin")
    assert admin.get("/admin/campaigns/999").status_code == 404
    assert admin.get("/admin/campaigns/999/matrix").status_code == 404


# ---- launch page -------------------------------------------------------------


def test_launch_page_and_batches_until_finished(app, login_as, make_unit):
    with time_machine.travel(BEFORE_DEADLINES, tick=True):
        for i in range(5):
            make_unit(f"T{i:02d}", kind="township")
        with app.app_context():
            ensure_deployed()
            cid = campaigns.create_campaign(make_notice(), actor_id=None).id
            campaigns.enrol_units(cid, "all", actor_id=None)
            app.config["LAUNCH_BATCH_SIZE"] = 2
        admin = login_as("admin")
        try:
            page = admin.get(f"/admin/campaigns/{cid}/launch")
            html = page.get_data(as_text=True)
            assert page.status_code == 200
            assert 'class="progress"' in html and "已启动 0 / 5 个单位" in html
            token = csrf_from(html)
            answers = []
            for _ in range(5):
                resp = admin.client.post(
                    f"/admin/campaigns/{cid}/launch/batch", headers={"X-CSRFToken": token, "Accept": "application/json"}
                )
                assert resp.status_code == 200, resp.get_data(as_text=True)
                answers.append(resp.get_json())
                if answers[-1]["finished"]:
                    break
        finally:
            app.config["LAUNCH_BATCH_SIZE"] = 500
        assert answers == [
            {"total": 5, "done": 2, "started_now": 2, "finished": False},
            {"total": 5, "done": 4, "started_now": 2, "finished": False},
            {"total": 5, "done": 5, "started_now": 1, "finished": True},
        ]
        # Asking again starts nothing: a unit never gets a second instance.
        again = admin.client.post(f"/admin/campaigns/{cid}/launch/batch", headers={"X-CSRFToken": token})
        assert again.get_json() == {"total": 5, "done": 5, "started_now": 0, "finished": True}
        assert "已启动 5 / 5 个单位" in admin.get(f"/admin/campaigns/{cid}/launch").get_data(as_text=True)
        matrix_page = admin.get(f"/admin/campaigns/{cid}/matrix").get_data(as_text=True)
        assert (
            f'data-phase="not_started" href="/admin/campaigns/{cid}/matrix?phase=not_started"><strong>0</strong>'
            in matrix_page
        )


def test_launch_batch_errors_are_json(app, login_as):
    with app.app_context():
        cid = campaigns.create_campaign(make_notice(), actor_id=None).id
    admin = login_as("admin")
    token = csrf_from(admin.get(f"/admin/campaigns/{cid}/launch").get_data(as_text=True))
    no_units = admin.client.post(f"/admin/campaigns/{cid}/launch/batch", headers={"X-CSRFToken": token})
    assert no_units.status_code == 400 and no_units.get_json()["error"] == "尚未纳入任何单位，请先纳入单位"
    missing = admin.client.post("/admin/campaigns/999/launch/batch", headers={"X-CSRFToken": token})
    assert missing.status_code == 404 and "error" in missing.get_json()
    no_token = admin.client.post(f"/admin/campaigns/{cid}/launch/batch", headers={"Accept": "application/json"})
    assert no_token.status_code == 400 and "error" in no_token.get_json()


def test_ladder_chosen_in_the_form_and_uncovered_year_warned(app, login_as):
    admin = login_as("admin")
    data = dict(
        FORM,
        reminder_days="1",
        reminder_unit="calendar",
        letter_days="5",
        letter_unit="working",
        notice_days="2",
        notice_unit="working",
    )
    resp = admin.post_form("/admin/campaigns/new", data)
    assert resp.status_code == 400
    assert "督办阶梯须逐级递进" in resp.get_data(as_text=True)
    resp = admin.post_form("/admin/campaigns/new", dict(data, notice_days="15", **{"phases-3-ends": "2031-01-31"}))
    assert resp.status_code == 302, resp.get_data(as_text=True)
    with app.app_context():
        campaign = db.session.scalar(select(Campaign))
        assert campaign.ladder == {
            "reminder": {"days": 1, "unit": "calendar"},
            "letter": {"days": 5, "unit": "working"},
            "notice": {"days": 15, "unit": "working"},
        }
    detail = admin.get(resp.headers["Location"]).get_data(as_text=True)
    assert "节假日数据未覆盖2031年" in detail
    assert "5 个工作日" in detail and "1 天（自然日）" in detail
