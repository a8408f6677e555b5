"""The base of the role login, staff and technician screens: they draw from the mode controller."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kivy.properties import NumericProperty, ObjectProperty

from screens.base import KioskScreen

if TYPE_CHECKING:
    from kiosk.services import Services


class PrivilegedScreen(KioskScreen):
    """A screen of a privileged mode; ``attach`` gives it the mode controller and the services."""

    modes = ObjectProperty(None, allownone=True)
    closing_in = NumericProperty(-1)  # seconds before the idle timeout closes the mode (-1: not yet)

    def attach(self, services: Services) -> None:
        """Called once by the wiring after the app built the screen."""
        self.services = services
        self.modes = services.modes

    def problem_text(self, key: str, params: dict[str, object]) -> str:
        """A problem's words in the language on screen."""
        return self.tr.t(key, **params)
