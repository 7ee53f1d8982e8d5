"""In-app notifications (the header's unread count), also emailed when SMTP is configured."""
from dataclasses import dataclass
from typing import Any, cast

from flask import current_app
from sqlalchemy import CursorResult, func, insert, select, update

from app import clock
from app.extensions import db
from app.models import Notification, User


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
        .order_by(User.id))
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
            rows.append(dict(user_id=user_id, unit_id=m.unit_id, escalation_id=m.escalation_id, kind=m.kind,
                             title=m.title, body=m.body, link=m.link, created_at=now,
                             email_status="pending" if mailed else "none",
                             email_next_attempt_at=now if mailed else None))
    return rows


def notify_unit(unit_id: int, kind: str, title: str, body: str, link: str | None = None,
                escalation_id: int | None = None) -> list[Notification]:
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
    return db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.user_id == user_id, Notification.read_at.is_(None))) or 0


def for_user(user_id: int, limit: int = 100) -> list[Notification]:
    return list(db.session.scalars(select(Notification).filter_by(user_id=user_id)
                                   .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)))


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
