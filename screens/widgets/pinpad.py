"""The on-screen PIN pad. Digits live in a bytearray that is wiped after use; the screen shows dots."""

from __future__ import annotations

from collections.abc import Callable

from kivy.properties import NumericProperty, ObjectProperty
from kivy.uix.gridlayout import GridLayout


class PinPad(GridLayout):
    """3×4 keypad; ``submit_to(pin)`` receives the digits as a bytearray it must wipe."""

    length = NumericProperty(0)  # how many digits are typed (drives the dots)
    max_length = NumericProperty(4)
    submit_to = ObjectProperty(None, allownone=True)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._digits = bytearray()

    def press(self, key: str) -> None:
        """A key was touched: a digit, ``back`` or ``ok``."""
        if key == "back":
            if self._digits:
                self._digits[-1] = 0
                del self._digits[-1]
        elif key == "ok":
            self._submit()
        elif key.isdigit() and len(self._digits) < self.max_length:
            self._digits.append(ord(key))
        self.length = len(self._digits)

    def _submit(self) -> None:
        if not self._digits:
            return
        pin = bytearray(self._digits)
        self.clear()
        callback: Callable[[bytearray], None] | None = self.submit_to
        if callback is None:
            pin[:] = b"\0" * len(pin)
            return
        callback(pin)

    def clear(self) -> None:
        """Overwrite and forget the typed digits."""
        for i in range(len(self._digits)):
            self._digits[i] = 0
        self._digits.clear()
        self.length = 0
