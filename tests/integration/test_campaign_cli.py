"""`flask campaign create | enrol | launch`."""

from datetime import date

import time_machine
from sqlalchemy import func, select

from app.extensions import db
from app.models import Campaign, ProcessInstance
from tests.integration.test_campaigns import BEFORE_DEADLINES, NOTICE_FILE, ensure_deployed, make_notice


def test_create_from_the_real_notice_prints_the_id(app, runner):
    result = runner.invoke(
        args=[
            "campaign",
            "create",
            "--notice",
            str(NOTICE_FILE),
            "--self-check-until",
            "2014-05-31",
            "--follow-up-on",
            "2014-12-01",
        ]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        campaign = db.session.get(Campaign, int(result.output.strip()))
        assert campaign.doc_number == "邵政办发〔2014〕54号"
        assert [p.key for p in campaign.phases] == ["deploy", "self_check", "rectification", "assessment"]
        assert campaign.follow_up_on == date(2014, 12, 1)
        assert len(campaign.tasks) == 6


def test_create_with_shift_to_today(app, runner):
    with time_machine.travel(date(2026, 3, 1), tick=False):
        result = runner.invoke(
            args=[
                "campaign",
                "create",
                "--notice",
                str(NOTICE_FILE),
                "--self-check-until",
                "2014-05-31",
                "--shift-to-today",
            ]
        )
    assert result.exit_code == 0, result.output
    with app.app_context():
        campaign = db.session.get(Campaign, int(result.output.strip()))
        assert campaign.phases[0].starts == date(2026, 3, 1)
        assert campaign.issued_on <= date(2026, 3, 1)


def test_create_errors_exit_1_with_a_clear_message(app, runner):
    result = runner.invoke(args=["campaign", "create", "--notice", str(NOTICE_FILE)])
    assert result.exit_code == 1
    assert "自查自纠" in result.output
    ok = runner.invoke(args=["campaign", "create", "--notice", str(NOTICE_FILE), "--self-check-until", "2014-05-31"])
    assert ok.exit_code == 0
    again = runner.invoke(args=["campaign", "create", "--notice", str(NOTICE_FILE), "--self-check-until", "2014-05-31"])
    assert again.exit_code == 1
    assert "文号已存在" in again.output
    bad = runner.invoke(args=["campaign", "create", "--notice", str(NOTICE_FILE), "--self-check-until", "May"])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output


def test_enrol_and_launch_by_doc_number(app, runner, make_unit):
    with time_machine.travel(BEFORE_DEADLINES, tick=True):
        for code in ("T01", "T02", "T03"):
            make_unit(code, kind="township")
        make_unit("D01", kind="department")
        with app.app_context():
            from app.services.campaigns import campaigns

            ensure_deployed()
            campaigns.create_campaign(make_notice(), actor_id=None)
        doc = "测政办发〔2026〕1号"

        result = runner.invoke(args=["campaign", "enrol", doc, "--units", "kind:township"])
        assert result.exit_code == 0, result.output
        assert "新纳入 3 个单位" in result.output
        bad = runner.invoke(args=["campaign", "enrol", doc, "--units", "codes:T01,NOPE"])
        assert bad.exit_code == 1 and "NOPE" in bad.output
        missing = runner.invoke(args=["campaign", "enrol", "999", "--units", "all"])
        assert missing.exit_code == 1 and "找不到" in missing.output

        result = runner.invoke(args=["campaign", "launch", doc, "--batch-size", "2"])
        assert result.exit_code == 0, result.output
        assert result.output.splitlines() == ["已启动 2/3", "已启动 3/3"]
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(ProcessInstance)) == 3
            assert db.session.scalar(select(Campaign.status)) == "launched"

        # Enrol one more after launch: the next launch starts only it.
        runner.invoke(args=["campaign", "enrol", doc, "--units", "all"])
        result = runner.invoke(args=["campaign", "launch", doc])
        assert result.output.splitlines() == ["已启动 4/4"]
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(ProcessInstance)) == 4


def test_launch_without_units_fails(app, runner):
    with app.app_context():
        from app.services.campaigns import campaigns

        cid = campaigns.create_campaign(make_notice(), actor_id=None).id
    result = runner.invoke(args=["campaign", "launch", str(cid)])
    assert result.exit_code == 1
    assert "尚未纳入" in result.output
