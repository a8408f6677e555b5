"""The base of every kiosk screen: it is given the journey and draws from it."""

from __future__ import annotations

from kivy.properties import ObjectProperty
from kivy.uix.screenmanager import Screen

from kiosk.journey import Journey
from screens.observable import ObservableTranslator


class KioskScreen(Screen):
    """A screen that renders journey state and forwards touches to the journey."""

    journey = ObjectProperty(None)
    tr = ObjectProperty(None)

    def __init__(self, journey: Journey, tr: ObservableTranslator, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.journey = journey
        self.tr = tr

    def refresh(self) -> None:
        """Redraw from the journey's state (after a change, or a language switch)."""

    def wipe(self) -> None:
        """Clear every widget that could hold citizen data (the session ended)."""
