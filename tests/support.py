"""Helpers for driving campaigns through the service layer in tests."""

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

from werkzeug.datastructures import FileStorage

from app import clock
from app.extensions import db
from app.forms import registry as forms
from app.models import Campaign, CampaignPhase, CampaignUnit, Task, User

# Every test starts at this instant (tests/conftest.py freezes the clock there, ticking), whatever
# the machine's date: a Monday inside PHASES' deploy phase. Dates a test needs come from it or
# from the clock the test moves itself, never from the real date.
BASE = datetime(2026, 11, 16, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
BASE_DATE = BASE.date()

PHASES = [
    ("deploy", "动员部署", date(2026, 11, 1), date(2026, 12, 10)),
    ("self_check", "自查自纠", date(2026, 12, 11), date(2026, 12, 31)),
    ("rectification", "整改落实", date(2027, 1, 1), date(2027, 3, 31)),
    ("assessment", "总结评估", date(2027, 4, 1), date(2027, 4, 30)),
    ("follow_up", "回头看", date(2027, 6, 1), date(2027, 6, 30)),
]


def make_campaign(
    unit_ids: list[int], doc_number: str = "测政发〔2026〕1号", phases=None, ladder: dict | None = None
) -> int:
    campaign = Campaign(
        doc_number=doc_number,
        issuer="测试县人民政府办公室",
        issued_on=date(2026, 11, 1),
        title="测试专项整治",
        body="",
        created_at=clock.now(),
        ladder=ladder or {},
    )
    for pos, (key, name, starts, ends) in enumerate(phases or PHASES):
        campaign.phases.append(CampaignPhase(key=key, name=name, position=pos, starts=starts, ends=ends))
    db.session.add(campaign)
    db.session.flush()
    for unit_id in unit_ids:
        db.session.add(CampaignUnit(campaign_id=campaign.id, unit_id=unit_id))
    db.session.commit()
    return campaign.id


def ready_tasks(instance_id: int, element_id: str | None = None) -> list[Task]:
    query = db.session.query(Task).filter_by(instance_id=instance_id, status="ready")
    if element_id:
        query = query.filter_by(element_id=element_id)
    return query.order_by(Task.id).all()


def image_bytes(fmt: str = "JPEG", size: tuple[int, int] = (8, 8), color=(200, 30, 30), **save) -> bytes:
    """A small real image, made here (uploads are checked by content: a few magic bytes will not do)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt, **save)
    return out.getvalue()


JPEG = image_bytes("JPEG")
PNG = image_bytes("PNG")


def upload(name: str = "方案.pdf", content: bytes = b"%PDF-1.4 test evidence") -> FileStorage:
    return FileStorage(stream=io.BytesIO(content), filename=name, content_type="application/pdf")


def form_for(app, key: str, fields: dict, files: dict | None = None, dynamic=None):
    """Build a bound form as the task page would from a POST (call inside a request context)."""
    return forms.form_from_values(key, fields, files, dynamic)


def submit(app, user_id: int, task_id: int, fields: dict, files: dict | None = None, lock: int | None = None):
    """Complete a task through the service layer, exactly as the route does."""
    from app.services.tasks import tasks

    with app.test_request_context("/", method="POST"):
        user = db.session.get(User, user_id)
        task = db.session.get(Task, task_id)
        form = form_for(app, task.form_key, fields, files, tasks.dynamic_choices(task))
        return tasks.complete(user, task_id, form, lock)


DEPLOY = {
    "meeting_date": "2026-11-20",
    "attendance": "25",
    "attendees": "全体班子成员",
    "group_head": "张三",
    "group_members": "李四、王五",
}


def ledger_rows(*titles: str, deadline: str = "2027-03-31") -> dict:
    fields = {}
    for i, title in enumerate(titles):
        fields.update(
            {
                f"ledger-{i}-title": title,
                f"ledger-{i}-source": "residents",
                f"ledger-{i}-measures": "制定整改方案并落实",
                f"ledger-{i}-responsible_leader": "张三",
                f"ledger-{i}-responsible_department": "办公室",
                f"ledger-{i}-deadline": deadline,
            }
        )
    return fields


def rows(prefix: str, *titles: str, deadline: str = "2027-05-31") -> dict:
    fields = {}
    for i, title in enumerate(titles):
        fields.update(
            {
                f"{prefix}-{i}-title": title,
                f"{prefix}-{i}-source": "supervision",
                f"{prefix}-{i}-measures": "补充整改",
                f"{prefix}-{i}-responsible_leader": "张三",
                f"{prefix}-{i}-responsible_department": "办公室",
                f"{prefix}-{i}-deadline": deadline,
            }
        )
    return fields


def statements_during(fn) -> int:
    """How many SQL statements `fn()` sends to the database."""
    from sqlalchemy import event

    statements = []

    def before(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
    return len(statements)


def asset(app, name: str) -> str:
    """The URL a page links for the built asset `name` (its content-hashed file, app/web/assets.py)."""
    from app.web.assets import asset_url

    with app.test_request_context():
        return asset_url(name)
