"""Who may call each route: every endpoint of app.url_map against the table ROUTES below.

One world is built (a launched campaign whose units stand at different steps, letters and a public
notice from the escalation ladder, a tip with a photo, appraisals with an interview and a written
self-examination, drafts), then every caller asks every route once with URL arguments taken from
that world: the anonymous public, each role, and the staff of ANOTHER unit than the one the
world's records belong to.

- allowed: the page answers (2xx, or a redirect elsewhere than the login page); a POST with a body
  that changes nothing may also be refused by validation (400, 409, 422), never 401/403/404;
- refused: anonymous callers are sent to the login page (a logged-in caller never is, though a
  logout ends there); everyone else gets 403 or 404 (a redirect
  to a page that answers 403 or 404 counts: /my/instances/<id> hands over to the instance page).

A route missing from the table fails test_every_route_has_an_entry, by name: say who may call it.
The table is written out here on purpose, role by role, not read from app.models.roles: it is the
specification the permissions are checked against.
"""

import io
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import time_machine
from flask import url_for
from werkzeug.datastructures import FileStorage

from app.extensions import db
from app.models import (
    CampaignUnit,
    Escalation,
    Evidence,
    Notification,
    ProcessInstance,
    PublicNotice,
    SelfExamination,
    SupervisionLetter,
    Task,
)
from app.services.appraisal import appraisal_schemes, interviews, ranking
from app.services.appraisal.interviews import InterviewInput
from app.services.campaigns import launch
from app.services.design import drafts, processes
from app.services.disclosure import disclosure, tips
from app.services.sweep import timers
from app.web.auth.navigation import HOME_ENDPOINTS, NAV
from tests.conftest import csrf_from
from tests.support import BASE_DATE, DEPLOY, PNG, ledger_rows, make_campaign, ready_tasks, submit, upload

from .appraisal_support import appraised_campaign, submit_total

# ------------------------------------------------------------------------------------------ callers
ANON, ADMIN, DESIGNER, SUPERVISOR, ASSESSOR = "anonymous", "admin", "designer", "supervisor", "assessor"
STAFF = "staff"  # unit staff of unit A, which the world's records belong to
OTHER = "other_unit_staff"  # unit staff of unit B
CALLERS = (ANON, ADMIN, DESIGNER, SUPERVISOR, ASSESSOR, STAFF, OTHER)

EVERYONE = frozenset(CALLERS)
LOGGED_IN = EVERYONE - {ANON}
OVERSEERS = frozenset({ADMIN, SUPERVISOR, ASSESSOR})  # see every unit
OWN_UNIT = OVERSEERS | {STAFF}  # a record of unit A: overseers and A's staff, not B's
ANY_STAFF = frozenset({STAFF, OTHER})  # a staff member's own list: both see theirs
OFFICE = frozenset({ADMIN, SUPERVISOR})
ONLY_ADMIN = frozenset({ADMIN})
DESIGNERS = frozenset({DESIGNER, ADMIN})
CAMPAIGN_VIEWERS = OVERSEERS | {DESIGNER}
APPRAISAL_READERS = frozenset({ASSESSOR, ADMIN, SUPERVISOR})
ASSESSORS = frozenset({ASSESSOR, ADMIN})
DIAGRAM_VIEWERS = frozenset({SUPERVISOR, DESIGNER, ADMIN})


@dataclass(frozen=True)
class Route:
    who: frozenset  # the callers that may call it (on the world's objects, which belong to unit A)
    args: dict = field(default_factory=dict)  # URL argument -> world key, or fn(world, caller) -> value
    post: dict | None = None  # a POST-only route's form body: one that changes nothing that matters
    json: bool = False  # the body goes as JSON (the modeler's and the launch page's calls)


def r(who, *, post: dict | None = None, json: bool = False, **args) -> Route:
    return Route(frozenset(who), args, post, json)


def each_callers_own(key: str):
    """The URL argument of a route that deletes: each caller names an object of its own, so a
    deletion (allowed, or wrongly allowed) spoils no other caller's check."""
    return lambda world, caller: world[key][caller]


ROUTES: dict[str, Route] = {
    # public: no login
    "static": r(EVERYONE, filename="static_file"),
    "auth.login": r(EVERYONE),
    "public.index": r(EVERYONE),
    "public.notices": r(EVERYONE),
    "public.campaign": r(EVERYONE, slug="slug"),
    "public.unit": r(EVERYONE, slug="slug", unit_slug="unit_slug"),
    "public.file": r(EVERYONE, token="public_file"),
    "public.tip_new": r(EVERYONE, slug="slug"),
    "public.tip_status": r(EVERYONE),
    "health.healthz": r(EVERYONE),  # the service manager's probes (app/web/health.py)
    "health.readyz": r(EVERYONE),
    # any logged-in user
    "auth.index": r(LOGGED_IN),
    "auth.home": r(LOGGED_IN),
    "auth.logout": r(LOGGED_IN, post={}),  # asked last: it ends the caller's session
    "auth.change_password": r(LOGGED_IN),
    "notifications.index": r(LOGGED_IN),
    "notifications.read_all": r(LOGGED_IN, post={}),
    "notifications.read": r({STAFF}, notification_id="notification", post={}),  # staff A's own
    # unit staff
    "staff.tasks": r(ANY_STAFF),
    "staff.ledger": r(ANY_STAFF),
    "staff.task": r({STAFF}, task_id="staff_task"),
    "staff.instance": r({STAFF}, instance_id="instance"),
    # a unit's records: every overseer, and that unit's own staff
    "supervisor.instance": r(OWN_UNIT, instance_id="instance"),
    "evidence.download": r(OWN_UNIT, evidence_id="evidence"),
    "ledger.index": r(OVERSEERS | ANY_STAFF),
    "ledger.unit": r(OWN_UNIT, campaign_id="campaign", unit_id="unit"),
    "ledger.unit_export": r(OWN_UNIT, campaign_id="campaign", unit_id="unit", fmt="csv"),
    "audit.instance": r(OWN_UNIT, instance_id="instance"),
    "audit.instance_export": r(OWN_UNIT, instance_id="instance", fmt="csv"),
    "letters.index": r(OVERSEERS | ANY_STAFF),
    "letters.letter": r(OWN_UNIT, letter_id="letter"),
    "letters.docx": r(OWN_UNIT, letter_id="letter"),
    "letters.acknowledge": r({STAFF}, letter_id="letter", post={}),  # only the unit signs for its letter
    # overseers: the whole campaign
    "ledger.campaign": r(OVERSEERS, campaign_id="campaign"),
    "ledger.campaign_export": r(OVERSEERS, campaign_id="campaign", fmt="xlsx"),
    "audit.index": r(OVERSEERS),
    "audit.verify": r(OVERSEERS, post={}),  # verifies the chain, remembers the result
    "audit.campaign": r(OVERSEERS, campaign_id="campaign"),
    "audit.campaign_export": r(OVERSEERS, campaign_id="campaign", fmt="csv"),
    "units.search": r(OVERSEERS),  # the unit pickers' search (JSON): staff see their own unit only
    "supervisor.dashboard": r(OVERSEERS),
    "supervisor.dashboard_figure": r(OVERSEERS, campaign_id="campaign", name="figure"),
    "supervisor.dashboard_items": r(OVERSEERS, campaign_id="campaign"),
    "supervisor.dashboard_overdue": r(OVERSEERS, campaign_id="campaign"),
    "supervisor.dashboard_escalations": r(OVERSEERS, campaign_id="campaign"),
    # the supervision office (supervisors and the campaign office)
    "supervisor.queue": r(OFFICE),
    "supervisor.task": r(OFFICE, task_id="supervisor_task"),
    "supervisor.add_item": r(OFFICE, instance_id="instance", post={}),  # an empty finding: form errors
    "ledger.template": r(OFFICE),
    "ledger.campaign_import": r(OFFICE, campaign_id="campaign", post={}),  # no file
    "ledger.unit_import": r(OFFICE, campaign_id="campaign", unit_id="unit", post={}),
    "supervisor.escalations": r(OFFICE),
    "supervisor.escalations_bulk": r(OFFICE, post={"action": "remind"}),  # nothing ticked
    "supervisor.escalation_retry": r(OFFICE, escalation_id="escalation", post={}),  # not an incident
    "supervisor.escalation_withdraw": r(OFFICE, escalation_id="escalation", post={"reason": ""}),
    "letters.manual": r(OFFICE, task_id="supervisor_task", post={}),  # not a unit's overdue step
    "letters.notices": r(OFFICE),
    "letters.withdraw_notice": r(OFFICE, notice_id="notice", post={"reason": ""}),
    "supervisor.tips": r(OFFICE),
    "supervisor.tip": r(OFFICE, tip_id="tip"),
    "supervisor.tip_photo": r(OFFICE, tip_id="tip", photo_id="tip_photo"),
    "supervisor.tip_accept": r(OFFICE, tip_id="tip", post={}),
    "supervisor.tip_decline": r(OFFICE, tip_id="tip", post={"reason": ""}),
    "evidence.set_public": r(OFFICE, evidence_id="evidence", post={"public": "1"}),  # not an item's file
    # assessment and appraisal scoring
    "assessor.queue": r(ASSESSORS),
    "assessor.task": r(ASSESSORS, task_id="assessor_task"),
    "assessor.appraisals": r(APPRAISAL_READERS),
    "assessor.ranking": r(APPRAISAL_READERS, campaign_id="appraised"),
    "assessor.ranking_xlsx": r(APPRAISAL_READERS, campaign_id="appraised"),
    "assessor.score_sheet": r(APPRAISAL_READERS, campaign_id="appraised", unit_id="unit"),
    # campaigns: read by every office role and designers, run by the campaign office
    "admin.campaigns": r(CAMPAIGN_VIEWERS),
    "admin.campaign_detail": r(CAMPAIGN_VIEWERS, campaign_id="campaign"),
    "admin.campaign_matrix": r(CAMPAIGN_VIEWERS, campaign_id="campaign"),
    "admin.campaign_new": r(ONLY_ADMIN),
    "admin.campaign_edit": r(ONLY_ADMIN, campaign_id="campaign"),
    "admin.campaign_enrol": r(ONLY_ADMIN, campaign_id="campaign", post={}),  # nothing chosen
    "admin.campaign_launch": r(ONLY_ADMIN, campaign_id="campaign"),
    "admin.campaign_launch_batch": r(ONLY_ADMIN, campaign_id="appraised", post={}, json=True),  # past deadlines
    "admin.campaign_publish": r(ONLY_ADMIN, campaign_id="appraised", post={"published": "0"}),  # stays unpublished
    "admin.appraisal_attach": r(ONLY_ADMIN, campaign_id="appraised", post={"template": ""}),
    "admin.appraisal_settings": r(ONLY_ADMIN, campaign_id="appraised", post={"bottom_n": "1"}),  # confirmed
    "admin.appraisal_finalise": r(ONLY_ADMIN, campaign_id="appraised", post={}),  # confirmed already
    "admin.appraisal_reopen": r(ONLY_ADMIN, campaign_id="appraised", unit_id="flagged_unit", post={"reason": ""}),
    "admin.interview_new": r(ONLY_ADMIN, campaign_id="appraised", unit_id="flagged_unit"),
    "admin.interview_edit": r(ONLY_ADMIN, interview_id="interview"),
    "admin.interview_delete": r(ONLY_ADMIN, interview_id=each_callers_own("interviews_to_delete"), post={}),
    "admin.self_examination": r(ONLY_ADMIN, record_id="self_examination"),
    # master data: units, login throttles and the holiday arrangement
    "admin.units": r(ONLY_ADMIN),
    "admin.units_import": r(ONLY_ADMIN),
    "admin.units_template": r(ONLY_ADMIN),
    "admin.login_throttles": r(ONLY_ADMIN),
    "admin.login_throttle_lift": r(ONLY_ADMIN, post={}),  # no throttle named: nothing lifted
    "admin.calendar": r(ONLY_ADMIN),
    "admin.calendar_year": r(ONLY_ADMIN, year="year"),
    "admin.calendar_edit": r(ONLY_ADMIN, year="year"),
    "admin.calendar_import": r(ONLY_ADMIN),
    "admin.calendar_template": r(ONLY_ADMIN, fmt="xlsx"),
    "admin.calendar_revert": r(ONLY_ADMIN, year="year_not_in_package", post={}),  # nothing to revert to
    # process design
    "designer.index": r(DESIGNERS),
    "designer.version": r(DESIGNERS, definition_id="definition"),
    "designer.version_xml": r(DESIGNERS, definition_id="definition"),
    "designer.draft": r(DESIGNERS, draft_id="draft"),
    "designer.draft_xml": r(DESIGNERS, draft_id="draft"),
    "designer.diff": r(DESIGNERS),
    "designer.upload": r(DESIGNERS, post={}),  # no file
    "designer.create_draft": r(DESIGNERS, post={}, json=True),  # no diagram
    "designer.save_draft": r(DESIGNERS, draft_id="draft", post={}, json=True),  # no diagram
    "designer.lint": r(DESIGNERS, post={}, json=True),  # no diagram
    "designer.deploy_draft": r(DESIGNERS, draft_id="draft", post={}, json=True),  # the shipped diagram: no new version
    "designer.delete_draft": r(DESIGNERS, draft_id=each_callers_own("drafts_to_delete"), post={}),
    "designer.migrate": r(DESIGNERS, campaign_id="campaign"),
    "designer.migrate_run": r(DESIGNERS, campaign_id="campaign", post={}),  # no target version
    "designer.instance": r(DIAGRAM_VIEWERS, instance_id="instance"),
}


def _built_stylesheet() -> str:
    """The stylesheet's content-hashed name under static/, from the build's manifest."""
    manifest = Path(__file__).resolve().parents[2] / "app" / "static" / "build" / "manifest.json"
    return json.loads(manifest.read_text())["app.css"]


LITERALS = {
    "static_file": _built_stylesheet(),
    "csv": "csv",
    "xlsx": "xlsx",
    "figure": "units_by_phase",
    "year": 2027,
    "year_not_in_package": 2099,
}
PASSWORD = "Passw0rd!"
# The escalation ladder of the deploy step (due 2026-12-10 17:30), one rung a sweep: the reminder,
# the letter 3 working days later, the public notice 10 working days after the deadline.
SWEEPS = (
    datetime(2026, 12, 10, 9, 31, tzinfo=UTC),
    datetime(2026, 12, 15, 9, 31, tzinfo=UTC),
    datetime(2026, 12, 28, 2, 0, tzinfo=UTC),
)
LATER = datetime(2026, 12, 29, 2, 0, tzinfo=UTC)
CSRF_MESSAGE = "安全令牌"


def _rules(app) -> dict:
    return {rule.endpoint: rule for rule in app.url_map.iter_rules()}


def _post_only(rule) -> bool:
    return "GET" not in rule.methods


# ------------------------------------------------------------------------------------- the table
def test_every_route_has_an_entry(app):
    rules = _rules(app)
    missing = sorted(set(rules) - set(ROUTES))
    assert not missing, (
        "routes without an entry in ROUTES of tests/integration/test_route_permissions.py "
        f"(say who may call them, with URL arguments from the world): {', '.join(missing)}"
    )
    stale = sorted(set(ROUTES) - set(rules))
    assert not stale, f"ROUTES names routes the app does not have: {', '.join(stale)}"
    bodiless = sorted(e for e, rule in rules.items() if _post_only(rule) and ROUTES[e].post is None)
    assert not bodiless, f"POST-only routes need a POST body that changes nothing in ROUTES: {', '.join(bodiless)}"
    unknown = {e: set(route.who) - EVERYONE for e, route in ROUTES.items() if set(route.who) - EVERYONE}
    assert not unknown, unknown


def test_menus_and_landing_pages_link_only_pages_the_role_may_open():
    caller_of = {
        "unit_staff": STAFF,
        "admin": ADMIN,
        "designer": DESIGNER,
        "supervisor": SUPERVISOR,
        "assessor": ASSESSOR,
    }
    wrong = [
        (role, endpoint)
        for role, entries in NAV.items()
        for endpoint, _ in entries
        if endpoint in ROUTES and caller_of[role] not in ROUTES[endpoint].who
    ]
    wrong += [
        (role, endpoint) for role, endpoint in HOME_ENDPOINTS.items() if caller_of[role] not in ROUTES[endpoint].who
    ]
    assert not wrong, f"menu entries or landing pages a role may not open: {wrong}"


# ------------------------------------------------------------------------------------- the world
def _ready(instance_id: int, element_id: str) -> int:
    found = ready_tasks(instance_id, element_id)
    assert len(found) == 1, (element_id, found)
    return found[0].id


def _build_world(app, make_unit, make_user) -> dict:
    units = {
        code: make_unit(code, name)
        for code, name in (("A01", "塘渡口镇"), ("B01", "白仓镇"), ("C01", "五峰铺镇"), ("D01", "县住建局"))
    }
    a, b, c, d = units.values()
    ids = {role: make_user(role, username=f"rp_{role}") for role in ("admin", "designer", "supervisor", "assessor")}
    staff = {code: make_user("unit_staff", unit_id, username=f"rp_staff_{code}") for code, unit_id in units.items()}
    sup, assessor, admin = ids["supervisor"], ids["assessor"], ids["admin"]
    w = dict(LITERALS)
    w.update(
        unit=a,
        usernames={
            ADMIN: "rp_admin",
            DESIGNER: "rp_designer",
            SUPERVISOR: "rp_supervisor",
            ASSESSOR: "rp_assessor",
            STAFF: "rp_staff_A01",
            OTHER: "rp_staff_B01",
        },
    )
    with app.app_context():
        campaign = make_campaign([a, b, c, d])
        launch.launch_all(campaign, None)
        instance = {u: db.session.query(ProcessInstance.id).filter_by(unit_id=u).scalar() for u in (a, b, c, d)}
        # C waits for the supervisor's review of its self-check.
        submit(app, staff["C01"], _ready(instance[c], "deploy"), DEPLOY, {"plan": upload()})
        submit(app, staff["C01"], _ready(instance[c], "self_check"), {"summary": "自查完毕", **ledger_rows("广场超标")})
        # D has closed its one item and waits for the assessment; its evidence goes on the public site.
        submit(app, staff["D01"], _ready(instance[d], "deploy"), DEPLOY, {"plan": upload()})
        submit(app, staff["D01"], _ready(instance[d], "self_check"), {"summary": "自查完毕", **ledger_rows("道路过宽")})
        submit(app, sup, _ready(instance[d], "review_self_check"), {"decision": "accept"})
        submit(
            app,
            staff["D01"],
            _ready(instance[d], "rectify_item"),
            {"measures_taken": "已拆除", "completed_on": BASE_DATE.isoformat()},
            {"evidence": upload("整改前后对比.pdf")},
        )
        submit(app, sup, _ready(instance[d], "verify_item"), {"decision": "close", "check_type": "document_review"})
        # A and B leave their deploy step undone: reminders, letters and public notices.
        for moment in SWEEPS:
            with time_machine.travel(moment, tick=False):
                timers.tick()
    with time_machine.travel(LATER, tick=True), app.app_context():
        # Then A deploys, with its plan (A's evidence), and has its self-check to do.
        submit(app, staff["A01"], _ready(instance[a], "deploy"), DEPLOY, {"plan": upload("塘渡口镇方案.pdf")})
        w.update(
            campaign=campaign,
            instance=instance[a],
            staff_task=_ready(instance[a], "self_check"),
            supervisor_task=_ready(instance[c], "review_self_check"),
            assessor_task=_ready(instance[d], "assessment"),
            evidence=db.session.query(Evidence.id).filter_by(unit_id=a).scalar(),
            letter=db.session.query(SupervisionLetter.id).filter_by(unit_id=a).scalar(),
            notice=db.session.query(PublicNotice.id).filter_by(unit_id=a).scalar(),
            escalation=db.session.query(Escalation.id).filter_by(unit_id=a, level="reminder", status="done").scalar(),
            notification=db.session.query(Notification.id).filter_by(user_id=staff["A01"]).first()[0],
        )
        # The residents' side: the campaign published, D's evidence public, a tip with a photo about A.
        found = disclosure.set_published(campaign, True, admin)
        w["slug"] = found.public_slug
        w["unit_slug"] = db.session.query(CampaignUnit.public_slug).filter_by(campaign_id=campaign, unit_id=a).scalar()
        item_file = (
            db.session.query(Evidence.id)
            .join(Task, Task.id == Evidence.task_id)
            .filter(Evidence.unit_id == d, Task.ledger_item_id.is_not(None))
            .scalar()
        )
        w["public_file"] = disclosure.set_file_public(item_file, True, sup).public_token
        photo = FileStorage(stream=io.BytesIO(PNG), filename="现场.png", content_type="image/png")
        tip, _ = tips.submit(
            found,
            tips.TipInput(unit_slug=w["unit_slug"], description="广场占用耕地", place="镇政府东侧", photos=[photo]),
        )
        w.update(tip=tip.id, tip_photo=tip.photos[0].id)
        # Appraisals: B is at the bottom of two confirmed rankings of one kind, so B owes a written
        # self-examination and has interviews; A's score sheet is read.
        for doc, starts in (("甲〔2024〕1号", date(2024, 3, 1)), ("甲〔2025〕1号", date(2025, 3, 1))):
            appraised = appraised_campaign([a, b], doc=doc, kind="形象工程整治", starts=starts)
            appraisal_schemes.update_settings(appraised, 1, None, admin)
            submit_total(appraised, a, 99, assessor)
            submit_total(appraised, b, 90, assessor)
            ranking.finalise(appraised, admin)
        held = InterviewInput(
            held_on=LATER.date() - timedelta(days=7),
            leader_interviewed="王镇长",
            interviewer="李四",
            minutes="谈话内容",
        )
        w.update(
            appraised=appraised,
            flagged_unit=b,
            self_examination=db.session.query(SelfExamination.id).filter_by(campaign_id=appraised).scalar(),
            interview=interviews.create(appraised, b, held, admin).id,
            interviews_to_delete={caller: interviews.create(appraised, b, held, admin).id for caller in CALLERS},
        )
        # Process design: the shipped diagram, a draft of it, and drafts to delete.
        definition = processes.latest("rectification")
        xml = definition.bpmn_xml.encode("utf-8")
        w.update(
            definition=definition.id,
            draft=drafts.create(xml, "权限检查", definition.id, ids["designer"]).id,
            drafts_to_delete={
                caller: drafts.create(xml, f"待删除-{caller}", definition.id, ids["designer"]).id for caller in CALLERS
            },
        )
    missing = sorted(k for k, v in w.items() if v is None)
    assert not missing, f"the world lacks {missing}"
    return w


# ------------------------------------------------------------------------------------ the requests
def _client(app, caller: str, world: dict):
    client = app.test_client()
    page = client.get("/login")
    if caller != ANON:
        resp = client.post(
            "/login",
            data={
                "username": world["usernames"][caller],
                "password": PASSWORD,
                "csrf_token": csrf_from(page.get_data(as_text=True)),
            },
        )
        assert resp.status_code == 302, (caller, resp.status_code)
        page = client.get("/notifications")
    return client, csrf_from(page.get_data(as_text=True))


def _url(app, endpoint: str, route: Route, world: dict, caller: str) -> str:
    args = {name: (source(world, caller) if callable(source) else world[source]) for name, source in route.args.items()}
    with app.test_request_context():
        return url_for(endpoint, **args)


def _to_login(resp) -> bool:
    return _redirect(resp) and urlsplit(resp.headers.get("Location", "")).path == "/login"


def _sent_to_log_in(resp) -> bool:
    """Refused for want of a login: to the login page, with the way back (a logout lands there too)."""
    return _to_login(resp) and "next=" in resp.headers.get("Location", "")


def _redirect(resp) -> bool:
    return 300 <= resp.status_code < 400


def _call(client, token: str, method: str, url: str, route: Route):
    if method == "GET":
        return client.get(url)
    headers = {"X-CSRFToken": token}
    if route.json:
        return client.post(url, json=route.post, headers=headers)
    return client.post(url, data={**route.post, "csrf_token": token}, headers=headers)


def _verdict(client, resp, method: str, allowed: bool, caller: str) -> str | None:
    """None when the answer is what the table says, else what went wrong."""
    status = resp.status_code
    if allowed:
        if status in (401, 403, 404) or _sent_to_log_in(resp) or status >= 500:
            return f"allowed, got {status} {resp.headers.get('Location', '')}"
        if status >= 400 and (method == "GET" or status not in (400, 409, 422)):
            return f"allowed, got {status}"
        if status == 400 and CSRF_MESSAGE.encode() in resp.data:
            return "allowed, but the CSRF token was refused"
        return None
    if caller == ANON:
        return None if _to_login(resp) else f"refused: expected a redirect to the login page, got {status}"
    if status in (403, 404):
        return None
    if _redirect(resp) and not _to_login(resp):
        # Handed over to another page: that page must refuse.
        followed = client.get(resp.headers["Location"])
        followed.close()
        if followed.status_code in (403, 404):
            return None
        return f"refused, but redirected to {resp.headers['Location']} which answered {followed.status_code}"
    return f"refused: expected 403 or 404, got {status} {resp.headers.get('Location', '')}"


def test_every_route_answers_each_caller_as_the_table_says(app, make_unit, make_user):
    world = _build_world(app, make_unit, make_user)
    rules = _rules(app)
    failures = []
    with time_machine.travel(LATER + timedelta(minutes=5), tick=True):
        clients = {caller: _client(app, caller, world) for caller in CALLERS}
        # Logging out ends the session the other requests need: it goes last.
        for endpoint in sorted(ROUTES, key=lambda e: (e == "auth.logout", e)):
            route = ROUTES[endpoint]
            method = "POST" if _post_only(rules[endpoint]) else "GET"
            for caller in CALLERS:
                client, token = clients[caller]
                url = _url(app, endpoint, route, world, caller)
                resp = _call(client, token, method, url, route)
                problem = _verdict(client, resp, method, caller in route.who, caller)
                resp.close()
                if problem:
                    failures.append(f"{endpoint} ({method} {url}) as {caller}: {problem}")
    assert not failures, f"{len(failures)} answers differ from the table:\n" + "\n".join(failures)
