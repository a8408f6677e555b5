"""The hidden gesture that opens the role login: hold the top-left corner ≥ 3 s, then tap bottom-right within 3 s.

Pure Python (no Kivy): it is fed corners and reads an injected monotonic clock, so it can be
tested without a window. A villager leaning on the screen or tapping around never completes
it: the hold must be long, in one corner, and followed by a tap in the opposite corner.
"""

from __future__ import annotations

import enum
from collections.abc import Callable

HOLD_S = 3.0  # the press in the first corner lasts at least this long
TAP_WITHIN_S = 3.0  # the tap in the second corner follows within this time


class Corner(enum.Enum):
    """The two corners the gesture uses."""

    TOP_LEFT = "top_left"
    BOTTOM_RIGHT = "bottom_right"


def corner_at(x: float, y: float, width: float, height: float, size: float) -> Corner | None:
    """Which gesture corner the window point (x, y) lies in (Kivy's y grows upwards)."""
    if x <= size and y >= height - size:
        return Corner.TOP_LEFT
    if x >= width - size and y <= size:
        return Corner.BOTTOM_RIGHT
    return None


class CornerGesture:
    """Follows touches; ``down`` returns True on the touch that completes the gesture."""

    def __init__(self, clock: Callable[[], float], hold_s: float = HOLD_S, tap_within_s: float = TAP_WITHIN_S) -> None:
        self._clock = clock
        self._hold_s = hold_s
        self._tap_within_s = tap_within_s
        self._pressed_at: float | None = None
        self._armed_until: float | None = None

    def reset(self) -> None:
        """Forget any half-made gesture."""
        self._pressed_at = self._armed_until = None

    def down(self, corner: Corner | None) -> bool:
        """A finger went down in ``corner`` (None: elsewhere); True when this completes the gesture."""
        now = self._clock()
        if corner is Corner.BOTTOM_RIGHT and self._armed_until is not None and now <= self._armed_until:
            self.reset()
            return True
        self.reset()
        if corner is Corner.TOP_LEFT:
            self._pressed_at = now
        return False

    def up(self, corner: Corner | None) -> None:
        """The finger lifted in ``corner``: a long enough hold in the top-left arms the second tap."""
        pressed, self._pressed_at = self._pressed_at, None
        now = self._clock()
        if pressed is not None and corner is Corner.TOP_LEFT and now - pressed >= self._hold_s:
            self._armed_until = now + self._tap_within_s
