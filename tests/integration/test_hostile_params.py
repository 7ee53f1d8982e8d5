"""Every route, asked with hostile values in every parameter, answers 4xx, never 500.

The routes come from app.url_map, so a new route is walked without anyone listing it. Each one
is asked by the anonymous public and by each role: path arguments replaced by hostile values
(huge and negative numbers, 10,000 characters, NUL, a date that does not exist, an unknown
name), and, with real ids in the path, every query parameter a route reads set to the same
values. POST routes are posted with a valid CSRF token and the same values in a body."""

import re
from urllib.parse import quote

import pytest

from app.extensions import db
from app.models import ProcessInstance, Task
from app.services.campaigns import launch
from tests.support import make_campaign

HOSTILE = [
    "9" * 25,
    "-1",
    "0",
    "2147483648",
    "x" * 10_000,
    "\x00",
    "a\x01b",
    "9999-12-31",
    "2026-02-30",
    "unknown",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "1e308",
    "NaN",
]
# Every name a route reads from the query string or a posted body (see app/web/query_args.py).
QUERY_NAMES = [
    "page",
    "tpage",
    "campaign",
    "unit",
    "unit_q",
    "limit",
    "status",
    "source",
    "level",
    "kind",
    "q",
    "phase",
    "light",
    "day",
    "from",
    "to",
    "actor",
    "action",
    "entity",
    "year",
    "order",
    "acknowledged",
    "min_age",
    "all",
    "go",
    "next",
    "lead",
    "a",
    "b",
]
FORM_NAMES = [
    "reason",
    "new_due",
    "action",
    "task_id",
    "scope",
    "instance",
    "published",
    "public",
    "open",
    "template",
    "bottom_n",
    "kind",
    "lock_version",
    "next",
    "decision",
    "comments",
    "code",
    "year",
    "throttle_id",
    "current",
    "new",
    "confirm",
]
CALLERS = [None, ("admin", None), ("designer", None), ("supervisor", None), ("assessor", None), ("unit_staff", "unit")]
ARG = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


@pytest.fixture
def world(app, make_unit):
    unit = make_unit("H01", "恶意参数镇")
    with app.app_context():
        campaign = make_campaign([unit])
        launch.launch_all(campaign, None)
        instance = db.session.query(ProcessInstance).filter_by(unit_id=unit).one()
        task = db.session.query(Task).filter_by(instance_id=instance.id).first()
        ids = {"campaign_id": campaign, "unit_id": unit, "instance_id": instance.id, "task_id": task.id}
        db.session.remove()
    return {"unit": unit, "ids": ids}


def _clients(app, login_as, world):
    clients = []
    for caller in CALLERS:
        if caller is None:
            clients.append(("anonymous", app.test_client()))
        else:
            role, unit = caller
            actor = login_as(role, world["unit"] if unit else None, username=f"hostile_{role}")
            clients.append((role, actor.client))
    return clients


def _path(rule: str, value: str | None, ids: dict) -> str:
    def fill(match):
        name = match.group(2)
        if value is None:
            return str(ids.get(name, 1))
        return quote(value, safe="")

    return ARG.sub(fill, rule)


def _rules(app):
    # Logging out would leave the rest of the walk to the login page: it is asked last.
    rules = [r for r in app.url_map.iter_rules() if r.endpoint != "static"]
    return sorted(rules, key=lambda r: r.endpoint == "auth.logout")


def _ask(failures: list, who: str, method: str, url: str, call) -> None:
    try:
        status = call().status_code
    except Exception as exc:  # the app propagates errors under TESTING: each is a 500 to a user
        status = f"{type(exc).__name__}: {str(exc)[:120]}"
    if not isinstance(status, int) or status >= 500:
        failures.append((who, method, url[:160], status))


def test_every_route_answers_hostile_parameters_without_a_server_error(app, login_as, world, monkeypatch):
    failures = []
    clients = _clients(app, login_as, world)
    # The bodies must reach the routes: CSRF is proven elsewhere (test_route_permissions, test_auth).
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)
    for who, client in clients:
        for rule in _rules(app):
            methods = rule.methods - {"HEAD", "OPTIONS"}
            urls = [_path(rule.rule, value, world["ids"]) for value in HOSTILE] if rule.arguments else []
            real = _path(rule.rule, None, world["ids"])
            for value in HOSTILE:
                urls.append(real + "?" + "&".join(f"{n}={quote(value, safe='')}" for n in QUERY_NAMES))
            for url in urls:
                if "GET" in methods:
                    _ask(failures, who, "GET", url, lambda client=client, url=url: client.get(url))
            if "POST" in methods:
                # The body's values are what matter: posted to the real path and to a hostile one.
                for url in {real, urls[0]}:
                    for value in HOSTILE[:8]:
                        body = dict.fromkeys(FORM_NAMES, value)
                        _ask(
                            failures,
                            who,
                            "POST",
                            url,
                            lambda client=client, url=url, body=body: client.post(url, data=body),
                        )
    assert not failures, "\n".join(map(str, failures[:40]))
