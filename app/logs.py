"""Log lines as key=value pairs (logfmt), each with the request id of the request being served.

gunicorn.conf.py sends gunicorn's error log and every logger of the app to stdout through
KeyValueFormatter; the id is the request's X-Request-ID (app/web/request_id.py), "-" outside
a request (the master process, the scheduler, a command)."""

import logging
from datetime import UTC, datetime

from flask import g, has_request_context

NO_REQUEST = "-"


def request_id() -> str:
    """The id of the request this thread is serving, or "-"."""
    if has_request_context():
        return str(g.get("request_id") or NO_REQUEST)
    return NO_REQUEST


def quote(value: object) -> str:
    """A logfmt value: bare when it has no space, quote or equals sign, else in double quotes."""
    text = str(value)
    if text and not any(c in text for c in ' "=\\\n\r\t'):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped.replace(chr(9), chr(92) + "t")}"'


class KeyValueFormatter(logging.Formatter):
    """ts=... level=... logger=... request_id=... msg="..." [exc="..."]"""

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        pairs = [
            ("ts", stamp.replace("+00:00", "Z")),
            ("level", record.levelname),
            ("logger", record.name),
            ("request_id", getattr(record, "request_id", None) or request_id()),
            ("msg", record.getMessage()),
        ]
        if record.exc_info:
            pairs.append(("exc", self.formatException(record.exc_info)))
        elif record.exc_text:
            pairs.append(("exc", record.exc_text))
        return " ".join(f"{key}={quote(value)}" for key, value in pairs)


class AccessFormatter(logging.Formatter):
    """gunicorn's access line (already key=value, gunicorn.conf.py's access_log_format) after a timestamp."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        return f"ts={stamp.replace('+00:00', 'Z')} level={record.levelname} logger={record.name} {record.getMessage()}"
