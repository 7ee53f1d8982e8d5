"""Email for notifications: sent by the sweep through SMTP when SMTP_HOST is configured.

Each message is its own transaction, so one bad address or a mail server going down mid-batch
never loses the state of the others; a failed send is retried with backoff (2**attempts
minutes) and marked failed after ESCALATION_MAX_ATTEMPTS. Not audited per email (too noisy):
logged instead.
"""

import logging
import smtplib
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from flask import current_app
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.i18n import gettext
from app.models import Notification, User

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "http://127.0.0.1:5000"
MAX_ATTEMPTS = 5


def _message(notification: Notification, address: str) -> EmailMessage:
    config = current_app.config
    base = (config.get("PUBLIC_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
    message = EmailMessage()
    message["Subject"] = notification.title
    message["From"] = formataddr((gettext("专项整治督办平台"), config.get("SMTP_SENDER") or "rectify@localhost"))
    message["To"] = address
    message["Message-ID"] = make_msgid(domain="rectify")
    lines = [notification.title, "", notification.body or ""]
    if notification.link:
        lines += ["", gettext("办理链接：%(url)s", url=f"{base}{notification.link}")]
    lines += ["", gettext("—— 专项整治督办平台（系统邮件，请勿回复）")]
    message.set_content("\n".join(lines), charset="utf-8")
    return message


def _send(message: EmailMessage) -> None:
    config = current_app.config
    with smtplib.SMTP(config["SMTP_HOST"], int(config.get("SMTP_PORT") or 25), timeout=10) as smtp:
        if config.get("SMTP_USER"):
            smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
        smtp.send_message(message)


def deliver_emails(now: datetime | None = None, limit: int = 100) -> tuple[int, int]:
    """Send pending notification emails that are due; each in its own transaction. (sent, failed)"""
    if not current_app.config.get("SMTP_HOST"):
        return 0, 0
    now = now or clock.now()
    ids = list(
        db.session.scalars(
            select(Notification.id)
            .where(Notification.email_status == "pending", Notification.email_next_attempt_at <= now)
            .order_by(Notification.email_next_attempt_at, Notification.id)
            .limit(limit)
        )
    )
    db.session.rollback()
    sent = failed = 0
    for notification_id in ids:
        if _deliver_one(notification_id, now):
            sent += 1
        else:
            failed += 1
    return sent, failed


def _deliver_one(notification_id: int, now: datetime) -> bool:
    query = select(Notification).where(Notification.id == notification_id)
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)  # another scheduler is sending it
    notification = db.session.scalars(query).first()
    if notification is None or notification.email_status != "pending":
        db.session.rollback()
        return True
    address = db.session.scalar(select(User.email).where(User.id == notification.user_id))
    try:
        if not address:
            raise ValueError(gettext("收件人没有邮箱地址"))
        _send(_message(notification, address))
    except (OSError, smtplib.SMTPException, ValueError) as exc:
        notification.email_attempts += 1
        notification.email_error = f"{type(exc).__name__}: {exc}"[:2000]
        if notification.email_attempts >= current_app.config.get("ESCALATION_MAX_ATTEMPTS", MAX_ATTEMPTS):
            notification.email_status = "failed"
            notification.email_next_attempt_at = None
            log.warning(
                "email for notification %s failed for good after %s attempts: %s",
                notification_id,
                notification.email_attempts,
                notification.email_error,
            )
        else:
            notification.email_next_attempt_at = now + timedelta(minutes=2**notification.email_attempts)
            log.info(
                "email for notification %s failed (attempt %s), retry at %s: %s",
                notification_id,
                notification.email_attempts,
                notification.email_next_attempt_at,
                notification.email_error,
            )
        db.session.commit()
        return False
    notification.email_status = "sent"
    notification.email_attempts += 1
    notification.email_error = None
    notification.email_next_attempt_at = None
    db.session.commit()
    log.info("email for notification %s sent to user %s", notification_id, notification.user_id)
    return True
