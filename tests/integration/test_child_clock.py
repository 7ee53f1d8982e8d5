"""Child processes of the suite (the scheduler, racing sweeps) run on the test's clock, not on the
machine's date, so what they see agrees with the data the test made."""

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import time_machine

from tests.integration.sweep_support import ROOT, subprocess_env
from tests.support import BASE

CODE = "import datetime, time; print(time.time()); print(datetime.datetime.now(datetime.timezone.utc).isoformat())"


def child_clock(app) -> tuple[float, datetime]:
    out = subprocess.run(
        [sys.executable, "-c", CODE],
        cwd=ROOT,
        env=subprocess_env(app),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.split()
    return float(out[0]), datetime.fromisoformat(out[1])


def test_a_child_process_starts_at_the_tests_clock_and_ticks(app):
    started = datetime.now(UTC)
    seconds, now = child_clock(app)
    ended = datetime.now(UTC)
    assert started <= now <= ended + timedelta(seconds=1), (started, now, ended)
    assert abs(seconds - now.timestamp()) < 1
    assert BASE <= now < BASE + timedelta(minutes=10)


def test_a_child_follows_a_test_that_travels(app):
    far = BASE + timedelta(days=800)
    with time_machine.travel(far, tick=False):
        _, now = child_clock(app)
    # The child ticks on from where the test stood while it started and ran.
    assert far <= now < far + timedelta(minutes=1)
