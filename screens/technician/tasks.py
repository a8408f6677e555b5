"""Slow technician checks (hub, sync, enrolment, bundle) run on a worker thread; the result comes back
on the UI thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from kivy.clock import Clock


def in_background(work: Callable[[], Any], done: Callable[[Any], None]) -> None:
    """Run ``work()`` off the UI thread, then ``done(result or the exception)`` on it."""

    def run() -> None:
        try:
            result: Any = work()
        except Exception as exc:  # noqa: BLE001 — the technician reads what went wrong
            result = exc
        Clock.schedule_once(lambda _dt: done(result))

    threading.Thread(target=run, name="technician-task", daemon=True).start()
