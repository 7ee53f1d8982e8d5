"""Conditional rules of the task forms: required_if, rows_required_if, form rules, group rows,
required files satisfied by stored evidence."""

from io import BytesIO

from flask import request
from flask_wtf.csrf import generate_csrf
from werkzeug.datastructures import FileStorage, MultiDict

from app.forms.registry import build_form, files_of, validate


def post(key, pairs, **kw):
    return build_form(key, formdata=MultiDict([("csrf_token", generate_csrf()), *pairs]), **kw)


def project(i, investment, **extra):
    pairs = [(f"projects-{i}-name", f"项目{i}"), (f"projects-{i}-investment", investment)]
    return pairs + [(f"projects-{i}-{k}", v) for k, v in extra.items()]


def test_expert_review_required_from_1000_wan(app, ctx):
    with app.test_request_context():
        form = post("self_check", project(0, "999.99") + project(1, "1000") + project(2, "2500", expert_review="y"))
        assert not validate(form)
        assert form.errors == {"projects": [{}, {"expert_review": ["投资1000万元及以上的项目须经专家论证"]}, {}]}


def test_required_if_ignores_an_unparsable_sibling(app, ctx):
    with app.test_request_context():
        form = post("self_check", project(0, "很多"))
        assert not validate(form)
        assert form.errors == {"projects": [{"investment": ["请输入有效数字"]}]}


def test_comments_required_when_returning(app, ctx):
    with app.test_request_context():
        returned = post("review_self_check", [("decision", "return"), ("comments", "  ")])
        assert not validate(returned)
        assert returned.errors == {"comments": ["退回时须填写意见"]}
        accepted = post("review_self_check", [("decision", "accept")])
        assert validate(accepted), accepted.errors
        verify = post("verify_item", [("decision", "return"), ("check_type", "spot_check")])
        assert not validate(verify)
        assert verify.errors == {"comments": ["退回时须填写意见"]}


def test_empty_decision_is_required_not_invalid(app, ctx):
    with app.test_request_context():
        form = post("review_self_check", [("decision", "")])
        assert not validate(form)
        assert form.errors == {"decision": ["此项为必填项"]}


SCORE = [("scores-0-component", "组织领导"), ("scores-0-points", "18"), ("scores-0-max_points", "20")]
REMEDIAL = [
    ("remedial_items-0-title", "台账不全"),
    ("remedial_items-0-measures", "补齐台账"),
    ("remedial_items-0-responsible_leader", "王五"),
    ("remedial_items-0-responsible_department", "办公室"),
    ("remedial_items-0-deadline", "2024-06-30"),
]


def test_failing_assessment_needs_remedial_rows(app, ctx):
    with app.test_request_context():
        failed = post("assessment", [*SCORE, ("verdict", "fail")])
        assert not validate(failed)
        assert failed.errors == {"remedial_items": ["不合格时须列出补课整改事项"]}
        with_items = post("assessment", [*SCORE, ("verdict", "fail"), *REMEDIAL])
        assert validate(with_items), with_items.errors
        assert with_items.remedial_items.entries[0].form.source.data == "supervision"
        passed = post("assessment", [*SCORE, ("verdict", "pass")])
        assert validate(passed), passed.errors


def test_min_rows_keeps_a_blank_row_that_must_be_filled(app, ctx):
    with app.test_request_context():
        form = post("assessment", [("verdict", "pass")])
        assert len(form.scores.entries) == 1
        assert not validate(form)
        assert form.errors["scores"] == [
            {"component": ["此项为必填项"], "points": ["此项为必填项"], "max_points": ["此项为必填项"]}
        ]


def test_max_rows(app, ctx):
    with app.test_request_context():
        rows = []
        for i in range(51):
            rows += [(f"scores-{i}-component", f"项{i}"), (f"scores-{i}-points", "1"), (f"scores-{i}-max_points", "2")]
        form = post("assessment", [*rows, ("verdict", "pass")])
        assert len(form.scores.entries) == 51  # nothing typed is dropped silently
        assert not validate(form)
        assert form.errors == {"scores": ["最多只能填写50行"]}


def test_rebound_needs_reopened_or_new_items(app, ctx):
    closed = {"reopen_items": [("3", "道路破损")]}
    new_item = [
        ("new_items-0-title", "新问题"),
        ("new_items-0-measures", "整改"),
        ("new_items-0-responsible_leader", "李四"),
        ("new_items-0-responsible_department", "城建办"),
        ("new_items-0-deadline", "2024-09-30"),
    ]
    with app.test_request_context():
        bare = post("follow_up_review", [("rebound", "yes"), ("findings", "有反弹")], dynamic_choices=closed)
        assert not validate(bare)
        assert bare.errors == {"reopen_items": ["有反弹时须重新打开或新增整改事项"]}
        reopened = post(
            "follow_up_review",
            [("rebound", "yes"), ("findings", "有反弹"), ("reopen_items", "3")],
            dynamic_choices=closed,
        )
        assert validate(reopened), reopened.errors
        added = post(
            "follow_up_review", [("rebound", "yes"), ("findings", "有反弹"), *new_item], dynamic_choices=closed
        )
        assert validate(added), added.errors
        calm = post("follow_up_review", [("rebound", "no"), ("findings", "无反弹")], dynamic_choices=closed)
        assert validate(calm), calm.errors


def test_group_rows_with_a_gap_parse_in_order(app, ctx):
    with app.test_request_context():
        form = post("self_check", project(0, "10") + project(2, "30") + project(5, "50", kind="road"))
        assert validate(form), form.errors
        rows = [entry.form for entry in form.projects.entries]
        assert [r.name.data for r in rows] == ["项目0", "项目2", "项目5"]
        assert [str(r.investment.data) for r in rows] == ["10", "30", "50"]
        assert rows[2].kind.data == "road"
        # Rows are renumbered, so a re-rendered page and the add-row counter agree.
        assert [r.name.name for r in rows] == ["projects-0-name", "projects-1-name", "projects-2-name"]


def _rectify_pairs():
    return [("csrf_token", generate_csrf()), ("measures_taken", "已拆除违规广告牌"), ("completed_on", "2024-05-01")]


def test_required_file_satisfied_by_existing_evidence(app, ctx):
    with app.test_request_context():
        form = build_form("rectify_item", formdata=MultiDict(_rectify_pairs()))
        assert not validate(form)
        assert form.errors == {"evidence": ["此项为必填项"]}
        again = build_form("rectify_item", formdata=MultiDict(_rectify_pairs()))
        assert not validate(again, existing_files={"evidence": 0})
        stored = build_form("rectify_item", formdata=MultiDict(_rectify_pairs()))
        assert validate(stored, existing_files={"evidence": 2}), stored.errors
        assert files_of(stored) == {}


def test_multiple_files_are_collected(app, ctx):
    with app.test_request_context():
        pairs = _rectify_pairs() + [
            ("evidence", FileStorage(BytesIO(b"a"), filename="before.jpg")),
            ("evidence", FileStorage(BytesIO(b"b"), filename="after.png")),
            ("evidence", FileStorage(BytesIO(b""), filename="")),  # an empty file input
        ]
        form = build_form("rectify_item", formdata=MultiDict(pairs))
        assert validate(form), form.errors
        assert [f.filename for f in files_of(form)["evidence"]] == ["before.jpg", "after.png"]


def test_request_form_gets_request_files_merged(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)  # about files; CSRF is covered elsewhere
    data = {
        "meeting_date": "2024-03-05",
        "attendance": "12",
        "group_head": "王五",
        "group_members": "赵六",
        "plan": (BytesIO(b"%PDF"), "方案.pdf"),
    }
    with app.test_request_context("/task", method="POST", data=data, content_type="multipart/form-data"):
        form = build_form("deploy", formdata=request.form)
        assert validate(form), form.errors
        assert [f.filename for f in files_of(form)["plan"]] == ["方案.pdf"]


def test_text_with_characters_no_file_can_hold_is_refused_on_its_field_with_the_answers_kept(app, ctx):
    with app.test_request_context():
        pairs = [(k, "路灯\x0b工程" if k == "projects-0-name" else v) for k, v in project(0, "500")]
        form = post("self_check", pairs + [("summary", "自查\x01完毕")])
        assert not validate(form)
        assert form.errors["summary"] == ["含有无法保存的控制字符（通常来自从其他软件复制的内容），请删除后再提交"]
        assert "含有无法保存的控制字符" in form.errors["projects"][0]["name"][0]
        assert form.summary.data == "自查\x01完毕"  # kept, to be corrected and submitted again
        clean = post("review_self_check", [("decision", "return"), ("comments", "第一行\n第二行\t缩进")])
        assert validate(clean)
