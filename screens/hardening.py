"""The locked kiosk window of ``kiosk run``: no key leaves or reconfigures the app; systemd hears it live.

Kivy closes on Escape (``exit_on_escape``), opens its settings panel on F1, and activates the
inspector, monitor or screenshot modules when its config names them; a window manager turns
Alt+F4 into a close request. ``lock_window`` swallows those keys in ``on_key_down`` (dispatched
before ``on_keyboard``, where Kivy and the app react) and refuses close requests. ``systemd``
learns READY once the first screen shows, then WATCHDOG from the UI's own clock, so a frozen UI
stops the pings and systemd restarts the kiosk.

SDL turns SIGTERM and SIGINT into the same quit request a window manager sends, which the lock
refuses; so ``harden`` installs handlers of its own: ``systemctl stop`` says STOPPING and stops
the app cleanly from its main loop.
"""

from __future__ import annotations

import logging
import signal
from typing import Any

from kiosk.sd_notify import SystemdNotifier

log = logging.getLogger(__name__)

ESCAPE = 27
FUNCTION_KEYS = range(282, 294)  # F1 (Kivy's settings) ... F12 (the screenshot module)
COMBINING = {"alt", "ctrl", "meta", "super", "alt-gr"}  # Alt+F4, Ctrl+E (inspector), Ctrl+Q...


def is_blocked(key: int, modifiers: list[str] | tuple[str, ...]) -> bool:
    """True for a key or combination that could leave or reconfigure the app."""
    return key == ESCAPE or key in FUNCTION_KEYS or bool(COMBINING.intersection(modifiers or ()))


def disable_kivy_modules() -> None:
    """Deactivate any Kivy module (inspector, monitor, screenshot...) a config.ini may name."""
    from kivy.config import Config

    if Config.has_section("modules"):
        for name in Config.options("modules"):
            Config.remove_option("modules", name)


def lock_window(window: Any) -> None:
    """Swallow leaving keys and refuse close requests; bind last, so this handler runs first."""

    def on_key_down(_window: object, key: int, _scancode: int = 0, _codepoint: str | None = None,
                    modifiers: list[str] | None = None, *_rest: object) -> bool:
        if is_blocked(key, modifiers or []):
            log.info("blocked key %s %s", key, "+".join(sorted(modifiers or [])))
            return True
        return False

    window.bind(on_key_down=on_key_down)
    window.bind(on_request_close=lambda *_args, **_kwargs: True)


def start_watchdog(notifier: SystemdNotifier) -> None:
    """READY now, then WATCHDOG from the Kivy clock at half the unit's ``WatchdogSec``."""
    from kivy.clock import Clock

    notifier.ready("attract screen showing")
    interval = notifier.watchdog_interval_s()
    if interval:
        notifier.watchdog()
        Clock.schedule_interval(lambda _dt: notifier.watchdog(), interval)


def stop_on_signals(app: Any, notifier: SystemdNotifier) -> None:
    """SIGTERM / SIGINT stop the app from its main loop (replacing SDL's handlers, which the lock would refuse)."""
    from kivy.clock import Clock

    def stop(_dt: float) -> None:
        notifier.stopping()
        app.stop()

    def on_signal(signum: int, _frame: object) -> None:
        log.info("signal %s: stopping", signum)
        Clock.schedule_once(stop)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)


def harden(app: Any, notifier: SystemdNotifier | None = None) -> None:
    """Lock the running app's window and start talking to systemd (the ``on_started`` of ``kiosk run``)."""
    from kivy.core.window import Window

    notifier = notifier or SystemdNotifier()
    lock_window(Window)
    stop_on_signals(app, notifier)
    start_watchdog(notifier)
