"""The campaign dashboard in a real browser: every chart draws on a canvas without console errors, and
clicking a bar (through ECharts' own click handling) or a count opens the list behind it.

The live server runs in a thread of this process, so the clock moved here is the server's clock too.
"""

import time_machine
from playwright.sync_api import expect

from tests.e2e.conftest import login
from tests.integration.test_dashboard import NOW, build_scene

FIGURES = ("units_by_phase", "overdue_series", "ledger_by_source", "escalations_by_level", "progress_ranking")


def test_dashboard_draws_its_charts_and_drills_down(page, app, make_unit, make_user):
    with time_machine.travel(NOW, tick=False):
        with app.app_context():
            cid = build_scene(make_unit)
        make_user("supervisor", username="e2e_dash_sup")
        login(page, "e2e_dash_sup")
        page.get_by_role("link", name="督导看板").click()
        expect(page.locator("h1")).to_contain_text("督导看板")
        page.locator('#dashboard-filter select[name="campaign"]').select_option(str(cid))
        with page.expect_navigation():
            page.get_by_role("button", name="筛选").click()
        expect(page.locator("h1")).to_contain_text("测政办发〔2026〕1号")
        for name in FIGURES:
            chart = page.locator(f'[data-figure="{name}"]')
            expect(chart).to_have_attribute("data-ready", "1")
            expect(chart.locator("canvas")).to_have_count(1)
        assert page.console_errors == []

        # A click on the "closed" part of the residents' bar: the ledger items behind it.
        page.locator('[data-figure="ledger_by_source"]').scroll_into_view_if_needed()
        x, y = page.evaluate("""() => {
            const chart = window.rectifyCharts.ledger_by_source;
            const [px, py] = chart.convertToPixel({seriesIndex: 2}, [0, 2]);  // stacked: 1 rectifying + 2 closed
            const box = chart.getDom().getBoundingClientRect();
            return [box.left + px, box.top + py];
        }""")
        with page.expect_navigation():
            page.mouse.click(x, y)
        assert f"/supervise/dashboard/{cid}/items" in page.url
        expect(page.locator("#drill")).to_contain_text("居民群众")
        rows = page.locator("#items tbody tr")
        expect(rows).to_have_count(2)
        expect(page.locator('#items tr[data-status="closed"][data-source="residents"]')).to_have_count(2)

        # Back on the dashboard, the count of red units in deploy opens the matrix showing that unit only.
        page.get_by_role("link", name="返回看板").click()
        page.locator('#phase-lights tr[data-phase="deploy"] td[data-light="red"] a').click()
        expect(page.locator("table.matrix tbody tr")).to_have_count(1)
        expect(page.locator('table.matrix tr[data-unit="T01"]')).to_be_visible()
        assert page.console_errors == []
