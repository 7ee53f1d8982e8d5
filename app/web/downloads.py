"""Generated files (ledger and audit exports) handed out as attachments."""

import io

from flask import Response, abort, send_file

from app.services.shared.spreadsheets import CSV_MIMETYPE, XLSX_MIMETYPE

FORMATS = ("xlsx", "csv")


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        abort(404)


def download(data: bytes, filename: str, fmt: str) -> Response:
    """send_file writes the filename* form that keeps a Chinese name; exports are never cached."""
    response = send_file(
        io.BytesIO(data),
        as_attachment=True,
        download_name=filename,
        mimetype=XLSX_MIMETYPE if fmt == "xlsx" else CSV_MIMETYPE,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
