"""Puts a child process of the test suite on the test's clock.

sweep_support.subprocess_env() puts this directory on the child's PYTHONPATH and says, in
RECTIFY_TEST_CLOCK_OFFSET, how far (seconds) the test's clock stood from the machine's when it
started the child. Python imports `sitecustomize` at start-up, before the child's own code, so
the child travels there too (ticking) and agrees with the test whatever the machine's date.
"""

import os

_offset = os.environ.get("RECTIFY_TEST_CLOCK_OFFSET")
if _offset:
    import time

    import time_machine

    time_machine.travel(time.time() + float(_offset), tick=True).start()
