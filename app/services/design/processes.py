"""Deploying diagrams as immutable versions, and loading their specs."""

from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from app import clock
from app.engine import definitions
from app.engine.errors import DiagramError
from app.extensions import db
from app.forms import registry as form_registry
from app.models import ProcessDefinition
from app.services.design import designer
from app.services.shared import audit

__all__ = ["DiagramError", "deploy", "deploy_all", "latest", "bundle_of"]


def deploy(xml: bytes, filename: str, actor_id: int | None = None) -> tuple[ProcessDefinition, bool]:
    """Deploy a diagram; an unchanged diagram returns the existing version (created=False).

    A diagram with lint errors is refused with DiagramError (its `items` are the structured
    problems) and the refusal is audited."""
    try:
        parsed = definitions.parse(xml, filename, form_registry.known_keys(), designer.limits())
    except DiagramError as exc:
        designer.record_refusal("process.deploy_refused", xml, filename, exc.items, actor_id)
        db.session.commit()
        raise
    existing = db.session.scalar(select(ProcessDefinition).filter_by(content_hash=parsed.content_hash))
    if existing is not None:
        return existing, False
    last = db.session.scalar(select(func.max(ProcessDefinition.version)).filter_by(process_key=parsed.process_key))
    definition = ProcessDefinition(
        process_key=parsed.process_key,
        version=(last or 0) + 1,
        content_hash=parsed.content_hash,
        filename=filename,
        bpmn_xml=xml.decode("utf-8"),
        spec_json=parsed.spec_json,
        form_keys=parsed.form_keys,
        deployed_at=clock.now(),
        deployed_by_id=actor_id,
    )
    db.session.add(definition)
    db.session.flush()
    audit.record(
        actor_id,
        "process.deploy",
        "process_definition",
        definition.id,
        after={
            "process_key": definition.process_key,
            "version": definition.version,
            "content_hash": definition.content_hash,
            "filename": filename,
        },
    )
    db.session.commit()
    return definition, True


def deploy_all(actor_id: int | None = None) -> list[tuple[ProcessDefinition, bool]]:
    """Deploy every processes/*.bpmn; raise DiagramError with every file's problems."""
    results, problems = [], []
    for path in sorted(Path(current_app.config["PROCESSES_DIR"]).glob("*.bpmn")):
        try:
            results.append(deploy(path.read_bytes(), path.name, actor_id))
        except DiagramError as exc:
            problems.extend(exc.problems)
    if problems:
        raise DiagramError(problems)
    return results


def latest(process_key: str = "rectification") -> ProcessDefinition | None:
    return db.session.scalar(
        select(ProcessDefinition).filter_by(process_key=process_key).order_by(ProcessDefinition.version.desc()).limit(1)
    )


def list_versions() -> list[ProcessDefinition]:
    return list(
        db.session.scalars(select(ProcessDefinition).order_by(ProcessDefinition.process_key, ProcessDefinition.version))
    )


def bundle_of(definition: ProcessDefinition) -> definitions.SpecBundle:
    return definitions.load_bundle(definition.content_hash, definition.spec_json)


# Deployed versions never change, so their specs are cached by id and the large row
# (diagram and spec, tens of KB) is read from the database once per process.
_bundles: dict[tuple[str, int], definitions.SpecBundle] = {}


def forget_cached() -> None:
    """Drop cached specs (after rows were removed behind the app's back, e.g. a restore)."""
    _bundles.clear()


def bundle_for(definition_id: int) -> definitions.SpecBundle:
    key = (str(db.engine.url), definition_id)
    bundle = _bundles.get(key)
    if bundle is None:
        bundle = bundle_of(db.session.get_one(ProcessDefinition, definition_id))
        _bundles[key] = bundle
    return bundle
