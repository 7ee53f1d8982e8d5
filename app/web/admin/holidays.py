"""节假日安排: the office's pages for the working-day calendar (admin only): the years with their
source and coverage, a year's holidays and adjusted working days, entering or importing a year,
and the recomputation of open deadlines that follows."""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user

from app import clock
from app.models.calendar import KIND_NAMES, SOURCE_NAMES
from app.models.roles import ADMINISTER
from app.services import calendar
from app.web.authz import role_required
from app.web.downloads import check_format, download
from app.web.query_args import int_arg

from . import bp
from .calendar_forms import ArrangementForm, CalendarImportForm, add_blank, fill_rows

YEARS = (2000, 2100)


@bp.context_processor
def _calendar_labels() -> dict:
    return {
        "holiday_source_names": SOURCE_NAMES,
        "holiday_kind_names": KIND_NAMES,
        "weekday_name": lambda day: format_date(day, "EEEE"),
    }


def _year_or_404(year: int) -> int:
    if not YEARS[0] <= year <= YEARS[1]:
        abort(404)
    return year


def _recompute_inline(result: calendar.SaveResult):
    """Recompute open deadlines while the office waits, up to the configured time; the scheduler
    carries on with what is left."""
    if result.job_id is None:
        return None
    return calendar.run(result.job_id, budget=current_app.config["CALENDAR_RECOMPUTE_SECONDS"])


def _flash_saved(result: calendar.SaveResult, job) -> None:
    if not result.changed:
        flash(_("%(year)s年节假日安排没有变化，未保存", year=result.year), "info")
        return
    flash(
        _(
            "已保存%(year)s年节假日安排：放假%(h)d天，调休上班%(w)d天",
            year=result.year,
            h=result.holidays,
            w=result.workdays,
        ),
        "success",
    )
    if not result.changed_years:
        flash(_("工作日没有变化，已有期限不变"), "info")
        return
    if result.letters_changed:
        flash(_("%(n)d份督办函的办理期限已按新安排调整", n=result.letters_changed), "success")
    if job is not None and job.status == "done":
        flash(
            _("已按新安排重新计算期限：检查了%(done)d个流程实例，调整了%(n)d处期限", done=job.done, n=job.changed),
            "success",
        )
    elif job is not None:
        flash(
            _(
                "正在按新安排重新计算期限：已检查%(done)d/%(total)d个流程实例，其余由后台继续（进度见本页）",
                done=job.done,
                total=job.total,
            ),
            "warning",
        )


@bp.get("/calendar", endpoint="calendar")
@role_required(ADMINISTER)
def calendar_index():
    all_years = request.args.get("all") == "1"
    rows = calendar.overview(clock.today(), all_years=all_years)
    return render_template(
        "admin/calendar_list.html",
        rows=rows,
        all_years=all_years,
        job=calendar.pending_job(),
        form=CalendarImportForm(),
        errors=[],
    )


@bp.route("/calendar/import", methods=["GET", "POST"], endpoint="calendar_import")
@role_required(ADMINISTER)
def calendar_import():
    form = CalendarImportForm()
    errors: list = []
    if form.validate_on_submit():
        upload = form.file.data
        checked = calendar.check_file(upload.read(calendar.MAX_BYTES + 1), upload.filename or "", form.year.data)
        errors = checked.errors
        if checked.ok:
            assert checked.year is not None  # a file without errors names its year
            try:
                result = calendar.save_year(
                    checked.year, checked.days, current_user.id, note=form.note.data, filename=upload.filename
                )
            except calendar.CalendarError as exc:
                errors = [calendar.RowError(0, "", exc.message)]
            else:
                _flash_saved(result, _recompute_inline(result))
                return redirect(url_for("admin.calendar_year", year=result.year))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "admin/calendar_import.html",
        form=form,
        errors=errors,
        max_kb=calendar.MAX_BYTES // 1024,
        max_rows=calendar.MAX_ROWS,
    ), status


@bp.get("/calendar/<int:year>", endpoint="calendar_year")
@role_required(ADMINISTER)
def calendar_year(year: int):
    view = calendar.year_view(_year_or_404(year))
    return render_template("admin/calendar_year.html", view=view, job=calendar.pending_job())


@bp.route("/calendar/<int:year>/edit", methods=["GET", "POST"], endpoint="calendar_edit")
@role_required(ADMINISTER)
def calendar_edit(year: int):
    view = calendar.year_view(_year_or_404(year))
    form = ArrangementForm()
    errors: list = []
    if request.method == "GET":
        form.note.data = view.stored.note if view.stored is not None and view.source == "office" else ""
        # A year not entered yet gets rows enough for a whole arrangement (about 40 days).
        fill_rows(form, [(d, v.kind, v.name) for d, v in view.days], blank=10 if view.days else 40)
    elif request.form.get("action") == "more":
        add_blank(form)
    elif form.validate_on_submit():
        checked = calendar.check_rows([(n, row.form.values()) for n, row in enumerate(form.days, start=1)], year)
        errors = checked.errors
        if checked.ok:
            try:
                result = calendar.save_year(year, checked.days, current_user.id, note=form.note.data)
            except calendar.CalendarError as exc:
                errors = [calendar.RowError(0, "", exc.message)]
            else:
                _flash_saved(result, _recompute_inline(result))
                return redirect(url_for("admin.calendar_year", year=year))
    error_rows = {e.row for e in errors}
    status = 400 if errors or (request.method == "POST" and form.errors) else 200
    return render_template(
        "admin/calendar_edit.html", view=view, form=form, errors=errors, error_rows=error_rows
    ), status


@bp.post("/calendar/<int:year>/revert", endpoint="calendar_revert")
@role_required(ADMINISTER)
def calendar_revert(year: int):
    _year_or_404(year)
    form = ArrangementForm()  # only its CSRF token is used
    if not form.validate_on_submit():
        abort(400)
    try:
        result = calendar.revert_to_package(year, current_user.id)
    except calendar.CalendarError as exc:
        flash(exc.message, "error")
    else:
        _flash_saved(result, _recompute_inline(result))
    return redirect(url_for("admin.calendar_year", year=year))


@bp.get("/calendar/template.<fmt>", endpoint="calendar_template")
@role_required(ADMINISTER)
def calendar_template(fmt: str):
    """The import template; with ?year=, filled with that year's arrangement as it stands."""
    check_format(fmt)
    year = int_arg("year")
    if year is not None:
        _year_or_404(year)
    data = calendar.template_xlsx(year) if fmt == "xlsx" else calendar.template_csv(year)
    name = f"节假日安排-{year}.{fmt}" if year else f"节假日安排-模板.{fmt}"
    return download(data, name, fmt)
