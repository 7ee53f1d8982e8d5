"""Login, throttling, logout, role landing pages, safe redirects and the authorisation helpers."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import url_for
from flask_login import login_user
from sqlalchemy import select
from werkzeug.exceptions import Forbidden, NotFound

from app.extensions import db
from app.models import AuditEvent, User
from app.web.auth.routes import safe_next
from app.web.authz import current_unit_id, role_required, unit_scope_or_404
from tests.conftest import csrf_from

PASSWORD = "Passw0rd!"


def _post_login(client, username, password, url="/login"):
    page = client.get(url)
    return client.post(
        url, data={"username": username, "password": password, "csrf_token": csrf_from(page.get_data(as_text=True))}
    )


def _is_logged_in(client) -> bool:
    return client.get("/home").status_code == 200


def _expected_home(app, role):
    endpoint = {
        "unit_staff": "staff.tasks",
        "supervisor": "supervisor.queue",
        "assessor": "assessor.queue",
        "admin": "admin.campaigns",
        "designer": "designer.index",
    }[role]
    with app.test_request_context():
        return url_for(endpoint) if endpoint in app.view_functions else url_for("auth.home")


def test_login_success_lands_on_the_role_home(app, client, make_user, make_unit):
    unit_id = make_unit("T01")
    for role in ("admin", "designer", "supervisor", "assessor", "unit_staff"):
        make_user(role, unit_id=unit_id if role == "unit_staff" else None, username=f"u_{role}")
        c = app.test_client()
        resp = _post_login(c, f"u_{role}", PASSWORD)
        assert resp.status_code == 302
        assert resp.headers["Location"] == _expected_home(app, role)
        assert c.get("/").headers["Location"] == _expected_home(app, role)


def test_home_page_shows_name_role_and_unit(app, make_unit, login_as):
    unit_id = make_unit("T01", name="城关镇")
    actor = login_as("unit_staff", unit_id=unit_id)
    html = actor.get("/home").get_data(as_text=True)
    assert "测试unit_staff" in html
    assert "单位工作人员" in html
    assert "城关镇" in html
    assert 'action="/logout"' in html and 'name="csrf_token"' in html


def test_wrong_password_is_refused_and_username_kept(app, client, make_user):
    make_user("admin", username="boss")
    resp = _post_login(client, "boss", "wrong-password")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "用户名或密码错误" in html
    assert 'value="boss"' in html
    assert "wrong-password" not in html
    assert not _is_logged_in(client)


def test_unknown_user_gets_the_same_message(client, app):
    resp = _post_login(client, "nobody", "whatever1")
    assert "用户名或密码错误" in resp.get_data(as_text=True)
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "login.failure"))
        assert event.entity_id == "nobody"


def test_empty_fields_show_chinese_errors_beside_fields(client):
    page = client.get("/login")
    resp = client.post(
        "/login", data={"username": "", "password": "", "csrf_token": csrf_from(page.get_data(as_text=True))}
    )
    html = resp.get_data(as_text=True)
    assert "请输入用户名" in html and "请输入密码" in html
    assert 'class="field-error"' in html


def test_failures_bring_a_growing_delay_not_a_lock(app, client, make_user):
    """The old fixed lockout (5 failures, 15 minutes) is gone: after the free failures each attempt
    waits a delay that doubles, and the right password works as soon as the delay is over."""
    make_user("supervisor", username="sup")
    free = app.config["LOGIN_ACCOUNT_FREE_FAILURES"]
    start = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as traveller:
        for _ in range(free):
            assert "用户名或密码错误" in _post_login(client, "sup", "bad-pass").get_data(as_text=True)
        # Even the right password waits for the delay (30 s), and the refusal counts nothing.
        assert "登录尝试过于频繁，请30秒后再试" in _post_login(client, "sup", PASSWORD).get_data(as_text=True)
        assert not _is_logged_in(client)
        traveller.shift(timedelta(seconds=29))
        assert "请1秒后再试" in _post_login(client, "sup", PASSWORD).get_data(as_text=True)

        traveller.shift(timedelta(seconds=1))
        assert _post_login(client, "sup", PASSWORD).status_code == 302
        assert _is_logged_in(client)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "sup"))
        actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.entity_id == str(user.id))).all()
        assert actions.count("login.failure") == free and "login.throttled" in actions and "login.success" in actions


def test_success_resets_the_failure_count(app, client, make_user):
    make_user("assessor", username="asr")
    free = app.config["LOGIN_ACCOUNT_FREE_FAILURES"]
    for _ in range(free - 1):
        _post_login(client, "asr", "bad-pass")
    assert _post_login(client, "asr", PASSWORD).status_code == 302
    other = app.test_client()
    for _ in range(free - 1):
        assert "用户名或密码错误" in _post_login(other, "asr", "bad-pass").get_data(as_text=True)
    assert _post_login(other, "asr", PASSWORD).status_code == 302


def test_inactive_user_cannot_log_in(app, client, make_user):
    user_id = make_user("admin", username="gone")
    with app.app_context():
        db.session.get(User, user_id).active = False
        db.session.commit()
    assert "用户名或密码错误" in _post_login(client, "gone", PASSWORD).get_data(as_text=True)


def test_logout_requires_post_with_csrf(login_as):
    actor = login_as("admin")
    assert actor.get("/logout").status_code == 405
    resp = actor.client.post("/logout")
    assert resp.status_code == 400
    assert "安全令牌" in resp.get_data(as_text=True)
    assert _is_logged_in(actor.client)

    resp = actor.post_form("/logout", {}, form_url="/home")
    assert resp.status_code == 302 and resp.headers["Location"] == "/login"
    assert not _is_logged_in(actor.client)
    assert "您已安全退出" in actor.get("/login").get_data(as_text=True)


def test_login_without_csrf_is_400_in_chinese(client, make_user):
    make_user("admin", username="boss")
    resp = client.post("/login", data={"username": "boss", "password": PASSWORD})
    assert resp.status_code == 400
    assert "表单已过期或缺少安全令牌" in resp.get_data(as_text=True)
    assert not _is_logged_in(client)


def test_anonymous_is_sent_to_login_with_next(client):
    assert client.get("/").headers["Location"] == "/login"
    resp = client.get("/admin/units?kind=township")
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/login?next=")


def test_next_is_followed_only_when_relative(app, make_user):
    make_user("admin", username="boss")
    ok = _post_login(app.test_client(), "boss", PASSWORD, url="/login?next=/admin/units%3Fkind%3Dtownship")
    assert ok.headers["Location"] == "/admin/units?kind=township"
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"):
        resp = _post_login(app.test_client(), "boss", PASSWORD, url=f"/login?next={evil}")
        assert resp.status_code == 302
        assert "evil" not in resp.headers["Location"] and "javascript" not in resp.headers["Location"]


@pytest.mark.parametrize(
    "target,expected",
    [
        ("/my/tasks", "/my/tasks"),
        ("/a?b=1", "/a?b=1"),
        (None, None),
        ("", None),
        ("//x.org", None),
        ("http://x.org/", None),
        ("/\\x.org", None),
        ("x/y", None),
        ("/a\nb", None),
    ],
)
def test_safe_next(target, expected):
    assert safe_next(target) == expected


def test_wrong_role_gets_403(make_unit, login_as):
    unit_id = make_unit("T01")
    actor = login_as("unit_staff", unit_id=unit_id)
    resp = actor.get("/admin/units")
    assert resp.status_code == 403
    assert "无权访问" in resp.get_data(as_text=True)


def test_language_switch_is_remembered(client):
    assert 'lang="zh-CN"' in client.get("/login").get_data(as_text=True)
    assert 'lang="en"' in client.get("/login?lang=en").get_data(as_text=True)
    assert 'lang="en"' in client.get("/login").get_data(as_text=True)
    assert 'lang="zh-CN"' in client.get("/login?lang=zh_CN").get_data(as_text=True)
    # The switch links keep the page's own query, such as where to go after login.
    html = client.get("/login?next=/admin/units").get_data(as_text=True)
    assert 'href="/login?next=/admin/units&amp;lang=en"' in html


def test_navigation_lists_only_registered_pages(login_as):
    html = login_as("admin").get("/home").get_data(as_text=True)
    assert 'href="/admin/units"' in html
    assert "单位管理" in html


def test_unknown_page_renders_error_template(client):
    resp = client.get("/no-such-page")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 404
    assert "页面不存在或无权查看" in html and 'href="/"' in html


def test_unit_scope_and_current_unit(app, make_unit, make_user):
    own, other = make_unit("T01"), make_unit("T02")
    staff_id = make_user("unit_staff", unit_id=own)
    supervisor_id = make_user("supervisor")
    designer_id = make_user("designer")
    with app.app_context(), app.test_request_context():
        login_user(db.session.get(User, staff_id))
        assert current_unit_id() == own
        unit_scope_or_404(own)
        with pytest.raises(NotFound):
            unit_scope_or_404(other)
    with app.app_context(), app.test_request_context():
        login_user(db.session.get(User, supervisor_id))
        assert current_unit_id() is None
        unit_scope_or_404(other)
    with app.app_context(), app.test_request_context():
        login_user(db.session.get(User, designer_id))
        with pytest.raises(NotFound):
            unit_scope_or_404(other)


def test_role_required_decorator(app, make_user):
    admin_id, assessor_id = make_user("admin"), make_user("assessor")

    @role_required("admin", "designer")
    def view():
        return "ok"

    with app.app_context(), app.test_request_context():
        login_user(db.session.get(User, admin_id))
        assert view() == "ok"
    with app.app_context(), app.test_request_context():
        login_user(db.session.get(User, assessor_id))
        with pytest.raises(Forbidden):
            view()
    with app.app_context(), app.test_request_context():
        assert view().status_code == 302  # anonymous: off to the login page
