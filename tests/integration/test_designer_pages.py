"""The designer's pages: who may open them, drafts that survive errors, uploads, deploys."""

import io
import json
import re
from pathlib import Path

import pytest

from app.extensions import db
from app.models import AuditEvent, ProcessDefinition, ProcessDraft
from tests.conftest import csrf_from
from tests.integration.designer_support import XML
from tests.support import asset


def _v1(app) -> int:
    with app.app_context():
        return db.session.query(ProcessDefinition).filter_by(process_key="rectification", version=1).one().id


def _json_post(actor, url, body, page="/design/"):
    token = csrf_from(actor.get(page).get_data(as_text=True))
    return actor.client.post(url, json=body, headers={"X-CSRFToken": token, "Accept": "application/json"})


def _upload(actor, data: bytes, name="上传.bpmn"):
    token = csrf_from(actor.get("/design/").get_data(as_text=True))
    return actor.client.post(
        "/design/drafts/upload",
        data={"csrf_token": token, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        follow_redirects=True,
    )


@pytest.mark.parametrize(
    "url",
    [
        "/design/",
        "/design/versions/{v}",
        "/design/versions/{v}/xml",
        "/design/diff",
        "/design/drafts/1",
        "/design/drafts/1/xml",
    ],
)
def test_unit_staff_and_supervisors_get_403_and_the_public_goes_to_login(app, client, login_as, make_unit, url):
    url = url.format(v=_v1(app))
    assert client.get(url).status_code == 302 and "/login" in client.get(url).headers["Location"]
    assert login_as("unit_staff", make_unit("T01")).get(url).status_code == 403
    assert login_as("supervisor").get(url).status_code == 403


def test_json_endpoints_refuse_other_roles(app, login_as, make_unit):
    staff = login_as("unit_staff", make_unit("T01"))
    token = csrf_from(staff.get("/my/tasks").get_data(as_text=True))
    for url in (
        "/design/lint",
        "/design/drafts",
        "/design/drafts/1/save",
        "/design/drafts/1/deploy",
        "/design/drafts/upload",
        "/design/drafts/1/delete",
    ):
        resp = staff.client.post(
            url, json={"xml": "<x/>"}, headers={"X-CSRFToken": token, "Accept": "application/json"}
        )
        assert resp.status_code == 403, url
    assert app.test_client().post("/design/lint", json={"xml": "<x/>"}).status_code in (302, 400)


def test_designer_lists_versions_with_who_and_running_count(app, login_as):
    html = login_as("designer").get("/design/").get_data(as_text=True)
    assert "已发布版本" in html and "v1" in html and "打开" in html and "上传流程图" in html
    assert 'data-version="1"' in html


def test_version_opens_in_the_modeler_with_the_panel_choices(app, login_as):
    html = login_as("designer").get(f"/design/versions/{_v1(app)}").get_data(as_text=True)
    assert 'id="canvas"' in html and asset(app, "designer.js") in html and "检查" in html
    assert "review_self_check" in html and "send_reminder" in html  # forms and operations for the panel
    assert "动员部署" in html  # the diagram itself, escaped into the page


def test_download_version_xml(app, login_as):
    resp = login_as("designer").get(f"/design/versions/{_v1(app)}/xml")
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    assert resp.data == XML


def test_save_draft_then_save_again_keeps_one_draft_and_audits(app, login_as):
    designer = login_as("designer")
    created = _json_post(designer, "/design/drafts", {"xml": XML.decode(), "name": "修改稿", "based_on": _v1(app)})
    assert created.status_code == 201, created.get_json()
    draft_id = created.get_json()["id"]
    changed = XML.decode().replace("审核自查报告", "审核自查报告（改）")
    saved = _json_post(designer, f"/design/drafts/{draft_id}/save", {"xml": changed, "name": "修改稿二"})
    assert saved.status_code == 200
    with app.app_context():
        draft = db.session.get(ProcessDraft, draft_id)
        assert (
            draft.name == "修改稿二" and "审核自查报告（改）" in draft.xml and draft.based_on_definition_id == _v1(app)
        )
        assert {e.action for e in db.session.query(AuditEvent)} >= {"process_draft.create", "process_draft.save"}
    page = designer.get(f"/design/drafts/{draft_id}").get_data(as_text=True)
    assert "审核自查报告（改）" in page
    assert designer.get(f"/design/drafts/{draft_id}/xml").data.decode() == changed


def test_a_refused_save_leaves_the_draft_as_it_was(app, login_as):
    designer = login_as("designer")
    draft_id = _json_post(designer, "/design/drafts", {"xml": XML.decode(), "name": "稿"}).get_json()["id"]
    bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    resp = _json_post(designer, f"/design/drafts/{draft_id}/save", {"xml": bomb})
    assert resp.status_code == 400 and "保存被拒绝" in resp.get_json()["error"]
    empty = _json_post(designer, f"/design/drafts/{draft_id}/save", {"xml": "  "})
    assert empty.status_code == 400 and empty.get_json()["error"] == "没有收到流程图内容"
    with app.app_context():
        assert db.session.get(ProcessDraft, draft_id).xml == XML.decode()
    assert _json_post(designer, "/design/drafts/999999/save", {"xml": XML.decode()}).status_code == 404


def test_upload_becomes_a_draft(app, login_as):
    resp = _upload(login_as("designer"), XML, "rectification.bpmn")
    html = resp.get_data(as_text=True)
    assert "已上传为草稿" in html and 'id="canvas"' in html
    with app.app_context():
        assert db.session.query(ProcessDraft).one().process_key == "rectification"


@pytest.mark.parametrize(
    "data, name, message",
    [
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]><x>&b;</x>', "bomb.bpmn", "实体"),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>', "xxe.bpmn", "实体"),
        (b"not xml at all", "garbage.bpmn", "不是有效的 XML"),
        (XML, "diagram.exe", "只能上传 .bpmn"),
        (b"", "", "请选择要上传的 .bpmn 文件"),
    ],
)
def test_bad_uploads_are_refused_with_a_chinese_message(app, login_as, data, name, message):
    html = _upload(login_as("designer"), data, name).get_data(as_text=True)
    assert message in html, html[:2000]
    with app.app_context():
        assert db.session.query(ProcessDraft).count() == 0


def test_oversized_upload_is_refused(app, login_as):
    app.config["BPMN_MAX_BYTES"] = 1024
    try:
        html = _upload(login_as("designer"), XML).get_data(as_text=True)
    finally:
        app.config["BPMN_MAX_BYTES"] = 2 * 1024 * 1024
    assert "上传被拒绝" in html and "过大" in html


def test_lint_endpoint_lists_problems_with_their_elements(app, login_as):
    designer = login_as("designer")
    clean = _json_post(designer, "/design/lint", {"xml": XML.decode()})
    assert clean.status_code == 200
    assert [p for p in clean.get_json()["problems"] if p["severity"] == "error"] == []
    broken = XML.decode().replace('<spiffworkflow:property name="form_key" value="deploy" />', "")
    problems = _json_post(designer, "/design/lint", {"xml": broken}).get_json()["problems"]
    assert any(p["element_id"] == "deploy" and p["severity"] == "error" for p in problems), problems
    assert _json_post(designer, "/design/lint", {}).status_code == 400


def test_deploy_with_problems_keeps_the_draft_and_lists_them(app, login_as):
    designer = login_as("designer")
    broken = XML.decode().replace('<spiffworkflow:property name="form_key" value="deploy" />', "")
    draft_id = _json_post(designer, "/design/drafts", {"xml": broken, "name": "坏稿"}).get_json()["id"]
    resp = _json_post(designer, f"/design/drafts/{draft_id}/deploy", {})
    assert resp.status_code == 422
    body = resp.get_json()
    assert body["error"] == "流程图有问题，未发布"
    assert any(p["element_id"] == "deploy" for p in body["problems"]), body
    with app.app_context():
        assert db.session.get(ProcessDraft, draft_id).xml == broken
        assert db.session.query(ProcessDefinition).count() == 1


def test_deploy_a_draft_makes_a_new_version(app, login_as):
    designer = login_as("designer")
    changed = XML.decode().replace("审核自查报告", "审核自查报告（新版）")
    draft_id = _json_post(designer, "/design/drafts", {"xml": changed, "name": "新版"}).get_json()["id"]
    resp = _json_post(designer, f"/design/drafts/{draft_id}/deploy", {})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["version"] == 2 and resp.get_json()["created"] is True
    again = _json_post(designer, f"/design/drafts/{draft_id}/deploy", {}).get_json()
    assert again["created"] is False and "未产生新版本" in again["message"]
    html = designer.get("/design/").get_data(as_text=True)
    assert 'data-version="2"' in html


def test_delete_draft(app, login_as):
    designer = login_as("designer")
    draft_id = _json_post(designer, "/design/drafts", {"xml": XML.decode(), "name": "待删"}).get_json()["id"]
    resp = designer.post_form(f"/design/drafts/{draft_id}/delete", {}, form_url="/design/", follow_redirects=True)
    assert "草稿已删除" in resp.get_data(as_text=True)
    assert designer.get(f"/design/drafts/{draft_id}").status_code == 404


def test_diff_page_lists_and_highlights_changes(app, login_as):
    from app.services.design import processes
    from tests.integration.test_migration import without_deploy

    designer = login_as("designer")
    assert "请选择两个版本" in designer.get("/design/diff?from=&to=").get_data(as_text=True)
    with app.app_context():
        renamed = XML.replace("审核自查报告".encode(), "审核自查报告（新版）".encode())
        v2 = processes.deploy(without_deploy(renamed), "rectification.bpmn")[0].id
    html = designer.get("/design/diff").get_data(as_text=True)  # the two newest by default
    assert 'id="diff-table"' in html
    assert 'class="diff-removed" data-element="deploy"' in html
    assert 'class="diff-changed" data-element="review_self_check"' in html and "审核自查报告（新版）" in html
    new_marks = json.loads(re.search(r"id=\"new-diagram\"[^>]*data-marks='([^']*)'", html).group(1))
    old_marks = json.loads(re.search(r"id=\"old-diagram\"[^>]*data-marks='([^']*)'", html).group(1))
    assert new_marks["review_self_check"] == "mark-changed" and "deploy" not in new_marks
    assert old_marks["deploy"] == "mark-removed"
    same = designer.get(f"/design/diff?from={v2}&to={v2}")
    assert same.status_code == 400 and "请选择两个不同的版本" in same.get_data(as_text=True)
    assert designer.get(f"/design/diff?from={v2}&to=999999").status_code == 400


def test_index_links_migration_for_launched_campaigns(app, login_as, make_unit):
    from app.services.campaigns import launch
    from tests.support import make_campaign

    unit = make_unit("T01")
    with app.app_context():
        cid = make_campaign([unit])
        launch.launch_all(cid, None)
    html = login_as("designer").get("/design/").get_data(as_text=True)
    assert f"/design/campaigns/{cid}/migrate" in html


@pytest.mark.parametrize(
    "path", sorted((Path(__file__).resolve().parents[1] / "fixtures" / "bpmn").glob("*.bpmn")), ids=lambda p: p.name
)
def test_files_from_other_modelers_become_drafts_or_are_refused_with_reasons(app, login_as, path):
    """Non-executable diagrams and collaborations can still be opened; nothing ends in a 500."""
    designer = login_as("designer")
    resp = _upload(designer, path.read_bytes(), path.name)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    with app.app_context():
        drafts = db.session.query(ProcessDraft).all()
    if drafts:
        assert "已上传为草稿" in html and 'id="canvas"' in html
        assert designer.get(f"/design/drafts/{drafts[0].id}").status_code == 200
        assert _json_post(designer, "/design/lint", {"xml": drafts[0].xml}).status_code == 200
    else:
        assert "上传被拒绝" in html
