"""One sync at a time per data folder: an OS file lock (``flock``) on ``<data_dir>/sync.lock``.

The sync engine holds it for each cycle; ``kiosk sync`` takes it for its whole run. The kernel drops
the lock when its holder dies (``kill -9`` included), so a crash never leaves it stuck, and the file
itself is never removed (removing it would let two processes lock two different files). While the
lock is held, every ``sending`` row in the outbox belongs to the holder: that is what lets the engine
put rows a crashed sync left ``sending`` back to ``queued`` without touching another live sync's batch.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path

SYNC_LOCK_FILE = "sync.lock"


class SyncBusy(Exception):
    """Another sync (another process, or another engine in this one) is running on this data folder."""

    translation_key = "error.hub"

    def __init__(self, path: Path) -> None:
        super().__init__(f"a sync is already running for {path.parent}")
        self.path = path


class SyncLock:
    """An exclusive ``flock`` on one file, re-entrant within this object.

    Re-entrant so ``kiosk sync`` can hold it for its whole run while its engine takes it for each cycle.
    """

    def __init__(self, path: Path, poll_s: float = 0.05) -> None:
        self.path = path
        self._poll_s = poll_s
        self._guard = threading.Lock()
        self._fd: int | None = None
        self._depth = 0

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._depth > 0

    def acquire(self, wait_s: float) -> bool:
        """Take the lock, waiting at most ``wait_s`` seconds; False when another holder kept it that long."""
        with self._guard:
            if self._depth:
                self._depth += 1
                return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        deadline = time.monotonic() + max(0.0, wait_s)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    return False
                time.sleep(self._poll_s)
            except BaseException:
                os.close(fd)
                raise
        with self._guard:
            self._fd, self._depth = fd, 1
        return True

    def release(self) -> None:
        """Give back one ``acquire``; the lock goes when the last one is given back."""
        with self._guard:
            if not self._depth:
                return
            self._depth -= 1
            if self._depth or self._fd is None:
                return
            fd, self._fd = self._fd, None
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
