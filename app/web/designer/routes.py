"""The designer's pages: versions and drafts, the modeler, upload, download, deploy."""

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.models.roles import DESIGN
from app.services.campaigns import campaigns
from app.services.design import designer, drafts, modeler
from app.web.authz import role_required

from . import bp


def _download(xml: str, filename: str) -> Response:
    return Response(
        xml, mimetype="application/xml", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@bp.get("/", endpoint="index")
@role_required(DESIGN)
def index():
    launched = [c for c in campaigns.list_campaigns() if c.status != "draft"]
    return render_template(
        "designer/index.html", versions=designer.versions(), drafts=drafts.list_drafts(), campaigns=launched
    )


@bp.get("/versions/<int:definition_id>", endpoint="version")
@role_required(DESIGN)
def version(definition_id: int):
    definition = modeler.definition(definition_id)
    if definition is None:
        abort(404)
    return render_template(
        "designer/modeler.html", definition=definition, draft=None, xml=definition.bpmn_xml, options=modeler.options()
    )


@bp.get("/versions/<int:definition_id>/xml", endpoint="version_xml")
@role_required(DESIGN)
def version_xml(definition_id: int):
    definition = modeler.definition(definition_id)
    if definition is None:
        abort(404)
    return _download(definition.bpmn_xml, f"{definition.process_key}-v{definition.version}.bpmn")


@bp.get("/drafts/<int:draft_id>", endpoint="draft")
@role_required(DESIGN)
def draft(draft_id: int):
    found = drafts.get(draft_id)  # DraftNotFound: a 404 page (app.web.errors)
    return render_template(
        "designer/modeler.html", definition=found.based_on, draft=found, xml=found.xml, options=modeler.options()
    )


@bp.get("/drafts/<int:draft_id>/xml", endpoint="draft_xml")
@role_required(DESIGN)
def draft_xml(draft_id: int):
    found = drafts.get(draft_id)
    return _download(found.xml, f"{found.process_key}-draft-{found.id}.bpmn")


@bp.post("/drafts/upload", endpoint="upload")
@role_required(DESIGN)
def upload():
    file = request.files.get("file")
    if file is None or not file.filename:
        flash(_("请选择要上传的 .bpmn 文件"), "error")
        return redirect(url_for("designer.index"))
    if not file.filename.lower().endswith((".bpmn", ".xml")):
        flash(_("只能上传 .bpmn 或 .xml 格式的流程图文件"), "error")
        return redirect(url_for("designer.index"))
    # One byte over the cap is enough to know the file is too large.
    data = file.stream.read(designer.max_bytes() + 1)
    try:
        created = drafts.upload(data, file.filename, current_user.id)
    except drafts.UploadRefused as exc:
        flash(_("上传被拒绝：%(reasons)s", reasons=_("；").join(exc.problems)), "error")
        return redirect(url_for("designer.index"))
    flash(_("已上传为草稿「%(name)s」", name=created.name), "success")
    return redirect(url_for("designer.draft", draft_id=created.id))


@bp.post("/drafts/<int:draft_id>/delete", endpoint="delete_draft")
@role_required(DESIGN)
def delete_draft(draft_id: int):
    try:
        drafts.delete(draft_id, current_user.id)
    except drafts.DraftNotFound:
        abort(404)
    flash(_("草稿已删除"), "success")
    return redirect(url_for("designer.index"))
