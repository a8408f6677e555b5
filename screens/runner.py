"""Starting Kivy: environment and window settings that must be in place before Kivy loads."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiosk.services import Services
    from screens.app import KioskApp


def prepare_kivy(*, kivy_home: Path, headless: bool, size: tuple[int, int], fullscreen: bool) -> None:
    """Set Kivy's environment and window config; call before anything imports kivy."""
    kivy_home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("KIVY_HOME", str(kivy_home))
    os.environ["KIVY_NO_ARGS"] = "1"  # our CLI owns the command line
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    os.environ.setdefault("KIVY_CLIPBOARD", "dummy")  # no copy and paste on a kiosk  # Kivy logs through our handlers
    if headless:
        os.environ["SDL_VIDEODRIVER"] = "offscreen"
        os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    from kivy.config import Config

    Config.set("graphics", "width", str(size[0]))
    Config.set("graphics", "height", str(size[1]))
    Config.set("graphics", "resizable", "0")
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    Config.set("graphics", "borderless", "1" if fullscreen else "0")
    Config.set("kivy", "exit_on_escape", "0" if fullscreen else "1")
    Config.set("input", "mouse", "mouse,disable_multitouch")


def run_app(
    services: Services,
    *,
    headless: bool = False,
    size: tuple[int, int] = (1280, 800),
    fullscreen: bool = False,
    locked: bool = False,
    on_started: Callable[[KioskApp], None] | None = None,
) -> KioskApp:
    """Run the kiosk app until it stops; returns the app (for the tour's result).

    ``locked`` (``kiosk run``): no key leaves or reconfigures the app, and systemd is notified.
    """
    prepare_kivy(
        kivy_home=services.settings.kiosk.data_dir / "kivy",
        headless=headless,
        size=size,
        fullscreen=fullscreen,
    )
    from screens.app import KioskApp

    if locked:
        from screens.hardening import disable_kivy_modules, harden

        disable_kivy_modules()
        on_started = _then(harden, on_started)
    app = KioskApp(services, on_started=on_started)
    app.run()
    return app


def _then(first: Callable[[KioskApp], None], then: Callable[[KioskApp], None] | None) -> Callable[[KioskApp], None]:
    def both(app: KioskApp) -> None:
        first(app)
        if then is not None:
            then(app)

    return both
