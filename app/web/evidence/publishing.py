"""Supervisors publish an item's evidence file on the disclosure site, or withdraw it."""
from flask import abort, flash, redirect, render_template, request, url_for
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
    try:
        row = disclosure.set_file_public(evidence_id, public, current_user.id)
    except LookupError:
        abort(404)
    except ValueError as exc:
        return render_template("error.html", code=400, message=str(exc)), 400
    flash(_("「%(name)s」已公开", name=row.filename) if public else _("「%(name)s」已取消公开", name=row.filename),
          "success")
    if row.instance_id is None:
        return redirect(url_for("supervisor.queue"))
    return redirect(url_for("supervisor.instance", instance_id=row.instance_id) + "#public-files")
