"""Form definitions: every YAML loads and builds, bad files fail clearly, each field type parses and
validates with Chinese messages, labels follow the locale."""

from io import BytesIO
from pathlib import Path

import pytest
from flask_wtf.csrf import generate_csrf
from werkzeug.datastructures import FileStorage, MultiDict

from app.forms.registry import (
    FormDefinitionError,
    build_form,
    form_class,
    known_keys,
    load_definition,
    reload,
    validate,
)

REPO_FORMS = Path(__file__).resolve().parents[2] / "forms"
EXPECTED_KEYS = {
    "deploy",
    "self_check",
    "review_self_check",
    "verify_item",
    "rectify_item",
    "assessment",
    "follow_up_review",
    "add_ledger_item",
    "accept_tip",
}


def post(key, pairs, **kw):
    """Bind `key` to posted pairs plus a valid CSRF token (call inside a request context)."""
    return build_form(key, formdata=MultiDict([("csrf_token", generate_csrf()), *pairs]), **kw)


def upload(name="plan.pdf", body=b"%PDF-1.4"):
    return FileStorage(BytesIO(body), filename=name, content_type="application/octet-stream")


DEPLOY_OK = [
    ("meeting_date", "2024-03-05"),
    ("attendance", "25"),
    ("attendees", "张三、李四"),
    ("group_head", "王五"),
    ("group_members", "赵六、钱七"),
]


def test_every_yaml_loads_and_builds(app, ctx):
    assert app.config["FORMS_DIR"] == str(REPO_FORMS)
    assert known_keys() == EXPECTED_KEYS
    for key in known_keys():
        definition = load_definition(key)
        assert definition.key == key and definition.fields
        with app.test_request_context():
            form = build_form(key)
            for fdef in definition.fields:
                assert fdef.name in form._fields


def test_form_class_is_cached_per_key(ctx):
    assert form_class("deploy") is form_class("deploy")
    assert form_class("deploy").definition is load_definition("deploy")


def test_unknown_key_raises(ctx):
    with pytest.raises(FormDefinitionError, match="no_such_form"):
        load_definition("no_such_form")
    with pytest.raises(FormDefinitionError):
        form_class("../config")


def _write(tmp_path, key, body):
    (tmp_path / f"{key}.yaml").write_text(body, encoding="utf-8")
    reload(key)
    return tmp_path


MINIMAL = """
key: {key}
title: {{zh: 测试, en: Test}}
fields:
  - name: answer
    type: {type}
    label: {{zh: 回答, en: Answer}}
{extra}
"""


@pytest.mark.parametrize(
    "type_, extra, words",
    [
        ("selct", "", ["unknown type 'selct'"]),
        ("text", "    requird: true", ["unknown keys", "requird"]),
        (
            "select",
            "    choices:\n      - {value: yes, zh: 是, en: Yes}",
            ["value must be a non-empty string", "quote"],
        ),
        ("text", "    required_if: {field: nothing, equals: x}", ["refers to unknown field 'nothing'"]),
        ("text", "    max: lots", ["answer.max", "expected a number"]),
    ],
)
def test_malformed_yaml_names_file_and_field(tmp_path, type_, extra, words):
    forms_dir = _write(tmp_path, "broken", MINIMAL.format(key="broken", type=type_, extra=extra))
    with pytest.raises(FormDefinitionError) as err:
        load_definition("broken", forms_dir=forms_dir)
    message = str(err.value)
    assert "broken.yaml" in message and "answer" in message
    for word in words:
        assert word in message


def test_malformed_yaml_syntax_and_key_mismatch(tmp_path):
    _write(tmp_path, "syntax", "key: syntax\nfields: [unclosed\n")
    with pytest.raises(FormDefinitionError, match=r"syntax\.yaml: invalid YAML"):
        load_definition("syntax", forms_dir=tmp_path)
    _write(tmp_path, "named", MINIMAL.format(key="other", type="text", extra=""))
    with pytest.raises(FormDefinitionError, match=r"named\.yaml: key: must equal the file name"):
        load_definition("named", forms_dir=tmp_path)


def test_reload_picks_up_a_changed_file(app, tmp_path):
    _write(tmp_path, "change", MINIMAL.format(key="change", type="text", extra=""))
    first = form_class("change", forms_dir=tmp_path)
    assert form_class("change", forms_dir=tmp_path) is first
    _write(tmp_path, "change", MINIMAL.format(key="change", type="integer", extra=""))
    second = form_class("change", forms_dir=tmp_path)
    assert second is not first
    assert load_definition("change", forms_dir=tmp_path).field("answer").type == "integer"
    with app.test_request_context():
        assert build_form("change", forms_dir=tmp_path).answer.type == "IntegerField"


def test_valid_deploy_form(app, ctx):
    with app.test_request_context():
        form = post("deploy", [*DEPLOY_OK, ("plan", upload())])
        assert validate(form), form.errors


def test_required_fields_say_so_in_chinese(app, ctx):
    with app.test_request_context():
        form = post("deploy", [("group_head", "   ")])
        assert not validate(form)
        for name in ("meeting_date", "attendance", "group_head", "group_members", "plan"):
            assert form.errors[name] == ["此项为必填项"], name
        assert "attendees" not in form.errors


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("attendance", "abc", "请输入整数"),
        ("attendance", "2.5", "请输入整数"),
        ("attendance", "0", "数值须在 1 到 100000 之间"),
        ("meeting_date", "2024-02-30", "请输入有效日期"),
        ("meeting_date", "昨天", "请输入有效日期"),
        ("group_head", "长" * 51, "长度不能超过50个字"),
    ],
)
def test_deploy_field_errors(app, ctx, name, value, message):
    with app.test_request_context():
        pairs = [(k, v) for k, v in DEPLOY_OK if k != name] + [(name, value), ("plan", upload())]
        form = post("deploy", pairs)
        assert not validate(form)
        assert form.errors == {name: [message]}


def test_integer_and_date_values_are_typed(app, ctx):
    with app.test_request_context():
        form = post("deploy", [*DEPLOY_OK, ("plan", upload())])
        assert form.attendance.data == 25
        assert form.meeting_date.data.isoformat() == "2024-03-05"


@pytest.mark.parametrize(
    "value, message",
    [
        ("-1", "数值须在 0 到 100 之间"),
        ("100.01", "数值须在 0 到 100 之间"),
        ("1.234", "最多保留两位小数"),
        ("NaN", "请输入有效数字"),
        ("Infinity", "请输入有效数字"),
        ("十", "请输入有效数字"),
    ],
)
def test_decimal_errors(app, ctx, value, message):
    with app.test_request_context():
        form = post(
            "assessment",
            [
                ("scores-0-component", "组织领导"),
                ("scores-0-points", value),
                ("scores-0-max_points", "100"),
                ("verdict", "pass"),
            ],
        )
        assert not validate(form)
        assert form.errors == {"scores": [{"points": [message]}]}


def test_decimal_keeps_two_places(app, ctx):
    with app.test_request_context():
        form = post(
            "assessment",
            [
                ("scores-0-component", "组织领导"),
                ("scores-0-points", "12.5"),
                ("scores-0-max_points", "20.00"),
                ("verdict", "pass"),
            ],
        )
        assert validate(form), form.errors
        assert str(form.scores.entries[0].form.points.data) == "12.5"


def test_select_rejects_unknown_choice(app, ctx):
    with app.test_request_context():
        form = post("verify_item", [("decision", "approve"), ("check_type", "spot_check")])
        assert not validate(form)
        assert form.errors == {"decision": ["请选择有效选项"]}


def test_select_default_is_preselected(app, ctx):
    with app.test_request_context():
        assert build_form("add_ledger_item").source.data == "supervision"


def test_multiselect_uses_dynamic_choices(app, ctx):
    with app.test_request_context():
        choices = {"reopen_items": [("7", "道路破损"), ("9", "路灯不亮")]}
        ok = post(
            "follow_up_review",
            [("rebound", "yes"), ("findings", "反弹"), ("reopen_items", "7"), ("reopen_items", "9")],
            dynamic_choices=choices,
        )
        assert validate(ok), ok.errors
        assert ok.reopen_items.data == ["7", "9"]
        bad = post(
            "follow_up_review",
            [("rebound", "yes"), ("findings", "反弹"), ("reopen_items", "8")],
            dynamic_choices=choices,
        )
        assert not validate(bad)
        assert bad.errors == {"reopen_items": ["请选择有效选项"]}


def test_dynamic_choices_for_an_unknown_field_fail_loudly(app, ctx):
    with app.test_request_context(), pytest.raises(FormDefinitionError, match="nothing"):
        build_form("follow_up_review", dynamic_choices={"nothing": []})


def test_checkbox_parses(app, ctx):
    with app.test_request_context():
        form = post(
            "self_check",
            [("projects-0-name", "道路"), ("projects-0-investment", "10"), ("projects-0-residents_consulted", "y")],
        )
        row = form.projects.entries[0].form
        assert row.residents_consulted.data is True
        assert row.expert_review.data is False


def test_file_accept_list(app, ctx):
    with app.test_request_context():
        form = post("deploy", [*DEPLOY_OK, ("plan", upload("plan.exe"))])
        assert not validate(form)
        assert form.errors["plan"][0].startswith("仅允许上传以下类型的文件")
        assert "docx" in form.errors["plan"][0]
        upper = post("deploy", [*DEPLOY_OK, ("plan", upload("PLAN.PDF"))])
        assert validate(upper), upper.errors


def test_missing_csrf_token_is_reported_in_chinese(app, ctx):
    with app.test_request_context():
        form = build_form("review_self_check", formdata=MultiDict([("decision", "accept")]))
        assert not validate(form)
        assert form.errors == {"csrf_token": ["页面已过期，请刷新页面后重新提交"]}


def test_labels_follow_the_locale(app):
    # No `ctx` here: Flask-Babel caches the locale on `g`, which an outer app context would share.
    with app.test_request_context():
        form = build_form("deploy")
        assert str(form.group_head.label.text) == "领导小组组长"
        assert ">领导小组组长</label>" in str(form.group_head.label)
    with app.test_request_context("/?lang=en"):
        form = build_form("deploy")
        assert str(form.group_head.label.text) == "Head of the leading group"
        assert str(load_definition("deploy").title) == "Mobilisation and deployment"
