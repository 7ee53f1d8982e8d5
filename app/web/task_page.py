"""The task page every role shares (show, save a draft, submit) and readable views of submissions."""

from typing import Any

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from app.forms import registry as forms
from app.forms.definition import FormDefinitionError
from app.services import calendar
from app.services.ledger import ledger
from app.services.shared import uploads
from app.services.tasks import evidence, steps, tasks

EMPTY = "—"


def file_links(rows) -> list[dict]:
    """Evidence rows as what templates link to (render_form's existing files use the same shape)."""
    return [
        {"url": url_for("evidence.download", evidence_id=r.id), "filename": r.filename, "size": r.size} for r in rows
    ]


def files_by_field(rows) -> dict[str, list[dict]]:
    grouped: dict[str, list] = {}
    for row in rows:
        grouped.setdefault(row.field, []).append(row)
    return {field: file_links(items) for field, items in grouped.items()}


def _definition(form_key: str):
    try:
        return forms.load_definition(form_key)
    except FormDefinitionError:
        return None  # an old submission whose form was renamed still shows its raw answers


def _display(fdef, value) -> str:
    if fdef.type == "checkbox":
        return _("是") if value else _("否")
    if value is None or value == "" or value == []:
        return EMPTY
    if fdef.type in ("select", "multiselect"):
        labels = {c.value: str(c.label) for c in fdef.choices}
        values = value if isinstance(value, list) else [value]
        return "、".join(labels.get(str(v), str(v)) for v in values)
    return str(value)


def answers(form_key: str, data: dict | None, files: dict[str, list[dict]] | None = None) -> list[dict]:
    """A submission as label/value entries in form order; groups become small tables, files links."""
    data, files = data or {}, files or {}
    definition = _definition(form_key)
    if definition is None:
        return [{"kind": "field", "label": key, "value": str(value), "files": []} for key, value in data.items()]
    entries: list[dict[str, Any]] = []
    for fdef in definition.fields:
        if fdef.type == "group":
            rows = data.get(fdef.name) or []
            entries.append(
                {
                    "kind": "group",
                    "label": str(fdef.label),
                    "headers": [str(f.label) for f in fdef.fields],
                    "rows": [[_display(sub, row.get(sub.name)) for sub in fdef.fields] for row in rows],
                }
            )
        elif fdef.type == "file":
            entries.append({"kind": "field", "label": str(fdef.label), "value": "", "files": files.get(fdef.name, [])})
        else:
            entries.append(
                {"kind": "field", "label": str(fdef.label), "value": _display(fdef, data.get(fdef.name)), "files": []}
            )
    return entries


def _lock_version(task, posted: str | None = None) -> int:
    if posted and posted.isdigit():
        return int(posted)
    return task.instance.lock_version


def _render(task, form, status: int = 200, lock_version: int | None = None):
    submission = tasks.submission_of(task) if task.status == "completed" else None
    reviewed = tasks.reviewed_submission(task)
    context = {
        "task": task,
        "item": task.ledger_item,
        "editable": form is not None and tasks.can_complete(current_user, task),
        "form": form,
        "definition": _definition(task.form_key),
        "existing_files": {f: file_links(rows) for f, rows in tasks.existing_files(task).items()},
        "lock_version": lock_version if lock_version is not None else task.instance.lock_version,
        "submission": submission,
        "submission_answers": answers(task.form_key, submission.data, files_by_field(evidence.for_task(task.id)))
        if submission
        else None,
        "reviewed": reviewed,
        "reviewed_answers": answers(
            reviewed.form_key, reviewed.data, files_by_field(evidence.for_task(reviewed.task_id))
        )
        if reviewed
        else None,
        "open_items": ledger.open_count(task.instance_id) if steps.shows_open_items(task) else 0,
        "source_names": ledger.SOURCE_NAMES,
        "status_names": ledger.STATUS_NAMES,
        # Deadline changes after the office entered or changed a year's holiday arrangement.
        "due_changes": calendar.due_changes(task.id),
    }
    return render_template("tasks/page.html", **context), status


def _too_large(task, editable: bool):
    """A post over MAX_CONTENT_LENGTH is never read, so what was typed in it cannot be kept: the
    page shows the task again with its last saved draft and the limits, answering 413."""
    cfg = current_app.config
    flash(
        _(
            "提交的内容过大（%(size)s），未能接收：单次提交不能超过 %(limit)s，单个文件不超过 %(file_limit)s。"
            "本次填写的内容未能保存，下方为上次保存的草稿，请缩小或减少文件后重新提交",
            size=uploads.megabytes(request.content_length or 0),
            limit=uploads.megabytes(cfg["MAX_CONTENT_LENGTH"]),
            file_limit=uploads.megabytes(cfg["EVIDENCE_MAX_FILE_BYTES"]),
        ),
        "error",
    )
    form = None
    if editable:
        form = forms.build_form(
            task.form_key, data=tasks.initial_data(task), dynamic_choices=tasks.dynamic_choices(task)
        )
    return _render(task, form, 413)


def handle(task_id: int, list_endpoint: str):
    """GET shows the task; POST saves a draft (action=draft) or submits it (action=submit)."""
    try:
        task = tasks.get_for(current_user, task_id)
    except tasks.TaskNotFound:
        abort(404)
    editable = tasks.can_complete(current_user, task)
    if request.method == "GET":
        form = None
        if editable:
            form = forms.build_form(
                task.form_key, data=tasks.initial_data(task), dynamic_choices=tasks.dynamic_choices(task)
            )
        return _render(task, form)

    if g.get("body_too_large"):
        return _too_large(task, editable)
    try:
        form = forms.build_form(task.form_key, formdata=request.form, dynamic_choices=tasks.dynamic_choices(task))
    except RequestEntityTooLarge:
        return _too_large(task, editable)
    posted_lock = request.form.get("lock_version")
    try:
        if request.form.get("action") == "draft":
            tasks.save_draft(current_user, task.id, form)
            flash(_("草稿已保存"), "success")
            return redirect(request.path)
        expected = int(posted_lock) if posted_lock and posted_lock.isdigit() else None
        tasks.complete(current_user, task.id, form, expected)
    except tasks.TaskNotFound:
        abort(404)
    except tasks.FormInvalid as exc:
        if exc.status == 413:
            flash(_("文件过大，未能保存：请按提示调整后重新选择文件提交（已填写的内容保留在下方）"), "error")
        elif exc.status == 415:
            flash(_("文件类型不符，未能保存：请按提示重新选择文件（已填写的内容保留在下方）"), "error")
        else:
            flash(_("表单有误，请按提示修改"), "error")
        return _render(task, form, exc.status if exc.status in (413, 415) else 200, _lock_version(task, posted_lock))
    except tasks.Conflict as exc:
        # What was typed stays in the form; the page now shows the task as it really is.
        flash(exc.message, "error")
        return _render(task, form, 409)
    flash(_("已提交"), "success")
    return redirect(url_for(list_endpoint))
