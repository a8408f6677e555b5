"""The one owner of background sync: start it when the kiosk is enrolled, restart it after an
enrolment, run one cycle on a technician's request, stop it at the end.

The composition root hands it ``make_engine`` (which raises ``NotEnrolled`` before enrolment);
screens subscribe once and keep hearing from whichever engine runs now.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from offline.enrollment import NotEnrolled
from offline.sync import SyncEngine, SyncReport
from offline.sync_types import SyncStatus

log = logging.getLogger(__name__)

Listener = Callable[[SyncStatus], None]


class SyncSupervisor:
    """Starts, restarts and stops the sync engine; forwards its status to every subscriber."""

    def __init__(self, make_engine: Callable[[], SyncEngine]) -> None:
        self._make_engine = make_engine
        self._engine: SyncEngine | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        """True while an engine syncs in the background."""
        return self._engine is not None

    @property
    def status(self) -> SyncStatus | None:
        """The running engine's last status (None when none runs)."""
        engine = self._engine
        return engine.status if engine is not None else None

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(status)`` from the sync thread on every change, across restarts."""
        self._listeners.append(listener)
        engine = self._engine
        if engine is not None:
            listener(engine.status)

    def _publish(self, status: SyncStatus) -> None:
        for listener in list(self._listeners):
            listener(status)

    def start(self) -> bool:
        """Start syncing in the background; False (and a log line) before enrolment. Idempotent."""
        with self._lock:
            if self._engine is not None:
                return True
            try:
                engine = self._make_engine()
            except NotEnrolled:
                log.warning("not enrolled with a hub: requests stay queued until `kiosk enroll --hub URL --code CODE`")
                return False
            self._unsubscribe = engine.subscribe(self._publish)
            self._engine = engine
            engine.start()
            return True

    def restart(self) -> bool:
        """Stop the running engine and start one for the current enrolment (after a new enrolment)."""
        self.stop()
        return self.start()

    def sync_once(self) -> SyncReport:
        """One whole cycle now on an engine of its own (send, statuses, documents); ``NotEnrolled`` before enrolment."""
        engine = self._make_engine()
        try:
            return engine.sync_once()
        finally:
            engine.close()

    def stop(self) -> None:
        """Stop background sync (it may be started again)."""
        with self._lock:
            engine, self._engine = self._engine, None
            unsubscribe, self._unsubscribe = self._unsubscribe, None
        if unsubscribe is not None:
            unsubscribe()
        if engine is not None:
            engine.close()

    close = stop
