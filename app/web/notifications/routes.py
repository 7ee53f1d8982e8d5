"""The notification centre: any logged-in user's messages (reminders, letters, notices)."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.services.messaging import notifications

from . import bp

LIMIT = 200


def safe_link(link: str | None) -> str | None:
    """Only links inside this site are followed (a stored link is never an open redirect)."""
    if link and link.startswith("/") and not link.startswith("//") and "\\" not in link:
        return link
    return None


@bp.get("", endpoint="index")
@login_required
def index():
    rows = notifications.for_user(current_user.id, limit=LIMIT)
    return render_template(
        "notifications/index.html",
        rows=rows,
        limit=LIMIT,
        safe_link=safe_link,
        shown=notifications.shown,
        unread=notifications.unread_count(current_user.id),
    )


@bp.post("/<int:notification_id>/read", endpoint="read")
@login_required
def read(notification_id: int):
    row = notifications.get_for(current_user.id, notification_id)
    if row is None:
        abort(404)  # another user's notification is not found, not forbidden
    notifications.mark_read(current_user.id, notification_id)
    target = safe_link(row.link) if request.form.get("open") else None
    return redirect(target or url_for("notifications.index"))


@bp.post("/read-all", endpoint="read_all")
@login_required
def read_all():
    changed = notifications.mark_read(current_user.id)
    flash(_("已将 %(n)d 条通知标为已读", n=changed), "success")
    return redirect(url_for("notifications.index"))
