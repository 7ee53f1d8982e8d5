"""Interview records (约谈) for flagged units and the written self-examinations (书面检查), kept by the office."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from app import clock
from app.extensions import db
from app.i18n import _l
from app.models import Interview, ScoreSheet, SelfExamination
from app.models.interview import FOLLOW_UP_STATUSES, SELF_EXAMINATION_STATUSES
from app.services.appraisal.appraisal_schemes import scheme_for
from app.services.shared import audit
from app.services.shared.input_errors import InputError

TEXT_MAX = 128


class InterviewError(InputError):
    """Input the office must correct; `errors` maps a field to its message."""

    code = "interview_invalid"


@dataclass
class InterviewInput:
    held_on: date | None
    leader_interviewed: str
    interviewer: str
    minutes: str
    follow_up_actions: str = ""
    follow_up_status: str = "pending"


def _check(values: InterviewInput) -> None:
    errors = {}
    if values.held_on is None:
        errors["held_on"] = _l("请填写约谈日期")
    elif values.held_on > clock.today():
        errors["held_on"] = _l("约谈日期不能晚于今天")
    for name, label in (("leader_interviewed", _l("被约谈领导")), ("interviewer", _l("约谈人"))):
        text = (getattr(values, name) or "").strip()
        if not text:
            errors[name] = _l("请填写%(label)s", label=label)
        elif len(text) > TEXT_MAX:
            errors[name] = _l("%(label)s不能超过%(max)s字", label=label, max=TEXT_MAX)
    if not (values.minutes or "").strip():
        errors["minutes"] = _l("请填写约谈记录")
    if values.follow_up_status not in FOLLOW_UP_STATUSES:
        errors["follow_up_status"] = _l("请选择整改落实情况")
    if errors:
        raise InterviewError(_l("请按提示修改标出的内容"), errors)


def flagged_sheet(campaign_id: int, unit_id: int) -> ScoreSheet | None:
    """The unit's sheet if the confirmed ranking flagged it for an interview."""
    scheme = scheme_for(campaign_id)
    if scheme is None or scheme.finalised_at is None:
        return None
    return db.session.scalar(
        select(ScoreSheet).where(
            ScoreSheet.scheme_id == scheme.id, ScoreSheet.unit_id == unit_id, ScoreSheet.flagged.is_(True)
        )
    )


def snapshot(interview: Interview) -> dict[str, Any]:
    return {
        k: getattr(interview, k)
        for k in ("held_on", "leader_interviewed", "interviewer", "minutes", "follow_up_actions", "follow_up_status")
    }


def _fill(interview: Interview, values: InterviewInput) -> None:
    assert values.held_on is not None  # _check refused a missing date
    interview.held_on = values.held_on
    interview.leader_interviewed = values.leader_interviewed.strip()
    interview.interviewer = values.interviewer.strip()
    interview.minutes = values.minutes.strip()
    interview.follow_up_actions = (values.follow_up_actions or "").strip()
    interview.follow_up_status = values.follow_up_status
    interview.updated_at = clock.now()


def create(campaign_id: int, unit_id: int, values: InterviewInput, actor_id: int) -> Interview:
    if flagged_sheet(campaign_id, unit_id) is None:
        raise InterviewError(_l("只能为已确认排名中列入约谈的单位登记约谈"))
    _check(values)
    interview = Interview(campaign_id=campaign_id, unit_id=unit_id, created_by_id=actor_id, created_at=clock.now())
    _fill(interview, values)
    db.session.add(interview)
    db.session.flush()
    audit.record(actor_id, "interview.create", "interview", interview.id, after=snapshot(interview), unit_id=unit_id)
    db.session.commit()
    return interview


def get(interview_id: int) -> Interview | None:
    return db.session.get(Interview, interview_id)


def update(interview_id: int, values: InterviewInput, actor_id: int) -> Interview:
    interview = get(interview_id)
    if interview is None:
        raise InterviewError(_l("约谈记录不存在"))
    _check(values)
    before = snapshot(interview)
    _fill(interview, values)
    audit.record(
        actor_id,
        "interview.update",
        "interview",
        interview.id,
        before=before,
        after=snapshot(interview),
        unit_id=interview.unit_id,
    )
    db.session.commit()
    return interview


def delete(interview_id: int, actor_id: int) -> int:
    """Remove a record entered by mistake (the audit trail keeps what it said); returns its campaign."""
    interview = get(interview_id)
    if interview is None:
        raise InterviewError(_l("约谈记录不存在"))
    campaign_id = interview.campaign_id
    audit.record(
        actor_id, "interview.delete", "interview", interview.id, before=snapshot(interview), unit_id=interview.unit_id
    )
    db.session.delete(interview)
    db.session.commit()
    return campaign_id


def for_campaign(campaign_id: int) -> dict[int, list[Interview]]:
    """Interviews per unit, oldest first."""
    grouped: dict[int, list[Interview]] = {}
    for row in db.session.scalars(
        select(Interview).where(Interview.campaign_id == campaign_id).order_by(Interview.held_on, Interview.id)
    ):
        grouped.setdefault(row.unit_id, []).append(row)
    return grouped


def self_examinations(campaign_id: int) -> dict[int, SelfExamination]:
    return {
        s.unit_id: s
        for s in db.session.scalars(select(SelfExamination).where(SelfExamination.campaign_id == campaign_id))
    }


def get_self_examination(record_id: int) -> SelfExamination | None:
    return db.session.get(SelfExamination, record_id)


def record_self_examination(
    record_id: int, status: str, received_on: date | None, note: str, actor_id: int
) -> SelfExamination:
    """Note whether the written self-examination has come in."""
    record = get_self_examination(record_id)
    if record is None:
        raise InterviewError(_l("书面检查记录不存在"))
    errors = {}
    if status not in SELF_EXAMINATION_STATUSES:
        errors["status"] = _l("请选择状态")
    if status == "received" and received_on is None:
        errors["received_on"] = _l("请填写收到日期")
    if received_on is not None and received_on > clock.today():
        errors["received_on"] = _l("收到日期不能晚于今天")
    if errors:
        raise InterviewError(_l("请按提示修改标出的内容"), errors)
    before = {"status": record.status, "received_on": record.received_on, "note": record.note}
    record.status = status
    record.received_on = received_on if status == "received" else None
    record.note = (note or "").strip()
    record.updated_at = clock.now()
    audit.record(
        actor_id,
        "self_examination.update",
        "self_examination",
        record.id,
        before=before,
        after={"status": record.status, "received_on": record.received_on, "note": record.note},
        unit_id=record.unit_id,
    )
    db.session.commit()
    return record
