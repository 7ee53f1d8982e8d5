"""to_data / build_form(data=...) round trips, process_data, drafts that keep unparsable text."""

import json

from flask import render_template_string
from flask_wtf.csrf import generate_csrf
from werkzeug.datastructures import MultiDict

from app.forms.registry import build_form, process_data, to_data, validate

RENDER = '{% from "forms/_render.html" import render_form %}{{ render_form(form, form.definition) }}'

SELF_CHECK = [
    ("projects-0-name", "滨江景观带"),
    ("projects-0-kind", "landscape"),
    ("projects-0-status", "unfinished"),
    ("projects-0-investment", "1234.5"),
    ("projects-0-exceeds_local_finances", "y"),
    ("projects-0-expert_review", "y"),
    ("projects-0-verdict", "stop"),
    ("projects-0-findings", "资金缺口大"),
    ("ledger-0-title", "半拉子工程停建后未复绿"),
    ("ledger-0-source", "residents"),
    ("ledger-0-measures", "复绿并设置围挡"),
    ("ledger-0-responsible_leader", "王五"),
    ("ledger-0-responsible_department", "城建办"),
    ("ledger-0-deadline", "2024-06-30"),
    ("summary", "共排查项目1个"),
]


def test_to_data_is_json_safe_and_typed_as_strings(app, ctx):
    with app.test_request_context():
        form = build_form("self_check", formdata=MultiDict([("csrf_token", generate_csrf()), *SELF_CHECK]))
        assert validate(form), form.errors
        data = to_data(form)
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert "csrf_token" not in data
    project = data["projects"][0]
    assert project["investment"] == "1234.50"
    assert project["exceeds_local_finances"] is True and project["violates_urban_patterns"] is False
    assert project["verdict"] == "stop"
    assert data["ledger"] == [
        {
            "title": "半拉子工程停建后未复绿",
            "source": "residents",
            "measures": "复绿并设置围挡",
            "responsible_leader": "王五",
            "responsible_department": "城建办",
            "deadline": "2024-06-30",
        }
    ]


def test_round_trip_through_build_form_data(app, ctx):
    with app.test_request_context():
        posted = build_form("self_check", formdata=MultiDict([("csrf_token", generate_csrf()), *SELF_CHECK]))
        data = json.loads(json.dumps(to_data(posted)))
        again = build_form("self_check", data=data)
        assert to_data(again) == data
        html = render_template_string(RENDER, form=again)
    assert 'name="projects-0-name" type="text" value="滨江景观带"' in html
    assert 'value="1234.50"' in html
    assert '<option selected value="unfinished">' in html
    assert 'checked id="projects-0-exceeds_local_finances"' in html
    assert 'name="ledger-0-deadline" type="date" value="2024-06-30"' in html
    assert "共排查项目1个</textarea>" in html


def test_draft_keeps_text_that_did_not_parse(app, ctx):
    with app.test_request_context():
        posted = build_form(
            "deploy",
            formdata=MultiDict(
                [
                    ("csrf_token", generate_csrf()),
                    ("meeting_date", "3月5日"),
                    ("attendance", "二十"),
                    ("group_head", "王五"),
                ]
            ),
        )
        assert not validate(posted)
        draft = to_data(posted)
        assert draft["meeting_date"] == "3月5日" and draft["attendance"] == "二十"
        assert "plan" not in draft
        reopened = build_form("deploy", data=draft)
        assert reopened.meeting_date._value() == "3月5日"
        assert reopened.attendance._value() == "二十"
        assert reopened.group_head.data == "王五"


def test_data_prefill_tolerates_unknown_and_missing_keys(app, ctx):
    with app.test_request_context():
        form = build_form("review_self_check", data={"decision": "return", "retired_field": 1})
        assert form.decision.data == "return"
        assert to_data(form) == {"decision": "return", "comments": ""}


def test_follow_up_prefill_with_dynamic_choices(app, ctx):
    with app.test_request_context():
        form = build_form(
            "follow_up_review",
            data={"rebound": "yes", "reopen_items": ["4"]},
            dynamic_choices={"reopen_items": [("4", "路灯不亮"), ("5", "围挡破损")]},
        )
        html = render_template_string(RENDER, form=form)
    assert 'checked id="reopen_items-0" name="reopen_items" type="checkbox" value="4"' in html
    assert "围挡破损" in html


def test_process_data_returns_only_process_fields(ctx):
    assert process_data("review_self_check", {"decision": "return", "comments": "补充材料"}) == {"decision": "return"}
    assert process_data("verify_item", {"decision": "close", "check_type": "spot_check"}) == {"decision": "close"}
    assert process_data("assessment", {"verdict": "fail", "scores": [], "remarks": ""}) == {"verdict": "fail"}
    assert process_data("follow_up_review", {"rebound": "no", "findings": "x"}) == {"rebound": "no"}
    assert process_data("self_check", {"summary": "x", "projects": []}) == {}
