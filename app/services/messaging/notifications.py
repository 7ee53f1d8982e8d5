"""In-app notifications (the header's unread count), also emailed when SMTP is configured.

A notification is stored in words (the source language: the record, and what the e-mail says),
composed from one of TEXTS; `shown` turns stored words back into their msgid and params, so the
notification centre shows them in the reader's language. Words that match none (a message
drawn in a diagram) are shown as stored."""

import re
from dataclasses import dataclass
from typing import Any, cast

from flask import current_app
from sqlalchemy import CursorResult, func, insert, select, update

from app import clock
from app.extensions import db
from app.i18n import N_, LazyText
from app.models import Notification, User

# Every notification's words, as msgids; the params are put in as stored (compose).
REMINDER_OVERDUE = N_("催办：「%(step)s」已逾期")
REMINDER_DUE_TODAY = N_("催办：「%(step)s」今日到期")
REMINDER_BODY = N_("办理期限：%(due)s。请尽快办理。")
REMINDER_BODY_NO_DUE = N_("请尽快办理。")
REMINDER_BY_HAND_BODY = N_("办理期限：%(due)s，已逾期。督导组请你单位尽快办理。")
LETTER_RECEIVED = N_("收到%(doc)s")
LETTER_SUBJECT = N_("关于督促办理「%(step)s」的督办函")
NOTICED = N_("本单位被通报")
STEP_WITHDRAWN = N_("「%(step)s」%(level)s已撤回")
WITHDRAWN = N_("%(level)s已撤回")
WITHDRAWN_BODY = N_("撤回原因：%(reason)s")
TEXTS = (
    REMINDER_OVERDUE,
    REMINDER_DUE_TODAY,
    REMINDER_BODY,
    REMINDER_BODY_NO_DUE,
    REMINDER_BY_HAND_BODY,
    LETTER_RECEIVED,
    LETTER_SUBJECT,
    NOTICED,
    STEP_WITHDRAWN,
    WITHDRAWN,
    WITHDRAWN_BODY,
)


def compose(msgid: str, **params: Any) -> str:
    """The words stored for `msgid` (one of TEXTS) with its params."""
    return msgid % params if params else msgid


def _pattern(msgid: str) -> re.Pattern[str]:
    parts = re.split(r"%\((\w+)\)s", msgid)
    regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts))
    return re.compile(f"^{regex}$", re.DOTALL)


_PATTERNS = [(msgid, _pattern(msgid)) for msgid in TEXTS]


def shown(stored: str | None) -> str | LazyText:
    """Stored words in the reader's language: the msgid they were composed from, translated, with
    the stored params (a param that is itself a msgid, such as 督办函, translated too)."""
    if not stored:
        return stored or ""
    for msgid, pattern in _PATTERNS:
        match = pattern.match(stored)
        if match:
            return LazyText(msgid, **{k: LazyText(v) for k, v in match.groupdict().items()})
    return stored


@dataclass(frozen=True)
class Message:
    unit_id: int
    kind: str
    title: str
    body: str
    link: str | None = None
    escalation_id: int | None = None


def _recipients(unit_ids: list[int]) -> dict[int, list[tuple[int, str | None]]]:
    """The active staff (id, email) of each unit."""
    found: dict[int, list[tuple[int, str | None]]] = {}
    if not unit_ids:
        return found
    rows = db.session.execute(
        select(User.unit_id, User.id, User.email)
        .where(User.unit_id.in_(set(unit_ids)), User.role == "unit_staff", User.active.is_(True))
        .order_by(User.id)
    )
    for unit_id, user_id, email in rows:
        found.setdefault(unit_id, []).append((user_id, email))
    return found


def _rows(messages: list[Message]) -> list[dict[str, Any]]:
    email_on = bool(current_app.config.get("SMTP_HOST"))
    now = clock.now()
    recipients = _recipients([m.unit_id for m in messages])
    rows: list[dict[str, Any]] = []
    for m in messages:
        for user_id, email in recipients.get(m.unit_id, []):
            mailed = email_on and bool(email)
            rows.append(
                dict(
                    user_id=user_id,
                    unit_id=m.unit_id,
                    escalation_id=m.escalation_id,
                    kind=m.kind,
                    title=m.title,
                    body=m.body,
                    link=m.link,
                    created_at=now,
                    email_status="pending" if mailed else "none",
                    email_next_attempt_at=now if mailed else None,
                )
            )
    return rows


def notify_unit(
    unit_id: int, kind: str, title: str, body: str, link: str | None = None, escalation_id: int | None = None
) -> list[Notification]:
    """A notification for every active staff member of the unit (adds to the session)."""
    rows = [Notification(**row) for row in _rows([Message(unit_id, kind, title, body, link, escalation_id)])]
    db.session.add_all(rows)
    return rows


def notify_many(messages: list[Message]) -> int:
    """Notify many units in one executemany (the sweep's reminders); returns the rows written."""
    rows = _rows(messages)
    if rows:
        db.session.execute(insert(Notification), rows)
    return len(rows)


def unread_count(user_id: int) -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        )
        or 0
    )


def for_user(user_id: int, limit: int = 100) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification)
            .filter_by(user_id=user_id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def mark_read(user_id: int, notification_id: int | None = None) -> int:
    """Mark one (or all) of the user's notifications read; returns how many changed."""
    stmt = update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if notification_id is not None:
        stmt = stmt.where(Notification.id == notification_id)
    # An UPDATE's result is a CursorResult (Session.execute is typed for any statement).
    changed = cast(CursorResult[Any], db.session.execute(stmt.values(read_at=clock.now()))).rowcount
    db.session.commit()
    return changed


def get_for(user_id: int, notification_id: int) -> Notification | None:
    """One of the user's own notifications; None for anyone else's."""
    return db.session.scalars(select(Notification).filter_by(id=notification_id, user_id=user_id)).first()
