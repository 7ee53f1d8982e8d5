"""Notices (通知 / 实施方案): the input a campaign is created from, read from a form or a file."""

import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import yaml

from app.errors import DomainError
from app.i18n import LazyText, _l
from app.models.campaign import PHASE_NAMES

# The notice's own words for phases, mapped to our phase keys.
PHASE_ALIASES = {
    "rectify": "rectification",
    "assess": "assessment",
    "followup": "follow_up",
    "follow-up": "follow_up",
    "selfcheck": "self_check",
    "self-check": "self_check",
}
REQUIRED_PHASES = ("deploy", "self_check", "rectification")
UNIT_KINDS_SELECTABLE = ("township", "department", "district", "other")
_SPLIT_UNITS = re.compile(r"[,，、;；\s]+")


class CampaignError(DomainError):
    """A notice or enrolment the office must correct; `field` names the input at fault."""

    code = "campaign_invalid"

    def __init__(self, message: str | LazyText, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass
class NoticeInput:
    """A notice as typed or read from a file, before validation."""

    doc_number: str
    issuer: str
    issued_on: date | None
    title: str
    body: str = ""
    # Each phase: {key, name, starts, ends}; each task: {no, title, lead_unit, responsible_units, starts, ends}.
    phases: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    follow_up_on: date | None = None
    # The overdue ladder: {"reminder"|"letter"|"notice": {"days": n, "unit": "working"|"calendar"}}; None: defaults.
    ladder: dict[str, Any] | None = None
    # 整治类别, e.g. 形象工程整治: the appraisal compares a campaign with the previous one of its kind.
    kind: str = ""


# ---- reading notices -------------------------------------------------------


def _as_date(value: object, where: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise CampaignError(
            _l("%(where)s：日期格式应为 YYYY-MM-DD（%(value)s）", where=where, value=value), where
        ) from None


def split_units(value: object) -> list[str]:
    """Responsible units typed as "A、B, C" or given as a list."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part for part in _SPLIT_UNITS.split(str(value)) if part]


def notice_from_yaml(text: str) -> NoticeInput:
    """Read a notice in the format of app/demo/data/notice-2014-54.yaml."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CampaignError(_l("通知文件不是有效的 YAML：%(error)s", error=str(exc))) from None
    if not isinstance(data, dict):
        raise CampaignError(_l("通知文件格式不正确"))
    phases = []
    for item in data.get("phases") or []:
        key = str(item.get("key", "")).strip()
        phases.append(
            {
                "key": PHASE_ALIASES.get(key, key),
                "name": item.get("name") or "",
                "starts": _as_date(item.get("starts"), "phases"),
                "ends": _as_date(item.get("ends"), "phases"),
            }
        )
    tasks = []
    for item in data.get("tasks") or []:
        starts, ends = item.get("starts"), item.get("ends")
        if item.get("window"):
            starts, _, ends = str(item["window"]).partition("..")
        # YAML 1.1 reads the bare key `no:` as the boolean False.
        no = item.get("no", item.get(False))
        tasks.append(
            {
                "no": int(no) if isinstance(no, str) and no.strip().isdigit() else no,
                "title": item.get("title") or "",
                "lead_unit": item.get("lead_unit") or "",
                "responsible_units": split_units(item.get("responsible_units")),
                "starts": _as_date(starts, "tasks"),
                "ends": _as_date(ends, "tasks"),
            }
        )
    return NoticeInput(
        doc_number=str(data.get("doc_number") or "").strip(),
        issuer=str(data.get("issuer") or "").strip(),
        issued_on=_as_date(data.get("issued_on"), "issued_on"),
        title=str(data.get("title") or "").strip(),
        body=str(data.get("body") or ""),
        phases=phases,
        tasks=tasks,
        follow_up_on=_as_date(data.get("follow_up_on"), "follow_up_on"),
        kind=str(data.get("kind") or "").strip(),
    )


def with_extra_phases(
    notice: NoticeInput, self_check_until: date | None = None, follow_up_on: date | None = None
) -> NoticeInput:
    """Add the self-check phase (and the follow-up date) a notice leaves unstated."""
    phases = list(notice.phases)
    if self_check_until and not any(p["key"] == "self_check" for p in phases):
        deploy = next((p for p in phases if p["key"] == "deploy"), None)
        # Self-check follows deployment; a date before that is the caller's to fix, validation says so.
        starts = deploy["ends"] + timedelta(days=1) if deploy and deploy.get("ends") else self_check_until
        phases.append(
            {
                "key": "self_check",
                "name": PHASE_NAMES["self_check"] + "阶段",
                "starts": min(starts, self_check_until),
                "ends": self_check_until,
            }
        )
    return replace(notice, phases=phases, follow_up_on=follow_up_on or notice.follow_up_on)


def shift_notice(notice: NoticeInput, first_day: date) -> NoticeInput:
    """Move every date so the earliest phase starts on `first_day` (demo data from 2014 made current)."""
    starts = [p["starts"] for p in notice.phases if p.get("starts")]
    if not starts:
        return notice
    delta = first_day - min(starts)

    def move(d: Any) -> Any:  # a date, or whatever else a phase row holds (left alone)
        return d + delta if isinstance(d, date) else d

    return replace(
        notice,
        # A notice is never issued in the future.
        issued_on=min(move(notice.issued_on), first_day) if notice.issued_on else None,
        phases=[{**p, "starts": move(p.get("starts")), "ends": move(p.get("ends"))} for p in notice.phases],
        tasks=[{**t, "starts": move(t.get("starts")), "ends": move(t.get("ends"))} for t in notice.tasks],
        follow_up_on=move(notice.follow_up_on),
    )
