"""Security headers on every response.

A strict Content-Security-Policy: scripts and styles only from our own files (templates hold no
inline code; tests/unit/test_no_inline_code.py keeps it so), nothing framed, no plugins, forms
post only to us. ECharts (the dashboard) and bpmn-js (the designer and its viewers) lay out
what they draw with style attributes set from their scripts: those pages alone allow style
attributes, and nothing else inline. HSTS is sent only over HTTPS (behind a proxy, set
TRUSTED_PROXIES so X-Forwarded-Proto is believed).

Written by hand rather than with Flask-Talisman: it is these few headers, and Talisman's
defaults (forcing HTTPS, Secure session cookies) would break the embedded development server."""

from flask import Flask, Response, request

POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# Pages whose vendor libraries style what they draw through style attributes.
VENDOR_STYLED = ("/supervise/dashboard", "/design/")


def policy_for(path: str) -> str:
    return POLICY + "; style-src-attr 'unsafe-inline'" if path.startswith(VENDOR_STYLED) else POLICY


def add_headers(response: Response) -> Response:
    # A route may set a stricter policy of its own (a resident's photo: default-src 'none').
    response.headers.setdefault("Content-Security-Policy", policy_for(request.path))
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.is_secure:
        seconds = int(_config().get("HSTS_SECONDS", 31_536_000))
        response.headers.setdefault("Strict-Transport-Security", f"max-age={seconds}; includeSubDomains")
    return response


def _config() -> dict:
    from flask import current_app

    return current_app.config


def register(app: Flask) -> None:
    app.after_request(add_headers)
