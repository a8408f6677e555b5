"""PIN entry: on-screen pad (or "use the reader's keypad"), tries left, and the way out."""

from __future__ import annotations

from kivy.clock import Clock
from kivy.properties import BooleanProperty, StringProperty

from kiosk.ports import PinState
from screens.base import KioskScreen


class PinScreen(KioskScreen):
    """Asks for the 4-digit authentication PIN."""

    warning = StringProperty("")
    on_reader = BooleanProperty(False)
    checking = BooleanProperty(False)  # the card is being asked: a real card takes up to a second

    def refresh(self) -> None:
        s = self.journey.session
        self.on_reader = self.journey.pin_on_reader
        parts = []
        if s.problem:
            parts.append(self.tr.t(s.problem.key, **s.problem.params))
        status = s.pin_status
        if status and status.state is PinState.FINAL_TRY:
            parts.append(self.tr.t("pin.final_try"))
        elif status and status.state is PinState.COUNT_LOW and not s.problem:
            parts.append(self.tr.t("pin.tries_left", tries=status.tries_left))
        self.warning = "\n".join(parts)
        self.checking = False
        self.ids.pad.clear()
        if self.on_reader:
            # The reader's keypad collects the PIN; the card answers when it is typed.
            Clock.schedule_once(lambda _dt: self.journey.enter_pin(None), 0.1)

    def submit(self, pin: bytearray) -> None:
        """The pad's OK: the digits go to the journey (which wipes them); the card answers on its own thread."""
        self.journey.enter_pin(pin)
        self.checking = bool(self.journey.busy)  # the pad waits for the answer (the journey redraws then)

    def wipe(self) -> None:
        self.warning = ""
        self.checking = False
        self.ids.pad.clear()
