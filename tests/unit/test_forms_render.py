"""The render_form macro: fields with labels and marks, errors beside fields, group tables with an
add-row template, existing files, no <form> tag."""

import re
from io import BytesIO
from pathlib import Path

from flask import render_template_string
from flask_wtf.csrf import generate_csrf
from werkzeug.datastructures import FileStorage, MultiDict

from app.forms.registry import build_form, validate
from tests.support import asset

RENDER = '{% from "forms/_render.html" import render_form %}{{ render_form(form, form.definition, existing_files) }}'


def render(form, existing_files=None):
    return render_template_string(RENDER, form=form, existing_files=existing_files)


def cell(html, name):
    """The <td> holding input `name`."""
    match = re.search(rf'<td[^>]*>(?:(?!</td>).)*name="{re.escape(name)}"(?:(?!</td>).)*</td>', html, re.S)
    assert match, f"no cell for {name}"
    return match.group(0)


def test_plain_fields_labels_and_no_form_tag(app, ctx):
    with app.test_request_context():
        html = render(build_form("deploy"))
    assert "<form" not in html and 'type="submit"' not in html
    assert 'name="csrf_token" type="hidden"' in html
    assert '<label for="group_head">领导小组组长<span class="required"' in html
    assert '<label for="attendees">参会人员</label>' in html
    assert 'type="date"' in html and 'name="meeting_date"' in html
    assert re.search(
        r'<input accept="\.pdf,\.doc,\.docx,\.wps,\.jpg,\.png,\.xlsx,\.xls"[^>]*name="plan"[^>]*type="file"', html
    )
    assert 'class="help"' in html and asset(app, "forms.js") in html


def test_errors_are_rendered_beside_their_fields(app, ctx):
    with app.test_request_context():
        form = build_form(
            "self_check",
            formdata=MultiDict(
                [
                    ("csrf_token", generate_csrf()),
                    ("projects-0-name", ""),
                    ("projects-0-investment", "1500"),
                    ("projects-1-name", "广场"),
                    ("projects-1-investment", "-3"),
                ]
            ),
        )
        assert not validate(form)
        html = render(form)
    assert '<span class="field-error" role="alert">此项为必填项</span>' in cell(html, "projects-0-name")
    assert "投资1000万元及以上的项目须经专家论证" in cell(html, "projects-0-expert_review")
    assert "field-error" not in cell(html, "projects-0-investment")
    assert "数值须在 0 到 9999999999.99 之间" in cell(html, "projects-1-investment")
    assert 'value="-3"' in cell(html, "projects-1-investment")


def test_group_has_table_and_add_row_template(app, ctx):
    with app.test_request_context():
        html = render(build_form("self_check"))
    group = re.search(r'<fieldset[^>]*data-form-group="ledger".*?</fieldset>', html, re.S).group(0)
    assert 'data-next-index="0"' in group and 'data-max-rows="500"' in group
    assert '<table class="form-group-table">' in group
    assert '<th scope="col">整改时限<span class="required"' in group
    template = re.search(r"<template data-row-template>(.*?)</template>", group, re.S).group(1)
    assert 'name="ledger-__index__-title"' in template
    assert 'id="ledger-__index__-deadline"' in template
    assert '<option selected value="self_check">' in template  # the source default
    assert "data-remove-row" in template
    assert "添加一行" in group
    rows = re.search(r"<tbody data-rows>(.*?)</tbody>", group, re.S).group(1)
    assert "<tr" not in rows  # min_rows 0: nothing until the user adds a row


def test_group_level_error_rendered_under_the_table(app, ctx):
    with app.test_request_context():
        form = build_form(
            "assessment",
            formdata=MultiDict(
                [
                    ("csrf_token", generate_csrf()),
                    ("scores-0-component", "组织"),
                    ("scores-0-points", "10"),
                    ("scores-0-max_points", "10"),
                    ("verdict", "fail"),
                ]
            ),
        )
        assert not validate(form)
        html = render(form)
    group = re.search(r'<fieldset[^>]*data-form-group="remedial_items".*?</fieldset>', html, re.S).group(0)
    assert re.search(r"</template>.*不合格时须列出补课整改事项", group, re.S)
    scores = re.search(r'<fieldset[^>]*data-form-group="scores".*?</fieldset>', html, re.S).group(0)
    assert 'data-min-rows="1"' in scores and 'data-next-index="1"' in scores


def test_file_field_lists_existing_files(app, ctx):
    existing = {"evidence": [{"id": 3, "filename": "整改前.jpg", "url": "/evidence/3"}]}
    with app.test_request_context():
        form = build_form(
            "rectify_item",
            formdata=MultiDict(
                [
                    ("csrf_token", generate_csrf()),
                    ("measures_taken", "已整改"),
                    ("completed_on", "2024-05-01"),
                    ("evidence", FileStorage(BytesIO(b"x"), filename="x.exe")),
                ]
            ),
        )
        assert not validate(form, existing_files={"evidence": 1})
        html = render(form, existing)
    assert '<a href="/evidence/3">整改前.jpg</a>' in html
    assert re.search(r'<input[^>]*multiple[^>]*name="evidence"', html)
    assert "仅允许上传以下类型的文件" in html


def test_english_locale_renders_english_labels(app):
    with app.test_request_context("/?lang=en"):
        html = render(build_form("verify_item"))
    assert '<label for="check_type">Check type<span class="required"' in html
    assert '<option value="unannounced_visit">Unannounced visit</option>' in html


def test_script_renumbers_template_rows():
    script = (Path(__file__).resolve().parents[2] / "assets" / "src" / "forms.entry.js").read_text(encoding="utf-8")
    assert "__index__" in script and "data-row-template" in script
    assert "http" not in script  # no CDN, no framework
