"""A consent question: one big box with a tick square and the sentence the person agrees to."""

from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout


class ConsentBox(ButtonBehavior, BoxLayout):
    """Touching anywhere on the box ticks or unticks it; ``ticked`` is the answer."""

    text = StringProperty("")
    ticked = BooleanProperty(False)
    consent = True  # lets the tour and the tests find the box by touch

    def on_release(self) -> None:
        """Tick, or untick: a person may change their mind before Next."""
        self.ticked = not self.ticked

    def wipe(self) -> None:
        """Forget the sentence and the tick."""
        self.text = ""
        self.ticked = False
