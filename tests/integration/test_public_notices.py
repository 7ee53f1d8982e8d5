"""通报: on a public page with no login, withdrawn by a supervisor with a reason, never deleted."""

from datetime import UTC, datetime

import pytest
import time_machine

from app.extensions import db
from app.models import AuditEvent, PublicNotice, Task
from app.services.campaigns import launch
from app.services.sweep import timers
from tests.support import DEPLOY, make_campaign, submit, upload

# Deploy due 2026-12-10 17:30; the sweep reminds a minute later, sends the letter at due + 3 working
# days (12-15 17:30; its reply is due 5 working days later, 12-22) and the notice at due + 10 (12-24 17:30).
REMINDED = datetime(2026, 12, 10, 9, 31, tzinfo=UTC)
LETTERED = datetime(2026, 12, 15, 9, 31, tzinfo=UTC)
AFTER_NOTICE = datetime(2026, 12, 28, 2, 0, tzinfo=UTC)
LATER = datetime(2026, 12, 29, 2, 0, tzinfo=UTC)


@pytest.fixture
def noticed(app, make_unit, make_user):
    unit_a = make_unit("A01", "塘渡口镇")
    unit_b = make_unit("B01", "白仓镇")
    staff_b = make_user("unit_staff", unit_b, username="staffB")
    with app.app_context():
        cid = make_campaign([unit_a, unit_b])
        launch.launch_all(cid, None)
        # B finishes its deploy step in time (with a stored file): B is never noticed.
        deploy_b = db.session.query(Task.id).filter_by(unit_id=unit_b, element_id="deploy").scalar()
        submit(app, staff_b, deploy_b, DEPLOY, {"plan": upload("白仓镇方案.pdf")})
        for moment in (REMINDED, LETTERED, AFTER_NOTICE):
            with time_machine.travel(moment, tick=False):
                timers.tick()
        notice = db.session.query(PublicNotice).one()
    return {"app": app, "campaign": cid, "notice": notice.id, "a": unit_a, "b": unit_b}


def test_public_page_needs_no_login_and_shows_the_notice(noticed, client):
    resp = client.get("/public/notices")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    for text in ("塘渡口镇", "测试专项整治", "测政发〔2026〕1号", "动员部署", "2026-12-10", "2026-12-28"):
        assert text in page, text
    assert "白仓镇" not in page
    assert client.get("/public/").status_code == 200


def test_public_page_does_not_leak_internal_fields(noticed, client, make_user):
    make_user("supervisor", username="sup_secret")
    page = client.get("/public/notices").get_data(as_text=True)
    for leak in (
        "测试unit_staff",
        "测试supervisor",
        "sup_secret",
        "staffB",
        "/evidence",
        "/supervise",
        "data-notice",
        "withdraw",
        "csrf_token",
    ):
        assert leak not in page, leak


def test_campaign_filter_by_public_slug(noticed, client):
    from app.models import Campaign

    with noticed["app"].app_context():
        slug = db.session.get(Campaign, noticed["campaign"]).public_slug
    assert "塘渡口镇" in client.get(f"/public/notices?campaign={slug}").get_data(as_text=True)
    assert "塘渡口镇" not in client.get("/public/notices?campaign=not-a-slug").get_data(as_text=True)
    # The internal id is no filter: nothing on the public site is reached by a counting number.
    assert "塘渡口镇" not in client.get(f"/public/notices?campaign={noticed['campaign']}").get_data(as_text=True)


def test_withdrawn_notice_leaves_the_public_page_but_stays_on_the_internal_list(noticed, client, login_as):
    with time_machine.travel(LATER, tick=False):
        supervisor = login_as("supervisor", username="sup")
        url = f"/letters/notices/{noticed['notice']}/withdraw"
        resp = supervisor.post_form(
            url, {"reason": "该单位已于12月20日提交材料，系系统延迟"}, form_url="/letters/notices"
        )
        assert resp.status_code == 302
        internal = supervisor.get("/letters/notices").get_data(as_text=True)
    assert "塘渡口镇" not in client.get("/public/notices").get_data(as_text=True)
    assert "已撤回" in internal and "该单位已于12月20日提交材料，系系统延迟" in internal
    assert "测试supervisor · 2026-12-29 10:00" in internal
    with noticed["app"].app_context():
        notice = db.session.get(PublicNotice, noticed["notice"])
        assert notice is not None and notice.withdrawn_by_id == supervisor.user and notice.withdrawn_at == LATER
        event = db.session.query(AuditEvent).filter_by(action="notice.withdraw").one()
        assert event.actor_id == supervisor.user and event.after["reason"].startswith("该单位已于")


def test_withdrawal_needs_a_reason(noticed, client, login_as):
    with time_machine.travel(LATER, tick=False):
        supervisor = login_as("supervisor", username="sup")
        resp = supervisor.post_form(
            f"/letters/notices/{noticed['notice']}/withdraw", {"reason": "  "}, form_url="/letters/notices"
        )
    assert resp.status_code == 400
    assert "撤回通报须填写理由" in resp.get_data(as_text=True)
    assert "塘渡口镇" in client.get("/public/notices").get_data(as_text=True)
    with noticed["app"].app_context():
        assert db.session.get(PublicNotice, noticed["notice"]).withdrawn_at is None
        assert db.session.query(AuditEvent).filter_by(action="notice.withdraw").count() == 0


def test_withdrawing_twice_is_refused_in_chinese(noticed, login_as):
    with time_machine.travel(LATER, tick=False):
        supervisor = login_as("supervisor", username="sup")
        url = f"/letters/notices/{noticed['notice']}/withdraw"
        supervisor.post_form(url, {"reason": "误报"}, form_url="/letters/notices")
        resp = supervisor.post_form(url, {"reason": "再次撤回"}, form_url="/letters/notices")
        assert resp.status_code == 400 and "该通报已撤回" in resp.get_data(as_text=True)
        assert (
            supervisor.post_form(
                "/letters/notices/999999/withdraw", {"reason": "x"}, form_url="/letters/notices"
            ).status_code
            == 404
        )


def test_internal_list_is_for_supervisors_and_admins(noticed, client, login_as):
    staff = login_as("unit_staff", noticed["a"], username="staffA")
    assert staff.get("/letters/notices").status_code == 403
    assert (
        staff.post_form(
            f"/letters/notices/{noticed['notice']}/withdraw", {"reason": "本单位不服"}, form_url="/letters"
        ).status_code
        == 403
    )
    assert client.get("/letters/notices").status_code == 302  # anonymous: to the login page
    admin = login_as("admin", username="adm")
    assert "塘渡口镇" in admin.get("/letters/notices").get_data(as_text=True)
    with noticed["app"].app_context():
        assert db.session.get(PublicNotice, noticed["notice"]).withdrawn_at is None
