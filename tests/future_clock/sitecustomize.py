"""Python start-up hook for the suite's run under libfaketime, years ahead (``make test`` puts this
folder on ``PYTHONPATH`` for that run only, so every Python process it starts loads it).

Why: ``make test`` keeps the monotonic clock real (``FAKETIME_DONT_FAKE_MONOTONIC=1``) because with
a faked monotonic clock every timed wait on a lock or an event hangs; but then libfaketime 0.9.10
fails Python 3.11's ``time.sleep`` — an absolute-deadline ``clock_nanosleep`` on CLOCK_MONOTONIC —
with EINVAL. Sleeping through ``select`` (which libfaketime passes through) gives the same pause.
"""

import os
import select
import time

if "faketime" in os.environ.get("LD_PRELOAD", ""):

    def _sleep(seconds: float) -> None:
        """``time.sleep`` without ``clock_nanosleep``."""
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            select.select([], [], [], left)

    time.sleep = _sleep
