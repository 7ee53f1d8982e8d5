"""Evidence downloads: only through this route, only for people who may see the unit, always as attachments."""

from flask import abort, render_template, send_file
from flask_babel import gettext as _
from flask_login import login_required

from app.services.tasks import evidence
from app.web.authz import can_see_unit

from . import (
    bp,
    publishing,  # noqa: F401  (attaches its route to bp)
)


@bp.get("/<int:evidence_id>", endpoint="download")
@login_required
def download(evidence_id: int):
    row = evidence.get(evidence_id)
    # Someone else's file looks exactly like a missing one.
    if row is None or not can_see_unit(row.unit_id):
        abort(404)
    path = evidence.path_of(row)
    if not path.is_file():
        message = _("文件「%(name)s」在服务器上找不到了，请联系系统管理员", name=row.filename)
        return render_template("error.html", code=404, message=message), 404
    response = send_file(path, as_attachment=True, download_name=row.filename, mimetype=row.content_type)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
