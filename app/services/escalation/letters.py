"""督办函: numbered per issuer and year with no gap and no duplicate, even when issued at once."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload

from app import clock, workdays
from app.errors import Forbidden, NotFound, Refused
from app.extensions import db
from app.i18n import _l
from app.models import Campaign, Escalation, LedgerItem, LetterCounter, SupervisionLetter, Unit, User
from app.services.messaging import notifications
from app.services.shared import audit, paging
from app.services.shared.paging import Page


def new_deadline(now: datetime | None = None, days: int | None = None) -> datetime:
    """The new deadline a letter sets: N working days from today (default 5)."""
    days = days if days is not None else current_app.config.get("LETTER_GRACE_DAYS", 5)
    today = clock.to_local(now or clock.now()).date()
    return workdays.end_of_working_day(workdays.add_working_days(today, days))


def take_number(issuer: str, year: int) -> int:
    """The next number for (issuer, year), inside the caller's transaction (take_numbers)."""
    return take_numbers(issuer, year, 1)[0]


def take_numbers(issuer: str, year: int, count: int) -> range:
    """The next `count` numbers for (issuer, year), inside the caller's transaction.

    The counter row is created if missing (ON CONFLICT DO NOTHING), then moved on by `count` with
    one UPDATE ... RETURNING: the row lock holds concurrent issuers until this transaction ends, so
    numbers are never shared, and rolled-back letters give their numbers back (no gap). The caller
    must write a letter for every number in the same transaction (or savepoint).
    """
    module = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    db.session.execute(
        module.insert(LetterCounter)
        .values(issuer=issuer, year=year, last_number=0)
        .on_conflict_do_nothing(index_elements=["issuer", "year"])
    )
    last = db.session.execute(
        update(LetterCounter)
        .where(LetterCounter.issuer == issuer, LetterCounter.year == year)
        .values(last_number=LetterCounter.last_number + count)
        .returning(LetterCounter.last_number)
    ).scalar_one()
    return range(last - count + 1, last + 1)


@dataclass(frozen=True)
class Issued:
    """A letter just written: what its rung's notification says of it."""

    escalation_id: int
    unit_id: int
    letter_id: int
    doc_number: str
    subject: str


def _step_name(escalation: Escalation) -> str:
    return escalation.task.name if escalation.task else escalation.element_id


def _draft(
    escalation: Escalation,
    campaign: Campaign,
    unit_name: str,
    items: list[dict[str, Any]],
    now: datetime,
    due: datetime,
    actor_id: int | None,
    by_hand: bool,
) -> dict[str, Any]:
    """The letter's row for one rung, all but its number."""
    step = _step_name(escalation)
    original = clock.to_local(escalation.due_at)
    lines = [f"{unit_name}：", ""]
    if items:
        listed = "；".join(f"第{i['seq']}项「{i['title']}」（整改时限{i['deadline']}）" for i in items)
        lines.append(f"根据{campaign.doc_number}《{campaign.title}》，你单位整改台账中{listed}逾期未完成整改。")
    else:
        when = f"（原定{original:%Y年%m月%d日 %H:%M}前完成）" if original else ""
        lines.append(f"根据{campaign.doc_number}《{campaign.title}》，你单位「{step}」逾期未完成{when}。")
    lines.append(
        f"现予督办，请于{due:%Y年%m月%d日 %H:%M}前办结，并将办理情况书面报告{campaign.issuer}。"
        "逾期仍未办结的，将予以通报。"
    )
    return dict(
        escalation_id=escalation.id,
        issuer=campaign.issuer,
        year=clock.to_local(now).year,
        campaign_id=campaign.id,
        unit_id=escalation.unit_id,
        instance_id=escalation.instance_id,
        task_id=escalation.task_id,
        subject=notifications.compose(notifications.LETTER_SUBJECT, step=step),
        items=items,
        original_due=escalation.due_at,
        new_due=clock.to_local(due).date(),
        body="\n".join(lines),
        issued_at=now,
        issued_by_id=actor_id,
        due_by_hand=by_hand,
    )


def issue_many(
    batch: Sequence[Escalation], actor_id: int | None = None, new_due: datetime | None = None
) -> list[Issued]:
    """Write the letters of many rungs (adds to the caller's transaction; the caller commits).

    Everything a letter says is read first (campaigns, unit names, ledger items: one statement
    each); the numbers come last, one block per issuer and year, so the counter's lock (which
    holds every other issuer of that counter until this transaction ends) is taken only for the
    few statements that write the letters, their audit events and the caller's remaining work."""
    if not batch:
        return []
    now = clock.now()
    due = new_due or new_deadline(now)
    campaigns = {
        c.id: c for c in db.session.scalars(select(Campaign).where(Campaign.id.in_({e.campaign_id for e in batch})))
    }
    unit_names = dict(
        db.session.execute(select(Unit.id, Unit.name).where(Unit.id.in_({e.unit_id for e in batch}))).tuples().all()
    )
    item_ids = {e.ledger_item_id for e in batch if e.ledger_item_id}
    items = {
        item.id: {"id": item.id, "seq": item.seq, "title": item.title, "deadline": item.deadline.isoformat()}
        for item in (
            db.session.execute(
                select(LedgerItem.id, LedgerItem.seq, LedgerItem.title, LedgerItem.deadline).where(
                    LedgerItem.id.in_(item_ids)
                )
            )
            if item_ids
            else []
        )
    }
    rows = [
        _draft(
            e,
            campaigns[e.campaign_id],
            unit_names[e.unit_id],
            [items[e.ledger_item_id]] if e.ledger_item_id else [],
            now,
            due,
            actor_id,
            new_due is not None,
        )
        for e in sorted(batch, key=lambda e: e.id)
    ]
    # Counters in one order, so two issuers holding one each never wait on each other.
    by_counter: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for row in rows:
        by_counter.setdefault((row["issuer"], row["year"]), []).append(row)
    for (issuer, year), group in sorted(by_counter.items()):
        for row, number in zip(group, take_numbers(issuer, year, len(group)), strict=True):
            row["number"] = number
    ids = db.session.scalars(
        insert(SupervisionLetter).returning(SupervisionLetter.id, sort_by_parameter_order=True), rows
    ).all()
    issued = [
        Issued(
            row["escalation_id"],
            row["unit_id"],
            letter_id,
            SupervisionLetter.number_of(row["year"], row["number"]),
            row["subject"],
        )
        for row, letter_id in zip(rows, ids, strict=True)
    ]
    audit.record_many(
        [
            audit.values(
                actor_id,
                "letter.issue",
                "supervision_letter",
                letter_id,
                after={
                    "doc_number": SupervisionLetter.number_of(row["year"], row["number"]),
                    "task_id": row["task_id"],
                    "new_due": row["new_due"],
                },
                unit_id=row["unit_id"],
            )
            for row, letter_id in zip(rows, ids, strict=True)
        ]
    )
    return issued


class LetterWithdrawn(Refused):
    """The letter was withdrawn: there is nothing to acknowledge."""

    code = "letter_withdrawn"


def acknowledge(letter_id: int, user: User) -> SupervisionLetter:
    """签收 by the unit's staff (with user and time); a second acknowledgement changes nothing."""
    letter = db.session.get(SupervisionLetter, letter_id)
    if letter is None or (user.role == "unit_staff" and letter.unit_id != user.unit_id):
        raise NotFound(_l("督办函不存在"))
    if user.role != "unit_staff":
        raise Forbidden(_l("只有被督办单位可以签收"))
    if letter.withdrawn_at is not None and letter.acknowledged_at is None:
        raise LetterWithdrawn(_l("该督办函已撤回，无需签收"))
    if letter.acknowledged_at is None:
        letter.acknowledged_at, letter.acknowledged_by_id = clock.now(), user.id
        audit.record(
            user.id,
            "letter.acknowledge",
            "supervision_letter",
            letter.id,
            before={"acknowledged": False},
            after={"acknowledged": True},
            unit_id=letter.unit_id,
        )
        db.session.commit()
    return letter


PER_PAGE = 50


def search(
    *,
    unit_id: int | None = None,
    campaign_id: int | None = None,
    acknowledged: bool | None = None,
    page_number: int = 1,
    per_page: int = PER_PAGE,
) -> tuple[Page[SupervisionLetter], int]:
    """One page of letters, not yet acknowledged first, then newest first; each filter optional.
    Also how many of all the letters matching still wait for an acknowledgement."""
    query = select(SupervisionLetter)
    if unit_id:
        query = query.where(SupervisionLetter.unit_id == unit_id)
    if campaign_id:
        query = query.where(SupervisionLetter.campaign_id == campaign_id)
    waiting_query = query.where(SupervisionLetter.acknowledged_at.is_(None), SupervisionLetter.withdrawn_at.is_(None))
    if acknowledged is not None:
        column = SupervisionLetter.acknowledged_at
        # A withdrawn letter awaits no acknowledgement.
        query = query.where(
            column.is_not(None) if acknowledged else column.is_(None) & SupervisionLetter.withdrawn_at.is_(None)
        )
    ordered = query.options(joinedload(SupervisionLetter.unit), joinedload(SupervisionLetter.campaign)).order_by(
        SupervisionLetter.acknowledged_at.is_not(None),
        SupervisionLetter.issued_at.desc(),
        SupervisionLetter.id.desc(),
    )
    rows, total, page_number = paging.fetch(query, ordered, page_number, per_page)
    # Of the letters matching, those awaiting acknowledgement: all (filtered so), none, or counted.
    waiting = total if acknowledged is False else 0 if acknowledged else paging.count(waiting_query)
    return Page(rows, total, page_number, per_page), waiting


def for_unit(unit_id: int) -> list[SupervisionLetter]:
    return list(
        db.session.scalars(
            select(SupervisionLetter).filter_by(unit_id=unit_id).order_by(SupervisionLetter.issued_at.desc())
        )
    )


def get_for(user: User, letter_id: int) -> SupervisionLetter:
    letter = db.session.get(SupervisionLetter, letter_id)
    if letter is None or (user.role == "unit_staff" and letter.unit_id != user.unit_id):
        raise NotFound(_l("督办函不存在"))
    return letter
