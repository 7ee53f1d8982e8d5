#!/usr/bin/env bash
# `make run`: bring the database up to date, deploy the BPMN, seed the demo, then serve
# on http://127.0.0.1:5000 with a scheduler tick every 30 s beside it. Safe to run again:
# every step keeps existing data.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=.venv/bin
export FLASK_APP=wsgi.py
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-5000}
TICK_SECONDS=${TICK_SECONDS:-30}

"$BIN/flask" db upgrade
"$BIN/flask" processes deploy
"$BIN/flask" demo seed

# The tick loop runs in its own subshell; `sleep & wait` lets it answer TERM at once.
(
  trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
  sleeper=
  while true; do
    "$BIN/flask" scheduler tick || echo "scheduler tick failed (will retry)" >&2
    sleep "$TICK_SECONDS" &
    sleeper=$!
    wait "$sleeper"
  done
) &
TICKER=$!

# The server runs in the background too, so `wait` returns on Ctrl-C/TERM and both get stopped.
"$BIN/flask" run --host "$HOST" --port "$PORT" --no-reload &
SERVER=$!

stop_all() {
  kill "$SERVER" "$TICKER" 2>/dev/null || true
  wait "$SERVER" "$TICKER" 2>/dev/null || true
}
trap stop_all EXIT
trap 'exit 130' INT TERM

echo "Rectify: http://$HOST:$PORT  (scheduler tick every ${TICK_SECONDS}s; Ctrl-C stops both)"
wait "$SERVER"
