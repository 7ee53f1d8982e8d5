"""Notification email against a real SMTP server (aiosmtpd) started by the test."""

import socket
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy

import pytest
import time_machine
from aiosmtpd.controller import Controller

from app.extensions import db
from app.models import Notification, User
from app.services.messaging import mailer, notifications
from app.services.sweep import timers

START = datetime(2026, 12, 11, 2, 0, tzinfo=UTC)


class Collector:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    handler = Collector()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield controller, handler
    finally:
        controller.stop()


@pytest.fixture
def smtp_config(app, monkeypatch):
    def _configure(port: int):
        monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
        monkeypatch.setitem(app.config, "SMTP_PORT", port)
        monkeypatch.setitem(app.config, "SMTP_SENDER", "duban@example.gov.cn")
        monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://duban.example.gov.cn")

    return _configure


def _staff_with_email(make_unit, make_user, email="staff@example.gov.cn"):
    unit_id = make_unit("M01", "城关镇")
    user_id = make_user("unit_staff", unit_id)
    user = db.session.get(User, user_id)
    user.email = email
    db.session.commit()
    return unit_id, user_id


def _notify(unit_id: int) -> int:
    rows = notifications.notify_unit(
        unit_id, "reminder", "催办：「动员部署」已逾期", "办理期限：2026-12-10 17:30。请尽快办理。", link="/my/tasks/7"
    )
    db.session.commit()
    return rows[0].id


def test_pending_email_reaches_the_smtp_server_in_chinese(app, ctx, make_unit, make_user, smtp_server, smtp_config):
    controller, handler = smtp_server
    smtp_config(controller.port)
    unit_id, user_id = _staff_with_email(make_unit, make_user)
    with time_machine.travel(START, tick=False):
        notification_id = _notify(unit_id)
        assert db.session.get(Notification, notification_id).email_status == "pending"
        result = timers.tick()
    assert (result.emails_sent, result.emails_failed) == (1, 0)
    assert len(handler.messages) == 1
    recipients, message = handler.messages[0]
    assert recipients == ["staff@example.gov.cn"]
    assert message["Subject"] == "催办：「动员部署」已逾期"
    body = message.get_content()
    assert "办理期限：2026-12-10 17:30。请尽快办理。" in body
    assert "https://duban.example.gov.cn/my/tasks/7" in body
    sent = db.session.get(Notification, notification_id)
    assert (sent.email_status, sent.email_attempts, sent.email_error) == ("sent", 1, None)
    # Sent once: the next sweep finds nothing to send.
    assert mailer.deliver_emails(START + timedelta(hours=1)) == (0, 0)
    assert len(handler.messages) == 1


def test_no_email_without_an_address_or_without_smtp(app, ctx, make_unit, make_user, smtp_config):
    unit_id = make_unit("M02")
    make_user("unit_staff", unit_id)  # no email address
    rows = notifications.notify_unit(unit_id, "reminder", "催办", "")
    db.session.commit()
    assert rows[0].email_status == "none"
    assert mailer.deliver_emails() == (0, 0)


def test_unreachable_server_retries_with_backoff_then_fails(app, ctx, make_unit, make_user, smtp_config, monkeypatch):
    smtp_config(_free_port())  # nothing listens there: connection refused
    monkeypatch.setitem(app.config, "ESCALATION_MAX_ATTEMPTS", 3)
    unit_id, _ = _staff_with_email(make_unit, make_user)
    with time_machine.travel(START, tick=False) as traveller:
        notification_id = _notify(unit_id)
        assert mailer.deliver_emails() == (0, 1)
        row = db.session.get(Notification, notification_id)
        assert (row.email_status, row.email_attempts) == ("pending", 1)
        assert row.email_next_attempt_at.replace(tzinfo=UTC) == START + timedelta(minutes=2)
        assert "ConnectionRefusedError" in row.email_error

        # Not retried before the backoff has passed.
        traveller.shift(timedelta(minutes=1))
        assert mailer.deliver_emails() == (0, 0)
        traveller.shift(timedelta(minutes=1))
        assert mailer.deliver_emails() == (0, 1)
        row = db.session.get(Notification, notification_id)
        assert row.email_attempts == 2
        assert row.email_next_attempt_at.replace(tzinfo=UTC) == START + timedelta(minutes=2 + 4)

        traveller.shift(timedelta(minutes=4))
        assert mailer.deliver_emails() == (0, 1)
        row = db.session.get(Notification, notification_id)
        assert (row.email_status, row.email_attempts, row.email_next_attempt_at) == ("failed", 3, None)
        assert row.email_error

        traveller.shift(timedelta(days=1))
        assert mailer.deliver_emails() == (0, 0)  # failed for good: no more attempts


def test_server_back_up_delivers_the_retry(app, ctx, make_unit, make_user, smtp_server, smtp_config):
    controller, handler = smtp_server
    smtp_config(_free_port())
    unit_id, _ = _staff_with_email(make_unit, make_user)
    with time_machine.travel(START, tick=False) as traveller:
        notification_id = _notify(unit_id)
        assert mailer.deliver_emails() == (0, 1)
        smtp_config(controller.port)  # the mail server is reachable again
        traveller.shift(timedelta(minutes=2))
        assert mailer.deliver_emails() == (1, 0)
    row = db.session.get(Notification, notification_id)
    assert (row.email_status, row.email_attempts) == ("sent", 2)
    assert [m["Subject"] for _, m in handler.messages] == ["催办：「动员部署」已逾期"]
