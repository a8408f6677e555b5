"""The one-touch satisfaction rating after the receipt: five faces with words, or skip. Nothing personal."""

from __future__ import annotations

from kivy.properties import BooleanProperty, NumericProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

from screens.base import KioskScreen

# From a frowning red face to a smiling green one; the words under each face say the same.
FACE_COLOURS = {
    1: (0.80, 0.20, 0.15, 1),
    2: (0.93, 0.50, 0.15, 1),
    3: (0.95, 0.78, 0.20, 1),
    4: (0.55, 0.76, 0.25, 1),
    5: (0.15, 0.62, 0.30, 1),
}


def mouth_points(score: int, cx: float, cy: float, r: float) -> list[float]:
    """A mouth as a polyline on a face of radius ``r``: corners up for a smile (4, 5), down for a frown (1, 2)."""
    bend = (score - 3) / 2  # -1 … 1
    points: list[float] = []
    for i in range(-10, 11):
        t = i / 10
        points += [cx + t * 0.5 * r, cy - 0.4 * r + bend * (t * t - 0.5) * 0.36 * r]
    return points


class RatingFace(ButtonBehavior, BoxLayout):
    """One face, a score from 1 to 5, and its word."""

    score = NumericProperty(3)


class RatingScreen(KioskScreen):
    """"How was it?" — the journey counts the touch and returns to the attract screen."""

    card_left_in = BooleanProperty(False)

    def refresh(self) -> None:
        self.card_left_in = self.journey.card_left_in

    def rate(self, score: int | None) -> None:
        """A face (1–5) or "skip" (None)."""
        self.journey.rate(score)

    @staticmethod
    def colour(score: int) -> tuple[float, float, float, float]:
        """The face's colour."""
        return FACE_COLOURS[int(score)]

    @staticmethod
    def mouth(score: int, cx: float, cy: float, r: float) -> list[float]:
        """The face's mouth (for the kv canvas)."""
        return mouth_points(int(score), cx, cy, r)
