"""Supervisors publish an item's evidence file on the disclosure site, or withdraw it."""

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.models.roles import PUBLISH_FILES
from app.services.disclosure import disclosure
from app.web.authz import role_required

from . import bp


@bp.post("/<int:evidence_id>/public", endpoint="set_public")
@role_required(PUBLISH_FILES)
def set_public(evidence_id: int):
    public = request.form.get("public") == "1"
    row = disclosure.set_file_public(evidence_id, public, current_user.id)  # refusals: app.web.errors
    flash(
        _("「%(name)s」已公开", name=row.filename) if public else _("「%(name)s」已取消公开", name=row.filename),
        "success",
    )
    if row.instance_id is None:
        return redirect(url_for("supervisor.queue"))
    return redirect(url_for("supervisor.instance", instance_id=row.instance_id) + "#public-files")
