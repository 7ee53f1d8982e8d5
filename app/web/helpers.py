"""Template filters and globals."""

from flask import Flask, current_app
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from app import clock, workdays
from app.services.accounts import units
from app.services.messaging import notifications
from app.services.oversight import lights


def register(app: Flask) -> None:
    from app.web import assets
    from app.web.paging import page_url

    assets.register(app)
    app.add_template_global(page_url, "page_url")

    @app.template_filter("localtime")
    def localtime(value, fmt: str = "%Y-%m-%d %H:%M"):
        local = clock.to_local(value)
        return local.strftime(fmt) if local else ""

    @app.template_filter("localdate")
    def localdate(value):
        local = clock.to_local(value)
        return local.strftime("%Y-%m-%d") if local else ""

    @app.template_global("status_light")
    def status_light(due_at):
        return lights.light(due_at, current_app.config["DUE_SOON_DAYS"])

    @app.template_global("uncovered_year")
    def uncovered_year(due_at) -> int | None:
        """The year of a deadline that no holiday arrangement covers (its working days were
        counted from weekends alone), or None."""
        local = clock.to_local(due_at)
        if local is None or workdays.covered(local.year):
            return None
        return local.year

    @app.template_global("light_label")
    def light_label(name: str) -> str:
        return gettext(lights.LABELS[name])

    @app.template_global("unit_kind_choices")
    def unit_kind_choices() -> list[tuple[str, str]]:
        return [(kind, gettext(label)) for kind, label in units.KIND_LABELS.items()]

    @app.context_processor
    def unread_notifications():
        # A callable, so the COUNT runs once, only on pages that draw the header.
        def count() -> int:
            if not current_user.is_authenticated:
                return 0
            try:
                return notifications.unread_count(current_user.id)
            except SQLAlchemyError:
                return 0  # the error page must still render when the database is what failed

        return {"unread_notifications": count}
