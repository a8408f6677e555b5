"""A horizontal bar chart drawn with Kivy canvas instructions (rectangles, and text as textures)."""

from __future__ import annotations

from kivy.core.text import Label as CoreLabel
from kivy.graphics import Color, Rectangle
from kivy.properties import ListProperty, NumericProperty
from kivy.uix.widget import Widget


class BarChart(Widget):
    """``bars`` is a list of (label, value); each bar is one row, its length scaled to the largest value."""

    bars = ListProperty([])
    bar_color = ListProperty([0.0, 0.36, 0.66, 1])
    text_color = ListProperty([0.07, 0.1, 0.16, 1])
    font_size = NumericProperty(22)
    label_share = NumericProperty(0.45)  # share of the width for the labels on the left

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.bind(pos=self._redraw, size=self._redraw, bars=self._redraw, bar_color=self._redraw,
                  text_color=self._redraw, font_size=self._redraw)

    def _text(self, text: str, width: float) -> CoreLabel:
        label = CoreLabel(text=text, font_size=self.font_size, font_name="KioskSans", shorten=True,
                          text_size=(max(1, width), None), halign="left")
        label.refresh()
        return label

    def _redraw(self, *_args: object) -> None:
        self.canvas.clear()
        if not self.bars or self.height <= 0:
            return
        row = min(self.height / len(self.bars), self.font_size * 2.2)
        label_w = self.width * self.label_share
        room = self.width - label_w - self.font_size * 3  # the count sits after the bar
        largest = max((value for _, value in self.bars), default=0) or 1
        with self.canvas:
            for index, (text, value) in enumerate(self.bars):
                top = self.top - index * row
                name = self._text(str(text), label_w - self.font_size / 2)
                Color(*self.text_color)
                Rectangle(texture=name.texture, size=name.texture.size,
                          pos=(self.x, top - row / 2 - name.texture.size[1] / 2))
                length = room * value / largest
                Color(*self.bar_color)
                Rectangle(pos=(self.x + label_w, top - row * 0.8), size=(max(length, 2), row * 0.6))
                count = self._text(str(value), self.font_size * 3)
                Color(*self.text_color)
                Rectangle(texture=count.texture, size=count.texture.size,
                          pos=(self.x + label_w + length + self.font_size / 3,
                               top - row / 2 - count.texture.size[1] / 2))
