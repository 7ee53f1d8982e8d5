"""Seed the demo campaign and drive units through the real use cases to different phases.

Everything goes through the services (forms validated, evidence stored, audit written), as
if people had done it, so every page has something true to show. Idempotent: a second
run finds the campaign and changes nothing.
"""

import io
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import yaml
from flask import Flask
from werkzeug.datastructures import FileStorage

from app import clock
from app.demo import appraisal
from app.extensions import db
from app.forms import registry as forms
from app.models.roles import Role
from app.services.accounts import units, users
from app.services.campaigns import campaigns, launch, notices
from app.services.disclosure import disclosure, tips
from app.services.sweep import timers
from app.services.tasks import tasks

DATA = Path(__file__).parent / "data"
PASSWORD = "Rectify2026!"
ROLE_USERS = [
    ("admin", Role.ADMIN, "专项整治办公室"),
    ("designer", Role.DESIGNER, "流程设计员"),
    ("supervisor", Role.SUPERVISOR, "县督查室督导组"),
    ("supervisor2", Role.SUPERVISOR, "县纪委督导组"),
    ("assessor", Role.ASSESSOR, "考评组"),
]
# How far each unit gets in the demo (unit code -> target), so every page has something.
TARGETS = {
    "T01": "deploy",
    "T02": "deploy",
    "D01": "deploy",
    "D02": "deploy",
    "T03": "self_check",
    "T04": "self_check",
    "D03": "self_check",
    "T05": "review",
    "T06": "review",
    "D04": "review",
    "T07": "returned",
    "D05": "returned",
    "T08": "rectifying",
    "T09": "rectifying",
    "D06": "rectifying",
    "T10": "rectifying",
    "T11": "verifying",
    "D07": "verifying",
    "T12": "assessment",
    "D08": "assessment",
    "T13": "remedial",
    "T14": "follow_up",
    "D09": "follow_up",
    "T15": "closed",
}


@dataclass
class SeedResult:
    created: bool
    campaign_id: int
    doc_number: str


def _load_units(actor_id: int | None) -> None:
    result = units.import_units((DATA / "units.csv").read_bytes(), "units.csv", actor_id)
    if result.errors:
        raise RuntimeError("；".join(f"第{e.row}行：{e.message}" for e in result.errors))


def _users() -> dict[str, int]:
    ids = {}
    for username, role, name in ROLE_USERS:
        ids[username] = users.ensure_user(username, PASSWORD, role, name).id
    for unit in units.list_units():
        user = users.ensure_user(f"staff_{unit.code.lower()}", PASSWORD, Role.UNIT_STAFF, f"{unit.name}联络员", unit.id)
        ids[user.username] = user.id
    return ids


def seed(app: Flask) -> SeedResult:
    notice = notices.notice_from_yaml((DATA / "notice-2014-54.yaml").read_text(encoding="utf-8"))
    existing = campaigns.find_campaign(notice.doc_number)
    if existing is not None:
        ids = _users()
        # A demo seeded before appraisal scoring existed gains it; one that has it stays unchanged.
        appraisal.seed_appraisal(existing.id, ids["admin"], ids["assessor"])
        return SeedResult(False, existing.id, existing.doc_number)
    _load_units(None)
    ids = _users()
    campaign = campaigns.create_campaign(campaign_notice(notice), ids["admin"])
    campaigns.enrol_units(campaign.id, "all", ids["admin"])
    # The demo plays a campaign under way for 60 days: its deploy deadline has passed on purpose.
    launch.launch_all(campaign.id, ids["admin"], allow_past_deadlines=True)
    _advance_units(app, campaign.id, ids)
    appraisal.seed_appraisal(campaign.id, ids["admin"], ids["assessor"])
    _open_to_residents(campaign.id, ids["admin"])
    return SeedResult(True, campaign.id, campaign.doc_number)


def campaign_notice(notice):
    """The sample notice as the demo plays it: under way for 60 days, a self-check phase after
    deployment, and the follow-up (回头看) date yesterday (its timer fires at 09:00) so that
    follow-up reviews are already open at any hour of the day."""
    today = clock.today()
    deploy_ends = next(p["ends"] for p in notice.phases if p["key"] == "deploy")
    notice = notices.with_extra_phases(notice, self_check_until=deploy_ends + timedelta(days=20))
    notice = notices.shift_notice(notice, today - timedelta(days=60))
    return notices.with_extra_phases(notice, follow_up_on=today - timedelta(days=1))


def _open_to_residents(campaign_id: int, admin_id: int) -> None:
    """Publish the campaign (开门整治) and leave one resident's tip waiting in the tip box."""
    campaign = disclosure.set_published(campaign_id, True, admin_id)
    unit_slug = tips.unit_choices(campaign_id)[0][0]
    tips.submit(
        campaign,
        tips.TipInput(
            unit_slug=unit_slug,
            project="镇区入口景观牌坊",
            description="镇区入口新建的景观牌坊占用了农田，周边道路却坑洼不平，群众意见很大。",
            place="镇区入口S217旁",
        ),
    )


# ---------------------------------------------------------------- driving units
def _file(name: str, text: str) -> FileStorage:
    """A small but real PDF carrying the text, so downloads open in a reader."""
    body = f"BT /F1 12 Tf 72 720 Td ({text.encode('unicode_escape').decode()}) Tj ET".encode()
    pdf = (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 4 0 R>>endobj\n"
        b"4 0 obj<</Length "
        + str(len(body)).encode()
        + b">>stream\n"
        + body
        + b"\nendstream endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )
    return FileStorage(stream=io.BytesIO(pdf), filename=name, content_type="application/pdf")


class _Driver:
    def __init__(self, app: Flask, instance, ids: dict[str, int]):
        self.app, self.instance, self.ids = app, instance, ids
        self.staff = ids[f"staff_{instance.unit.code.lower()}"]

    def ready(self, element_id: str):
        return [
            t
            for t in tasks.open_for_unit(self.instance.unit_id)
            + tasks.queue(Role.SUPERVISOR, unit_id=self.instance.unit_id).rows
            + tasks.queue(Role.ASSESSOR, unit_id=self.instance.unit_id).rows
            if t.element_id == element_id
        ]

    def do(self, element_id: str, user_id: int, fields: dict, files: dict | None = None, pick=0) -> None:
        task = self.ready(element_id)[pick]
        with self.app.test_request_context("/", method="POST"):
            user = users.get_active(user_id)
            assert user is not None  # the demo's users are active
            form = forms.form_from_values(task.form_key, fields, files, tasks.dynamic_choices(task))
            try:
                tasks.complete(user, task.id, form)
            except tasks.FormInvalid as exc:
                raise RuntimeError(f"演示数据无法提交 {element_id}：{exc.form.errors}") from None


def _deploy_fields(unit_name: str) -> dict:
    return {
        "meeting_date": (clock.today() - timedelta(days=50)).isoformat(),
        "attendance": "23",
        "attendees": f"{unit_name}班子成员、各股室负责人",
        "group_head": "主要负责人",
        "group_members": "分管负责人、办公室主任、财务股长",
    }


def _self_check_fields(offset_days: list[int]) -> dict:
    projects = yaml.safe_load((DATA / "self-check-projects.yaml").read_text(encoding="utf-8"))["projects"]
    items = yaml.safe_load((DATA / "ledger-items.yaml").read_text(encoding="utf-8"))["items"]
    source_codes = {"服务对象": "service_users", "居民群众": "residents", "自查自纠": "self_check"}
    fields = {"summary": "对照“四个对照”逐项排查本单位建设项目，列出问题清单。"}
    for i, p in enumerate(projects[:2]):
        fields.update(
            {
                f"projects-{i}-name": p["name"],
                f"projects-{i}-kind": p["kind"],
                f"projects-{i}-status": p["status"],
                f"projects-{i}-investment": str(p["investment_10k_yuan"]),
                f"projects-{i}-verdict": p["verdict"],
                f"projects-{i}-findings": p["findings"],
            }
        )
        for breach in p["breaches"]:
            fields[f"projects-{i}-{breach}"] = "y"
        if p["investment_10k_yuan"] >= 1000:
            fields[f"projects-{i}-expert_review"] = "y"
    for i, days in enumerate(offset_days):
        item = items[i % len(items)]
        fields.update(
            {
                f"ledger-{i}-title": item["title"],
                f"ledger-{i}-source": source_codes.get(item["source"].split("、")[0], "self_check"),
                f"ledger-{i}-measures": "；".join(item["measures"]),
                f"ledger-{i}-responsible_leader": item["responsible_leaders"][0],
                f"ledger-{i}-responsible_department": item["responsible_departments"][0],
                f"ledger-{i}-deadline": (clock.today() + timedelta(days=days)).isoformat(),
            }
        )
    return fields


def _advance_units(app: Flask, campaign_id: int, ids: dict[str, int]) -> None:
    from app.models import ProcessInstance

    sup, assessor = ids["supervisor"], ids["assessor"]
    # In unit order: the demo is the same on every database (PostgreSQL returns rows unordered).
    instances = (
        db.session.query(ProcessInstance).filter_by(campaign_id=campaign_id).order_by(ProcessInstance.unit_id).all()
    )
    order = [
        "deploy",
        "self_check",
        "review",
        "returned",
        "rectifying",
        "verifying",
        "assessment",
        "remedial",
        "follow_up",
        "closed",
    ]
    for instance in instances:
        target = TARGETS.get(instance.unit.code, "deploy")
        level = order.index(target)
        d = _Driver(app, instance, ids)
        if level < 1:
            continue
        d.do(
            "deploy",
            d.staff,
            _deploy_fields(instance.unit.name),
            {"plan": _file("实施方案.pdf", "本单位专项整治实施方案")},
        )
        if level < 2:
            continue
        # Deadlines spread so the lights differ: one item already overdue, one due soon, one later.
        d.do("self_check", d.staff, _self_check_fields([-16, 2, 45]))
        if level < 3:
            continue
        if target == "returned":
            d.do(
                "review_self_check",
                sup,
                {"decision": "return", "comments": "问题清单不够具体，请补充整改措施和责任人后重新报送。"},
            )
            continue
        d.do("review_self_check", sup, {"decision": "accept", "comments": "同意"})
        if level < 5:
            continue
        d.do(
            "rectify_item",
            d.staff,
            {"measures_taken": "已完成制度修订并公示", "completed_on": clock.today().isoformat()},
            {"evidence": _file("整改佐证.pdf", "整改佐证材料")},
        )
        if target == "verifying":
            continue
        d.do("verify_item", sup, {"decision": "close", "check_type": "spot_check", "comments": "随机抽查属实"})
        if level < 6:
            continue
        while d.ready("rectify_item"):
            d.do(
                "rectify_item",
                d.staff,
                {"measures_taken": "已整改到位", "completed_on": clock.today().isoformat()},
                {"evidence": _file("整改佐证.pdf", "整改佐证材料")},
            )
            d.do("verify_item", sup, {"decision": "close", "check_type": "document_review"})
        if level < 7:
            continue
        scores = {"scores-0-component": "整改成效", "scores-0-points": "86", "scores-0-max_points": "100"}
        if target == "remedial":
            d.do(
                "assessment",
                assessor,
                {
                    **scores,
                    "scores-0-points": "52",
                    "verdict": "fail",
                    "remarks": "走过场",
                    "remedial_items-0-title": "补课：整改措施公示不到位",
                    "remedial_items-0-source": "supervision",
                    "remedial_items-0-measures": "在县内主流媒体公示整改承诺",
                    "remedial_items-0-responsible_leader": "主要负责人",
                    "remedial_items-0-responsible_department": "办公室",
                    "remedial_items-0-deadline": (clock.today() + timedelta(days=10)).isoformat(),
                },
            )
            continue
        d.do("assessment", assessor, {**scores, "verdict": "pass", "remarks": "整改到位"})
        timers.tick()
        if target == "follow_up":
            continue
        d.do("follow_up_review", sup, {"rebound": "no", "findings": "回头看未发现反弹"})


def logins() -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = [(u, r, n) for u, r, n in ROLE_USERS]
    rows += [
        (f"staff_{code.lower()}", Role.UNIT_STAFF, f"{code} 单位联络员") for code in ("T01", "T03", "T07", "T08", "T13")
    ]
    return rows
