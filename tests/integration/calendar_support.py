"""Helpers for the working-day calendar tests: the arrangement files, campaigns whose deadlines sit
around 春节 and the new year, and the ladder times an instance is waiting for."""

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import AuditEvent, ProcessInstance
from app.services import calendar
from app.services.campaigns import launch
from app.services.tasks import workflow
from tests.support import make_campaign

SH = ZoneInfo("Asia/Shanghai")
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "calendar"
# Made-up test data, NOT the State Council's 2027 arrangement (see tests/fixtures/calendar/README.md):
# 元旦 1–3 January; 春节 5–13 February with Sunday 31 January and Saturday 20 February worked.
HOLIDAYS_2027 = FIXTURES / "holidays-2027-test.csv"
# The real 2026 arrangement, the same as chinesecalendar's.
HOLIDAYS_2026 = FIXTURES / "holidays-2026.csv"


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


def travel(moment: datetime):
    return time_machine.travel(moment.astimezone(UTC), tick=False)


def phases(deploy_ends: date, self_check_ends: date = date(2027, 3, 5)) -> list:
    return [
        ("deploy", "动员部署", date(2026, 11, 1), deploy_ends),
        ("self_check", "自查自纠", deploy_ends, self_check_ends),
        ("rectification", "整改落实", self_check_ends, date(2027, 4, 30)),
        ("assessment", "总结评估", date(2027, 5, 6), date(2027, 5, 31)),
        ("follow_up", "回头看", date(2027, 6, 1), date(2027, 6, 30)),
    ]


def launch_campaign(
    unit_ids: list[int],
    deploy_ends: date,
    self_check_ends: date = date(2027, 3, 5),
    doc_number: str = "测政发〔2026〕7号",
) -> int:
    cid = make_campaign(unit_ids, doc_number=doc_number, phases=phases(deploy_ends, self_check_ends))
    launch.launch_all(cid, None)
    return cid


def instance_of(unit_id: int) -> ProcessInstance:
    db.session.expire_all()
    return db.session.scalar(select(ProcessInstance).where(ProcessInstance.unit_id == unit_id))


def ladder(instance: ProcessInstance) -> dict[str, datetime]:
    """The waiting timers' fire times, local, by the timer's name in the diagram."""
    run = workflow.load(instance)
    times = {}
    for event in run.workflow.waiting_events():
        if event.event_type == "TimeDateEventDefinition" and event.value:
            times[event.name] = clock.to_local(datetime.fromisoformat(event.value))
    return times


def import_file(path: Path, actor_id: int | None = None, year: int | None = None) -> calendar.SaveResult:
    """Import an arrangement through the service and recompute everything at once."""
    checked = calendar.check_file(path.read_bytes(), path.name, year)
    assert checked.ok, checked.errors
    result = calendar.save_year(checked.year, checked.days, actor_id, filename=path.name)
    if result.job_id is not None:
        calendar.run(result.job_id)
    return result


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))
