"""Every response carries the security headers; the policy forbids inline code and framing."""

import pytest


@pytest.mark.parametrize("path", ["/login", "/public/", "/nowhere", "/design/", "/supervise/dashboard"])
def test_every_response_has_the_headers(client, path):
    resp = client.get(path)
    policy = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy.split("style-src-attr")[0]
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in resp.headers  # plain HTTP: HSTS would mean nothing


def test_only_the_vendor_drawn_pages_allow_style_attributes(client):
    assert "style-src-attr 'unsafe-inline'" in client.get("/design/").headers["Content-Security-Policy"]
    assert "style-src-attr" not in client.get("/login").headers["Content-Security-Policy"]


def test_hsts_over_https(client):
    resp = client.get("/login", base_url="https://rectify.example")
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=31536000")
