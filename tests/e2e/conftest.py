"""Browser harness: the session app served on a free loopback port, driven by Debian's Chromium
through Playwright (never a downloaded browser).

Two clocks: the live server runs in this process, on the test's (time-machine's) clock, while
Chromium keeps the machine's. Each page's JS clock (Date) is set to the app's when its context
opens and at each login(); a test that travels after that calls follow_app_clock(page). The
network side of the browser (cookie expiry) keeps the machine's clock; logins hold however far
apart the two clocks are: the session cookie has no expiry date, and Chromium reads an Expires
relative to the response's Date header, which is the app's clock (tests/e2e/test_clocks.py).
"""

import os
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps dialling out, which this closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RESULTS_DIR = Path(__file__).resolve().parents[2] / "test-results"
DEFAULT_TIMEOUT_MS = 10_000
# The browser tests run every page under the app's own strict Content-Security-Policy
# (app/web/security_headers.py): no inline script, style or handler, no eval. A violation is a
# console error, which each test asserts there is none of.


@pytest.fixture(scope="session")
def live_server(app):
    """Base URL of the session app served by a threaded Werkzeug server in a daemon thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium fonts-noto-cjk")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the item so `page` can screenshot a failed test.
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def new_page(browser, live_server):
    """A fresh zh-CN browser context (another person at another browser);
    `page.console_errors` collects console errors and page errors."""
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", base_url=live_server)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    # The page's Date starts at the app's now and ticks on (Playwright's clock, installed before any page).
    context.clock.install(time=datetime.now(UTC))
    tab = context.new_page()
    tab.console_errors = []
    tab.on("console", lambda msg: _collect_console_error(tab, msg))
    tab.on("pageerror", lambda exc: tab.console_errors.append(str(exc)))
    return tab


@pytest.fixture
def page(request, browser, live_server):
    """A fresh zh-CN browser context; `page.console_errors` collects console errors and page errors."""
    tab = new_page(browser, live_server)
    try:
        yield tab
    finally:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            RESULTS_DIR.mkdir(exist_ok=True)
            tab.screenshot(path=str(RESULTS_DIR / f"{request.node.name}.png"), full_page=True)
        tab.context.close()


def _collect_console_error(tab, msg):
    # The browser asks for /favicon.ico on its own; its 404 is not the page's error.
    if msg.type == "error" and not msg.location.get("url", "").endswith("/favicon.ico"):
        tab.console_errors.append(msg.text)


def follow_app_clock(page):
    """Set the page's JS clock to the app's now (after the test moved time-machine)."""
    page.context.clock.set_system_time(datetime.now(UTC))


def login(page, username, password="Passw0rd!"):
    """Log in through the real form; fails with the page's text if the app keeps us on /login.
    The page's clock follows the app's first (a test may have travelled since the page opened)."""
    follow_app_clock(page)
    page.goto("/login")
    form = page.locator("form").filter(has=page.locator('input[name="password"]'))
    form.locator('input[name="username"]').fill(username)
    form.locator('input[name="password"]').fill(password)
    with page.expect_navigation():
        form.locator('button[type="submit"], input[type="submit"], button:not([type])').first.click()
    if page.url.rstrip("/").endswith("/login"):
        raise AssertionError(f"login as {username!r} failed: {page.inner_text('body')[:300]}")
    return page
