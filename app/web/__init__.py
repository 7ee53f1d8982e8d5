"""Blueprints by who uses them."""

from flask import Flask

PREFIXES = {
    "auth": "",
    "staff": "/my",
    "supervisor": "/supervise",
    "assessor": "/assess",
    "admin": "/admin",
    "evidence": "/evidence",
    "letters": "/letters",
    "public": "/public",
    "notifications": "/notifications",
    "designer": "/design",
    "ledger": "/ledger",
    "audit": "/audit",
    "units": "/units",
    "health": "",
}


def register(app: Flask) -> None:
    import importlib

    from app.web import guards, health, request_id, security_headers

    health.install(app)
    request_id.register(app)  # first: a request refused by the guards has its id too
    guards.register(app)  # converters first: the blueprints' rules are built with them
    security_headers.register(app)

    for name, prefix in PREFIXES.items():
        module = importlib.import_module(f"app.web.{name}")
        app.register_blueprint(module.bp, url_prefix=prefix or None)
