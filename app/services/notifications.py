"""In-app notifications (the header's unread count), also emailed when SMTP is configured."""
from flask import current_app
from sqlalchemy import func, select, update

from app import clock
from app.extensions import db
from app.models import Notification, User


def notify_unit(unit_id: int, kind: str, title: str, body: str, link: str | None = None,
                escalation_id: int | None = None) -> list[Notification]:
    """A notification for every active staff member of the unit (adds to the session)."""
    email_on = bool(current_app.config.get("SMTP_HOST"))
    rows = []
    for user in db.session.scalars(select(User).filter_by(unit_id=unit_id, role="unit_staff", active=True)):
        row = Notification(user_id=user.id, unit_id=unit_id, escalation_id=escalation_id, kind=kind, title=title,
                           body=body, link=link, created_at=clock.now(),
                           email_status="pending" if email_on and user.email else "none",
                           email_next_attempt_at=clock.now() if email_on and user.email else None)
        db.session.add(row)
        rows.append(row)
    return rows


def unread_count(user_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.user_id == user_id, Notification.read_at.is_(None)))


def for_user(user_id: int, limit: int = 100) -> list[Notification]:
    return list(db.session.scalars(select(Notification).filter_by(user_id=user_id)
                                   .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)))


def mark_read(user_id: int, notification_id: int | None = None) -> int:
    """Mark one (or all) of the user's notifications read; returns how many changed."""
    stmt = update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if notification_id is not None:
        stmt = stmt.where(Notification.id == notification_id)
    changed = db.session.execute(stmt.values(read_at=clock.now())).rowcount
    db.session.commit()
    return changed


def get_for(user_id: int, notification_id: int) -> Notification | None:
    """One of the user's own notifications; None for anyone else's."""
    return db.session.scalars(select(Notification).filter_by(id=notification_id, user_id=user_id)).first()
