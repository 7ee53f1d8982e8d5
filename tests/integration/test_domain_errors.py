"""One error shape (app.errors.DomainError) and one handler per surface: pages, JSON, the command line."""

import click
import pytest
from click.testing import CliRunner

from app.cli import CommandError, _guarded
from app.engine.errors import DiagramError, EngineError, Problem
from app.errors import DomainError, Forbidden, Invalid, NotFound, Refused
from app.i18n import _l
from app.services.escalation.letters import LetterWithdrawn
from app.services.shared.input_errors import InputError
from app.services.tasks.tasks import Conflict, FormInvalid, TaskNotFound


def test_every_error_keeps_its_name_and_its_builtin_base():
    assert issubclass(TaskNotFound, NotFound) and issubclass(TaskNotFound, LookupError)
    assert issubclass(Forbidden, PermissionError) and issubclass(Invalid, ValueError)
    for cls in (Conflict, FormInvalid, InputError, LetterWithdrawn, EngineError, DiagramError):
        assert issubclass(cls, DomainError), cls
    assert (NotFound.status, Forbidden.status, Invalid.status, Refused.status, DiagramError.status) == (
        404,
        403,
        400,
        409,
        422,
    )


def test_the_message_is_put_into_words_when_shown(app):
    error = Invalid(_l("文件「%(name)s」是空文件", name="a.pdf"), code="empty_file", details={"file": "a.pdf"})
    assert error.message == str(error) == "文件「a.pdf」是空文件"  # outside a request: the source language
    with app.test_request_context("/?lang=en"):
        assert error.message == 'The file "a.pdf" is empty'
        assert error.as_json() == {
            "error": {"code": "empty_file", "message": 'The file "a.pdf" is empty', "details": {"file": "a.pdf"}}
        }
    assert NotFound().message == "页面不存在或无权查看"  # a class's own default


def _answer(app, error: DomainError, path: str, **headers):
    with app.test_request_context(path, headers=headers):
        response = app.make_response(app.handle_user_exception(error))
        return response.status_code, response


def test_the_json_handler_answers_code_message_and_details(app):
    problems = [
        Problem(
            "x.bpmn",
            "t",
            "error",
            _l("%(element)s是用户任务，但没有设置表单（form_key 属性）", element=_l("「%(name)s」", name="T")),
            "form_key",
        )
    ]
    status, response = _answer(app, DiagramError(problems), "/api/v1/diagrams?lang=en")
    assert status == 422
    assert response.get_json() == {
        "error": {
            "code": "diagram_invalid",
            "message": 'x.bpmn: "T" is a user task but has no form (form_key property)',
            "details": [
                {
                    "file": "x.bpmn",
                    "element_id": "t",
                    "severity": "error",
                    "message": '"T" is a user task but has no form (form_key property)',
                    "code": "form_key",
                }
            ],
        }
    }
    # An XHR asking for JSON gets the same shape from any route.
    status, response = _answer(app, Conflict(), "/my/tasks/1", Accept="application/json")
    assert status == 409 and response.get_json()["error"]["code"] == "conflict"


def test_a_page_gets_an_error_page_with_the_status_never_a_500(app):
    status, response = _answer(app, LetterWithdrawn(_l("该督办函已撤回，无需签收")), "/letters/1?lang=en")
    page = response.get_data(as_text=True)
    assert status == 409 and "This letter was withdrawn: nothing to acknowledge" in page and "<h1>409</h1>" in page


def test_routes_left_to_the_handler(app, login_as):
    supervisor = login_as("supervisor")
    missing = supervisor.get("/letters/999999", headers={"Accept": "application/json"})
    assert missing.status_code == 404
    assert missing.get_json() == {"error": {"code": "not_found", "message": "督办函不存在", "details": None}}
    assert "督办函不存在" in supervisor.get("/letters/999999").get_data(as_text=True)


def test_the_command_line_prints_the_message_and_exits_1():
    @click.group()
    def group():
        pass

    @group.command("refuse")
    def refuse():
        raise Refused(_l("该举报已处理，不能重复处理"))

    _guarded(group)
    result = CliRunner().invoke(group, ["refuse"])
    assert result.exit_code == 1
    assert result.output == "错误：该举报已处理，不能重复处理\n"
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output


def test_a_flask_command_ends_with_the_refusal(app):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "--username", "x", "--password", "Passw0rd!", "--role", "nobody"]
    )
    assert result.exit_code == 1
    assert result.output.startswith("错误：角色无效：nobody（可选：")
    assert "Traceback" not in result.output


@pytest.mark.parametrize("error", [Invalid("x"), NotFound("x"), Refused("x")])
def test_command_error_keeps_the_domain_error(error):
    assert CommandError(error).error is error and CommandError(error).exit_code == 1


def test_a_csrf_failure_on_the_designers_json_api_answers_in_json(app, login_as):
    designer = login_as("designer", username="csrf_designer")  # CSRF is on in the tests; no token sent
    resp = designer.client.post("/design/lint", json={"xml": "<x/>"}, headers={"Accept": "application/json"})
    assert resp.status_code == 400 and resp.is_json
    assert "安全令牌" in resp.get_json()["error"]
