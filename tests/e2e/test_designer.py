"""The process designer in a real browser: edit a timer in the properties panel, see the lint
error of a task without a form, fix it, deploy, and find the new version in the list."""

from pathlib import Path

from playwright.sync_api import expect

from app.extensions import db
from app.models import ProcessDefinition
from tests.e2e.conftest import login

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bpmn"
FIXED = "ladder_at(deadlines['deploy'], {'days': 2, 'unit': 'calendar'})"


def _entry(page, entry_id, tag):
    return page.locator(f'#properties [data-entry-id="{entry_id}"] {tag}')


def _panel_settled(page):
    """Wait until the properties panel has run the effects of its last render. It starts following
    changes of a newly selected element in an effect, which Preact runs after the next frame and a
    task; an edit made before then is saved but never shown (seen under parallel load). So wait
    for a frame and a task, queued after Preact's."""
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => setTimeout(done)))")


def test_designer_edits_lints_fixes_and_deploys(page, app, make_user):
    make_user("designer", username="e2e_designer")
    login(page, "e2e_designer")
    page.goto("/design/")
    expect(page.locator('#versions tr[data-version="2"]')).to_have_count(0)
    page.locator('#versions tr[data-version="1"]').get_by_role("link", name="打开").click()
    expect(page.locator('#designer[data-ready="1"]')).to_have_count(1)

    # The reminder rung of 动员部署: from the campaign's setting to a fixed 2 calendar days.
    page.select_option("#locate", "deploy_reminder_timer")
    expect(_entry(page, "rectify-ladder-due", "input")).to_have_value("deadlines['deploy']")
    _panel_settled(page)
    _entry(page, "rectify-ladder-source", "select").select_option("fixed")
    _entry(page, "rectify-ladder-days", "input").fill("2")
    _entry(page, "rectify-ladder-unit", "select").select_option("calendar")
    expect(page.locator("#properties input[name='timerEventDefinitionValue']")).to_have_value(FIXED)

    # A user task without a form: the lint says so, in the list and on the diagram.
    page.select_option("#locate", "deploy")
    expect(_entry(page, "rectify-role", "input")).to_have_value("unit_staff")
    _panel_settled(page)
    _entry(page, "rectify-form-key", "select").select_option("")
    page.click("#lint")
    problem = page.locator('#problems li.problem-error[data-element="deploy"]')
    expect(problem).to_contain_text("表单")
    expect(page.locator('.lint-badge[data-element="deploy"]')).to_be_visible()
    expect(page.locator('.djs-element.lint-error[data-element-id="deploy"]')).to_have_count(1)
    # Clicking the problem selects its element (another one was selected in between).
    page.select_option("#locate", "self_check")
    problem.click()
    expect(page.locator('.djs-element.selected[data-element-id="deploy"]')).to_have_count(1)
    expect(page.locator("#properties .bio-properties-panel-header")).to_contain_text("动员部署")
    _panel_settled(page)

    # Deploying is refused while the error stands.
    page.click("#deploy")
    expect(page.locator("#designer-status")).to_contain_text("错误")
    expect(page.locator("#problems li.problem-error")).not_to_have_count(0)
    assert "/design/versions/" in page.url

    # Fixed in the panel, checked again, deployed.
    _entry(page, "rectify-form-key", "select").select_option("deploy")
    page.click("#lint")
    expect(page.locator("#problems li.problem-error")).to_have_count(0)
    expect(page.locator(".lint-badge")).to_have_count(0)
    with page.expect_navigation():
        page.click("#deploy")
    expect(page.locator('#versions tr[data-version="2"]')).to_contain_text("测试designer")
    expect(page.locator(".flash-success")).to_contain_text("已发布为 rectification 第 2 版")
    expect(page.locator("#drafts tbody tr")).to_have_count(1)
    with app.app_context():
        v2 = db.session.query(ProcessDefinition).filter_by(process_key="rectification", version=2).one()
        assert FIXED in v2.bpmn_xml
        assert '<spiffworkflow:property name="form_key" value="deploy" />' in v2.bpmn_xml
        assert "<bpmn:loopDataInputRef>ledger</bpmn:loopDataInputRef>" in v2.bpmn_xml
    assert page.console_errors == []


def test_saving_an_unchanged_diagram_keeps_what_the_engine_reads(page, app, make_user):
    """The modeler round trip (moddle with our spiffworkflow extension) loses nothing the engine
    parses: same spec as the deployed version."""
    import json

    from app.engine import definitions
    from app.forms import registry
    from app.models import ProcessDraft

    make_user("designer", username="e2e_roundtrip_designer")
    login(page, "e2e_roundtrip_designer")
    with app.app_context():
        v1 = db.session.query(ProcessDefinition).filter_by(process_key="rectification", version=1).one()
        v1_id, v1_file, v1_spec = v1.id, v1.filename, json.loads(v1.spec_json)
    page.goto(f"/design/versions/{v1_id}")
    expect(page.locator('#designer[data-ready="1"]')).to_have_count(1)
    page.fill("#draft-name", "原样保存")
    page.click("#save")
    expect(page.locator("#designer-status")).to_contain_text("草稿「原样保存」已保存")
    assert "/design/drafts/" in page.url
    with app.app_context():
        draft = db.session.query(ProcessDraft).one()
        parsed = definitions.parse(draft.xml.encode(), v1_file, registry.known_keys())
    assert json.loads(parsed.spec_json) == v1_spec
    assert page.console_errors == []


def test_a_camunda_file_uploads_opens_and_lints_on_the_diagram(page, make_user):
    make_user("designer", username="e2e_upload_designer")
    login(page, "e2e_upload_designer")
    page.goto("/design/")
    page.set_input_files('#upload input[type="file"]', str(FIXTURES / "camunda7_leave_request.bpmn"))
    with page.expect_navigation():
        page.click('#upload button[type="submit"]')
    expect(page.locator(".flash-success")).to_contain_text("已上传为草稿")
    expect(page.locator('#designer[data-ready="1"]')).to_have_count(1)
    page.click("#lint")
    expect(page.locator('#problems li.problem-error[data-element="Activity_approve"]').first).to_be_visible()
    expect(page.locator('.djs-element.lint-error[data-element-id="Activity_approve"]')).to_have_count(1)
    assert page.console_errors == []


def test_a_file_without_diagram_interchange_is_still_checked_as_stored(page, make_user):
    make_user("designer", username="e2e_nodi_designer")
    login(page, "e2e_nodi_designer")
    page.goto("/design/")
    page.set_input_files('#upload input[type="file"]', str(FIXTURES / "no_di.bpmn"))
    with page.expect_navigation():
        page.click('#upload button[type="submit"]')
    expect(page.locator("#designer-status")).to_contain_text("无法在画布中显示")
    page.click("#lint")
    expect(page.locator("#designer-status")).to_contain_text("检查通过")
