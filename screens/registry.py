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
    "intro": ("screens.intro.intro", "IntroScreen"),
    "form": ("screens.form.form", "FormScreen"),
    "confirm": ("screens.confirm.confirm", "ConfirmScreen"),
    "done": ("screens.done.done", "DoneScreen"),
    "sign": ("screens.sign.sign", "SignScreen"),
    "pin_change": ("screens.pin_change.pin_change", "PinChangeScreen"),
    "my_requests": ("screens.my_requests.my_requests", "MyRequestsScreen"),
    "rating": ("screens.rating.rating", "RatingScreen"),
    "role_login": ("screens.role_login.role_login", "RoleLoginScreen"),
    "staff": ("screens.staff.staff", "StaffScreen"),
    "technician": ("screens.technician.technician", "TechnicianScreen"),
}

STEP_SCREENS: dict[Step, str] = {
    Step.ATTRACT: "attract",
    Step.READING: "message",
    Step.PIN_BLOCKED: "message",
    Step.FAILED: "message",
    Step.PIN: "pin",
    Step.SERVICES: "services",
    Step.INTRO: "intro",
    Step.FORM: "form",
    Step.CONFIRM: "confirm",
    Step.DONE: "done",
    Step.SIGN: "sign",
    Step.PIN_CHANGE: "pin_change",
    Step.MY_REQUESTS: "my_requests",
    Step.RATING: "rating",
}


def load_screen_class(name: str) -> type[KioskScreen]:
    """Import a screen's module and load its .kv file (once)."""
    module_name, class_name = SCREENS[name]
    module = importlib.import_module(module_name)
    kv = Path(str(module.__file__)).with_suffix(".kv")
    if str(kv) not in Builder.files:
        Builder.load_file(str(kv))
    return getattr(module, class_name)
