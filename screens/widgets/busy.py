"""While the card (or the hub) answers: a veil over the screen, a turning ring, what is happening in words.

Touches are refused while it is up — visibly: a touch brings the veil at once (it otherwise fades in
only after ``REVEAL_AFTER_S``, so an answer within a few frames never flickers) and adds "please
wait". The ring turns on the Kivy clock, so a frozen screen would show as a stopped ring.
"""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.floatlayout import FloatLayout

REVEAL_AFTER_S = 0.15
TURN_DEG_PER_S = 300.0


class BusyOverlay(FloatLayout):
    """Covers the screen while ``say`` (a translation key) is not empty."""

    say = StringProperty("")
    shown = BooleanProperty(False)  # the veil is drawn (touches are refused as soon as ``say`` is set)
    nudged = BooleanProperty(False)  # touched while busy: "please wait" is added
    angle = NumericProperty(0.0)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._reveal = Clock.create_trigger(lambda _dt: self._show(), REVEAL_AFTER_S)
        self._turning = Clock.schedule_interval(self._turn, 1 / 30)
        self._turning.cancel()

    def on_say(self, _widget: object, say: str) -> None:
        if say:
            self._reveal()
        else:
            self._reveal.cancel()
            self._turning.cancel()
            self.shown = self.nudged = False

    def _show(self) -> None:
        if self.say and not self.shown:
            self.shown = True
            self._turning()

    def _turn(self, dt: float) -> None:
        self.angle = (self.angle + TURN_DEG_PER_S * dt) % 360

    def on_touch_down(self, touch: Any) -> bool:
        if not self.say:
            return False
        self._show()
        self.nudged = True
        return True  # refused: nothing under the veil sees it

    def on_touch_move(self, touch: Any) -> bool:
        return bool(self.say)

    def on_touch_up(self, touch: Any) -> bool:
        return bool(self.say)
