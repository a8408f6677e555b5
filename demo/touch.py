"""Synthetic finger touches, dispatched through Kivy's event loop like real ones.

The tour and the UI tests tap widgets by their on-screen position, so hit-testing,
disabled states and overlays behave exactly as they would under a finger.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import count
from typing import Any

from kivy.base import EventLoop
from kivy.clock import Clock
from kivy.input.motionevent import MotionEvent
from kivy.uix.widget import Widget

_ids = count(1000)


class FingerTouch(MotionEvent):
    """One touch at window coordinates (x, y)."""

    def __init__(self, x: float, y: float) -> None:
        win = EventLoop.window
        super().__init__("finger", next(_ids), {"x": x / (win.width - 1.0), "y": y / (win.height - 1.0)},
                         is_touch=True, type_id="touch")
        self.profile = ["pos"]

    def depack(self, args: dict) -> None:
        self.sx, self.sy = args["x"], args["y"]
        super().depack(args)


def tap(widget: Widget) -> None:
    """Touch the centre of ``widget`` and lift the finger."""
    x, y = widget.to_window(*widget.center)
    touch = FingerTouch(x, y)
    EventLoop.post_dispatch_input("begin", touch)
    EventLoop.post_dispatch_input("end", touch)


def walk(root: Widget):  # noqa: ANN201 - iterator of widgets
    """Every widget under ``root`` (including ``root``)."""
    yield root
    for child in root.children:
        yield from walk(child)


def find(root: Widget, **attrs: object) -> Widget:
    """The first widget under ``root`` whose attributes equal ``attrs`` (LookupError if none)."""
    for widget in walk(root):
        if all(getattr(widget, k, object()) == v for k, v in attrs.items()):
            return widget
    raise LookupError(f"no widget with {attrs}")


def run_script(app: Any, script: Iterator[float], on_error: Callable[[Exception], None],
               first_delay: float = 0.3) -> None:
    """Drive ``script`` on the Kivy clock after ``first_delay`` (the first frames): each number it
    yields is the wait before its next step. The app stops at the end, or on an error, which goes to
    ``on_error`` first (drivers carry it to their report, and their test fails on it). A step waits
    until the card's answer to the previous one is in (``kiosk.card_work``), as a person would."""
    waited = [0]

    def step(_dt: float) -> None:
        journey = getattr(app, "journey", None)
        if journey is not None and not journey.card_work.idle and waited[0] < 500:
            waited[0] += 1
            Clock.schedule_once(step, 0.02)
            return
        waited[0] = 0
        try:
            delay = next(script)
        except StopIteration:
            app.stop()
            return
        except Exception as exc:  # noqa: BLE001 - handed to on_error, never swallowed
            on_error(exc)
            app.stop()
            return
        Clock.schedule_once(step, delay)

    Clock.schedule_once(step, first_delay)
