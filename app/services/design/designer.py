"""The process designer's use cases on the server: lint, the upload trust boundary, what can be
viewed, deployed versions and the diff of two versions.

Deploying itself is app/services/design/processes.py `deploy`; moving running instances to a new
version is app/services/tasks/migration.py.
"""

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select

from app.engine import bpmn_diff, bpmn_xml, xml_safety
from app.engine import lint as linter
from app.engine.bpmn_diff import ElementChange, VersionDiff
from app.engine.definitions import content_hash
from app.engine.errors import DiagramError, Problem
from app.errors import NotFound
from app.extensions import db
from app.forms import registry as form_registry
from app.i18n import _l, source
from app.models import InstanceStatus, ProcessDefinition, ProcessInstance, User
from app.services.shared import audit

__all__ = [
    "DiagramError",
    "ElementChange",
    "Problem",
    "VersionDiff",
    "VersionInfo",
    "DiffError",
    "lint",
    "check_upload",
    "viewable",
    "versions",
    "diff",
    "max_bytes",
    "limits",
]


def max_bytes() -> int:
    return int(current_app.config.get("BPMN_MAX_BYTES") or xml_safety.DEFAULT_MAX_BYTES)


def limits() -> xml_safety.Limits:
    """What an uploaded diagram may cost, from the BPMN_MAX_* settings (see app/engine/xml_safety.py)."""
    cfg, default = current_app.config, xml_safety.Limits()
    return xml_safety.Limits(
        max_bytes=max_bytes(),
        max_elements=int(cfg.get("BPMN_MAX_ELEMENTS") or default.max_elements),
        max_depth=int(cfg.get("BPMN_MAX_DEPTH") or default.max_depth),
        max_seconds=float(cfg.get("BPMN_MAX_PARSE_SECONDS") or default.max_seconds),
        max_cardinality=int(cfg.get("BPMN_MAX_CARDINALITY") or default.max_cardinality),
    )


def lint(xml: bytes, filename: str) -> list[Problem]:
    """Every problem of a diagram (errors and warnings); never raises for bad input."""
    return linter.lint(xml, filename, form_registry.known_keys(), limits()).problems


def check_upload(data: bytes, filename: str, actor_id: int | None) -> list[Problem]:
    """The trust boundary for an uploaded .bpmn: the problems that refuse it outright (too big,
    DOCTYPE, entities, scripts, unsafe expressions, not BPMN), or [] when it may be opened,
    linted and deployed. A refusal is audited (and committed) with the file's SHA-256."""
    refused = [p for p in lint(data, filename) if p.is_error and p.code in linter.TRUST_CODES]
    if refused:
        record_refusal("process.upload_refused", data, filename, refused, actor_id)
        db.session.commit()
    return refused


def record_refusal(action: str, data: bytes, filename: str, problems: list[Problem], actor_id: int | None) -> None:
    """Audit a refused upload or deploy; the caller commits."""
    sha256 = content_hash(data)
    audit.record(
        actor_id,
        action,
        "process_file",
        sha256,
        after={
            "filename": filename,
            "sha256": sha256,
            "size": len(data),
            "reason": "；".join(source(p.message) for p in problems[:20]),  # stored in the source language
            "codes": sorted({p.code for p in problems}),
        },
    )


def viewable(xml: bytes) -> bool:
    """Whether a viewer can draw the file: safe BPMN with diagram interchange. Non-executable
    processes and collaborations qualify; they just cannot be deployed."""
    try:
        root = xml_safety.parse(xml, limits()).getroot()
    except xml_safety.UnsafeXml:
        return False
    return bpmn_xml.is_bpmn(root) and bpmn_xml.local(root) == "definitions" and bpmn_xml.has_di(root)


@dataclass
class VersionInfo:
    id: int
    process_key: str
    version: int
    content_hash: str
    filename: str
    deployed_by: str | None
    deployed_by_id: int | None
    deployed_at: datetime
    running_instances: int


def versions(process_key: str | None = None) -> list[VersionInfo]:
    """Deployed versions, newest first within each process, with how many instances run on each
    (one query)."""
    running = (
        select(ProcessInstance.definition_id, func.count().label("n"))
        .where(ProcessInstance.status == InstanceStatus.RUNNING)
        .group_by(ProcessInstance.definition_id)
        .subquery()
    )
    stmt = (
        select(
            ProcessDefinition.id,
            ProcessDefinition.process_key,
            ProcessDefinition.version,
            ProcessDefinition.content_hash,
            ProcessDefinition.filename,
            ProcessDefinition.deployed_by_id,
            ProcessDefinition.deployed_at,
            User.display_name,
            func.coalesce(running.c.n, 0),
        )
        .outerjoin(User, User.id == ProcessDefinition.deployed_by_id)
        .outerjoin(running, running.c.definition_id == ProcessDefinition.id)
        .order_by(ProcessDefinition.process_key, ProcessDefinition.version.desc())
    )
    if process_key:
        stmt = stmt.where(ProcessDefinition.process_key == process_key)
    return [
        VersionInfo(
            id=r[0],
            process_key=r[1],
            version=r[2],
            content_hash=r[3],
            filename=r[4],
            deployed_by_id=r[5],
            deployed_at=r[6],
            deployed_by=r[7],
            running_instances=int(r[8]),
        )
        for r in db.session.execute(stmt)
    ]


class DiffError(NotFound):
    code = "version_not_found"


def diff(from_definition_id: int, to_definition_id: int) -> VersionDiff:
    """Added, removed and changed elements between two deployed versions (by element id)."""
    old = db.session.get(ProcessDefinition, from_definition_id)
    new = db.session.get(ProcessDefinition, to_definition_id)
    if old is None or new is None:
        raise DiffError(_l("流程版本不存在"))
    return bpmn_diff.diff(old.bpmn_xml.encode(), new.bpmn_xml.encode())
