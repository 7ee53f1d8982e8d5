"""The browser and the app on two clocks: the app's is the test's (time-machine, in this process),
Chromium's is the machine's. The page's JS clock follows the app's, and a login holds however far
apart the two clocks are (Chromium judges cookie expiry by the machine's clock)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from playwright.sync_api import expect

from tests.e2e.conftest import follow_app_clock, login, new_page
from tests.support import BASE

# Far from any date this suite runs on, so the page cannot agree with the app by chance.
LONG_AGO = BASE - timedelta(days=3650)


def _page_now(page) -> datetime:
    return datetime.fromtimestamp(page.evaluate("Date.now()") / 1000, UTC)


def test_the_pages_clock_is_the_apps(browser, live_server):
    with time_machine.travel(LONG_AGO, tick=True):
        page = new_page(browser, live_server)
        try:
            page.goto("/login")
            assert abs(_page_now(page) - datetime.now(UTC)) < timedelta(minutes=1)
            # The page's local date is the app's (both Asia/Shanghai).
            assert page.evaluate("new Date().toLocaleDateString('en-CA')") == LONG_AGO.date().isoformat()
            # The test travels on: the page follows when told to.
            with time_machine.travel(BASE + timedelta(days=400), tick=False):
                follow_app_clock(page)
                assert abs(_page_now(page) - (BASE + timedelta(days=400))) < timedelta(minutes=1)
        finally:
            page.context.close()


@pytest.mark.parametrize("years", [-3, 3])
def test_a_login_holds_when_browser_and_app_are_years_apart(page, make_user, years):
    make_user("supervisor", username="clock_sup")
    with time_machine.travel(BASE + timedelta(days=365 * years), tick=True):
        login(page, "clock_sup")
        for _ in range(2):  # later requests still carry the session
            page.goto("/home")
            expect(page.locator("body")).to_contain_text("测试supervisor")
            assert "/login" not in page.url
