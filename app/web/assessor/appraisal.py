"""Appraisal scoring pages: campaigns with a scheme, the ranking (and its .xlsx), one unit's score sheet."""

from collections.abc import Mapping
from urllib.parse import quote

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.i18n import LazyText
from app.models.roles import READ_APPRAISALS, SCORE
from app.services.accounts import units
from app.services.appraisal import appraisal_schemes, interviews, ranking, ranking_export, score_sheets
from app.services.appraisal.score_sheets import SheetError, SheetInput, reason_key, score_key
from app.web.authz import role_required

from . import bp

# The office and supervisors read the results (READ_APPRAISALS); only assessors (考评组) enter scores (SCORE).


@bp.app_template_filter("points")
def points(value) -> str:
    """A Decimal score without trailing zeros: 8.00 -> 8, 7.50 -> 7.5."""
    return "" if value is None else f"{value.normalize():f}"


@bp.context_processor
def _labels() -> dict:
    return {"kind_labels": units.KIND_LABELS}


@bp.get("/appraisals", endpoint="appraisals")
@role_required(READ_APPRAISALS)
def appraisals():
    return render_template("appraisal/index.html", rows=appraisal_schemes.appraised_campaigns())


def _ranking_or_404(campaign_id: int):
    try:
        return ranking.campaign_ranking(campaign_id)
    except ranking.RankingError:
        abort(404)


@bp.get("/appraisals/<int:campaign_id>", endpoint="ranking")
@role_required(READ_APPRAISALS)
def ranking_page(campaign_id: int):
    result = _ranking_or_404(campaign_id)
    return render_template(
        "appraisal/ranking.html",
        ranking=result,
        interviews=interviews.for_campaign(campaign_id),
        self_exams=interviews.self_examinations(campaign_id),
    )


@bp.get("/appraisals/<int:campaign_id>/ranking.xlsx", endpoint="ranking_xlsx")
@role_required(READ_APPRAISALS)
def ranking_xlsx(campaign_id: int):
    result = _ranking_or_404(campaign_id)
    name = f"{result.campaign.doc_number}考核排名.xlsx"
    return Response(
        ranking_export.ranking_xlsx(result),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={
            "Content-Disposition": f'attachment; filename="ranking-{campaign_id}.xlsx"; '
            f"filename*=UTF-8''{quote(name)}",
            "Cache-Control": "private, no-store",
        },
    )


def _stored_values(sheet) -> dict[str, str]:
    values: dict[str, str] = {}
    if sheet is None:
        return values
    for row in sheet.scores:
        values[score_key(row.part_id)] = "" if row.score is None else points(row.score)
        values[reason_key(row.part_id)] = row.reason
    values["penalty"] = points(sheet.penalty) if sheet.penalty else ""
    values["penalty_reason"] = sheet.penalty_reason
    return values


def _posted(scheme) -> SheetInput:
    form = request.form
    version = form.get("version", "")
    return SheetInput(
        scores={
            p.id: (form.get(score_key(p.id), ""), form.get(reason_key(p.id), ""))
            for c in scheme.components
            for p in c.parts
        },
        penalty=form.get("penalty", ""),
        penalty_reason=form.get("penalty_reason", ""),
        version=int(version) if version.isdigit() else None,
    )


@bp.route("/appraisals/<int:campaign_id>/units/<int:unit_id>", methods=["GET", "POST"], endpoint="score_sheet")
@role_required(READ_APPRAISALS)
def score_sheet(campaign_id: int, unit_id: int):
    scheme = appraisal_schemes.scheme_for(campaign_id)
    unit = score_sheets.enrolled_unit(campaign_id, unit_id)
    if scheme is None or unit is None:
        abort(404)
    sheet = score_sheets.get_sheet(scheme.id, unit_id)
    errors: Mapping[str, str | LazyText] = {}
    message, status = None, 200
    values = _stored_values(sheet)
    if request.method == "POST":
        if current_user.role not in SCORE:
            abort(403)
        posted = _posted(scheme)
        submit = request.form.get("action") == "submit"
        try:
            score_sheets.save(campaign_id, unit_id, posted, current_user.id, submit=submit)
        except SheetError as exc:
            # Show the assessor's input again, every field as typed, with the messages beside it.
            errors, message, status = exc.errors, exc.message, 400
            values = {k: v for k, v in request.form.items() if k != "csrf_token"}
            sheet = score_sheets.get_sheet(scheme.id, unit_id)
        else:
            flash(_("评分表已提交并锁定") if submit else _("评分已保存（草稿）"), "success")
            return redirect(url_for("assessor.score_sheet", campaign_id=campaign_id, unit_id=unit_id))
    editable = (
        current_user.role in SCORE and scheme.finalised_at is None and (sheet is None or sheet.status != "submitted")
    )
    return render_template(
        "appraisal/sheet.html",
        scheme=scheme,
        unit=unit,
        sheet=sheet,
        values=values,
        errors=errors,
        message=message,
        editable=editable,
        campaign_id=campaign_id,
        score_key=score_key,
        reason_key=reason_key,
    ), status
