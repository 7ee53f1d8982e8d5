"""Evidence files: stored outside the static folder under their SHA-256."""
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from app import clock
from app.extensions import db
from app.models import Evidence, Task

# What a county office actually attaches: documents, spreadsheets, scans and photos.
ALLOWED = {
    "pdf": "application/pdf",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "wps": "application/vnd.ms-works",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "ofd": "application/ofd",
    "txt": "text/plain",
}


class EvidenceError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass
class StoredBlob:
    sha256: str
    size: int


def extension_of(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def check_upload(upload: FileStorage, field: str) -> None:
    name = upload.filename or ""
    if extension_of(name) not in ALLOWED:
        raise EvidenceError(
            f"文件「{name}」的类型不允许上传，仅限：{'、'.join(sorted(ALLOWED))}", field
        )


def blob_path(sha256: str) -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / sha256[:2] / sha256


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
        return StoredBlob(sha, size)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def store(upload: FileStorage, *, field: str, unit_id: int, instance_id: int | None, task_id: int | None,
          user_id: int) -> Evidence:
    """Write the file and add its row to the session (the calling service commits)."""
    check_upload(upload, field)
    blob = write_blob(upload)
    if blob.size == 0:
        raise EvidenceError(f"文件「{upload.filename}」是空文件", field)
    ext = extension_of(upload.filename or "")
    row = Evidence(
        sha256=blob.sha256,
        filename=os.path.basename(upload.filename or f"file.{ext}")[:255],
        content_type=ALLOWED[ext],
        size=blob.size,
        unit_id=unit_id,
        instance_id=instance_id,
        task_id=task_id,
        field=field,
        uploaded_by_id=user_id,
        uploaded_at=clock.now(),
    )
    db.session.add(row)
    return row


def copy_to_task(from_task_id: int, task: Task) -> None:
    """List another task's files on `task` too (same blobs: content-addressed, nothing copied on disk)."""
    for row in for_task(from_task_id):
        db.session.add(Evidence(
            sha256=row.sha256, filename=row.filename, content_type=row.content_type, size=row.size,
            unit_id=row.unit_id, instance_id=row.instance_id, task_id=task.id, field=row.field,
            uploaded_by_id=row.uploaded_by_id, uploaded_at=row.uploaded_at,
        ))


def for_task(task_id: int) -> list[Evidence]:
    return list(db.session.scalars(select(Evidence).filter_by(task_id=task_id).order_by(Evidence.id)))


def for_instance(instance_id: int) -> list[Evidence]:
    return list(db.session.scalars(select(Evidence).filter_by(instance_id=instance_id).order_by(Evidence.id)))


def get(evidence_id: int) -> Evidence | None:
    return db.session.get(Evidence, evidence_id)


def path_of(row: Evidence) -> Path:
    return blob_path(row.sha256)
