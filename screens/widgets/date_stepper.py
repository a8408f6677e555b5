"""A date without typing: day, month and year each with big + and – buttons, the date in words below.

The value never leaves ``[first, last]``: a step that would go past a bound stops at it, and a
button that cannot move the date any more is disabled, so the person sees where the range ends.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable

from kivy.properties import ListProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

PARTS = ("day", "month", "year")


def step_date(day: dt.date, part: str, delta: int) -> dt.date:
    """``day`` moved by ``delta`` days, months or years (the day of month kept where it exists)."""
    if part == "day":
        return day + dt.timedelta(days=delta)
    year, month = day.year, day.month
    if part == "month":
        index = year * 12 + (month - 1) + delta
        year, month = divmod(index, 12)
        month += 1
    else:
        year += delta
    year = min(max(year, dt.MINYEAR), dt.MAXYEAR)
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class DateStepper(BoxLayout):
    """Picks a date in ``[first, last]`` with six big buttons; ``value`` is the date shown."""

    value = ObjectProperty(None, allownone=True)
    first = ObjectProperty(dt.date.min)
    last = ObjectProperty(dt.date.max)
    month_names = ListProperty([])  # twelve names in the language on screen
    describe = ObjectProperty(None, allownone=True)  # date -> the date in words
    day_caption = StringProperty("")
    month_caption = StringProperty("")
    year_caption = StringProperty("")
    day_text = StringProperty("")
    month_text = StringProperty("")
    year_text = StringProperty("")
    summary = StringProperty("")

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.bind(value=self._redraw, month_names=self._redraw, describe=self._redraw)
        self._redraw()

    def step(self, part: str, delta: int) -> None:
        """Move the date by one day, month or year, staying within the range."""
        if self.value is None:
            return
        self.value = min(max(step_date(self.value, part, delta), self.first), self.last)

    def can_step(self, part: str, delta: int) -> bool:
        """Would this button change the date?"""
        if self.value is None:
            return False
        return min(max(step_date(self.value, part, delta), self.first), self.last) != self.value

    def _redraw(self, *_args: object) -> None:
        day = self.value
        if day is None:
            self.day_text = self.month_text = self.year_text = self.summary = ""
        else:
            self.day_text = str(day.day)
            self.month_text = self.month_names[day.month - 1] if len(self.month_names) == 12 else f"{day.month:02d}"
            self.year_text = str(day.year)
            describe: Callable[[dt.date], str] | None = self.describe
            self.summary = describe(day) if describe else day.isoformat()
        for part in PARTS:
            for delta, name in ((1, "up"), (-1, "down")):
                button = self.ids.get(f"{part}_{name}")
                if button is not None:
                    button.disabled = not self.can_step(part, delta)

    def on_kv_post(self, base_widget: object) -> None:
        """The buttons exist now: set which ones can move the date."""
        self._redraw()

    def wipe(self) -> None:
        """Forget the date."""
        self.describe = None
        self.value = None
