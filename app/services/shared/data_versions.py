"""Data versions: a token per campaign that changes, in the same transaction, with every change to
what the campaign's dashboard counts, so a cache keyed by the token is never stale once the change
has committed (app/services/oversight/figure_cache.py).

Nobody calls a bump by hand. Session events see every write: objects flushed by the unit of work
(a task completed, an instance's phase moved, a ledger item added or closed, an escalation
created, carried out or withdrawn, a unit enrolled), and every INSERT, UPDATE or DELETE statement
sent through a session on those tables (launch, the one save path's executemany, the ladder's
bulk updates). A statement's campaigns come from its parameters (`campaign_id`), or from the
statement itself (`.execution_options(**touching(ids))`); a statement on those tables that names
neither changes the token of every campaign at once ("all"), which is never wrong, only wasteful.
Units' names, kinds and lead departments belong to "all" too.

The new tokens are written just before the transaction commits (random numbers, one upsert, in
scope order), before the audit chain's head is locked: like the head, a token's row is locked only
for the last few statements and the commit, so writers do not wait on each other mid-work and
cannot deadlock over it.
"""

import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import InstanceState, ORMExecuteState, Session, SessionTransaction, UOWTransaction
from sqlalchemy.orm.attributes import instance_state

from app.extensions import db
from app.models import Campaign, CampaignUnit, Escalation, LedgerItem, ProcessInstance, Task, Unit
from app.models.data_version import ALL_CAMPAIGNS, DataVersion, campaign_scope

_TOUCHED = "data_versions_touched"  # session.info: the scopes this transaction changed
_CAMPAIGNS = "data_versions_campaigns"  # execution option: the campaigns a statement changes

# What each table's dashboard figures read: a change to any other column (a draft saved, a
# workflow's state, a slug) leaves the figures alone.
WATCHED: dict[str, frozenset[str]] = {
    Task.__tablename__: frozenset(
        {"campaign_id", "unit_id", "instance_id", "status", "due_at", "completed_at", "role", "phase"}
    ),
    ProcessInstance.__tablename__: frozenset({"campaign_id", "unit_id", "phase", "status"}),
    LedgerItem.__tablename__: frozenset({"campaign_id", "unit_id", "instance_id", "status", "source"}),
    Escalation.__tablename__: frozenset({"campaign_id", "unit_id", "level", "status"}),
    CampaignUnit.__tablename__: frozenset({"campaign_id", "unit_id"}),
    Campaign.__tablename__: frozenset({"status"}),
    Unit.__tablename__: frozenset({"code", "name", "kind", "lead_department"}),
}
# Rows of these tables belong to no one campaign.
_GLOBAL = {Unit.__tablename__}


def touching(campaign_ids: Iterable[int]) -> dict[str, Any]:
    """Execution options telling which campaigns a bulk statement changes (when its parameters do not say)."""
    return {_CAMPAIGNS: frozenset(campaign_ids)}


def _touched(session: Session) -> set[str]:
    touched: set[str] = session.info.setdefault(_TOUCHED, set())
    return touched


def touch(session: Session, campaign_ids: Iterable[int | None]) -> None:
    """Mark campaigns changed by this transaction (None: not known, so every campaign)."""
    _touched(session).update(ALL_CAMPAIGNS if c is None else campaign_scope(c) for c in campaign_ids)


def _scope_of(obj: object) -> str | None:
    table = getattr(obj, "__tablename__", None)
    if table not in WATCHED:
        return None
    if table in _GLOBAL:
        return ALL_CAMPAIGNS
    campaign_id = obj.id if isinstance(obj, Campaign) else getattr(obj, "campaign_id", None)
    return ALL_CAMPAIGNS if campaign_id is None else campaign_scope(campaign_id)


def _changed(obj: object, columns: frozenset[str]) -> bool:
    state: InstanceState[Any] = instance_state(obj)
    return any(state.attrs[name].history.has_changes() for name in columns)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, flush_context: UOWTransaction) -> None:
    """The unit of work's rows: new and deleted ones count, changed ones if a watched column changed."""
    touched = _touched(session)
    for obj in (*session.new, *session.deleted):
        scope = _scope_of(obj)
        if scope is not None:
            touched.add(scope)
    for obj in session.dirty:
        scope = _scope_of(obj)
        if scope is not None and _changed(obj, WATCHED[obj.__tablename__]):
            touched.add(scope)
            if not isinstance(obj, Campaign) and hasattr(obj, "campaign_id"):
                # A row moved to another campaign changes the one it left too.
                left = instance_state(obj).attrs["campaign_id"].history.deleted
                touched.update(campaign_scope(c) for c in left if c is not None)


def _statement_columns(state: ORMExecuteState) -> set[str] | None:
    """The columns an INSERT or UPDATE sets (None: not known, e.g. a DELETE)."""
    stmt = state.statement
    if state.is_delete:
        return None
    names: set[str] = set()
    values = getattr(stmt, "_values", None) or {}
    names.update(getattr(k, "key", None) or str(k) for k in values)
    for params in _parameter_sets(state.parameters):
        names.update(params)
    select_names = getattr(stmt, "_select_names", None)  # INSERT ... FROM SELECT
    if select_names:
        names.update(str(n) for n in select_names)
    return names


def _parameter_sets(parameters: object) -> Sequence[Mapping[str, Any]]:
    if isinstance(parameters, Mapping):
        return [parameters]
    if isinstance(parameters, Sequence) and not isinstance(parameters, str | bytes):
        return [p for p in parameters if isinstance(p, Mapping)]
    return []


@event.listens_for(Session, "do_orm_execute")
def _bulk_statement(state: ORMExecuteState) -> None:
    """INSERT, UPDATE or DELETE statements on the watched tables, sent through a session."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    name = getattr(table, "name", None)
    if name not in WATCHED:
        return
    columns = _statement_columns(state)
    if columns is not None and not state.is_insert and not (columns & WATCHED[name]):
        return  # e.g. the no-op write that takes SQLite's lock, a slug, a draft
    if name in _GLOBAL:
        _touched(state.session).add(ALL_CAMPAIGNS)
        return
    given = state.execution_options.get(_CAMPAIGNS)
    if given is not None:
        touch(state.session, given)
        return
    params = _parameter_sets(state.parameters)
    values = getattr(state.statement, "_values", None) or {}
    from_values = [v.value for k, v in values.items() if getattr(k, "key", str(k)) == "campaign_id"]
    if params and all("campaign_id" in p for p in params):
        touch(state.session, {p["campaign_id"] for p in params})
    elif from_values and all(isinstance(v, int) for v in from_values):
        touch(state.session, from_values)
    else:
        touch(state.session, [None])


def bump(conn: Connection, scopes: Iterable[str]) -> None:
    """Give each scope a new token (an upsert, in scope order so two writers lock rows alike)."""
    rows = [{"scope": scope, "token": secrets.randbits(62)} for scope in sorted(set(scopes))]
    if not rows:
        return
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = dialect_insert(DataVersion.__table__)
    conn.execute(stmt.on_conflict_do_update(index_elements=["scope"], set_={"token": stmt.excluded.token}), rows)


def _before_commit(session: Session) -> None:
    """Write the new tokens last thing before the commit (and before the audit head's lock)."""
    if session.in_nested_transaction():
        return
    session.flush()
    scopes = session.info.pop(_TOUCHED, None)
    if scopes:
        bump(session.connection(), scopes)


# First among the before_commit listeners: the audit chain's head must stay the last lock taken.
event.listen(Session, "before_commit", _before_commit, insert=True)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    """A transaction that ended without committing changed nothing."""
    if transaction.parent is None and not transaction.nested:
        session.info.pop(_TOUCHED, None)


def tokens(campaign_id: int) -> tuple[int, int] | None:
    """The campaign's token and the one of all campaigns, in one indexed read; None when the
    campaign has none yet (nothing it has may be cached)."""
    wanted = (campaign_scope(campaign_id), ALL_CAMPAIGNS)
    rows = db.session.execute(select(DataVersion.scope, DataVersion.token).where(DataVersion.scope.in_(wanted)))
    found = dict(rows.tuples().all())  # (a Result has keys(): dict() would take it for a mapping)
    mine = found.get(campaign_scope(campaign_id))
    if mine is None:
        return None
    return mine, found.get(ALL_CAMPAIGNS, 0)
