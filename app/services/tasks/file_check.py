"""The upload folder against the records: files on disk that no record names (orphans), and
records whose file is missing. `flask files check` reports both; `--fix` removes orphans older
than a grace period (a file being written, or written by a transaction not yet committed, is
younger than that). Records are never changed: a missing file is for a person to look into
(restore it from the backup that holds both the database and UPLOAD_DIR)."""

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import Evidence, TipPhoto

SHA_LENGTH = 64
TEMP_PREFIX = ".upload-"  # evidence.write_blob's file while it streams


@dataclass
class Report:
    checked_files: int = 0
    orphans: list[Path] = field(default_factory=list)  # on disk, named by no record
    missing: list[tuple[str, int, str]] = field(default_factory=list)  # (table, id, sha256) without a file
    removed: list[Path] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.missing and len(self.removed) == len(self.orphans)


def _on_disk(root: Path) -> Iterator[tuple[str, Path]]:
    """(name, path) of every file in the upload folder's two-level layout (blob_path)."""
    if not root.is_dir():
        return
    for directory in sorted(p for p in root.iterdir() if p.is_dir()):
        for path in sorted(directory.iterdir()):
            if path.is_file():
                yield path.name, path
    for path in sorted(root.glob(TEMP_PREFIX + "*")):
        yield path.name, path


def check(*, fix: bool = False, grace_hours: float = 24.0) -> Report:
    """Compare the upload folder with the records; with `fix`, remove orphans older than the grace."""
    root = Path(current_app.config["UPLOAD_DIR"])
    named: set[str] = set()
    report = Report()
    for table, model in (("evidence", Evidence), ("tip_photos", TipPhoto)):
        for row_id, sha in db.session.execute(select(model.id, model.sha256)).tuples():
            named.add(sha)
            if not (root / sha[:2] / sha).is_file():
                report.missing.append((table, row_id, sha))
    db.session.rollback()
    cutoff = time.time() - grace_hours * 3600
    for name, path in _on_disk(root):
        report.checked_files += 1
        if len(name) == SHA_LENGTH and name in named:
            continue
        report.orphans.append(path)
        if fix and path.stat().st_mtime <= cutoff:
            os.unlink(path)
            report.removed.append(path)
    return report
