"""Login that protects without locking people out: throttling by account and by client address with
growing delays, the same answer for known and unknown users, an admin page to lift throttles; and
sessions that end on the server (logout, password change), the idle timeout, the password policy
and the first-login password change. Time is moved with time_machine, never slept."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, LoginThrottle, User
from app.services.accounts import login_throttle, users
from tests.conftest import csrf_from

PASSWORD = "Passw0rd!"
START = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)  # tests.support.BASE, frozen
ATTACKER, VICTIM = "203.0.113.66", "198.51.100.7"


def _post_login(client, username, password, address="127.0.0.1", url="/login"):
    page = client.get(url, environ_base={"REMOTE_ADDR": address})
    return client.post(
        url,
        data={"username": username, "password": password, "csrf_token": csrf_from(page.get_data(as_text=True))},
        environ_base={"REMOTE_ADDR": address},
    )


def _login_ok(app, username, password=PASSWORD, address="127.0.0.1", client=None):
    client = client or app.test_client()
    resp = _post_login(client, username, password, address)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:400]
    return client


def _attempt(app, username, password, address):
    """One login through the service: 'ok', 'bad' or 'wait:<seconds>'."""
    with app.app_context():
        try:
            users.authenticate(username, password, address)
        except users.LoginError as exc:
            if exc.text.msgid == users.BAD_CREDENTIALS:
                return "bad"
            seconds = exc.text.params["n"] * (60 if exc.text.msgid == users.THROTTLED_MINUTES else 1)
            return f"wait:{seconds}"
        return "ok"


def _throttle(app, kind, key) -> LoginThrottle | None:
    with app.app_context():
        return db.session.scalar(select(LoginThrottle).where(LoginThrottle.kind == kind, LoginThrottle.key == key))


def _actions(app, **where) -> list[str]:
    with app.app_context():
        stmt = select(AuditEvent.action).order_by(AuditEvent.id)
        for name, value in where.items():
            stmt = stmt.where(getattr(AuditEvent, name) == value)
        return list(db.session.scalars(stmt))


# ------------------------------------------------------------------------------------ throttling
def test_the_account_delay_doubles_up_to_its_cap_and_the_right_password_then_works(app, make_user):
    make_user("supervisor", username="zhang")
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(5):
            assert _attempt(app, "zhang", "wrong", ATTACKER) == "bad"
        waits = []
        for _ in range(6):
            result = _attempt(app, "zhang", "wrong", ATTACKER)
            assert result.startswith("wait:")  # refused: nothing counted, the delay is not extended
            waits.append(int(result[5:]))
            clock.shift(timedelta(seconds=waits[-1]))
            assert _attempt(app, "zhang", "wrong", ATTACKER) == "bad"
        assert waits == [30, 60, 120, 240, 300, 300]  # 30 s doubling, capped at 5 minutes
        row = _throttle(app, login_throttle.ACCOUNT, "zhang")
        assert row.failures == 11 and row.next_allowed_at == START + timedelta(seconds=sum(waits) + 300)

        # Hammering during the delay changes nothing.
        for _ in range(20):
            assert _attempt(app, "zhang", "wrong", ATTACKER) == "wait:300"
        assert _throttle(app, login_throttle.ACCOUNT, "zhang").failures == 11

        clock.shift(timedelta(seconds=300))
        assert _attempt(app, "zhang", PASSWORD, VICTIM) == "ok"
        assert _throttle(app, login_throttle.ACCOUNT, "zhang") is None  # success starts the account afresh


def test_an_attacker_cannot_keep_the_victim_out_beyond_the_current_delay(app, make_user):
    make_user("admin", username="liu")
    with time_machine.travel(START, tick=False) as clock:
        # The attacker, from one address, tries a password each time a delay runs out, for four hours.
        for _ in range(5):
            _attempt(app, "liu", "guess", ATTACKER)
        end = START + timedelta(hours=4)
        tries = []
        while True:
            row = _throttle(app, login_throttle.ACCOUNT, "liu")
            address = _throttle(app, login_throttle.ADDRESS, ATTACKER)
            allowed = max(row.next_allowed_at, address.next_allowed_at or START)
            if allowed > end:
                break
            clock.move_to(allowed)
            assert _attempt(app, "liu", "guess", ATTACKER) == "bad"
            tries.append(allowed)
        # Each attempt holds the account for 5 minutes at most; the attacker's own address soon waits
        # an hour between attempts, so the account is free most of the time.
        row = _throttle(app, login_throttle.ACCOUNT, "liu")
        assert row.next_allowed_at - row.last_failure_at == timedelta(minutes=5)
        address = _throttle(app, login_throttle.ADDRESS, ATTACKER)
        assert address.next_allowed_at - address.last_failure_at == timedelta(hours=1)
        assert len([t for t in tries if t > end - timedelta(hours=2)]) <= 2
        # The victim, from their own address, waits at most the account's current delay.
        assert _attempt(app, "liu", PASSWORD, VICTIM) == "wait:300"
        clock.move_to(row.next_allowed_at)
        assert _attempt(app, "liu", PASSWORD, VICTIM) == "ok"


def test_a_sprayed_address_is_slowed_without_blocking_others(app, make_user):
    make_user("assessor", username="wang")
    with time_machine.travel(START, tick=False):
        for n in range(20):  # one attempt at each of twenty names: the address's free failures
            assert _attempt(app, f"name{n}", "guess", ATTACKER) == "bad"
        assert _attempt(app, "name99", "guess", ATTACKER) == "wait:30"
        assert _attempt(app, "wang", PASSWORD, ATTACKER) == "wait:30"  # the address waits, whoever it is
        assert _attempt(app, "wang", PASSWORD, VICTIM) == "ok"  # another address is not held up


def test_a_correct_password_gives_the_address_its_attempt_back_but_not_its_failures(app, make_user):
    make_user("designer", username="zhao")
    with time_machine.travel(START, tick=False) as clock:
        for n in range(20):
            _attempt(app, f"x{n}", "guess", ATTACKER)
        clock.shift(timedelta(seconds=30))
        assert _attempt(app, "zhao", PASSWORD, ATTACKER) == "ok"  # no new delay from a success
        assert _throttle(app, login_throttle.ADDRESS, ATTACKER).failures == 20
        assert _attempt(app, "zhao", PASSWORD, ATTACKER) == "ok"
        assert _attempt(app, "x1", "guess", ATTACKER) == "bad"  # the next failure waits again, longer
        assert _attempt(app, "x1", "guess", ATTACKER) == "wait:60"


def test_counters_are_forgotten_after_a_quiet_day(app, make_user):
    make_user("admin", username="chen")
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(7):
            clock.shift(timedelta(minutes=5))
            _attempt(app, "chen", "guess", ATTACKER)
        clock.shift(timedelta(hours=24, seconds=1))
        assert _attempt(app, "other", "guess", VICTIM) == "bad"  # any attempt sweeps quiet rows
        assert _throttle(app, login_throttle.ACCOUNT, "chen") is None
        assert _throttle(app, login_throttle.ADDRESS, ATTACKER) is None


# ------------------------------------------------------------------ known and unknown users alike
def test_unknown_and_known_users_get_the_same_messages_and_the_same_work(app, client, make_user, monkeypatch):
    user_id = make_user("supervisor", username="sun")
    make_user("supervisor", username="gone")
    with app.app_context():
        db.session.get(User, db.session.scalar(select(User.id).where(User.username == "gone"))).active = False
        db.session.commit()
    calls = []
    real = users.verify_password
    monkeypatch.setattr(users, "verify_password", lambda h, p: calls.append(h) or real(h, p))
    pages = {}
    with time_machine.travel(START, tick=False):
        for name in ("sun", "nobody", "gone"):
            calls.clear()
            texts = [_post_login(client, name, "wrong-pass").get_data(as_text=True) for _ in range(5)]
            assert len(calls) == 5  # one Argon2 verification per attempt, real hash or the dummy one
            assert all("用户名或密码错误" in text for text in texts)
            calls.clear()
            pages[name] = _post_login(client, name, "wrong-pass").get_data(as_text=True)
            assert "登录尝试过于频繁，请30秒后再试" in pages[name]
            assert not calls
    with app.app_context():
        dummy = users._hasher()[1]
        real_hash = db.session.get(User, user_id).password_hash
    # The dummy hash is made with the same parameters as the users' hashes.
    assert dummy.split("$")[3] == real_hash.split("$")[3]
    # Every failure and refusal audited, known users by id, unknown names as typed, with the address.
    assert _actions(app, entity_type="login", entity_id="nobody") == ["login.failure"] * 5 + ["login.throttled"]
    assert _actions(app, entity_type="user", entity_id=str(user_id))[1:] == ["login.failure"] * 5 + ["login.throttled"]
    with app.app_context():
        event = db.session.scalar(
            select(AuditEvent)
            .where(AuditEvent.action == "login.failure", AuditEvent.entity_id == str(user_id))
            .order_by(AuditEvent.id.desc())
        )
        assert event.after["address"] == "127.0.0.1" and event.after["account_failures"] == 5
        assert event.after["reason"] == "bad_password" and event.after["next_allowed_at"]
        unknown = db.session.scalar(select(AuditEvent).where(AuditEvent.entity_id == "nobody"))
        assert unknown.actor_id is None and unknown.after["reason"] == "unknown_or_inactive"


# ------------------------------------------------------------------------------- the admin page
def test_admin_sees_and_lifts_a_throttle(app, make_user, login_as):
    make_user("supervisor", username="zhou")
    with time_machine.travel(START, tick=False):
        admin = login_as("admin")
        for _ in range(6):
            _attempt(app, "zhou", "guess", ATTACKER)
        assert _attempt(app, "zhou", PASSWORD, VICTIM) == "wait:30"
        html = admin.get("/admin/login-throttles").get_data(as_text=True)
        assert "zhou" in html and "测试supervisor" in html and ATTACKER in html
        assert "2026-11-16 09:00:30" in html  # next allowed, local time
        assert 'href="/admin/login-throttles"' in html  # in the admin's menu
        row = _throttle(app, login_throttle.ACCOUNT, "zhou")
        resp = admin.post_form(
            "/admin/login-throttles/lift", {"throttle_id": str(row.id)}, form_url="/admin/login-throttles"
        )
        assert resp.status_code == 302
        assert "已解除对账号 zhou的登录限制" in admin.get("/admin/login-throttles").get_data(as_text=True)
        assert _attempt(app, "zhou", PASSWORD, VICTIM) == "ok"
    assert _actions(app, action="login.throttle_lift", actor_id=admin.user) == ["login.throttle_lift"]
    english = admin.get("/admin/login-throttles?lang=en").get_data(as_text=True)
    assert "Login throttles" in english and "Lift" in english
    again = admin.post_form(
        "/admin/login-throttles/lift", {"throttle_id": str(row.id)}, form_url="/admin/login-throttles"
    )
    assert again.status_code == 302


def test_only_the_admin_reaches_the_throttle_page(login_as, make_unit):
    assert login_as("supervisor").get("/admin/login-throttles").status_code == 403
    assert login_as("unit_staff", unit_id=make_unit("T01")).get("/admin/login-throttles").status_code == 403


# ---------------------------------------------------------------------------------- sessions
def _copy_session(app, client):
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    return copy


def test_a_copied_cookie_stops_working_after_logout(app, make_user):
    user_id = make_user("supervisor", username="wu")
    browser = _login_ok(app, "wu")
    copy = _copy_session(app, browser)
    assert copy.get("/home").status_code == 200  # the copy works while the session lives
    page = browser.get("/home").get_data(as_text=True)
    assert browser.post("/logout", data={"csrf_token": csrf_from(page)}).status_code == 302
    assert copy.get("/home").status_code == 302
    assert copy.get("/home").headers["Location"].startswith("/login")
    with app.app_context():
        assert db.session.get(User, user_id).session_version == 2


def test_a_password_change_ends_the_other_sessions(app, make_user):
    make_user("assessor", username="zheng")
    here, elsewhere = _login_ok(app, "zheng"), _login_ok(app, "zheng")
    page = here.get("/password").get_data(as_text=True)
    resp = here.post(
        "/password",
        data={
            "current": PASSWORD,
            "new": "Better-pass-2027",
            "confirm": "Better-pass-2027",
            "csrf_token": csrf_from(page),
        },
    )
    assert resp.status_code == 302
    assert "密码已修改" in here.get("/home").get_data(as_text=True)  # this browser goes on
    assert elsewhere.get("/home").status_code == 302  # the other one is logged out
    assert "用户名或密码错误" in _post_login(app.test_client(), "zheng", PASSWORD).get_data(as_text=True)
    _login_ok(app, "zheng", "Better-pass-2027")
    assert "password.change" in _actions(app, entity_type="user")


def test_the_idle_timeout_ends_the_session_with_a_message(app, make_user, monkeypatch):
    from config import Config

    user_id = make_user("supervisor", username="feng")
    assert Config.SESSION_IDLE_MINUTES == 30  # the default; TestConfig turns it off for other tests
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 30)
    with time_machine.travel(START, tick=False) as clock:
        client = _login_ok(app, "feng")
        for _ in range(3):  # active every 29 minutes: never idle
            clock.shift(timedelta(minutes=29))
            assert client.get("/home").status_code == 200
        clock.shift(timedelta(minutes=30, seconds=1))
        resp = client.get("/admin/campaigns?x=1")
        assert resp.status_code == 302 and resp.headers["Location"] == "/login?next=/admin/campaigns?x%3D1"
        assert "您已超过30分钟未操作" in client.get("/login").get_data(as_text=True)
        assert client.get("/home").status_code == 302
    assert "logout.idle" in _actions(app, entity_id=str(user_id))


def test_cookies_are_httponly_lax_and_secure_when_configured(app, make_user):
    from config import Config

    assert Config.SESSION_COOKIE_SECURE and Config.REMEMBER_COOKIE_SECURE  # production default
    assert Config.SESSION_COOKIE_HTTPONLY and Config.SESSION_COOKIE_SAMESITE == "Lax"
    assert Config.REMEMBER_COOKIE_SAMESITE == "Lax"
    make_user("admin", username="he")
    app.config["SESSION_COOKIE_SECURE"] = True
    try:
        client = app.test_client()
        page = client.get("https://localhost/login")
        resp = client.post(
            "https://localhost/login",
            data={"username": "he", "password": PASSWORD, "csrf_token": csrf_from(page.get_data(as_text=True))},
        )
        cookie = next(c for c in resp.headers.getlist("Set-Cookie") if c.startswith("session="))
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    finally:
        app.config["SESSION_COOKIE_SECURE"] = False


# ----------------------------------------------------------------------------- password policy
@pytest.mark.parametrize(
    "password,message",
    [
        ("Ab1!", "密码至少需要8个字符"),
        ("lowercase1", "密码须包含大写字母、小写字母、数字、其他符号中的至少3类"),
        ("12345678", "密码须包含大写字母、小写字母、数字、其他符号中的至少3类"),
        ("Xiaoming-2026", "密码不能包含用户名"),
        ("XIAOMING2026!", "密码不能包含用户名"),
    ],
)
def test_the_cli_refuses_weak_passwords(app, runner, password, message):
    result = runner.invoke(
        args=["users", "create", "--username", "xiaoming", "--password", password, "--role", "admin"]
    )
    assert result.exit_code != 0 and message in result.output
    with app.app_context():
        assert users.by_username("xiaoming") is None


def test_the_policy_follows_its_settings(app, runner):
    app.config.update(PASSWORD_MIN_LENGTH=12, PASSWORD_MIN_CLASSES=4)
    try:
        result = runner.invoke(
            args=["users", "create", "--username", "qian", "--password", "passw0rd!", "--role", "admin"]
        )
        assert "密码至少需要12个字符" in result.output and "至少4类" in result.output
    finally:
        app.config.update(PASSWORD_MIN_LENGTH=8, PASSWORD_MIN_CLASSES=3)


def test_the_change_page_says_what_is_wrong_in_both_languages(app, make_user):
    make_user("designer", username="yang")
    client = _login_ok(app, "yang")

    def change(current, new, confirm=None, lang=""):
        page = client.get(f"/password{lang}").get_data(as_text=True)
        return client.post(
            f"/password{lang}",
            data={"current": current, "new": new, "confirm": confirm or new, "csrf_token": csrf_from(page)},
        ).get_data(as_text=True)

    assert "当前密码不正确" in change("wrong", "Good-pass-2027")
    # A wrong current password counts like a failed login (the right one later clears it).
    assert _throttle(app, login_throttle.ACCOUNT, "yang").failures == 1
    assert "密码至少需要8个字符" in change(PASSWORD, "Ab1!")
    html = change(PASSWORD, "yang-password")
    assert "密码须包含大写字母、小写字母、数字、其他符号中的至少3类" in html and "密码不能包含用户名" in html
    assert "新密码不能与当前密码相同" in change(PASSWORD, PASSWORD)
    assert "两次输入的新密码不一致" in change(PASSWORD, "Good-pass-2027", "Good-pass-2028")
    english = change(PASSWORD, "short", lang="?lang=en")
    assert "at least 8 characters" in english and "Change password" in english
    assert "password.change_failure" in _actions(app, entity_type="user")
    assert "password.change" not in _actions(app, entity_type="user")


# ---------------------------------------------------------------------- change on first login
def test_an_account_the_admin_created_must_change_its_password_first(app, runner):
    result = runner.invoke(
        args=["users", "create", "--username", "newbie", "--password", "First-pass-1", "--role", "supervisor"]
    )
    assert result.exit_code == 0 and "首次登录时须修改密码" in result.output
    client = app.test_client()
    resp = _post_login(client, "newbie", "First-pass-1")
    assert resp.headers["Location"] == "/password"
    for url in ("/home", "/supervise/queue", "/admin/units", "/"):
        assert client.get(url).headers.get("Location") == "/password", url
    assert "初始密码" in client.get("/password").get_data(as_text=True)
    page = client.get("/password").get_data(as_text=True)
    resp = client.post(
        "/password",
        data={
            "current": "First-pass-1",
            "new": "Own-pass-2027",
            "confirm": "Own-pass-2027",
            "csrf_token": csrf_from(page),
        },
    )
    assert resp.status_code == 302 and resp.headers["Location"] != "/password"
    assert client.get("/home").status_code == 200
    with app.app_context():
        user = users.by_username("newbie")
        assert not user.must_change_password
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "password.change"))
        assert event.after["first_login"] is True
    # Logging out is allowed before the change, too.
    runner.invoke(args=["users", "create", "--username", "second", "--password", "First-pass-1", "--role", "admin"])
    other = app.test_client()
    _post_login(other, "second", "First-pass-1")
    page = other.get("/password").get_data(as_text=True)
    assert other.post("/logout", data={"csrf_token": csrf_from(page)}).headers["Location"] == "/login"


def test_no_must_change_and_the_demo_users_log_in_straight_away(app, runner):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--username",
            "ops",
            "--password",
            "First-pass-1",
            "--role",
            "admin",
            "--no-must-change",
        ]
    )
    assert result.exit_code == 0 and "首次登录" not in result.output
    assert _post_login(app.test_client(), "ops", "First-pass-1").headers["Location"] != "/password"
    with app.app_context():
        users.ensure_user("demo_admin", "Rectify2026!", "admin", "演示")  # what app/demo seeds
    assert _post_login(app.test_client(), "demo_admin", "Rectify2026!").headers["Location"] != "/password"


def test_an_office_logging_in_at_once_from_one_address_is_never_held_up(app, make_user):
    """Logins overlap: each is claimed (counted) before its password is checked, and the next
    one is claimed before the previous one is given back. Forty staff behind one address, all
    with the right password, all get in, and the address ends with nothing counted."""
    office = "192.0.2.10"
    for n in range(40):
        make_user("supervisor", username=f"office{n}")
    with time_machine.travel(START, tick=False), app.app_context():
        in_flight = [login_throttle.begin("office0", office)]
        for n in range(1, 40):
            in_flight.append(login_throttle.begin(f"office{n}", office))
            login_throttle.succeeded(in_flight.pop(0))  # the one before, found right meanwhile
            db.session.commit()
        login_throttle.succeeded(in_flight.pop(0))
        db.session.commit()
    assert _throttle(app, login_throttle.ADDRESS, office) is None
    with time_machine.travel(START, tick=False):
        assert _attempt(app, "office7", PASSWORD, office) == "ok"


def test_a_success_amid_others_failures_keeps_their_delay(app, make_user):
    """A right password claimed before an attacker's failures on the same address gives back
    its own attempt only: the delay the attacker's twentieth failure set still runs."""
    make_user("designer", username="qian")
    with time_machine.travel(START, tick=False), app.app_context():
        for n in range(19):
            login_throttle.begin(f"y{n}", ATTACKER)
        mine = login_throttle.begin("qian", ATTACKER)  # the 20th claim: it sets the delay
        db.session.commit()
        login_throttle.succeeded(mine)
        db.session.commit()
        row = _throttle(app, login_throttle.ADDRESS, ATTACKER)
        assert row.failures == 19 and row.next_allowed_at is None  # ours gone, with the delay it set
    with time_machine.travel(START, tick=False):
        assert _attempt(app, "y99", "guess", ATTACKER) == "bad"  # the 20th failure: a delay now
        assert _attempt(app, "y98", "guess", ATTACKER) == "wait:30"
