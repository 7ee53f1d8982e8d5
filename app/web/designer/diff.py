"""Comparing two deployed versions: a table of changed elements and both diagrams highlighted."""

from flask import render_template, request
from flask_babel import gettext as _

from app.engine.bpmn_xml import TYPE_NAMES
from app.models.roles import DESIGN
from app.services.design import designer, modeler
from app.web.authz import role_required
from app.web.query_args import int_arg

from . import bp


@bp.get("/diff", endpoint="diff")
@role_required(DESIGN)
def diff():
    versions = designer.versions()
    old_id, new_id = int_arg("from"), int_arg("to")
    if (old_id is None or new_id is None) and len(versions) >= 2 and not request.args:
        # The two newest versions of the first process, older on the left.
        same = [v for v in versions if v.process_key == versions[0].process_key]
        if len(same) >= 2:
            new_id, old_id = same[0].id, same[1].id
    result = old = new = error = None
    if old_id is not None and new_id is not None:
        old, new = modeler.definition(old_id), modeler.definition(new_id)
        if old is None or new is None:
            error = _("所选版本不存在")
        elif old_id == new_id:
            error = _("请选择两个不同的版本")
        else:
            result = designer.diff(old_id, new_id)
    new_marks = {c.element_id: "mark-added" for c in result.added} if result else {}
    new_marks.update({c.element_id: "mark-changed" for c in result.changed} if result else {})
    old_marks = {c.element_id: "mark-removed" for c in result.removed} if result else {}
    old_marks.update({c.element_id: "mark-changed" for c in result.changed} if result else {})
    return render_template(
        "designer/diff.html",
        versions=versions,
        old=old,
        new=new,
        old_id=old_id,
        new_id=new_id,
        result=result,
        error=error,
        type_names=TYPE_NAMES,
        old_marks=old_marks,
        new_marks=new_marks,
    ), 400 if error else 200
