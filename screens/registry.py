"""Every screen, by name: its module and class, loaded (with its .kv) the first time it is shown."""

from __future__ import annotations

import importlib
from pathlib import Path

from kivy.lang import Builder

from kiosk.session import Step
from screens.base import KioskScreen

SCREENS: dict[str, tuple[str, str]] = {
    "attract": ("screens.attract.attract", "AttractScreen"),
    "message": ("screens.message.message", "MessageScreen"),
    "pin": ("screens.pin.pin", "PinScreen"),
    "services": ("screens.services.services", "ServicesScreen"),
    "form": ("screens.form.form", "FormScreen"),
    "confirm": ("screens.confirm.confirm", "ConfirmScreen"),
    "done": ("screens.done.done", "DoneScreen"),
}

STEP_SCREENS: dict[Step, str] = {
    Step.ATTRACT: "attract",
    Step.READING: "message",
    Step.PIN_BLOCKED: "message",
    Step.FAILED: "message",
    Step.PIN: "pin",
    Step.SERVICES: "services",
    Step.FORM: "form",
    Step.CONFIRM: "confirm",
    Step.DONE: "done",
}


def load_screen_class(name: str) -> type[KioskScreen]:
    """Import a screen's module and load its .kv file (once)."""
    module_name, class_name = SCREENS[name]
    module = importlib.import_module(module_name)
    kv = Path(module.__file__).with_suffix(".kv")
    if str(kv) not in Builder.files:
        Builder.load_file(str(kv))
    return getattr(module, class_name)
