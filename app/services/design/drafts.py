"""Process drafts: diagrams being edited in the designer, kept until someone deletes them.

A draft is saved as it is (problems and all: the designer fixes them later); only what
crosses the trust boundary is refused here: a file that is not safe, well-formed BPMN XML.
Deploying a draft goes through processes.deploy and leaves the draft in place, so a failed
deploy loses nothing.
"""

from collections.abc import Sequence

from sqlalchemy import select

from app import clock
from app.engine import bpmn_xml, xml_safety
from app.errors import DomainError, NotFound
from app.extensions import db
from app.i18n import Joined, LazyText, _l
from app.models import ProcessDefinition, ProcessDraft
from app.services.design import designer, processes
from app.services.shared import audit

NAME_MAX = 128


class DraftNotFound(NotFound):
    code = "draft_not_found"


class UploadRefused(DomainError):
    """The file was refused at the trust boundary; `problems` say why (in the reader's language)."""

    status = 422
    code = "upload_refused"

    def __init__(self, problems: Sequence[str | LazyText]):
        self.texts = list(problems)
        super().__init__(_l("上传被拒绝：%(reasons)s", reasons=Joined(self.texts)), details=self.texts)

    @property
    def problems(self) -> list[str]:
        return [str(p) for p in self.texts]


def list_drafts() -> list[ProcessDraft]:
    return list(
        db.session.scalars(select(ProcessDraft).order_by(ProcessDraft.updated_at.desc(), ProcessDraft.id.desc()))
    )


def get(draft_id: int) -> ProcessDraft:
    draft = db.session.get(ProcessDraft, draft_id)
    if draft is None:
        raise DraftNotFound(_l("草稿不存在"))
    return draft


def _checked(xml: bytes, filename: str, actor_id: int | None) -> str:
    """The process key of a diagram that passed the upload checks (a refusal is audited there)."""
    refused = designer.check_upload(xml, filename, actor_id)
    if refused:
        raise UploadRefused([p.message for p in refused])
    try:
        xml.decode("utf-8")
    except UnicodeDecodeError:
        raise UploadRefused([_l("文件编码应为 UTF-8")]) from None
    return _process_key(xml)


def _process_key(xml: bytes) -> str:
    # Only called once the upload checks passed, so the file parses safely.
    root = xml_safety.parse(xml, designer.limits()).getroot()
    found = bpmn_xml.processes(root)
    executable = [p for p in found if bpmn_xml.is_executable(p)] or found
    key = executable[0].get("id") if executable else None
    return (key or "process")[:64]


def create(xml: bytes, name: str | None, based_on_definition_id: int | None, actor_id: int | None) -> ProcessDraft:
    """A new draft from the diagram open in the modeler."""
    if based_on_definition_id is not None and db.session.get(ProcessDefinition, based_on_definition_id) is None:
        based_on_definition_id = None
    process_key = _checked(xml, f"{name or 'draft'}.bpmn", actor_id)
    draft = ProcessDraft(
        process_key=process_key,
        name=((name or "").strip() or f"{process_key} 草稿")[:NAME_MAX],
        xml=xml.decode("utf-8"),
        based_on_definition_id=based_on_definition_id,
    )
    return _store(draft, actor_id, "process_draft.create")


def upload(xml: bytes, filename: str, actor_id: int | None) -> ProcessDraft:
    """A new draft from an uploaded .bpmn file, after the upload checks."""
    process_key = _checked(xml, filename, actor_id)
    draft = ProcessDraft(process_key=process_key, name=(filename or process_key)[:NAME_MAX], xml=xml.decode("utf-8"))
    return _store(draft, actor_id, "process_draft.upload")


def save(draft_id: int, xml: bytes, name: str | None, actor_id: int | None) -> ProcessDraft:
    """Replace a draft's diagram (and name); a refused diagram leaves the stored one as it was."""
    draft = get(draft_id)
    process_key = _checked(xml, f"{draft.name}.bpmn", actor_id)
    draft.xml = xml.decode("utf-8")
    draft.process_key = process_key
    if name and name.strip():
        draft.name = name.strip()[:NAME_MAX]
    return _store(draft, actor_id, "process_draft.save")


def _store(draft: ProcessDraft, actor_id: int | None, action: str) -> ProcessDraft:
    draft.updated_by_id = actor_id
    draft.updated_at = clock.now()
    db.session.add(draft)
    db.session.flush()
    audit.record(
        actor_id,
        action,
        "process_draft",
        draft.id,
        after={
            "name": draft.name,
            "process_key": draft.process_key,
            "based_on_definition_id": draft.based_on_definition_id,
            "size": len(draft.xml),
        },
    )
    db.session.commit()
    return draft


def delete(draft_id: int, actor_id: int | None) -> None:
    draft = get(draft_id)
    audit.record(
        actor_id,
        "process_draft.delete",
        "process_draft",
        draft.id,
        before={"name": draft.name, "process_key": draft.process_key},
    )
    db.session.delete(draft)
    db.session.commit()


def deploy(draft_id: int, actor_id: int | None) -> tuple[ProcessDefinition, bool]:
    """Deploy a draft as a new immutable version (DiagramError lists the problems; the draft stays)."""
    draft = get(draft_id)
    definition, created = processes.deploy(draft.xml.encode("utf-8"), f"{draft.process_key}.bpmn", actor_id)
    draft.based_on_definition_id = definition.id
    _store(draft, actor_id, "process_draft.deployed")
    return definition, created
