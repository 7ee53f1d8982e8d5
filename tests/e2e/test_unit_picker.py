"""The unit picker in a real browser, on the campaign ledger: type part of a unit's name, pick a match
with the keyboard or the mouse, filter, and the list shows that unit's items only."""

from playwright.sync_api import expect

from tests.e2e.conftest import login


def test_supervisor_picks_a_unit_by_typing_part_of_its_name(page, ledger_world, make_user):
    w = ledger_world
    make_user("supervisor", username="e2e_picker")
    login(page, "e2e_picker")
    page.goto(f"/ledger/campaigns/{w['campaign']}")
    expect(page.locator("#ledger tbody tr")).to_have_count(3)

    box = page.get_by_role("combobox", name="单位")
    matches = page.get_by_role("listbox")
    box.press_sequentially("白")
    options = matches.get_by_role("option")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("白仓镇")
    box.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    box.press("Enter")  # picks; the list closes, the form is not sent yet
    expect(box).to_have_value("白仓镇")
    expect(matches).to_be_hidden()
    expect(page.locator('input[name="unit"]')).to_have_value(str(w["other"]))
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("#ledger")).to_have_count(0)
    expect(page.locator(".empty")).to_contain_text("没有符合条件的整改事项")
    expect(box).to_have_value("白仓镇")

    # The other unit, by its code and a click; the campaign's units only (外县镇 is not enrolled).
    box.fill("")
    box.press_sequentially("外县")
    expect(matches).to_contain_text("没有匹配的单位")
    box.fill("")
    box.press_sequentially("t0")
    expect(options).to_have_count(2)
    options.filter(has_text="塘渡口镇").click()
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("#ledger tbody tr")).to_have_count(3)
    expect(page.locator("#ledger")).to_contain_text("路灯工程超标")
    assert f"unit={w['unit']}" in page.url
    assert page.console_errors == []
