"""JSON endpoints the modeler page calls: save a draft, lint, deploy."""

from flask import flash, jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.models.roles import DESIGN
from app.services.design import designer, drafts, processes
from app.web.authz import role_required

from . import bp


def _error(message: str, status: int = 400, **extra):
    return jsonify({"error": message, **extra}), status


def _posted_xml() -> bytes | None:
    body = request.get_json(silent=True) or {}
    xml = body.get("xml")
    return xml.encode("utf-8") if isinstance(xml, str) and xml.strip() else None


def _saved(draft) -> dict:
    return {
        "id": draft.id,
        "name": draft.name,
        "url": url_for("designer.draft", draft_id=draft.id),
        "updated_at": draft.updated_at.isoformat(),
    }


@bp.post("/drafts", endpoint="create_draft")
@role_required(DESIGN)
def create_draft():
    """Save the diagram open in the modeler as a new draft (a version opened, or a copy)."""
    xml = _posted_xml()
    if xml is None:
        return _error(_("没有收到流程图内容"))
    body = request.get_json(silent=True) or {}
    based_on = body.get("based_on")
    try:
        draft = drafts.create(xml, body.get("name"), based_on if isinstance(based_on, int) else None, current_user.id)
    except drafts.UploadRefused as exc:
        return _error(_("保存被拒绝：%(reasons)s", reasons=_("；").join(exc.problems)), problems=exc.problems)
    return jsonify(_saved(draft)), 201


@bp.post("/drafts/<int:draft_id>/save", endpoint="save_draft")
@role_required(DESIGN)
def save_draft(draft_id: int):
    xml = _posted_xml()
    if xml is None:
        return _error(_("没有收到流程图内容"))
    body = request.get_json(silent=True) or {}
    try:
        draft = drafts.save(draft_id, xml, body.get("name"), current_user.id)
    except drafts.DraftNotFound:
        return _error(_("草稿不存在"), 404)
    except drafts.UploadRefused as exc:
        return _error(
            _("保存被拒绝，草稿仍为上次保存的内容：%(reasons)s", reasons=_("；").join(exc.problems)),
            problems=exc.problems,
        )
    return jsonify(_saved(draft))


@bp.post("/drafts/<int:draft_id>/deploy", endpoint="deploy_draft")
@role_required(DESIGN)
def deploy_draft(draft_id: int):
    """Deploy the stored draft as a new version; problems come back as a list, the draft stays."""
    try:
        definition, created = drafts.deploy(draft_id, current_user.id)
    except drafts.DraftNotFound:
        return _error(_("草稿不存在"), 404)
    except processes.DiagramError as exc:
        return _error(_("流程图有问题，未发布"), 422, problems=[_problem(p) for p in exc.items])
    message = (
        _("已发布为 %(key)s 第 %(v)d 版", key=definition.process_key, v=definition.version)
        if created
        else _("内容与已发布的第 %(v)d 版相同，未产生新版本", v=definition.version)
    )
    flash(message, "success")  # shown on the list the page goes to next
    return jsonify(
        {"version": definition.version, "created": created, "message": message, "url": url_for("designer.index")}
    )


def _problem(item) -> dict:
    return {"file": item.file, "element_id": item.element_id, "severity": item.severity, "message": item.message}


@bp.post("/lint", endpoint="lint")
@role_required(DESIGN)
def lint():
    """Every problem of the diagram open in the modeler, errors and warnings, pinned to elements."""
    xml = _posted_xml()
    if xml is None:
        return _error(_("没有收到流程图内容"))
    return jsonify({"problems": [_problem(p) for p in designer.lint(xml, _filename())]})


def _filename() -> str:
    name = (request.get_json(silent=True) or {}).get("name")
    return f"{name.strip()[:100]}.bpmn" if isinstance(name, str) and name.strip() else "diagram.bpmn"
