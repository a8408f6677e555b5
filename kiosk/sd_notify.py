"""systemd's notify protocol over a plain datagram socket: READY, WATCHDOG, STOPPING, STATUS.

``Type=notify`` units get ``NOTIFY_SOCKET`` (a path, or ``@name`` in the abstract namespace);
``WatchdogSec=`` adds ``WATCHDOG_USEC`` (and ``WATCHDOG_PID``). Without them every call is a
no-op, so the kiosk runs the same outside systemd. No dependency: the protocol is one
``sendto`` of ``KEY=VALUE`` lines.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping


class SystemdNotifier:
    """Tells systemd how the kiosk is; silent when not started by systemd."""

    def __init__(self, env: Mapping[str, str] | None = None, pid: int | None = None) -> None:
        env = os.environ if env is None else env
        self._address = env.get("NOTIFY_SOCKET", "")
        self._watchdog_usec = env.get("WATCHDOG_USEC", "")
        self._watchdog_pid = env.get("WATCHDOG_PID", "")
        self._pid = os.getpid() if pid is None else pid

    @property
    def enabled(self) -> bool:
        """True when there is a socket to talk to."""
        return bool(self._address)

    def watchdog_interval_s(self) -> float | None:
        """How often to ping (half of ``WatchdogSec``, as systemd advises); None when no watchdog is ours."""
        if not self._watchdog_usec:
            return None
        if self._watchdog_pid and self._watchdog_pid != str(self._pid):
            return None  # the watchdog belongs to another process of the unit
        try:
            usec = int(self._watchdog_usec)
        except ValueError:
            return None
        return usec / 2 / 1_000_000 if usec > 0 else None

    def notify(self, *lines: str) -> bool:
        """Send ``KEY=VALUE`` lines; False when not under systemd or the socket refused."""
        if not self._address:
            return False
        address = "\0" + self._address[1:] if self._address.startswith("@") else self._address
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.sendto("\n".join(lines).encode("utf-8"), address)
        except OSError:
            return False
        return True

    def ready(self, status: str = "") -> bool:
        """Start-up is done: the attract screen is showing."""
        return self.notify("READY=1", *([f"STATUS={status}"] if status else []))

    def watchdog(self) -> bool:
        """Still alive (sent from the UI's main loop, so a hung UI stops it)."""
        return self.notify("WATCHDOG=1")

    def stopping(self) -> bool:
        """Shutting down on purpose."""
        return self.notify("STOPPING=1")
