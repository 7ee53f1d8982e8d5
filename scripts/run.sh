#!/usr/bin/env bash
# `make run`: bring the database up to date, store the holiday calendar, deploy the BPMN, seed the
# demo, then serve on http://127.0.0.1:5000 with the scheduler (`flask scheduler run`) beside it.
# Safe to run again: every step keeps existing data.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=.venv/bin
export FLASK_APP=wsgi.py
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-5000}
SCHEDULER_INTERVAL=${SCHEDULER_INTERVAL:-30}

"$BIN/flask" db upgrade
# The State Council's holiday arrangements the chinesecalendar package knows; a year the office
# entered is never overwritten.
"$BIN/flask" calendar seed
"$BIN/flask" processes deploy
"$BIN/flask" demo seed

# The scheduler is its own process (web workers never sweep): a sweep every SCHEDULER_INTERVAL
# seconds; TERM lets it finish the batch under way.
"$BIN/flask" scheduler run --interval "$SCHEDULER_INTERVAL" &
SCHEDULER=$!

# The server runs in the background too, so `wait` returns on Ctrl-C/TERM and both get stopped.
"$BIN/flask" run --host "$HOST" --port "$PORT" --no-reload &
SERVER=$!

stop_all() {
  kill "$SERVER" "$SCHEDULER" 2>/dev/null || true
  wait "$SERVER" "$SCHEDULER" 2>/dev/null || true
}
trap stop_all EXIT
trap 'exit 130' INT TERM

echo "Rectify: http://$HOST:$PORT  (scheduler sweeps every ${SCHEDULER_INTERVAL}s; Ctrl-C stops both)"
wait "$SERVER"
