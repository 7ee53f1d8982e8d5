"""The appraisal pages: who may do what, the score sheet form, the campaign form's choice, interviews, export."""

import io
from datetime import timedelta
from types import SimpleNamespace

from openpyxl import load_workbook
from sqlalchemy import select

from app.extensions import db
from app.models import Campaign, Interview, ProcessInstance, ScoreSheet
from app.services.appraisal import appraisal_schemes, ranking
from app.services.appraisal.score_sheets import reason_key, score_key
from app.services.campaigns import launch
from tests.support import BASE_DATE, make_campaign, submit

from .appraisal_support import appraised_campaign, full_marks, submit_total, template_id
from .test_campaigns import FORM
from .test_task_pages import one_ready, through_self_check


def _campaign(app, make_unit, codes=("T01", "T02", "T03")):
    units = {c: make_unit(c) for c in codes}
    with app.app_context():
        return appraised_campaign(list(units.values())), units


def _form_fields(app, campaign_id, unit_id=None):
    with app.app_context():
        scheme = appraisal_schemes.scheme_for(campaign_id)
        return {score_key(p): raw for p, (raw, _) in full_marks(scheme).items()}, scheme.components[1].parts[0].id


def test_unit_staff_cannot_see_or_score_and_assessors_can(app, make_unit, login_as):
    campaign_id, units = _campaign(app, make_unit)
    url = f"/assess/appraisals/{campaign_id}/units/{units['T01']}"
    staff = login_as("unit_staff", unit_id=units["T01"])
    for path in (
        "/assess/appraisals",
        f"/assess/appraisals/{campaign_id}",
        url,
        f"/assess/appraisals/{campaign_id}/ranking.xlsx",
    ):
        assert staff.get(path).status_code == 403, path
    fields, _ = _form_fields(app, campaign_id)
    # A staff member forging a post with a token from another page is refused too.
    forged = staff.post_form(url, {**fields, "action": "submit"}, form_url="/my/tasks")
    assert forged.status_code == 403
    # Supervisors and the office read but do not score.
    for role in ("supervisor", "admin"):
        reader = login_as(role)
        page = reader.get(url)
        assert page.status_code == 200 and "提交并锁定" not in page.get_data(as_text=True)
        assert reader.post_form(url, {**fields, "action": "save"}).status_code == 403
    assessor = login_as("assessor")
    assert "考核评分" in assessor.get("/assess/queue").get_data(as_text=True)
    resp = assessor.post_form(url, {**fields, "action": "submit"})
    assert resp.status_code == 302
    with app.app_context():
        sheet = db.session.scalar(select(ScoreSheet))
        assert sheet.status == "submitted" and sheet.total == 100
    assert assessor.get("/assess/appraisals/999999").status_code == 404
    assert assessor.get(f"/assess/appraisals/{campaign_id}/units/999999").status_code == 404


def test_an_invalid_sheet_comes_back_with_everything_typed_and_the_reasons(app, make_unit, login_as):
    campaign_id, units = _campaign(app, make_unit)
    url = f"/assess/appraisals/{campaign_id}/units/{units['T02']}"
    fields, part = _form_fields(app, campaign_id)
    fields[score_key(part)] = "4.5"  # below 6 with no reason
    first = next(iter(fields))
    fields[first] = "11"  # above the component's 10
    fields["penalty"] = "1"
    fields["penalty_reason"] = "违规发放津贴"
    assessor = login_as("assessor")
    resp = assessor.post_form(url, {**fields, "action": "submit"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "扣分须写明原因" in html and "得分须在0到10之间" in html
    assert 'value="4.5"' in html and 'value="11"' in html and "违规发放津贴" in html
    with app.app_context():
        assert db.session.scalar(select(ScoreSheet)) is None
    fields[first] = "10"
    fields[reason_key(part)] = "依法行政有瑕疵"
    assert assessor.post_form(url, {**fields, "action": "save"}).status_code == 302
    page = assessor.get(url).get_data(as_text=True)
    assert "草稿" in page and 'value="4.5"' in page and "依法行政有瑕疵" in page and "97.5" in page


def test_campaign_form_offers_the_scheme_and_the_kind(app, login_as):
    with app.app_context():
        tid = template_id()
    admin = login_as("admin")
    page = admin.get("/admin/campaigns/new").get_data(as_text=True)
    assert "考核方案" in page and "政风行风评议考核方案（100分）" in page and "整治类别" in page
    resp = admin.post_form("/admin/campaigns/new", {**FORM, "kind": "形象工程整治", "scheme_template": str(tid)})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    with app.app_context():
        campaign = db.session.scalar(select(Campaign))
        assert campaign.kind == "形象工程整治"
        assert appraisal_schemes.scheme_for(campaign.id).template_id == tid
    detail = admin.get(resp.headers["Location"]).get_data(as_text=True)
    assert "政风行风评议考核方案（100分）" in detail and "评分与排名" in detail
    # The edit form shows both as stored; a bogus choice is refused beside the field.
    edit = f"/admin/campaigns/{campaign.id}/edit"
    assert f'<option selected value="{tid}">' in admin.get(edit).get_data(as_text=True)
    bad = admin.post_form(edit, {**FORM, "scheme_template": "999"})
    assert bad.status_code == 400 and "不是有效的选择" in bad.get_data(as_text=True)
    # Choosing none removes the unused scheme again.
    assert admin.post_form(edit, {**FORM, "scheme_template": ""}).status_code == 302
    with app.app_context():
        assert appraisal_schemes.scheme_for(campaign.id) is None


def test_the_campaign_page_says_how_to_load_templates_when_there_are_none(app, make_unit, login_as):
    unit = make_unit("T01")
    with app.app_context():
        campaign_id = make_campaign([unit])
    html = login_as("admin").get(f"/admin/campaigns/{campaign_id}").get_data(as_text=True)
    assert "尚未挂接考核方案" in html and "flask appraisal load" in html


def test_an_existing_campaign_attaches_the_scheme_from_its_page(app, make_unit, login_as):
    unit = make_unit("T01")
    with app.app_context():
        tid = template_id()
        campaign_id = make_campaign([unit])
    admin = login_as("admin")
    page = f"/admin/campaigns/{campaign_id}"
    assert "尚未挂接考核方案" in admin.get(page).get_data(as_text=True)
    assert (
        login_as("assessor")
        .post_form(f"/admin/campaigns/{campaign_id}/appraisal", {"template": str(tid)}, form_url="/assess/appraisals")
        .status_code
        == 403
    )
    resp = admin.post_form(f"/admin/campaigns/{campaign_id}/appraisal", {"template": str(tid)}, form_url=page)
    assert resp.status_code == 302
    assert (
        admin.post_form(
            f"/admin/campaigns/{campaign_id}/appraisal/settings",
            {"bottom_n": "3", "kind": "违规建房整治"},
            form_url=page,
        ).status_code
        == 302
    )
    with app.app_context():
        assert appraisal_schemes.scheme_for(campaign_id).bottom_n == 3
        assert db.session.get(Campaign, campaign_id).kind == "违规建房整治"
    html = admin.get(page).get_data(as_text=True)
    assert "政风行风评议考核方案（100分）" in html and 'value="3"' in html


def test_ranking_page_finalise_interviews_and_export(app, make_unit, login_as, make_user):
    campaign_id, units = _campaign(app, make_unit)
    assessor_id = make_user("assessor", username="scorer")
    with app.app_context():
        appraisal_schemes.update_settings(campaign_id, 1, None, None)
        for code, total in {"T01": 99, "T02": 95, "T03": 95}.items():
            submit_total(campaign_id, units[code], total, assessor_id)
    admin = login_as("admin")
    ranking_url = f"/assess/appraisals/{campaign_id}"
    html = admin.get(ranking_url).get_data(as_text=True)
    assert html.count("并列") >= 2 and html.count('class="mark mark-interview"') == 2
    resp = admin.post_form(f"/admin/campaigns/{campaign_id}/appraisal/finalise", {}, form_url=ranking_url)
    assert resp.status_code == 302
    with app.app_context():
        assert ranking.flagged_units(campaign_id) == {units["T02"], units["T03"]}
    new = f"/admin/campaigns/{campaign_id}/units/{units['T02']}/interviews/new"
    assert "登记约谈" in admin.get(ranking_url).get_data(as_text=True)
    # held_on may not lie in the future: a week before the frozen test clock.
    held_on = (BASE_DATE - timedelta(days=7)).isoformat()
    bad = admin.post_form(
        new,
        {
            "held_on": held_on,
            "leader_interviewed": "",
            "interviewer": "李四",
            "minutes": "谈话内容",
            "follow_up_status": "pending",
        },
    )
    assert bad.status_code == 400 and "请填写被约谈领导" in bad.get_data(as_text=True)
    assert "谈话内容" in bad.get_data(as_text=True)
    ok = admin.post_form(
        new,
        {
            "held_on": held_on,
            "leader_interviewed": "王镇长",
            "interviewer": "李四",
            "minutes": "谈话内容",
            "follow_up_actions": "限期整改",
            "follow_up_status": "pending",
        },
    )
    assert ok.status_code == 302
    with app.app_context():
        interview = db.session.scalar(select(Interview))
    edit = f"/admin/interviews/{interview.id}/edit"
    assert "王镇长" in admin.get(edit).get_data(as_text=True)
    assert (
        admin.post_form(
            edit,
            {
                "held_on": held_on,
                "leader_interviewed": "王镇长",
                "interviewer": "李四",
                "minutes": "谈话内容",
                "follow_up_status": "done",
            },
        ).status_code
        == 302
    )
    assert login_as("assessor").get(edit).status_code == 403
    assert "王镇长" in admin.get(ranking_url).get_data(as_text=True)
    # The unflagged unit has no interview form to submit.
    assert (
        admin.post_form(
            f"/admin/campaigns/{campaign_id}/units/{units['T01']}/interviews/new",
            {
                "held_on": held_on,
                "leader_interviewed": "x",
                "interviewer": "y",
                "minutes": "z",
                "follow_up_status": "pending",
            },
            form_url=new,
        ).status_code
        == 400
    )
    export = login_as("supervisor").get(f"{ranking_url}/ranking.xlsx")
    assert export.status_code == 200 and "attachment" in export.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(export.data)).active
    assert "排名" in sheet["A1"].value and sheet["A2"].value == "名次"
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=3)]
    assert [(r[0], r[1]) for r in rows] == [(1, "T01"), (2, "T02"), (2, "T03")]
    assert rows[1][-3:] == ["并列", "是", None]
    assert admin.post_form(f"/admin/interviews/{interview.id}/delete", {}, form_url=edit).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Interview)) is None


def test_the_office_sends_a_sheet_back(app, make_unit, login_as, make_user):
    campaign_id, units = _campaign(app, make_unit, ("T01",))
    with app.app_context():
        submit_total(campaign_id, units["T01"], 97, make_user("assessor", username="scorer"))
    url = f"/assess/appraisals/{campaign_id}/units/{units['T01']}"
    admin = login_as("admin")
    assert "退回评分表" in admin.get(url).get_data(as_text=True)
    admin.post_form(
        f"/admin/campaigns/{campaign_id}/appraisal/units/{units['T01']}/reopen", {"reason": "录入错误"}, form_url=url
    )
    with app.app_context():
        assert db.session.scalar(select(ScoreSheet)).status == "draft"
    assert "提交并锁定" in login_as("assessor").get(url).get_data(as_text=True)


def test_the_assessment_queue_links_each_unit_to_its_score_sheet(app, make_unit, make_user, login_as):
    unit = make_unit("A01", "塘渡口镇")
    with app.app_context():
        campaign_id = make_campaign([unit])
        appraisal_schemes.attach(campaign_id, template_id(), None)
        launch.launch_all(campaign_id, None)
        instance = db.session.scalar(select(ProcessInstance.id).where(ProcessInstance.unit_id == unit))
    w = SimpleNamespace(app=app, instance=instance)
    staff, sup = make_user("unit_staff", unit, username="staffA"), make_user("supervisor", username="sup1")
    with app.app_context():
        through_self_check(w, staff)  # an empty ledger goes straight to assessment
        submit(app, sup, one_ready(w, "review_self_check"), {"decision": "accept"})
    assessor = login_as("assessor", username="ass1")
    page = assessor.get("/assess/queue").get_data(as_text=True)
    assert f'href="/assess/appraisals/{campaign_id}/units/{unit}"' in page and "未评分" in page
    with app.app_context():
        submit_total(campaign_id, unit, 96, assessor.user)
    assert "已提交 96" in assessor.get("/assess/queue").get_data(as_text=True)
