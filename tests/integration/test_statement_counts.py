"""The hot pages send a fixed number of SQL statements, whatever the size of the campaign (issue 14).

Each page is requested in a small campaign (3 units, 3 ledger items each) and in a large one (30
units, 5 items each, lists a page long; the unit whose staff log in also takes part in two other
campaigns). The two counts must be equal, so a query per row (an N+1) fails here with both
statement lists printed; and the count must be no more than the page's pin. A pin is the count
today, the same on SQLite and PostgreSQL: lower it when a page needs fewer, and never raise it
without asking whether the new query runs once per page or once per row.

Every count includes loading the logged-in user (1) and the header's unread notifications (1),
except on the public pages, which have neither. The campaigns are built once for this module
(tests/integration/scale_world.py) and only read, but for the completion, which takes a step of
its own.
"""

import io
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import time_machine

from app.services.oversight import figure_cache
from tests.conftest import csrf_from, empty_tables
from tests.integration import scale_world
from tests.integration.scale_world import Scene
from tests.query_counter import StatementLog, assert_same_count, count_statements
from tests.support import BASE, JPEG


@pytest.fixture(scope="module")
def scenes(app):
    with app.app_context(), time_machine.travel(BASE, tick=True):
        small = scale_world.build(app, "S", size=3, items=3)
        large = scale_world.build(app, "L", size=30, items=5, also_in=2)
        scale_world.escalate()
    yield small, large
    empty_tables(app)


@pytest.fixture(autouse=True)
def _clean_tables():
    """Instead of conftest's: the campaigns stay for the whole module and are emptied after it."""
    yield


@pytest.fixture(autouse=True)
def _base_clock():
    """Instead of conftest's BASE: after the ladder has climbed (scale_world.AFTERWARDS)."""
    with time_machine.travel(scale_world.AFTERWARDS, tick=True):
        yield


def client_for(app, scene: Scene, who: str):
    """A test client logged in as the scene's `who` (staff, supervisor, assessor) or anonymous (public)."""
    client = app.test_client()
    if who == "public":
        return client
    username = getattr(scene, who)
    page = client.get("/login").get_data(as_text=True)
    resp = client.post(
        "/login", data={"username": username, "password": scale_world.PASSWORD, "csrf_token": csrf_from(page)}
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    return client


@dataclass(frozen=True)
class Page:
    who: str
    url: Callable[[Scene], str]
    pin: int


# What the statements are, besides the user and the unread count (see the module's docstring).
PAGES = {
    # open steps and the last completed ones (their ledger items joined); the unit (header)
    "staff task list": Page("staff", lambda s: "/my/tasks", 5),
    # task (instance joined); the previous submission (pre-fill); ledger item; evidence; deadline
    # changes; unit, campaign
    "staff task page": Page("staff", lambda s: f"/my/tasks/{s.rectify_tasks[0]}", 9),
    # the unit's instances (campaigns joined); the items of all of them; the unit
    "staff ledger": Page("staff", lambda s: "/my/ledger", 5),
    # the unit's instances (campaigns joined); the unit
    "staff ledger index": Page("staff", lambda s: "/ledger/", 4),
    # campaign, instance, unit; count + page of items (units joined); their reports, evidence,
    # escalations (one query each)
    "staff ledger register": Page("staff", lambda s: f"/ledger/campaigns/{s.campaign}/units/{s.unit}", 10),
    # campaign; count + page of items; reports, evidence, escalations (the unit filter is a
    # search-as-you-type picker: no query for the units)
    "ledger register": Page("supervisor", lambda s: f"/ledger/campaigns/{s.campaign}", 8),
    # count + page (units, ledger items joined); campaigns for the filter
    "supervisor queue": Page("supervisor", lambda s: f"/supervise/queue?campaign={s.campaign}", 5),
    # task; the report under review and the previous submission; ledger item; evidence of the
    # step and of the report; deadline changes; unit, campaign; who reported
    "supervisor task page": Page("supervisor", lambda s: f"/supervise/tasks/{s.verify_task}", 12),
    # instance; its evidence; history (submissions and who submitted joined); letters by step;
    # items; published files; unit, campaign
    "instance page": Page("supervisor", lambda s: f"/supervise/instances/{s.instance}", 10),
    "instance page, ledger closed": Page("supervisor", lambda s: f"/supervise/instances/{s.assessed_instance}", 10),
    # launched campaigns; campaign; the data versions; units by phase and light (one
    # aggregate); lead departments; the next due time (how long the figures keep): nothing
    # cached yet, the request that computes
    "dashboard": Page("supervisor", lambda s: f"/supervise/dashboard?campaign={s.campaign}", 8),
    # each figure: campaign; the data versions; one aggregate; the time-dependent ones (lights,
    # overdue trend) the next due time too
    **{
        f"dashboard figure {name}": Page(
            "supervisor", lambda s, name=name: f"/supervise/dashboard/{s.campaign}/figures/{name}.json", pin
        )
        for name, pin in (
            ("units_by_phase", 5),
            ("overdue_series", 5),
            ("ledger_by_source", 4),
            ("escalations_by_level", 4),
            ("progress_ranking", 4),
        )
    },
    # each list a figure drills down to: campaign; the data versions; lead departments;
    # count + page (units joined)
    "dashboard items": Page("supervisor", lambda s: f"/supervise/dashboard/{s.campaign}/items", 7),
    "dashboard overdue": Page("supervisor", lambda s: f"/supervise/dashboard/{s.campaign}/overdue", 7),
    "dashboard escalations": Page("supervisor", lambda s: f"/supervise/dashboard/{s.campaign}/escalations", 7),
    # campaign; units by phase and light; the page of units; their open steps; their items;
    # lead departments
    "dashboard matrix": Page("supervisor", lambda s: f"/admin/campaigns/{s.campaign}/matrix", 8),
    # escalations (count + page), counts by level, incidents, overdue steps (count + page), rungs
    # reached, campaigns, lead departments
    "escalation board": Page("supervisor", lambda s: f"/supervise/escalations?campaign={s.campaign}", 11),
    # count + page (units, items joined); open items of the page's instances (one grouped
    # count); appraised campaigns; campaigns for the filter
    "assessor queue": Page("assessor", lambda s: f"/assess/queue?campaign={s.campaign}", 7),
    # task; previous submission; evidence; open items; deadline changes; unit, campaign
    "assessor task page": Page("assessor", lambda s: f"/assess/tasks/{s.assessment_task}", 9),
    # campaign; count + page of events; the names of their actors and units; the office's people
    # for the actor filter (actions and object kinds are known lists, units the picker)
    "audit trail": Page("supervisor", lambda s: f"/audit/campaigns/{s.campaign}", 8),
    # instance, unit, campaign; then as the campaign's trail
    "audit trail of a unit": Page("supervisor", lambda s: f"/audit/instances/{s.instance}", 10),
    # count + page of letters (units, campaigns joined); the count waiting to be signed for;
    # campaigns for the filter (units: the search-as-you-type picker)
    "letters": Page("supervisor", lambda s: f"/letters?campaign={s.campaign}", 6),
    # notifications; the unread count again (the page's, besides the header's); the unit
    "notifications": Page("staff", lambda s: "/notifications", 5),
    # campaign; units by phase and light; the page of unit cards: units, open steps, items,
    # slugs; item counts; recently closed items; notices; phases
    "public campaign page": Page("public", lambda s: f"/public/c/{s.slug}", 10),
    # campaign; enrolment; items; their published files; unit; phase; notices
    "public unit page": Page("public", lambda s: f"/public/c/{s.slug}/u/{s.unit_slug}", 7),
    # notices (campaigns, units joined)
    "public notices": Page("public", lambda s: "/public/notices", 1),
}


def get_counted(app, scene: Scene, page: Page) -> StatementLog:
    """The page's statements with nothing cached (the dashboard's figures are kept per data
    version: the pin bounds the request that computes them; see the test after this one)."""
    client = client_for(app, scene, page.who)
    url = page.url(scene)
    figure_cache.cache.clear()
    with count_statements(app) as log:
        resp = client.get(url)
    assert resp.status_code == 200, f"{url}: {resp.status_code}"
    return log


@pytest.mark.parametrize("name", PAGES)
def test_a_page_sends_as_many_statements_for_30_units_as_for_3(app, scenes, name):
    page = PAGES[name]
    small, large = (get_counted(app, scene, page) for scene in scenes)
    assert_same_count(small, large, name)
    large.assert_at_most(page.pin)


def test_the_dashboard_asked_again_unchanged_computes_nothing(app, scenes):
    """A second request with nothing changed reads the data versions and takes its figures from
    the cache: fewer statements than the first, and the same for 30 units as for 3."""
    again = []
    for scene in scenes:
        client = client_for(app, scene, "supervisor")
        url = PAGES["dashboard"].url(scene)
        figure_cache.cache.clear()
        with count_statements(app) as first:
            assert client.get(url).status_code == 200
        with count_statements(app) as second:
            assert client.get(url).status_code == 200
        assert second.count < first.count, second.report()
        again.append(second)
    assert_same_count(*again, "dashboard, asked again")
    again[1].assert_at_most(5)  # the user; launched campaigns; the data versions; the campaign; unread count


def post_counted(app, scene: Scene) -> StatementLog:
    """Complete one of the unit's open rectify steps through the page, with a photo."""
    staff = client_for(app, scene, "staff")
    url = f"/my/tasks/{scene.rectify_tasks[1]}"
    data = {
        **scale_world.RECTIFY,
        "evidence": (io.BytesIO(JPEG), "整改照片.jpg"),
        "action": "submit",
        "csrf_token": csrf_from(staff.get(url).get_data(as_text=True)),
    }
    with count_statements(app) as log:
        resp = staff.post(url, data=data, content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    return log


def test_completing_a_step_sends_as_many_statements_for_30_units_as_for_3(app, scenes):
    small, large = (post_counted(app, scene) for scene in scenes)
    assert_same_count(small, large, "completing a rectify step")
    # user; task; the upload quota; the instance's lock, read again; ready steps; evidence
    # stored and counted; ledger item marked rectified, audited; submission; the engine's save:
    # ready steps, instance, the new verify step, the step completed; the escalation gate's lock;
    # its rungs cancelled; the steps created read back; the campaign's data version changed and
    # the audit chain sealed at the commit (head, the events, their places, the head).
    large.assert_at_most(25)
