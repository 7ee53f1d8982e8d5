"""Template filters and globals."""
from flask import Flask, current_app
from flask_babel import gettext

from app import clock
from app.services import lights


def register(app: Flask) -> None:
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

    @app.template_global("light_label")
    def light_label(name: str) -> str:
        return gettext(lights.LABELS[name])
