"""X-Request-ID: every request has an id, taken from the proxy in front (nginx passes its own
$request_id) when it is well formed, otherwise made here; it is sent back on the response and
is in every log line written while the request is served (app/logs.py)."""

import re
import uuid

from flask import Flask, Response, g, request

HEADER = "X-Request-ID"
# What an id passed in may look like: short, and nothing a log line or a header could be split by.
WELL_FORMED = re.compile(r"[A-Za-z0-9._:@+/=-]{1,128}")


def begin() -> None:
    incoming = request.headers.get(HEADER, "")
    g.request_id = incoming if WELL_FORMED.fullmatch(incoming) else uuid.uuid4().hex


def finish(response: Response) -> Response:
    if "request_id" not in g:  # refused before begin() ran
        begin()
    response.headers[HEADER] = g.request_id
    return response


def register(app: Flask) -> None:
    app.before_request(begin)
    app.after_request(finish)
