"""Smoke: the app serves its Chinese login page to a real browser, and the login helper works."""

from playwright.sync_api import expect

from tests.e2e.conftest import login


def test_login_page_renders_in_chinese(page):
    response = page.goto("/login")

    assert response is not None and response.status == 200
    assert "专项整治督办平台" in page.title()
    form = page.locator("form").filter(has=page.locator('input[name="password"]'))
    expect(form.locator('input[name="username"]')).to_be_visible()
    expect(form.locator('input[name="password"]')).to_have_attribute("type", "password")
    assert page.console_errors == []


def test_login_helper_signs_a_user_in(page, make_user):
    make_user("admin", username="smoke_admin")

    login(page, "smoke_admin")

    assert "/login" not in page.url
    assert page.console_errors == []
