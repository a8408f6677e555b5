"""Run the kiosk app offscreen, press the keys that would leave or reconfigure it, print what happened.

``python tests/deploy/lock_probe.py locked|open DATA_DIR``: one JSON line on stdout. A child
process per run, because Kivy's window lives once per process.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from entrypoints.bootstrap import build_services  # noqa: E402
from kiosk.config import load_settings  # noqa: E402
from screens.runner import run_app  # noqa: E402

KEYS = [(27, []), (282, []), (292, []), (285, ["alt"]), (101, ["ctrl"])]  # Esc, F1, F11, Alt+F4, Ctrl+E


def main() -> None:
    locked = sys.argv[1] == "locked"
    services = build_services(load_settings(None, env={}).simulated(Path(sys.argv[2])))
    result: dict[str, object] = {"phase": "starting", "stopped_in": None}

    def probe(app) -> None:
        from kivy.clock import Clock
        from kivy.core.window import Window

        app.bind(on_stop=lambda *_: result.update(stopped_in=result["phase"]))

        def press(key: int, modifiers: list[str]) -> None:
            # as Kivy's SDL2 window does: on_keyboard only when no on_key_down handler took the key
            if not Window.dispatch("on_key_down", key, 0, None, modifiers):
                Window.dispatch("on_keyboard", key, 0, None, modifiers)

        def keys(_dt: float) -> None:
            result["phase"] = "keys"
            for key, modifiers in KEYS:
                press(key, modifiers)
            result["close_refused"] = bool(Window.dispatch("on_request_close"))
            Clock.schedule_once(check, 0.3)

        def check(_dt: float) -> None:
            result["phase"] = "check"
            settings = getattr(app, "_app_settings", None)
            result["settings_open"] = bool(settings is not None and settings.parent is not None)
            result["root_shown"] = app.root in Window.children
            result["fullscreen"] = Window.fullscreen
            result["borderless"] = Window.borderless
            app.stop()

        Clock.schedule_once(keys, 0.2)

    run_app(services, headless=True, size=(800, 500), fullscreen=locked, locked=locked, on_started=probe)
    services.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
