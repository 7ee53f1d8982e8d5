"""Evidence files: stored outside the static folder under their SHA-256."""

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from app import clock
from app.errors import Invalid
from app.extensions import db
from app.i18n import LazyText
from app.models import Evidence, Task, TipPhoto
from app.services.shared import uploads


class EvidenceError(Invalid):
    """An upload that cannot be kept as evidence; `field` names the input it came from.
    `status` is 413 when it is too large, 415 when its type is not allowed."""

    code = "evidence_refused"

    def __init__(self, message: str | LazyText, field: str | None = None, status: int = uploads.WRONG_TYPE):
        super().__init__(message)
        self.field = field
        self.status = status


@dataclass
class StoredBlob:
    sha256: str
    size: int


@dataclass
class CheckedUpload:
    """An upload that passed the checks, with its cleaned name and the type its content showed."""

    upload: FileStorage
    field: str
    file: uploads.CheckedFile


def extension_of(filename: str) -> str:
    return uploads.extension_of(filename)


def check_upload(upload: FileStorage, field: str, accept: tuple[str, ...] | None = None) -> CheckedUpload:
    """One upload against its field's accepted types (by name and by content) and the size of one file."""
    cfg = current_app.config
    try:
        checked = uploads.check(
            upload.stream,
            upload.filename,
            accept,
            max_bytes=cfg["EVIDENCE_MAX_FILE_BYTES"],
            max_pixels=cfg["UPLOAD_MAX_IMAGE_PIXELS"],
        )
    except uploads.UploadRefused as exc:
        raise EvidenceError(exc.message, field, exc.status) from None
    return CheckedUpload(upload, field, checked)


def check_task_caps(task_id: int, new: list[CheckedUpload]) -> None:
    """One task holds at most EVIDENCE_MAX_FILES_PER_TASK files of EVIDENCE_MAX_BYTES_PER_TASK in all."""
    if not new:
        return
    cfg = current_app.config
    count, total = db.session.execute(
        select(func.count(Evidence.id), func.coalesce(func.sum(Evidence.size), 0)).where(Evidence.task_id == task_id)
    ).one()
    max_files, max_bytes = cfg["EVIDENCE_MAX_FILES_PER_TASK"], cfg["EVIDENCE_MAX_BYTES_PER_TASK"]
    field = new[0].field
    if count + len(new) > max_files:
        raise EvidenceError(
            _(
                "每个事项最多上传 %(max)d 个文件：已有 %(count)d 个，本次又选了 %(new)d 个",
                max=max_files,
                count=count,
                new=len(new),
            ),
            field,
            uploads.TOO_LARGE,
        )
    added = sum(item.file.size for item in new)
    if total + added > max_bytes:
        raise EvidenceError(
            _(
                "每个事项的文件合计不能超过 %(limit)s：已有 %(total)s，本次又选了 %(added)s",
                limit=uploads.megabytes(max_bytes),
                total=uploads.megabytes(total),
                added=uploads.megabytes(added),
            ),
            field,
            uploads.TOO_LARGE,
        )


def blob_path(sha256: str) -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / sha256[:2] / sha256


NEW_BLOBS = "rectify.new_blobs"


def discard_new_blobs() -> int:
    """After a rollback: delete the files this session wrote that no record names (a completion
    that lost a race, say, leaves nothing on disk). A file another record names, committed
    meanwhile with the same content, is kept. Returns how many were deleted."""
    shas = set(db.session.info.pop(NEW_BLOBS, []))
    if not shas:
        return 0
    named = set(db.session.scalars(select(Evidence.sha256).where(Evidence.sha256.in_(shas))))
    named |= set(db.session.scalars(select(TipPhoto.sha256).where(TipPhoto.sha256.in_(shas))))
    db.session.rollback()  # the check was a read: leave the session as the caller's rollback did
    deleted = 0
    for sha in shas - named:
        path = blob_path(sha)
        if path.exists():
            path.unlink()
            deleted += 1
    return deleted


def forget_new_blobs() -> None:
    """After a commit: the files written are named by committed records; nothing to discard."""
    db.session.info.pop(NEW_BLOBS, None)


def write_blob(upload: FileStorage) -> StoredBlob:
    """Stream to a temp file while hashing, then move into place (same content, same file)."""
    root = Path(current_app.config["UPLOAD_DIR"])
    root.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    fd, tmp = tempfile.mkstemp(dir=root, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in iter(lambda: upload.stream.read(1024 * 64), b""):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        sha = digest.hexdigest()
        target = blob_path(sha)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            os.unlink(tmp)
        else:
            os.replace(tmp, target)
            # Made by this transaction: should it roll back, discard_new_blobs removes the file again.
            db.session.info.setdefault(NEW_BLOBS, []).append(sha)
        return StoredBlob(sha, size)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def store(
    checked: CheckedUpload, *, unit_id: int, instance_id: int | None, task_id: int | None, user_id: int
) -> Evidence:
    """Write a checked upload and add its row to the session (the calling service commits)."""
    blob = write_blob(checked.upload)
    row = Evidence(
        sha256=blob.sha256,
        filename=checked.file.filename,
        content_type=checked.file.content_type,
        size=blob.size,
        unit_id=unit_id,
        instance_id=instance_id,
        task_id=task_id,
        field=checked.field,
        uploaded_by_id=user_id,
        uploaded_at=clock.now(),
    )
    db.session.add(row)
    return row


def copy_to_task(from_task_id: int, task: Task) -> None:
    """List another task's files on `task` too (same blobs: content-addressed, nothing copied on disk)."""
    for row in for_task(from_task_id):
        db.session.add(
            Evidence(
                sha256=row.sha256,
                filename=row.filename,
                content_type=row.content_type,
                size=row.size,
                unit_id=row.unit_id,
                instance_id=row.instance_id,
                task_id=task.id,
                field=row.field,
                uploaded_by_id=row.uploaded_by_id,
                uploaded_at=row.uploaded_at,
            )
        )


def for_task(task_id: int) -> list[Evidence]:
    return list(db.session.scalars(select(Evidence).filter_by(task_id=task_id).order_by(Evidence.id)))


def for_instance(instance_id: int) -> list[Evidence]:
    return list(db.session.scalars(select(Evidence).filter_by(instance_id=instance_id).order_by(Evidence.id)))


def get(evidence_id: int) -> Evidence | None:
    return db.session.get(Evidence, evidence_id)


def path_of(row: Evidence) -> Path:
    return blob_path(row.sha256)
