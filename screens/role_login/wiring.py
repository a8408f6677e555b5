"""Joins the privileged modes to the running app: the hidden gesture, card events, screens, idle.

``attach_modes(app)`` is called once by ``KioskApp.build``. It listens to the window's touches
(the gesture on the attract screen, and the privileged modes' idle clock), shows the role login,
staff and technician screens when the mode changes, and the "assisted session" note on the
attract screen while a staff member waits for the villager's card.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from kivy.clock import Clock
from kivy.core.window import Window
from kivy.factory import Factory
from kivy.lang import Builder

from kiosk.services import Services
from kiosk.session import Step
from kiosk.staff_session import Mode, RoleModes
from screens.role_login.base import PrivilegedScreen
from screens.role_login.gesture import Corner, CornerGesture, corner_at


class KioskApp(Protocol):
    """What the mode wiring needs of the app (``screens.app.KioskApp``): its root, journey, services, screens."""

    root_widget: Any
    journey: Any
    services: Services
    manager: Any  # the ScreenManager
    theme: Any
    current_screen: str

    def screen(self, name: str) -> Any:
        """The screen called ``name``, built on first use."""

    def all_screens(self) -> dict[str, Any]:
        """Every screen built so far."""

    def show_journey(self) -> None:
        """Show the citizen journey's current screen."""

MODE_SCREENS = {Mode.LOGIN: "role_login", Mode.STAFF: "staff", Mode.TECHNICIAN: "technician"}
CORNER_SHARE = 0.1  # a gesture corner is this share of the shorter side (at least one touch target)


class ModeWiring:
    """The app-side half of ``RoleModes``."""

    def __init__(self, app: KioskApp, modes: RoleModes) -> None:
        self.app = app
        self.modes = modes
        self.gesture = CornerGesture(modes.clock)
        self.note = Factory.AssistedNote()
        app.root_widget.add_widget(self.note)
        modes.subscribe(self._show)
        app.journey.subscribe(lambda _step: self._update_note())
        Window.bind(on_touch_down=self._touch_down, on_touch_up=self._touch_up)
        Clock.schedule_interval(self._tick, 0.25)
        self._update_note()

    def screen(self, name: str) -> PrivilegedScreen:
        """A privileged screen, attached to the services the first time."""
        screen = self.app.screen(name)
        if screen.modes is None:
            screen.attach(self.app.services)
        return screen

    def _show(self, mode: Mode) -> None:
        if mode is Mode.CITIZEN:
            for name in MODE_SCREENS.values():
                if name in self.app.all_screens():
                    self.app.all_screens()[name].wipe()
            self.app.show_journey()
        else:
            name = MODE_SCREENS[mode]
            screen = self.screen(name)
            screen.refresh()
            self.app.manager.current = name
        self._update_note()

    def _update_note(self) -> None:
        helper = self.modes.assisted_by
        shown = helper is not None and self.modes.mode is Mode.CITIZEN and self.app.journey.step is Step.ATTRACT
        self.note.staff_id = helper.masked_id if shown and helper else ""

    def _corner(self, touch: Any) -> Corner | None:
        size = max(self.app.theme.min_touch, CORNER_SHARE * min(Window.width, Window.height))
        return corner_at(touch.x, touch.y, Window.width, Window.height, size)

    def _gesture_allowed(self) -> bool:
        return (self.modes.mode is Mode.CITIZEN and self.app.journey.step is Step.ATTRACT
                and self.app.current_screen == "attract")

    def _touch_down(self, _window: object, touch: Any) -> bool:
        if self.modes.privileged:
            self.modes.touch()
            return False
        if not self._gesture_allowed():
            self.gesture.reset()
            return False
        if self.gesture.down(self._corner(touch)):
            return self.modes.open_login()  # the completing tap goes no further
        return False

    def _touch_up(self, _window: object, touch: Any) -> bool:
        if self._gesture_allowed():
            self.gesture.up(self._corner(touch))
        return False

    def _tick(self, _dt: float) -> None:
        self.modes.tick()
        if self.modes.privileged:
            left = self.modes.countdown()
            current = self.app.all_screens().get(self.app.current_screen)
            if isinstance(current, PrivilegedScreen):
                current.closing_in = -1 if left is None else left


def attach_modes(app: KioskApp) -> ModeWiring | None:
    """Wire the privileged modes into ``app`` (nothing when the services have none)."""
    modes = app.services.modes
    if modes is None:
        return None
    Builder.load_file(str(Path(__file__).with_name("wiring.kv")))
    return ModeWiring(app, modes)
