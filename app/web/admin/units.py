"""Admin pages for units (单位): list with filters, spreadsheet import."""

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileAllowed, FileField, FileRequired

from app.forms.safe import SafeForm
from app.models.roles import ADMINISTER
from app.models.unit import UNIT_KINDS
from app.services.accounts import units
from app.web.authz import role_required
from app.web.query_args import page_arg

from . import bp

PER_PAGE = 100
TEMPLATE_CSV = (
    "单位代码,单位名称,单位类型,上级代码,牵头部门\r\n430521001,示例镇,乡镇,,县政府办\r\n"
    "430521101,县发展和改革局,县直单位,,县政府办\r\n"
)


class UnitImportForm(SafeForm):
    file = FileField(
        _l("单位名单文件"),
        validators=[
            FileRequired(_l("请选择要导入的文件")),
            FileAllowed(["csv", "xlsx", "xls"], _l("只能上传CSV或XLSX文件")),
        ],
    )


@bp.get("/units", endpoint="units")
@role_required(ADMINISTER)
def units_index():
    kind = request.args.get("kind") or None
    if kind not in UNIT_KINDS:
        kind = None
    q = (request.args.get("q") or "").strip()[:64] or None
    page = page_arg()
    return render_template(
        "admin/units.html",
        result=units.page_units(kind=kind, q=q, page=page, per_page=PER_PAGE),
        kind=kind,
        q=q or "",
        kinds=[(k, units.kind_label(k)) for k in UNIT_KINDS],
        kind_label=units.kind_label,
    )


@bp.route("/units/import", methods=["GET", "POST"])
@role_required(ADMINISTER)
def units_import():
    form = UnitImportForm()
    errors = []
    if form.validate_on_submit():
        upload = form.file.data
        result = units.import_units(upload.stream, upload.filename or "", actor_id=current_user.id)
        if result.ok:
            flash(
                _("导入成功：新增%(created)d个，更新%(updated)d个", created=result.created, updated=result.updated),
                "success",
            )
            return redirect(url_for("admin.units"))
        errors = result.errors
    return render_template("admin/units_import.html", form=form, errors=errors)


@bp.get("/units/template.csv")
@role_required(ADMINISTER)
def units_template():
    # The BOM makes Excel on Chinese Windows open the UTF-8 file with the right characters.
    body = "\ufeff" + TEMPLATE_CSV
    return Response(
        body.encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=units-template.csv"},
    )
