"""The dashboard's pages and JSON: who may see them, and that every drill-down URL opens the right list."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine

from tests.integration.test_dashboard import NOW, build_scene
from tests.support import asset


@pytest.fixture(autouse=True)
def at_now():
    # Logins too: a session from the future would not be honoured at NOW.
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def scene(app, make_unit):
    # Built in an app context of its own: a context left pushed would carry one login into the next request.
    with app.app_context():
        return build_scene(make_unit)


@pytest.fixture
def supervisor(login_as):
    return login_as("supervisor")


def figure(actor, cid, name, query=""):
    resp = actor.get(f"/supervise/dashboard/{cid}/figures/{name}.json{query}")
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    return resp.get_json()


def open_list(actor, url):
    resp = actor.get(url)
    assert resp.status_code == 200, url
    return resp.get_data(as_text=True)


def test_page_shows_the_phase_light_table_and_a_chart_per_figure(app, scene, supervisor):
    html = open_list(supervisor, "/supervise/dashboard")
    for name in ("units_by_phase", "overdue_series", "ledger_by_source", "escalations_by_level", "progress_ranking"):
        assert f'data-figure="{name}"' in html
    assert asset(app, "vendor/echarts.min.js") in html and asset(app, "dashboard.js") in html
    assert re.search(r'<tr data-phase="deploy">.*?data-light="red"><a href="[^"]*phase=deploy[^"]*">1</a>', html, re.S)
    assert 'id="total-units" href' in html and ">4</a>" in html
    assert '<option value="县委办"' in html  # the lead departments of the enrolled units


def test_filter_narrows_the_page_and_the_figures(scene, supervisor):
    html = open_list(supervisor, f"/supervise/dashboard?campaign={scene}&kind=department")
    assert re.search(r'id="total-units" href="[^"]*kind=department[^"]*">2</a>', html)
    assert f"/supervise/dashboard/{scene}/figures/ledger_by_source.json?kind=department" in html
    data = figure(supervisor, scene, "ledger_by_source", "?kind=department")
    assert data["counts"]["closed"] == [1, 0, 0, 0, 0]
    assert data["source_names"][0] == "居民群众"


def test_units_drill_down_opens_the_filtered_matrix(scene, supervisor):
    data = figure(supervisor, scene, "units_by_phase", "?kind=township")
    url = data["drill"]["red"][data["phases"].index("deploy")]
    assert parse_qs(urlsplit(url).query) == {"kind": ["township"], "phase": ["deploy"], "light": ["red"]}
    html = open_list(supervisor, url)
    assert re.findall(r'data-unit="(\w+)"', html) == ["T01"]
    html = open_list(supervisor, data["drill"]["none"][0].replace("kind=township", "kind="))
    assert re.findall(r'data-unit="(\w+)"', html) == ["D02"]  # not started


def test_overdue_drill_down_lists_the_steps_of_that_day(scene, supervisor):
    data = figure(supervisor, scene, "overdue_series")
    url = data["drill"][data["days"].index("2026-04-02")]
    html = open_list(supervisor, url)
    assert "逾期后办结" in html and "逾期未办" not in html
    assert "逾期未办" in open_list(supervisor, data["drill"][-1])


def test_ledger_drill_down_lists_the_items(scene, supervisor):
    data = figure(supervisor, scene, "ledger_by_source")
    html = open_list(supervisor, data["drill"]["closed"][data["sources"].index("residents")])
    assert len(re.findall(r'data-item="\d+" data-status="closed" data-source="residents"', html)) == 2
    assert "data-item=" not in open_list(supervisor, data["drill"]["rectified"][0])


def test_escalation_drill_down_opens_the_board_or_a_read_only_list(scene, supervisor, login_as):
    data = figure(supervisor, scene, "escalations_by_level", "?lead=县委办")
    url = data["drill"]["incident"][0]
    assert url.startswith("/supervise/escalations?")
    assert parse_qs(urlsplit(url).query) == {
        "campaign": [str(scene)],
        "level": ["reminder"],
        "status": ["incident"],
        "lead": ["县委办"],
    }
    html = open_list(supervisor, url)
    assert html.count("data-incident=") == 1

    assessor = login_as("assessor")
    url = figure(assessor, scene, "escalations_by_level")["drill"]["done"][0]
    assert url.startswith(f"/supervise/dashboard/{scene}/escalations?")
    html = open_list(assessor, url)
    assert len(re.findall(r'data-escalation="\d+" data-level="reminder"', html)) == 1


def test_ranking_drill_down_opens_the_unit(scene, supervisor):
    rows = figure(supervisor, scene, "progress_ranking", "?order=leading")["rows"]
    assert [r["code"] for r in rows] == ["D01", "T02", "D02", "T01"]
    assert rows[0]["drill"].startswith("/supervise/instances/")
    assert rows[2]["drill"].endswith("phase=not_started")
    assert "问题" in open_list(supervisor, rows[0]["drill"])


@pytest.mark.parametrize("role", ["supervisor", "assessor", "admin"])
def test_overseeing_roles_see_the_dashboard(scene, login_as, role):
    actor = login_as(role)
    assert open_list(actor, "/supervise/dashboard")
    assert figure(actor, scene, "units_by_phase")["totals"]


def dashboard_urls(cid):
    return (
        "/supervise/dashboard",
        f"/supervise/dashboard/{cid}/figures/units_by_phase.json",
        f"/supervise/dashboard/{cid}/items",
        f"/supervise/dashboard/{cid}/overdue",
        f"/supervise/dashboard/{cid}/escalations",
    )


def test_unit_staff_are_kept_out(scene, login_as, make_unit):
    staff = login_as("unit_staff", unit_id=make_unit("T50"))
    for url in dashboard_urls(scene):
        assert staff.get(url).status_code == 403, url


def test_anonymous_is_sent_to_login(scene, client):
    for url in dashboard_urls(scene):
        assert client.get(url).status_code == 302, url


def test_bad_input_is_handled(scene, supervisor):
    assert supervisor.get(f"/supervise/dashboard/{scene}/figures/nope.json").get_json()["error"]
    assert supervisor.get("/supervise/dashboard/999999/figures/units_by_phase.json").status_code == 404
    assert supervisor.get("/supervise/dashboard?campaign=999999").status_code == 404
    resp = supervisor.get(f"/supervise/dashboard/{scene}/overdue?day=yesterday")
    assert resp.status_code == 302
    assert supervisor.get(f"/supervise/dashboard/{scene}/items?status=bogus&kind=alien&page=x").status_code == 200
