"""The overdue ladder in a real browser: the supervisor sees the red light and the letter, the unit signs
for the letter, and the public page shows the notice.

The live server runs in a thread of this process, so the clock moved here is the server's clock too.
"""

from datetime import UTC, datetime

import time_machine
from playwright.sync_api import expect

from app.extensions import db
from app.models import PublicNotice, SupervisionLetter
from app.services.campaigns import launch
from app.services.sweep import timers
from tests.e2e.conftest import login, new_page
from tests.support import make_campaign

# The deploy step was due 2026-12-10 17:30. The sweeps climb the ladder one rung at a time: the
# reminder a minute later, the letter 3 working days later (12-15), the notice once 10 working
# days have passed and the letter's reply deadline too: 2026-12-28 10:00 Beijing.
CLIMB = [datetime(2026, 12, 10, 9, 31, tzinfo=UTC), datetime(2026, 12, 15, 9, 31, tzinfo=UTC)]
AFTER_NOTICE = datetime(2026, 12, 28, 2, 0, tzinfo=UTC)


def test_red_light_letter_signed_and_public_notice(page, browser, live_server, app, make_unit, make_user):
    unit = make_unit("E2E11", "龙溪铺镇")
    make_user("unit_staff", unit, username="e2e_ladder_staff")
    make_user("supervisor", username="e2e_ladder_sup")
    with app.app_context():
        cid = make_campaign([unit], doc_number="浏览〔2026〕11号")
        launch.launch_all(cid, None)
    for moment in CLIMB:
        with time_machine.travel(moment, tick=False), app.app_context():
            timers.tick()
    with time_machine.travel(AFTER_NOTICE, tick=False):
        with app.app_context():
            timers.tick()
            letter = db.session.query(SupervisionLetter).one()
            letter_id, doc_number = letter.id, letter.doc_number
            assert db.session.query(PublicNotice).count() == 1
        assert doc_number == "督办函〔2026〕第1号"

        # The supervisor: a red light on the progress matrix, then the letter.
        login(page, "e2e_ladder_sup")
        page.goto(f"/admin/campaigns/{cid}/matrix")
        row = page.locator("tr", has_text="龙溪铺镇")
        expect(row.locator(".light-red")).to_be_visible()
        page.goto("/letters")
        letter_row = page.locator("#letters tr", has_text="龙溪铺镇")
        expect(letter_row).to_contain_text("未签收")
        letter_row.get_by_role("link", name=doc_number).click()
        expect(page.locator("#doc-number")).to_have_text(doc_number)
        expect(page.locator("#addressee")).to_have_text("龙溪铺镇：")
        expect(page.locator("#receipt")).to_contain_text("未签收")
        expect(page.locator("#print")).to_be_visible()
        expect(page.locator("#acknowledge")).to_have_count(0)

        # The unit's staff, at another browser: the letter waits unsigned; they sign for it.
        staff = new_page(browser, live_server)
        try:
            login(staff, "e2e_ladder_staff")
            staff.get_by_role("link", name="督办函", exact=True).click()
            staff_row = staff.locator("#letters tr", has_text=doc_number)
            expect(staff_row.locator(".badge-unacknowledged")).to_be_visible()
            staff_row.get_by_role("link", name=doc_number).click()
            with staff.expect_navigation():
                staff.locator("#acknowledge").click()
            expect(staff.locator(".flash-success")).to_contain_text("已签收")
            expect(staff.locator("#receipt")).to_contain_text("测试unit_staff")
            expect(staff.locator("#receipt")).to_contain_text("2026年12月28日 10:00")
            expect(staff.locator("#acknowledge")).to_have_count(0)
            assert staff.console_errors == []
        finally:
            staff.context.close()

        # The supervisor now sees it signed.
        page.goto(f"/letters/{letter_id}")
        expect(page.locator("#receipt")).to_contain_text("测试unit_staff")

        # Anyone, without logging in: the public notice.
        public = new_page(browser, live_server)
        try:
            public.goto("/public/notices")
            notice = public.locator("#public-notices li", has_text="龙溪铺镇")
            expect(notice).to_contain_text("浏览〔2026〕11号")
            expect(notice).to_contain_text("动员部署")
            expect(notice).to_contain_text("2026-12-10")
            assert public.console_errors == []
        finally:
            public.context.close()
    assert page.console_errors == []
