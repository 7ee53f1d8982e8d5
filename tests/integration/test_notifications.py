"""The notification centre: the list, marking read, and the unread count in the header."""

import re
from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import event

from app.extensions import db
from app.models import Notification
from app.services.messaging import notifications

START = datetime(2026, 12, 11, 2, 0, tzinfo=UTC)


def _notify(app, unit_id, title, link="/my/tasks/1", kind="reminder"):
    with app.app_context():
        rows = notifications.notify_unit(unit_id, kind, title, "请尽快办理。", link=link)
        db.session.commit()
        return [r.id for r in rows]


def _badge(html: str) -> str | None:
    match = re.search(r'id="bell"[^>]*>[^<]*(?:<span class="badge"[^>]*>(\d+)</span>)?', html)
    assert match, "no bell in the header"
    return match.group(1)


def _rows(html: str) -> list[tuple[str, bool]]:
    return [
        (m.group(1), bool(m.group(2))) for m in re.finditer(r'<tr data-notification="(\d+)"( class="unread")?', html)
    ]


def test_list_newest_first_unread_highlighted_and_badge(app, make_unit, login_as):
    unit_id = make_unit("N01")
    staff = login_as("unit_staff", unit_id)
    assert _badge(staff.get("/my/tasks").get_data(as_text=True)) is None
    with time_machine.travel(START, tick=False) as traveller:
        [first] = _notify(app, unit_id, "催办：「动员部署」已逾期")
        traveller.shift(timedelta(hours=1))
        [second] = _notify(app, unit_id, "收到督办函〔2026〕第1号", link="/letters/1", kind="letter")
    page = staff.get("/notifications").get_data(as_text=True)
    assert _rows(page) == [(str(second), True), (str(first), True)]
    assert "催办：「动员部署」已逾期" in page and 'href="/letters/1"' in page
    assert _badge(page) == "2"
    assert _badge(staff.get("/my/tasks").get_data(as_text=True)) == "2"

    resp = staff.post_form(f"/notifications/{first}/read", {}, form_url="/notifications")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/notifications")
    page = staff.get("/notifications").get_data(as_text=True)
    assert _rows(page) == [(str(second), True), (str(first), False)]
    assert _badge(page) == "1"

    # Opening a notification marks it read and goes to what it is about.
    resp = staff.post_form(f"/notifications/{second}/read", {"open": "1"}, form_url="/notifications")
    assert resp.status_code == 302 and resp.headers["Location"] == "/letters/1"
    assert _badge(staff.get("/notifications").get_data(as_text=True)) is None


def test_read_all_and_csrf(app, make_unit, login_as):
    unit_id = make_unit("N02")
    staff = login_as("unit_staff", unit_id)
    ids = _notify(app, unit_id, "催办一") + _notify(app, unit_id, "催办二")
    # Without the CSRF token nothing changes.
    assert staff.client.post("/notifications/read-all").status_code == 400
    assert staff.client.post(f"/notifications/{ids[0]}/read").status_code == 400
    with app.app_context():
        assert notifications.unread_count(staff.user) == 2
    resp = staff.post_form("/notifications/read-all", {}, form_url="/notifications", follow_redirects=True)
    page = resp.get_data(as_text=True)
    assert "已将 2 条通知标为已读" in page
    assert [unread for _, unread in _rows(page)] == [False, False]
    with app.app_context():
        assert notifications.unread_count(staff.user) == 0
        assert all(db.session.get(Notification, i).read_at is not None for i in ids)


def test_another_users_notification_is_not_found(app, make_unit, make_user, login_as):
    mine, theirs = make_unit("N03"), make_unit("N04")
    staff = login_as("unit_staff", mine)
    make_user("unit_staff", theirs)
    [other] = _notify(app, theirs, "别的单位的催办")
    assert "别的单位的催办" not in staff.get("/notifications").get_data(as_text=True)
    assert staff.post_form(f"/notifications/{other}/read", {}, form_url="/notifications").status_code == 404
    with app.app_context():
        assert db.session.get(Notification, other).read_at is None


def test_outside_links_are_not_followed(app, make_unit, login_as):
    unit_id = make_unit("N05")
    staff = login_as("unit_staff", unit_id)
    [row] = _notify(app, unit_id, "可疑链接", link="//evil.example.com/x")
    page = staff.get("/notifications").get_data(as_text=True)
    assert "evil.example.com" not in page
    resp = staff.post_form(f"/notifications/{row}/read", {"open": "1"}, form_url="/notifications")
    assert resp.headers["Location"].endswith("/notifications")


def test_any_role_sees_the_centre_and_anonymous_is_sent_to_login(app, client, login_as):
    supervisor = login_as("supervisor")
    page = supervisor.get("/notifications")
    assert page.status_code == 200 and "暂无通知" in page.get_data(as_text=True)
    resp = client.get("/notifications")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_header_count_is_one_query(app, make_unit, login_as):
    unit_id = make_unit("N06")
    staff = login_as("unit_staff", unit_id)
    _notify(app, unit_id, "催办")
    statements = []

    def count(conn, cursor, statement, *args):
        if "notifications" in statement:
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        staff.get("/my/tasks")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1 and "count(" in statements[0].lower()
