"""The dashboard's figures are computed once per campaign data version: a request with nothing changed
computes nothing, every change counted shows at once (to the one who made it first of all), and
figures that depend on the time change exactly when a step falls due."""

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import event, select, update

from app.extensions import db
from app.models import Campaign, DataVersion, Task, Unit, User
from app.models.data_version import ALL_CAMPAIGNS, campaign_scope
from app.services.campaigns import campaigns
from app.services.escalation import manual_letters
from app.services.oversight import figure_cache
from app.services.oversight.figure_cache import FigureCache, _Entry
from app.services.shared import data_versions
from tests.conftest import csrf_from
from tests.integration.ledger_world import add_finding, instance_of
from tests.support import JPEG, ready_tasks, submit, upload


@pytest.fixture
def world(ledger_world):
    return ledger_world


@pytest.fixture
def sup(app, world):
    """The world's supervisor (sup1), logged in."""
    client = app.test_client()
    page = client.get("/login")
    resp = client.post(
        "/login",
        data={"username": "sup1", "password": "Passw0rd!", "csrf_token": csrf_from(page.get_data(as_text=True))},
    )
    assert resp.status_code == 302
    return client


class Statements:
    """The SQL statements sent while the block runs."""

    def __enter__(self):
        self.sent: list[str] = []
        event.listen(db.engine, "before_cursor_execute", self._before)
        return self

    def _before(self, conn, cursor, statement, *args):
        self.sent.append(statement)

    def __exit__(self, *exc):
        event.remove(db.engine, "before_cursor_execute", self._before)

    def touching(self, table: str) -> list[str]:
        return [s for s in self.sent if f"FROM {table}" in s or f"JOIN {table}" in s]


def figure(client, cid, name, query=""):
    resp = client.get(f"/supervise/dashboard/{cid}/figures/{name}.json{query}")
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    return resp.get_json()


def ledger_total(client, cid, status):
    return sum(figure(client, cid, "ledger_by_source")["counts"][status])


def test_a_second_request_with_nothing_changed_computes_nothing(app, world, sup):
    cid = world["campaign"]
    first = figure(sup, cid, "ledger_by_source")
    with app.app_context(), Statements() as sql:
        again = figure(sup, cid, "ledger_by_source")
    assert again == first
    assert sql.touching("ledger_items") == []  # no aggregate: only the campaign's data version was read
    assert len(sql.touching("data_versions")) == 1
    with app.app_context(), Statements() as sql:
        page = sup.get(f"/supervise/dashboard?campaign={cid}")
    assert page.status_code == 200
    with app.app_context(), Statements() as sql:
        assert sup.get(f"/supervise/dashboard?campaign={cid}").status_code == 200
    assert sql.touching("campaign_units") == [] and sql.touching("tasks") == []
    # A filter is a figure of its own.
    with app.app_context(), Statements() as sql:
        figure(sup, cid, "ledger_by_source", "?kind=department")
    assert sql.touching("ledger_items") != []


def test_a_finding_of_ones_own_shows_at_once(app, world, sup):
    cid = world["campaign"]
    before = ledger_total(sup, cid, "rectifying")
    with app.app_context():
        add_finding(app, world["supervisor"], world["instance"])
    assert ledger_total(sup, cid, "rectifying") == before + 1


def test_a_completed_step_shows_at_once(app, world, sup):
    cid = world["campaign"]
    rectified = ledger_total(sup, cid, "rectified")
    with app.app_context():
        everyone = _token(ALL_CAMPAIGNS)
        step = ready_tasks(world["instance"], "rectify_item")[0]
        submit(
            app,
            world["staff"],
            step.id,
            {"measures_taken": "已整改", "completed_on": "2027-02-01"},
            {"evidence": [upload("整改照片.jpg", JPEG)]},
        )
    assert ledger_total(sup, cid, "rectified") == rectified + 1
    with app.app_context():
        assert _token(ALL_CAMPAIGNS) == everyone  # the one save path names its campaign: others keep theirs


def test_an_escalation_and_the_phase_table_show_at_once(app, world, sup):
    cid = world["campaign"]
    with app.app_context():
        step = ready_tasks(world["other_instance"], "deploy")[0]
        due, step_id = step.due_at, step.id
    with time_machine.travel(due + timedelta(days=1), tick=False):
        before = figure(sup, cid, "escalations_by_level")["counts"]
        with app.app_context():
            everyone = _token(ALL_CAMPAIGNS)
            manual_letters.issue_manual(db.session.get(User, world["supervisor"]), step_id)
            assert _token(ALL_CAMPAIGNS) == everyone
        after = figure(sup, cid, "escalations_by_level")["counts"]
    assert sum(map(sum, after.values())) == sum(map(sum, before.values())) + 1


def test_the_lights_and_the_overdue_trend_turn_when_a_step_falls_due(app, world, sup):
    cid = world["campaign"]
    with app.app_context():
        due = ready_tasks(world["other_instance"], "deploy")[0].due_at
        # Nothing else falls due between the two moments looked at below.
        assert (
            db.session.scalar(select(Task.id).where(Task.due_at > due - timedelta(minutes=1), Task.due_at < due))
            is None
        )

    def red_in_deploy():
        data = figure(sup, cid, "units_by_phase")
        return data["counts"]["red"][data["phases"].index("deploy")]

    with time_machine.travel(due - timedelta(minutes=1), tick=False):
        red = red_in_deploy()
        overdue = figure(sup, cid, "overdue_series")["counts"][-1]
        with app.app_context(), Statements() as sql:
            assert red_in_deploy() == red  # still the figure computed a minute before
        assert sql.touching("campaign_units") == []
    with time_machine.travel(due + timedelta(seconds=1), tick=False):
        assert red_in_deploy() == red + 1
        assert figure(sup, cid, "overdue_series")["counts"][-1] == overdue + 1


def test_the_cache_is_bounded_and_hands_out_copies():
    cache = FigureCache(size=3)
    for i in range(5):
        cache.put(i, _Entry({"n": [i]}, None, None))
    assert len(cache) == 3
    assert cache.get(0, None) is None and cache.get(1, None) is None
    assert cache.get(4, None).value == {"n": [4]}


def test_a_caller_may_change_its_copy(app, world):
    with app.app_context():
        computed = []

        def compute():
            computed.append(1)
            return {"rows": [{"n": 1}]}

        first = figure_cache.cached("probe", world["campaign"], (), compute)
        first["rows"][0]["n"] = 99
        assert figure_cache.cached("probe", world["campaign"], (), compute) == {"rows": [{"n": 1}]}
        assert len(computed) == 1


def _token(scope):
    return db.session.scalar(select(DataVersion.token).where(DataVersion.scope == scope))


def test_what_changes_a_data_version(app, world):
    cid = world["campaign"]
    with app.app_context():
        mine, everyone = _token(campaign_scope(cid)), _token(ALL_CAMPAIGNS)
        assert mine is not None
        # A draft saved on a step changes no figure.
        step = ready_tasks(world["other_instance"], "deploy")[0]
        step.draft = {"attendees": "草稿"}
        db.session.commit()
        assert _token(campaign_scope(cid)) == mine
        # A change rolled back changes nothing.
        step.status = "cancelled"
        db.session.flush()
        db.session.rollback()
        assert _token(campaign_scope(cid)) == mine
        # A unit renamed changes every campaign's figures (the ranking names units).
        db.session.get(Unit, world["other"]).name = "白仓镇人民政府"
        db.session.commit()
        assert _token(ALL_CAMPAIGNS) != everyone and _token(campaign_scope(cid)) == mine
        # A step's due time moved (a calendar change recomputes them) changes its campaign's.
        step = ready_tasks(world["other_instance"], "deploy")[0]
        step.due_at = step.due_at + timedelta(days=1)
        db.session.commit()
        assert _token(campaign_scope(cid)) != mine
        # A bulk statement that names its campaigns changes theirs; one that does not, every campaign's.
        mine, everyone = _token(campaign_scope(cid)), _token(ALL_CAMPAIGNS)
        tasks = Task.__table__
        db.session.execute(
            update(tasks)
            .where(tasks.c.id == step.id)
            .values(status="ready")
            .execution_options(**data_versions.touching([cid]))
        )
        db.session.commit()
        assert _token(campaign_scope(cid)) != mine and _token(ALL_CAMPAIGNS) == everyone
        db.session.execute(update(tasks).where(tasks.c.id == step.id).values(status="ready"))
        db.session.commit()
        assert _token(ALL_CAMPAIGNS) != everyone
        # A unit enrolled (INSERT ... SELECT) changes its campaign's.
        mine, everyone = _token(campaign_scope(cid)), _token(ALL_CAMPAIGNS)
        campaigns.enrol_units(cid, "codes:T09", actor_id=None)
        assert _token(campaign_scope(cid)) != mine and _token(ALL_CAMPAIGNS) == everyone
        # A campaign made gets a version of its own.
        assert instance_of(world["unit"]).campaign_id == cid
        assert _token(campaign_scope(db.session.scalar(select(Campaign.id).order_by(Campaign.id.desc())))) is not None


def test_the_sweeps_rungs_show_at_once(app, world, sup):
    from app.services.sweep import timers

    cid = world["campaign"]
    with app.app_context():
        due = ready_tasks(world["other_instance"], "deploy")[0].due_at
    with time_machine.travel(due + timedelta(days=1), tick=False):
        before = sum(map(sum, figure(sup, cid, "escalations_by_level")["counts"].values()))
        with app.app_context():
            everyone = _token(ALL_CAMPAIGNS)
            timers.tick()
            assert _token(ALL_CAMPAIGNS) == everyone
        assert sum(map(sum, figure(sup, cid, "escalations_by_level")["counts"].values())) > before


def test_threads_asking_at_once_compute_once():
    import threading

    cache = FigureCache(size=8)
    started, release, computed = threading.Event(), threading.Event(), []

    def compute():
        computed.append(1)
        started.set()
        release.wait(timeout=30)
        return _Entry("figure", None, None)

    first = threading.Thread(target=cache.get_or_compute, args=("k", None, compute))
    first.start()
    assert started.wait(timeout=30)
    others = [threading.Thread(target=cache.get_or_compute, args=("k", None, compute)) for _ in range(3)]
    for t in others:
        t.start()
    release.set()
    for t in (first, *others):
        t.join(timeout=30)
    assert computed == [1] and cache.get("k", None).value == "figure"
