"""The touch-accuracy grid: nine targets; each touch is measured against the nearest one, in millimetres."""

from __future__ import annotations

import math
from typing import Any

from kivy.graphics import Color, Ellipse, Line
from kivy.properties import ListProperty, NumericProperty
from kivy.uix.widget import Widget

MM_PER_INCH = 25.4
TARGET_SHARES = (0.1, 0.5, 0.9)  # targets near the edges and in the middle, where panels drift most


def offset_mm(target: tuple[float, float], touch: tuple[float, float], dpi: float) -> float:
    """How far a touch landed from a target, in millimetres on a panel of ``dpi``."""
    return math.dist(target, touch) / dpi * MM_PER_INCH


class TouchGrid(Widget):
    """Draws the targets and the touches; ``offsets`` holds (target index, mm) per touch, last one last."""

    dpi = NumericProperty(96.0)
    offsets = ListProperty([])
    colour = ListProperty([0.0, 0.36, 0.66, 1])
    hit_colour = ListProperty([0.72, 0.11, 0.11, 1])

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._touches: list[tuple[float, float]] = []
        self.bind(pos=self._redraw, size=self._redraw, colour=self._redraw)

    def targets(self) -> list[tuple[float, float]]:
        """The targets' centres in window coordinates, row by row from the top."""
        return [self.to_window(self.x + self.width * sx, self.y + self.height * sy)
                for sy in reversed(TARGET_SHARES) for sx in TARGET_SHARES]

    def on_touch_down(self, touch: Any) -> bool:
        if not self.collide_point(*touch.pos):
            return super().on_touch_down(touch)
        where = self.to_window(*touch.pos)
        targets = self.targets()
        index = min(range(len(targets)), key=lambda i: math.dist(targets[i], where))
        self._touches.append(where)
        self.offsets.append((index, round(offset_mm(targets[index], where, self.dpi), 1)))
        self._redraw()
        return True

    def clear(self) -> None:
        """Forget the touches."""
        self._touches.clear()
        self.offsets = []
        self._redraw()

    def _redraw(self, *_args: object) -> None:
        self.canvas.after.clear()
        arm = min(self.width, self.height) * 0.05
        with self.canvas.after:
            Color(*self.colour)
            Line(rectangle=(self.x, self.y, self.width, self.height), width=1)
            for wx, wy in self.targets():
                x, y = self.to_widget(wx, wy)
                Line(points=[x - arm, y, x + arm, y], width=2)
                Line(points=[x, y - arm, x, y + arm], width=2)
                Line(circle=(x, y, arm * 0.6), width=1.5)
            Color(*self.hit_colour)
            for wx, wy in self._touches:
                x, y = self.to_widget(wx, wy)
                Ellipse(pos=(x - 6, y - 6), size=(12, 12))
