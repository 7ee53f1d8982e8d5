"""Attaching a scheme, the score sheet's rules, totals, locking, and the audit trail."""

from decimal import Decimal
from pathlib import Path

import pytest

from app.extensions import db
from app.models import AuditEvent, SchemeTemplate
from app.services.appraisal import appraisal_schemes, score_sheets
from app.services.appraisal.score_sheets import SheetError, SheetInput, reason_key, score_key

from .appraisal_support import appraised_campaign, full_marks, template_id


@pytest.fixture
def setup(ctx, make_unit, make_user):
    unit = make_unit("T01")
    assessor = make_user("assessor")
    campaign_id = appraised_campaign([unit])
    return campaign_id, unit, assessor, appraisal_schemes.scheme_for(campaign_id)


def _part(scheme, key, n=0):
    return next(c for c in scheme.components if c.key == key).parts[n]


def test_the_campaign_gets_its_own_copy_of_the_template(setup, app, tmp_path):
    campaign_id, _, _, scheme = setup
    assert scheme.name == "政风行风评议考核方案（100分）" and scheme.total == 100 and scheme.bottom_n == 2
    assert [c.key for c in scheme.components][:3] == ["mobile", "work", "hotline"]
    assert sum(c.points for c in scheme.components) == 100
    work = next(c for c in scheme.components if c.key == "work")
    assert [p.points for p in work.parts] == [6, 5, 5, 4, 4, 4] and not work.whole
    mobile = scheme.components[0]
    assert mobile.whole and mobile.parts[0].points == 10
    # A changed template file becomes version 2; the attached copy does not move.
    text = tmp_path / "s.yaml"
    source = (Path(app.config["SCHEMES_DIR"]) / "conduct-appraisal-2017.yaml").read_text(encoding="utf-8")
    text.write_text(
        source.replace(
            "{key: tv, name: 数字电视在线测评, points: 3}", "{key: tv, name: 数字电视在线测评, points: 2}"
        ).replace(
            "{key: districts, name: 县区、开发园区评议, points: 10}",
            "{key: districts, name: 县区、开发园区评议, points: 11}",
        ),
        encoding="utf-8",
    )
    [(template, created)] = appraisal_schemes.load_templates(tmp_path)
    assert created and template.version == 2
    assert appraisal_schemes.list_templates() == [template]
    db.session.expire_all()
    tv = next(c for c in appraisal_schemes.scheme_for(campaign_id).components if c.key == "tv")
    assert tv.points == 3
    # Loading the unchanged file again keeps the version.
    assert appraisal_schemes.load_templates(tmp_path)[0][1] is False
    assert db.session.query(SchemeTemplate).count() == 2


def test_full_marks_total_one_hundred_and_the_sheet_records_who_and_when(setup):
    campaign_id, unit, assessor, scheme = setup
    sheet = score_sheets.save(campaign_id, unit, SheetInput(scores=full_marks(scheme)), assessor, submit=True)
    assert sheet.total == 100 and sheet.status == "submitted"
    assert sheet.scored_by_id == assessor and sheet.submitted_by_id == assessor and sheet.submitted_at is not None
    assert len(sheet.scores) == sum(len(c.parts) for c in scheme.components)


def test_totals_add_parts_less_the_penalty(setup):
    campaign_id, unit, assessor, scheme = setup
    scores = full_marks(scheme)
    scores[_part(scheme, "work", 2).id] = ("3.5", "信访件超期")
    scores[_part(scheme, "hotline", 0).id] = ("6", "热线回复不及时")
    scores[scheme.components[0].parts[0].id] = ("9.25", "手机端测评")
    sheet = score_sheets.save(
        campaign_id, unit, SheetInput(scores=scores, penalty="2", penalty_reason="发生负面事件"), assessor
    )
    assert sheet.total == Decimal("100") - Decimal("1.5") - 2 - Decimal("0.75") - 2
    assert sheet.penalty == 2 and sheet.status == "draft"


def test_a_weighted_component_is_scaled_to_its_points(ctx, make_unit, make_user, tmp_path):
    (tmp_path / "w.yaml").write_text(
        "key: w\nname: 权重方案\ntotal: 100\ncomponents:\n"
        "  - {key: a, name: 群众满意度, points: 40, max: 100}\n"
        "  - {key: b, name: 工作实绩, points: 60, parts: [{name: 一, points: 30}, {name: 二, points: 30}]}\n",
        encoding="utf-8",
    )
    [(template, _)] = appraisal_schemes.load_templates(tmp_path)
    unit, assessor = make_unit("T01"), make_user("assessor")
    campaign_id = appraised_campaign([unit])
    scheme = appraisal_schemes.attach(campaign_id, template.id, None)
    a, b1, b2 = scheme.components[0].parts[0], *scheme.components[1].parts
    sheet = score_sheets.save(
        campaign_id,
        unit,
        SheetInput(scores={a.id: ("85", "满意度一般"), b1.id: ("30", ""), b2.id: ("27", "进度滞后")}),
        assessor,
        submit=True,
    )
    assert sheet.total == Decimal("34") + 57  # 85% of 40 points, then 30 + 27


def _errors(campaign_id, unit, assessor, values, submit=False) -> dict:
    with pytest.raises(SheetError) as exc:
        score_sheets.save(campaign_id, unit, values, assessor, submit=submit)
    return exc.value.errors


def test_every_score_rule(setup):
    campaign_id, unit, assessor, scheme = setup
    p = _part(scheme, "work", 0)  # max 6
    for raw, message in [
        ("7", "得分须在0到6之间"),
        ("-1", "得分须在0到6之间"),
        ("abc", "请填写数字"),
        ("5.555", "最多保留两位小数"),
        ("NaN", "请填写数字"),
        ("Infinity", "请填写数字"),
    ]:
        scores = full_marks(scheme)
        scores[p.id] = (raw, "原因")
        assert _errors(campaign_id, unit, assessor, SheetInput(scores=scores)) == {score_key(p.id): message}, raw
    # A deduction needs its reason; full marks need none; 0 is a valid (full) deduction with a reason.
    scores = full_marks(scheme)
    scores[p.id] = ("5", "  ")
    assert _errors(campaign_id, unit, assessor, SheetInput(scores=scores)) == {reason_key(p.id): "扣分须写明原因"}
    scores[p.id] = ("0", "严重违反纪律")
    assert score_sheets.save(campaign_id, unit, SheetInput(scores=scores), assessor).total == 94
    # A reason that is too long.
    scores[p.id] = ("5", "长" * 501)
    assert _errors(campaign_id, unit, assessor, SheetInput(scores=scores)) == {reason_key(p.id): "原因不能超过500字"}


def test_penalty_rules(setup):
    campaign_id, unit, assessor, scheme = setup
    marks = full_marks(scheme)
    assert _errors(campaign_id, unit, assessor, SheetInput(scores=marks, penalty="3")) == {
        "penalty_reason": "扣减分须写明负面事件或失误"
    }
    assert _errors(campaign_id, unit, assessor, SheetInput(scores=marks, penalty="101", penalty_reason="x")) == {
        "penalty": "扣减分须在0到100之间"
    }
    assert _errors(campaign_id, unit, assessor, SheetInput(scores=marks, penalty="-2", penalty_reason="x")) == {
        "penalty": "扣减分须在0到100之间"
    }


def test_a_draft_may_leave_parts_blank_but_a_submission_may_not(setup):
    campaign_id, unit, assessor, scheme = setup
    p = _part(scheme, "hotline", 1)
    draft = score_sheets.save(campaign_id, unit, SheetInput(scores={p.id: ("8", "")}), assessor)
    assert draft.status == "draft" and draft.total == 8
    errors = _errors(
        campaign_id, unit, assessor, SheetInput(scores={p.id: ("8", "")}, version=draft.version), submit=True
    )
    assert len(errors) == sum(len(c.parts) for c in scheme.components) - 1
    assert set(errors.values()) == {"请填写得分"}
    db.session.rollback()
    assert score_sheets.get_sheet(scheme.id, unit).status == "draft"


def test_a_submitted_sheet_is_locked_until_the_office_reopens_it(setup, make_user):
    campaign_id, unit, assessor, scheme = setup
    admin = make_user("admin")
    score_sheets.save(campaign_id, unit, SheetInput(scores=full_marks(scheme)), assessor, submit=True)
    with pytest.raises(SheetError, match="已提交并锁定"):
        score_sheets.save(campaign_id, unit, SheetInput(scores=full_marks(scheme)), assessor)
    with pytest.raises(SheetError, match="退回原因"):
        score_sheets.reopen(campaign_id, unit, " ", admin)
    reopened = score_sheets.reopen(campaign_id, unit, "热线得分录入有误", admin)
    assert reopened.status == "draft" and reopened.submitted_at is None
    with pytest.raises(SheetError, match="只能退回已提交"):
        score_sheets.reopen(campaign_id, unit, "再退", admin)


def test_a_stale_version_is_refused(setup):
    campaign_id, unit, assessor, scheme = setup
    first = score_sheets.save(campaign_id, unit, SheetInput(scores=full_marks(scheme)), assessor)
    stale = first.version
    score_sheets.save(campaign_id, unit, SheetInput(scores=full_marks(scheme), version=stale), assessor)
    with pytest.raises(SheetError, match="已被他人修改"):
        score_sheets.save(campaign_id, unit, SheetInput(scores=full_marks(scheme), version=stale), assessor)


def test_only_enrolled_units_of_an_appraised_campaign(setup, make_unit):
    campaign_id, _, assessor, scheme = setup
    outsider = make_unit("T99")
    with pytest.raises(SheetError, match="未纳入"):
        score_sheets.save(campaign_id, outsider, SheetInput(scores=full_marks(scheme)), assessor)
    bare = appraised_campaign([], doc="测政发〔2026〕9号")
    db.session.delete(appraisal_schemes.scheme_for(bare))
    db.session.commit()
    with pytest.raises(SheetError, match="尚未挂接"):
        score_sheets.save(bare, outsider, SheetInput(), assessor)


def test_a_scheme_in_use_cannot_be_replaced_and_every_change_is_audited(setup, make_user):
    campaign_id, unit, assessor, scheme = setup
    admin = make_user("admin")
    appraisal_schemes.attach(campaign_id, template_id(), admin)  # unused: replaced
    scheme = appraisal_schemes.scheme_for(campaign_id)
    appraisal_schemes.update_settings(campaign_id, 3, None, admin)
    with pytest.raises(appraisal_schemes.SchemeError):
        appraisal_schemes.update_settings(campaign_id, 51, None, admin)
    score_sheets.save(campaign_id, unit, SheetInput(scores=full_marks(scheme)), assessor)
    score_sheets.save(campaign_id, unit, SheetInput(scores=full_marks(scheme)), assessor, submit=True)
    score_sheets.reopen(campaign_id, unit, "更正", admin)
    with pytest.raises(appraisal_schemes.SchemeError, match="已有单位评分"):
        appraisal_schemes.attach(campaign_id, template_id(), admin)
    with pytest.raises(appraisal_schemes.SchemeError, match="不能取消"):
        appraisal_schemes.detach(campaign_id, admin)
    actions = [a for (a,) in db.session.query(AuditEvent.action).order_by(AuditEvent.id)]
    assert actions.count("appraisal.attach") == 2
    for action in ("appraisal.settings", "score_sheet.save", "score_sheet.submit", "score_sheet.reopen"):
        assert action in actions
    submit = db.session.query(AuditEvent).filter_by(action="score_sheet.submit").one()
    assert submit.unit_id == unit and submit.before["status"] == "draft" and submit.after["total"] == "100.00"


def test_flask_appraisal_load_reports_versions(app, ctx, runner):
    first = runner.invoke(args=["appraisal", "load"])
    assert first.exit_code == 0 and "conduct-appraisal v1" in first.output and "新版本" in first.output
    again = runner.invoke(args=["appraisal", "load"])
    assert again.exit_code == 0 and "未变化" in again.output
