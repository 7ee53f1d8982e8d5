"""The pages that filter by unit (the campaign ledger, the campaign audit trail, the letters list) pick
it with the unit picker: the page's size does not grow with the units there are, and the filter works
with the picked id (the script's way) and with typed text alone (without the script)."""

import pytest

from app.extensions import db
from app.models import CampaignUnit
from app.services.accounts import units
from app.services.campaigns import launch
from tests.support import make_campaign

PAGES = {
    "ledger": "/ledger/campaigns/{campaign}",
    "audit": "/audit/campaigns/{campaign}",
    "letters": "/letters",
}


def _roster(start: int, stop: int) -> bytes:
    rows = "".join(f"P{i:04d},测试{i:04d}镇,乡镇\n" for i in range(start, stop))
    return ("单位代码,单位名称,单位类型\n" + rows).encode()


def _enrol_and_launch(app, campaign: int | None, start: int, stop: int) -> int:
    """Import units P<start>..P<stop-1>, enrol them in the campaign (a new one when None) and launch."""
    with app.app_context():
        assert units.import_units(_roster(start, stop), "units.csv", None).ok
        ids = [u.id for u in units.list_units() if start <= int(u.code[1:]) < stop]
        if campaign is None:
            campaign = make_campaign(ids)
        else:
            db.session.add_all(CampaignUnit(campaign_id=campaign, unit_id=i) for i in ids)
            db.session.commit()
        launch.launch_all(campaign, None)
        db.session.remove()
    return campaign


@pytest.mark.parametrize("page", sorted(PAGES))
def test_a_page_does_not_grow_with_the_units_of_its_campaign(app, login_as, page):
    # 60 units: a full first page of the trail (an event a unit launched) before and after.
    campaign = _enrol_and_launch(app, None, 0, 60)
    sup = login_as("supervisor")
    url = PAGES[page].format(campaign=campaign)
    small = sup.get(url).get_data(as_text=True)
    _enrol_and_launch(app, campaign, 60, 600)
    big = sup.get(url).get_data(as_text=True)
    # A <select> of every unit grew ~40 bytes a unit (540 more: ~22 KB); the rows shown are paged.
    assert abs(len(big.encode()) - len(small.encode())) < 600, (len(small), len(big))
    assert big.count("<option") == small.count("<option")
    assert 'name="unit_q"' in big and "data-unit-picker" in big


def _rows(html: str) -> int:
    return html.count("<tr data-")


def test_the_ledger_filters_by_the_picked_id_or_by_typed_text(ledger_world, login_as):
    w = ledger_world
    sup = login_as("supervisor", username="sup2")
    url = f"/ledger/campaigns/{w['campaign']}"
    everything = _rows(sup.get(url).get_data(as_text=True))
    assert everything == 3
    # The script's way: the id, with the name it shows.
    html = sup.get(f"{url}?unit={w['unit']}&unit_q=塘渡口镇").get_data(as_text=True)
    assert _rows(html) == 3 and 'value="塘渡口镇"' in html and f'name="unit" value="{w["unit"]}"' in html
    html = sup.get(f"{url}?unit={w['other']}").get_data(as_text=True)
    assert _rows(html) == 0 and 'value="白仓镇"' in html
    # Without the script: the text is read. A part of the name, or the code in any case.
    for text in ("白仓", "t02"):
        html = sup.get(f"{url}?unit_q={text}").get_data(as_text=True)
        assert _rows(html) == 0 and f'name="unit" value="{w["other"]}"' in html, text
    assert _rows(sup.get(f"{url}?unit_q=渡口").get_data(as_text=True)) == 3
    # Text typed over a picked unit wins; a box emptied picks none.
    assert _rows(sup.get(f"{url}?unit={w['unit']}&unit_q=白仓镇").get_data(as_text=True)) == 0
    assert _rows(sup.get(f"{url}?unit={w['other']}&unit_q=").get_data(as_text=True)) == everything
    # The export takes the same filter.
    csv_text = sup.get(f"/ledger/campaigns/{w['campaign']}/export.csv?unit={w['other']}").get_data(as_text=True)
    assert "路灯工程超标" not in csv_text


def test_text_naming_no_one_unit_leaves_the_list_unfiltered_and_says_why(ledger_world, login_as):
    w = ledger_world
    sup = login_as("supervisor", username="sup2")
    url = f"/ledger/campaigns/{w['campaign']}"
    html = sup.get(f"{url}?unit_q=镇&status=").get_data(as_text=True)
    assert _rows(html) == 3 and "单位有多个，未按单位筛选" in html
    # Each choice links to the list filtered by that unit, the other filters kept.
    assert f'data-unit-choice="{w["unit"]}"' in html and f'data-unit-choice="{w["other"]}"' in html
    link = html.split(f'data-unit-choice="{w["other"]}"')[0].rsplit('href="', 1)[1].split('"')[0]
    assert f"unit={w['other']}" in link and "status=" in link
    assert _rows(sup.get(link.replace("&amp;", "&")).get_data(as_text=True)) == 0
    # A unit outside the campaign is not offered, by text or by id.
    html = sup.get(f"{url}?unit_q=外县镇").get_data(as_text=True)
    assert _rows(html) == 3 and "没有名称或代码含“外县镇”的单位" in html
    assert _rows(sup.get(f"{url}?unit={w['outsider']}").get_data(as_text=True)) == 3


def test_the_audit_trail_filters_by_typed_text(ledger_world, login_as):
    w = ledger_world
    sup = login_as("supervisor", username="sup2")
    url = f"/audit/campaigns/{w['campaign']}"
    everything = sup.get(url).get_data(as_text=True)
    by_text = sup.get(f"{url}?unit_q=白仓").get_data(as_text=True)
    by_id = sup.get(f"{url}?unit={w['other']}").get_data(as_text=True)
    assert 0 < _rows(by_text) == _rows(by_id) < _rows(everything)
    assert "塘渡口镇" not in by_text.split('id="audit-trail"')[1]
    # A unit's own trail has no unit filter.
    assert 'name="unit_q"' not in sup.get(f"/audit/instances/{w['instance']}").get_data(as_text=True)
